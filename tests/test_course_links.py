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


# --------------------------------------------------------------------------- README.zh.md, the Chinese README

ZH_README = ROOT / "README.zh.md"
_GENERATED = re.compile(r"<!-- (?P<name>[\w-]+):start -->.*?<!-- (?P=name):end -->", re.S)


def _zh_prose():
    """README.zh.md without its generated parts, comments and link targets: what its translator wrote."""
    text = _GENERATED.sub("", ZH_README.read_text(encoding="utf-8"))
    return re.sub(r"\]\([^)]*\)", "]", re.sub(r"<!--.*?-->", "", text, flags=re.S))


def test_the_chinese_readme_is_generated_where_it_follows_the_english():
    assert course.sync_readme_zh(check=True), "README.zh.md is out of date: run python tools/course.py"


def test_the_chinese_readme_shows_the_readmes_commands_byte_for_byte():
    english, chinese = course.readme_blocks(), course.readme_blocks(course.ZH_README)
    for name in ("install", "test", "site"):
        assert chinese[name] == english[name], f"README.zh.md's {name} command differs from README.md's"
    assert "python -m pip install -r requirements.txt -e ." in chinese["install"]


def test_the_chinese_badges_open_the_chinese_notebook_00():
    first = course.NOTEBOOKS[0].file
    badges = course.readme_blocks(course.ZH_README)["badges"]
    assert (ROOT / "notebooks" / "zh" / first).exists()
    assert course.binder_url(f"notebooks/zh/{first}") in badges and course.colab_url(f"zh/{first}") in badges
    query = parse_qs(urlsplit(course.binder_url(f"notebooks/zh/{first}")).query)
    assert query["urlpath"] == [course.lab_path(f"notebooks/zh/{first}")]
    assert course.binder_url() not in badges, "the Chinese README's Binder badge opens the English notebook"


def test_the_chinese_course_map_links_the_chinese_editions_and_marks_the_english_ones():
    table = course.readme_blocks(course.ZH_README)["course-map"]
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()[2:]}
    assert sorted(rows) == [nb.file[:2] for nb in course.NOTEBOOKS]
    topics = course.zh_topics()
    for nb in course.NOTEBOOKS:
        row = rows[nb.file[:2]]
        if (ROOT / "notebooks" / "zh" / nb.file).exists():
            assert f"](notebooks/zh/{nb.file})" in row and course.colab_url(f"zh/{nb.file}") in row, row
            assert "（英文）" not in row
        else:
            assert f"](notebooks/{nb.file})（英文）" in row and course.colab_url(nb.file) in row, row
        assert topics[nb.file[:2]][0] in row, f"notebook {nb.file[:2]}: not the Chinese topic of notebook 00's map"
        assert re.search(r"[\u4e00-\u9fff]", topics[nb.file[:2]][0])


def test_the_readmes_link_to_each_other_and_their_links_resolve():
    english = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "中文版: [README.zh.md](README.zh.md)" in english.split("\n## ", 1)[0]
    chinese = ZH_README.read_text(encoding="utf-8")
    assert "[README.md](README.md)" in chinese.split("\n## ", 1)[0]
    assert "](docs/instructor_guide.zh.md)" in chinese
    broken = [target for target in re.findall(r"\]\(\s*([^)\s]+)", chinese)
              if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not (ROOT / target.split("#")[0]).exists()
              and not target.startswith(".github/")]  # the site workflow is not in this checkout
    assert not broken, f"README.zh.md: broken links {broken}"


def test_the_chinese_readme_translates_the_current_english_sections():
    problems = course.zh_readme_problems()
    assert not problems, "\n".join(problems)


def _zh_sections():
    """English section name -> the Chinese text that translates it (from its heading to the next)."""
    text = ZH_README.read_text(encoding="utf-8")
    parts = re.split(r"^(?=## )", text, flags=re.M)
    found = {}
    for part in parts:
        mark = re.search(r"<!-- en: ([\w-]+) [0-9a-f]{12} -->", part)
        if mark:
            found[mark.group(1)] = _GENERATED.sub("", part)
    return found


# Names of products that contain a glossary term's word, and are not that term.
_PRODUCT_NAMES = ("GitHub Actions",)


def test_the_chinese_readme_uses_the_glossary_terms():
    from tools.glossary import terms_missing_in_translation

    english = course.readme_english_sections()
    chinese = _zh_sections()
    assert set(chinese) == set(english) - set(course.ZH_README_UNTRACKED)
    problems = [f"section {name}: {problem}" for name, text in chinese.items()
                for problem in terms_missing_in_translation(re.sub("|".join(_PRODUCT_NAMES), "", english[name]), text)]
    assert not problems, "\n".join(problems)


def test_the_chinese_readme_states_only_the_readmes_numbers_and_commands():
    """Numbers come from README.md; commands and paths from README.md or translations/README.md."""
    english = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    rules = " ".join((ROOT / "translations" / "README.md").read_text(encoding="utf-8").split())
    prose = _zh_prose()
    numbers = set(re.findall(r"\d+(?:[.,]\d+)*", prose)) - set(re.findall(r"\d+(?:[.,]\d+)*", english))
    assert not numbers, f"README.zh.md states numbers README.md does not: {sorted(numbers)}"
    spans = [span for span in re.findall(r"`([^`\n]+)`", prose) if span not in english and span not in rules]
    assert not spans, f"README.zh.md's code not found in README.md or translations/README.md: {spans}"


def test_a_changed_english_section_makes_its_chinese_stale(tmp_path):
    english, chinese = tmp_path / "README.md", tmp_path / "README.zh.md"
    english.write_text("# T\n\nIntro.\n\n## Set up\n\nRun it.\n\n<!-- test:start -->\nold\n<!-- test:end -->\n\n"
                       "## For contributors\n\nMany tests.\n", encoding="utf-8")
    prints = course.readme_section_fingerprints(english)
    assert set(prints) == {"top", "set-up", "for-contributors"}
    chinese.write_text(f"# 标题\n<!-- en: top {prints['top']} -->\n## 安装\n<!-- en: set-up {prints['set-up']} -->\n",
                       encoding="utf-8")
    assert course.zh_readme_problems(chinese, english) == []
    english.write_text(english.read_text().replace("old", "a new run time").replace("Many", "More"), encoding="utf-8")
    assert course.zh_readme_problems(chinese, english) == [], "generated parts and untracked sections do not count"
    english.write_text(english.read_text().replace("Run it.", "Run it twice."), encoding="utf-8")
    problems = course.zh_readme_problems(chinese, english)
    assert len(problems) == 1 and "section 'set-up' changed" in problems[0], problems
    english.write_text(english.read_text() + "\n## Licence\n\nMIT.\n", encoding="utf-8")
    assert any("'licence' has no Chinese" in p for p in course.zh_readme_problems(chinese, english))
