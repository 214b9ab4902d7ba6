"""The README's launch command and the Binder links open the course at the same place."""

import re
import shlex
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tools import course

ROOT = Path(__file__).resolve().parents[1]
FIRST = "notebooks/" + course.NOTEBOOKS[0].file


def _readme_block(name):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.S).group(1)
    return " ".join(line for line in block.splitlines() if line.strip() and not line.startswith("```"))


def test_the_launch_command_opens_notebook_00_at_the_repository_root():
    install, found, launch = _readme_block("install").partition("&& jupyter lab")
    assert found and install.startswith("python -m pip install -r requirements.txt -e ."), "see .ci/run"
    options = dict(arg.removeprefix("--").split("=", 1) for arg in shlex.split(launch))
    assert options == {"LabApp.default_url": "/" + course.lab_path(FIRST)}, options
    assert (ROOT / FIRST).exists()


def test_binder_opens_the_same_place():
    for path in (FIRST, "assignments/student"):
        query = parse_qs(urlsplit(course.binder_url(path)).query)
        assert query["urlpath"] == [course.lab_path(path)], query
    assert "file-browser-path=/" in course.lab_path(FIRST)
    assert (ROOT / "assignments" / "student").is_dir()


def test_github_links_point_at_the_committed_files():
    assert course.github_url(FIRST) == f"https://github.com/{course.REPO_SLUG}/blob/{course.BRANCH}/{FIRST}"
