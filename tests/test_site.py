"""The course website builds offline from the committed notebooks, and nothing in it is missing.

The ``built_site`` fixture (tests/conftest.py) runs the README's site command's code,
``website/build.py``, into a temporary folder, with the network blocked.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tools import course

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [row["notebook"] for row in course.course_map(include_planned=False)]


class _Page(HTMLParser):
    """The ids, links and resources of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []  # <a href>
        self.images: list[str] = []  # <img src>
        self.resources: list[str] = []  # scripts, stylesheets, icons: what the page loads

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        elif tag == "script" and attrs.get("src"):
            self.resources.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and set((attrs.get("rel") or "").split()) & {"stylesheet", "icon", "preload"}:
            self.resources.append(attrs["href"])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def pages(built_site) -> dict[Path, _Page]:
    return {path: _parse(path) for path in sorted(built_site.rglob("*.html")) if "_static" not in path.parts}


def _is_remote(url: str) -> bool:
    return urlsplit(url).scheme in {"http", "https", "ftp"} or url.startswith("//")


def _is_local(url: str) -> bool:
    """A path within the site (not another site, not mailto:, data: or javascript:)."""
    return not urlsplit(url).scheme and not url.startswith("//")


def _target(page: Path, url: str) -> tuple[Path, str]:
    parts = urlsplit(url)
    return (page.parent / unquote(parts.path)).resolve() if parts.path else page, parts.fragment


def test_every_notebook_has_a_page_with_its_figures_and_launch_links(built_site, pages):
    for notebook in NOTEBOOKS:
        page_path = built_site / "notebooks" / notebook.replace(".ipynb", ".html")
        assert page_path in pages, f"no page for {notebook}"
        page = pages[page_path]
        committed = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
        figures = sum(1 for cell in committed["cells"] for output in cell.get("outputs", [])
                      if any(kind.startswith("image/") for kind in output.get("data", {})))
        assert len(page.images) == figures, f"{notebook}: {len(page.images)} images on the page, {figures} in the notebook"
        assert course.binder_url(f"notebooks/{notebook}") in page.links, f"{notebook}: no Binder link"
        assert course.colab_url(notebook) in page.links, f"{notebook}: no Colab link"


def test_the_home_page_is_the_course_map_with_the_docs_and_reading_list(built_site, pages):
    home = pages[built_site / "index.html"]
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.replace('.ipynb', '.html')}" in home.links, f"the map lacks {notebook}"
        assert course.binder_url(f"notebooks/{notebook}") in home.links
        assert course.colab_url(notebook) in home.links
    for doc in ("docs/instructor_guide.html", "docs/glossary.html", "benchmarks/NOTEBOOK_RUNS.html"):
        assert doc in home.links, f"the home page does not link to {doc}"
    reading_list = [link for link in home.links if link.startswith("notebooks/15_") and "#" in link]
    assert reading_list and "reading-list" in reading_list[0], home.links
    text = (built_site / "index.html").read_text(encoding="utf-8")
    for row in course.course_map(include_planned=False):
        assert row["topic"].split(",")[0] in text


def test_every_image_resource_and_internal_link_resolves(built_site, pages):
    broken = []
    for path, page in pages.items():
        where = path.relative_to(built_site)
        for url in page.images + page.resources:
            if _is_remote(url):
                broken.append(f"{where}: loads {url} from another site")
            elif _is_local(url) and not _target(path, url)[0].is_file():
                broken.append(f"{where}: missing {url}")
        for url in filter(_is_local, page.links):
            target, fragment = _target(path, url)
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{where}: broken link {url}")
            elif fragment and target.suffix == ".html":
                if target not in pages:
                    pages[target] = _parse(target)
                if fragment not in pages[target].ids:
                    broken.append(f"{where}: link {url} points to no anchor")
    assert not broken, "\n".join(broken[:40])


def test_styles_fonts_and_math_come_with_the_site(built_site):
    remote = []
    for css in (built_site / "_static").rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8", errors="replace")):
            if _is_remote(url):
                remote.append(f"{css.relative_to(built_site)}: {url}")
    assert not remote, remote
    assert (built_site / "_static" / "mathjax" / "MathJax.js").is_file()
    pages_with_math = [p for p in (built_site / "notebooks").glob("*.html") if 'class="math' in p.read_text(encoding="utf-8")]
    assert pages_with_math, "no notebook page has formulas: is the math still rendered?"
    for page in pages_with_math:
        assert "_static/mathjax/MathJax.js" in page.read_text(encoding="utf-8"), f"{page.name} loads MathJax from elsewhere"


def test_search_index_covers_the_notebooks(built_site):
    index = (built_site / "searchindex.js").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.removesuffix('.ipynb')}" in index


def test_the_readme_and_the_workflow_build_the_site_the_same_way(site_builder):
    command = site_builder.readme_block("site")
    assert command == "python website/build.py", command
    workflow = (ROOT / ".github" / "workflows" / "site.yml").read_text(encoding="utf-8")
    assert f"run: {command}" in workflow
    assert "path: _build/html" in workflow
