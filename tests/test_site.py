"""The course website builds offline from the committed notebooks, and nothing in it is missing.

The ``built_site`` fixture (tests/conftest.py) runs the README's site command's code,
``website/build.py``, into a temporary folder, with the network blocked. The site has two
editions: English at its root, Chinese (中文版) in ``zh/``, joined by a language switch on
every page.
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
ZH_NOTEBOOKS = [notebook for notebook in NOTEBOOKS if course.zh_edition(notebook)]
ZH = "zh"  # the Chinese edition's folder in the site
_SVG_DIAGRAM = re.compile(r"!\[[^\]]*\]\(data:image/svg\+xml;base64,")


class _Page(HTMLParser):
    """The ids, links and resources of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []  # <a href>
        self.images: list[str] = []  # <img src>
        self.resources: list[str] = []  # scripts, stylesheets, icons: what the page loads
        self.lang: str | None = None  # <html lang>
        self.switch: list[str] = []  # the language switch's link to the other edition

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "a" and "language-switch__other" in (attrs.get("class") or "").split():
            self.switch.append(attrs.get("href"))
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


def _figures(notebook: Path) -> int:
    """The images of a committed notebook: plots in its outputs and SVG diagrams in its markdown."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    plots = sum(1 for cell in cells for output in cell.get("outputs", [])
                if any(kind.startswith("image/") for kind in output.get("data", {})))
    diagrams = sum(len(_SVG_DIAGRAM.findall("".join(cell["source"]))) for cell in cells if cell["cell_type"] == "markdown")
    return plots + diagrams


def _html_path(path: Path, built_site: Path) -> str:
    return path.relative_to(built_site).as_posix()


def test_every_notebook_has_a_page_with_its_figures_and_launch_links(built_site, pages):
    for notebook in NOTEBOOKS:
        page_path = built_site / "notebooks" / notebook.replace(".ipynb", ".html")
        assert page_path in pages, f"no page for {notebook}"
        page = pages[page_path]
        figures = _figures(ROOT / "notebooks" / notebook)
        assert len(page.images) == figures, f"{notebook}: {len(page.images)} images on the page, {figures} in the notebook"
        assert "](data:image" not in page_path.read_text(encoding="utf-8"), f"{notebook}: a diagram shown as markdown text"
        assert course.binder_url(f"notebooks/{notebook}") in page.links, f"{notebook}: no Binder link"
        assert course.colab_url(notebook) in page.links, f"{notebook}: no Colab link"


def test_every_chinese_notebook_has_a_page_with_its_figures_and_launch_links(built_site, pages):
    assert ZH_NOTEBOOKS, "no notebook has a Chinese edition"
    for notebook in NOTEBOOKS:
        page_path = built_site / ZH / "notebooks" / notebook.replace(".ipynb", ".html")
        if notebook not in ZH_NOTEBOOKS:
            assert not page_path.exists(), f"{notebook} has no Chinese edition, yet a Chinese page"
            continue
        assert page_path in pages, f"no Chinese page for {notebook}"
        page = pages[page_path]
        figures = _figures(ROOT / "notebooks" / course.ZH / notebook)
        assert len(page.images) == figures, f"zh {notebook}: {len(page.images)} images on the page, {figures} in the notebook"
        assert "](data:image" not in page_path.read_text(encoding="utf-8"), f"zh {notebook}: a diagram shown as text"
        assert course.binder_url(f"notebooks/{course.ZH}/{notebook}") in page.links, f"zh {notebook}: no Binder link"
        assert course.colab_url(f"{course.ZH}/{notebook}") in page.links, f"zh {notebook}: no Colab link"


def test_the_chinese_home_page_is_the_chinese_readme_with_its_course_map(built_site, pages):
    home_path = built_site / ZH / "index.html"
    home, text = pages[home_path], home_path.read_text(encoding="utf-8")
    title = course.ZH_README.read_text(encoding="utf-8").splitlines()[0].removeprefix("# ")
    assert re.search(rf"<h1>{re.escape(title)}<a", text), f"the Chinese home page's heading is not {title}"
    for notebook in NOTEBOOKS:
        html_name = notebook.replace(".ipynb", ".html")
        if notebook in ZH_NOTEBOOKS:
            assert f"notebooks/{html_name}" in home.links, f"the Chinese map lacks {notebook}"
        else:  # the English page, marked as such
            assert f"../notebooks/{html_name}" in home.links, f"the Chinese map lacks the English {notebook}"
            assert re.search(rf'href="\.\./notebooks/{re.escape(html_name)}"[^>]*>.*?</a>（英文）', text), \
                f"the Chinese map does not mark {notebook} as English"
    if (ROOT / "docs" / "instructor_guide.zh.md").is_file():
        assert "docs/instructor_guide.html" in home.links, "the Chinese home page does not link to the Chinese guide"
        assert (built_site / ZH / "docs" / "instructor_guide.html") in pages
    unresolved = [link for link in home.links if _is_local(link) and urlsplit(link).path.endswith((".md", ".ipynb"))]
    assert not unresolved, f"links of README.zh.md left as files, not pages: {unresolved}"


def test_every_page_switches_to_the_same_page_in_the_other_language_and_back(built_site, pages):
    problems = []
    for path, page in pages.items():
        where = _html_path(path, built_site)
        if where.startswith("_"):
            continue  # _images, _sources: not pages
        if len(page.switch) != 1:
            problems.append(f"{where}: {len(page.switch)} language switches")
            continue
        target = _target(path, page.switch[0])[0]
        chinese = where.startswith(f"{ZH}/")
        counterpart = built_site / (where.removeprefix(f"{ZH}/") if chinese else f"{ZH}/{where}")
        if chinese or counterpart.is_file():
            expected = counterpart
        else:  # no Chinese edition of this page: the Chinese home page
            expected = built_site / ZH / "index.html"
        if target != expected:
            problems.append(f"{where}: the switch goes to {page.switch[0]}, not {_html_path(expected, built_site)}")
        elif counterpart.is_file():
            back = pages[expected].switch
            if not back or _target(expected, back[0])[0] != path:
                problems.append(f"{where}: the other edition's page does not switch back to it ({back})")
    assert not problems, "\n".join(problems[:40])
    switched = [path for path in pages if not _html_path(path, built_site).startswith(f"{ZH}/")
                and (built_site / ZH / path.relative_to(built_site)).is_file()]
    assert len(switched) >= len(ZH_NOTEBOOKS) + 1, "too few English pages have a Chinese edition"


def test_chinese_pages_say_they_are_chinese_and_use_sphinx_chinese_strings(built_site, pages):
    for path, page in pages.items():
        where = _html_path(path, built_site)
        if not where.startswith("_"):
            expected = "zh-CN" if where.startswith(f"{ZH}/") else "en"
            assert page.lang == expected, f"{where}: <html lang={page.lang!r}>, expected {expected!r}"
    notebook = ZH_NOTEBOOKS[1]
    text = (built_site / ZH / "notebooks" / notebook.replace(".ipynb", ".html")).read_text(encoding="utf-8")
    english = (built_site / "notebooks" / notebook.replace(".ipynb", ".html")).read_text(encoding="utf-8")
    for chinese, original in (("上一页", "previous"), ("下一页", "next"), ("搜索", "Search")):
        assert chinese in text and chinese not in english, f"the Chinese pages lack Sphinx's {chinese!r}"
        assert original in english
    search = (built_site / ZH / "search.html").read_text(encoding="utf-8")
    assert "<title>搜索 - 大模型能改变推荐范式吗？</title>" in search, re.search(r"<title>.*</title>", search)


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
        broken += [f"{where}: link {url} kept the build's site: prefix" for url in page.links if url.startswith("site:")]
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
    for folder in (built_site / "notebooks", built_site / ZH / "notebooks"):
        pages_with_math = [p for p in folder.glob("*.html") if 'class="math' in p.read_text(encoding="utf-8")]
        assert pages_with_math, f"no page in {folder.relative_to(built_site)} has formulas: is the math still rendered?"
        for page in pages_with_math:
            scripts = [url for url in _parse(page).resources if "MathJax.js" in url]
            assert [_target(page, url)[0] for url in scripts] == [built_site / "_static" / "mathjax" / "MathJax.js"], \
                f"{page.relative_to(built_site)} loads MathJax from elsewhere: {scripts}"
    assert not (built_site / ZH / "_static" / "mathjax").exists(), "the Chinese edition has a second copy of MathJax"


def test_search_index_covers_the_notebooks(built_site):
    index = (built_site / "searchindex.js").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.removesuffix('.ipynb')}" in index
    chinese = (built_site / ZH / "searchindex.js").read_text(encoding="utf-8")
    for notebook in ZH_NOTEBOOKS:
        assert f"notebooks/{notebook.removesuffix('.ipynb')}" in chinese


def test_the_readme_and_the_workflow_build_the_site_the_same_way(site_builder):
    command = site_builder.readme_block("site")
    assert command == "python website/build.py", command
    workflow = (ROOT / ".github" / "workflows" / "site.yml").read_text(encoding="utf-8")
    assert f"run: {command}" in workflow
    assert "path: _build/html" in workflow
