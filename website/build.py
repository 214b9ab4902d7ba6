"""Build the course website from the committed, executed notebooks: ``python website/build.py``.

The site goes to ``_build/html/`` (``--out`` to change it). Nothing is executed and nothing is
downloaded: the notebooks' committed outputs and figures are rendered by Sphinx with MyST-NB
and sphinx-book-theme (Jupyter Book 1's stack), and MathJax comes from the
jupyter-server-mathjax package.

The sources are staged in a temporary folder laid out like the repository, so each page's
address matches its file's path (``notebooks/05_....html``, ``docs/glossary.html``):

* ``index.md`` is ``website/index.md`` with the course map filled in from ``tools/course.py``
  (the same data as the README's map), the README's install command, and the link to the
  reading list in notebook 15;
* each notebook's bold title line becomes the page's heading, and its remote "Open in Colab"
  badge becomes plain links to open it on Binder and in Colab (from ``tools/course.py``),
  so a page loads no image from another site; the committed notebooks are not touched;
* ``docs/instructor_guide.md``, ``assignments/README.md`` (how assignments are written),
  ``docs/glossary.md`` and ``benchmarks/NOTEBOOK_RUNS.md`` are copied;
* in every page, a link to a file of the repository goes to that file's page on the site, or
  to the file on GitHub when the site has no page for it (``site_link``), and the notebooks'
  SVG diagrams are written out as image files (MyST shows no SVG data URLs).

The Chinese edition (中文版) is a second Sphinx build of its own sources, with
``language = "zh_CN"`` (the theme's and Sphinx's Chinese strings, ``<html lang="zh-CN">``),
into ``zh/`` of the same site:

* ``zh/notebooks/NN_....html`` from ``notebooks/zh/`` (only the notebooks that have a Chinese
  edition), ``zh/docs/instructor_guide.html`` from ``docs/instructor_guide.zh.md``, and
  ``zh/index.html`` from ``README.zh.md`` (its badges become plain links);
* a link to a page that only the English site has (a notebook not yet translated, the
  glossary, the run times) goes to the English page, marked （英文）;
* every page of either edition carries a language switch (``website/_templates``, set up in
  ``conf.py``) to the same page in the other language, or to the other edition's home page
  where that page does not exist; MathJax is the English build's copy.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import posixpath
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tools import course  # noqa: E402  (the checkout's own package, first on the path)

DEFAULT_OUT = ROOT / "_build" / "html"
PAGES = ("docs/instructor_guide.md", "assignments/README.md", "docs/glossary.md", "benchmarks/NOTEBOOK_RUNS.md")
_BOLD_TITLE = re.compile(r"\A\s*\*\*(?P<title>[^*\n]+)\*\*[ \t]*\n")
_COLAB_BADGE = re.compile(
    r'<a\s[^>]*>\s*<img\s[^>]*src="https://colab\.research\.google\.com/assets/colab-badge\.svg"[^>]*>\s*</a>')
# MathJax 2 as jupyter-server-mathjax ships it, less what the site's configuration never loads.
_MATHJAX_SKIP = ("a11y", "SVG")
# The editions of the site: folder in the site, Sphinx language. Sphinx runs once per edition.
EDITIONS = {"en": ("", "en"), "zh": ("zh", "zh_CN")}
# Pages of the Chinese edition besides its notebooks and home page: page -> file it is built from.
ZH_PAGES = {"docs/instructor_guide.md": "docs/instructor_guide.zh.md"}
# A remote badge image that is a link ([![alt](image)](target)): the site shows the link, as text.
_BADGE = re.compile(r"\[!\[(?P<alt>[^\]]*)\]\((?:https?:)?//[^)\s]+\)\]\((?P<target>[^)\s]+)\)")
_BADGES = re.compile(rf"{_BADGE.pattern}(?:[ \t]+{_BADGE.pattern})*".replace("(?P<alt>", "(?:").replace("(?P<target>", "(?:"))
# A markdown link (not an image): [text](target "title"); the text may hold one level of [...].
_LINK = re.compile(r"(?<!!)(?P<text>\[(?:[^\[\]\n]|\[[^\]\n]*\])*\])\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_FIGURE_SVG = re.compile(r"!\[(?P<alt>[^\]]*)\]\(data:image/svg\+xml;base64,(?P<data>[A-Za-z0-9+/=\s]+)\)")


def notebooks() -> list[str]:
    """The notebooks on the site: those of the course map that exist, in course order."""
    return [row["notebook"] for row in course.course_map(include_planned=False)]


def zh_notebooks() -> list[str]:
    """The notebooks of the site that have a Chinese edition (``notebooks/zh/``), in course order."""
    return [notebook for notebook in notebooks() if course.zh_edition(notebook)]


def launch_links(notebook: str, edition: str = "en") -> str:
    if edition == "zh":
        path = f"notebooks/{course.ZH}/{notebook}"
        return (f"[在 Binder 上打开]({course.binder_url(path)}) · [在 Colab 中打开]"
                f"({course.colab_url(f'{course.ZH}/{notebook}')}) · [GitHub 上的源文件]({course.github_url(path)})")
    path = f"notebooks/{notebook}"
    return (f"[Open on Binder]({course.binder_url(path)}) · [Open in Colab]({course.colab_url(notebook)})"
            f" · [Source on GitHub]({course.github_url(path)})")


def _site_pages(edition: str) -> dict[str, str]:
    """File of the repository -> the source of its page in that edition of the site."""
    if edition == "zh":
        pages = {f"notebooks/{course.ZH}/{nb}": f"notebooks/{nb}" for nb in zh_notebooks()}
        pages.update({source: page for page, source in ZH_PAGES.items() if (ROOT / source).is_file()})
        pages["README.zh.md"] = "index.md"
    else:
        pages = {f"notebooks/{nb}": f"notebooks/{nb}" for nb in notebooks()}
        pages.update({page: page for page in PAGES})
        pages["README.md"] = "index.md"
    return pages


def site_link(url: str, source: str, page: str, edition: str = "en") -> str:
    """A link of a repository file as its page in one edition of the site writes it.

    ``source`` is the file's path in the repository, ``page`` the path of its page in the
    edition's sources. A link to a file that has a page in the same edition stays a link MyST
    resolves; a link to a file that only has a page in the other edition becomes ``site:`` plus
    the relative address of that page (conf.py drops the ``site:`` once MyST has let it through);
    a link to any other file of the repository goes to GitHub. Remote links and links within the
    page are left as they are.
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return url
    target = posixpath.normpath(posixpath.join(posixpath.dirname(source), parts.path))
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    here = posixpath.dirname(page) or "."
    if target in (own := _site_pages(edition)):
        return posixpath.relpath(own[target], here) + fragment
    other = "en" if edition == "zh" else "zh"
    if target in (theirs := _site_pages(other)):
        there = posixpath.join(EDITIONS[other][0], posixpath.splitext(theirs[target])[0] + ".html")
        return "site:" + posixpath.relpath(there, posixpath.join(EDITIONS[edition][0], here)) + fragment
    if target.startswith("..") or not (ROOT / target).exists():
        raise ValueError(f"{source}: the link {url} points to no file of the repository")
    return course.github_url(target + ("/" if parts.path.endswith("/") else "")) + fragment


def site_markdown(text: str, source: str, page: str, edition: str = "en") -> str:
    """Markdown of a repository file as the site shows it: badges as text links, links for the site.

    In the Chinese edition, a link that leaves it for an English page is marked （英文） unless
    the few characters around it already say so.
    """
    text = _BADGES.sub(lambda run: " · ".join(f"[{m['alt']}]({m['target']})" for m in _BADGE.finditer(run[0])), text)

    def link(m: re.Match) -> str:
        target = site_link(m["target"], source, page, edition)
        marked = edition != "zh" or not target.startswith("site:") or "英文" in text[max(m.start() - 6, 0):m.end() + 4]
        return f"{m['text']}({target}{m['title'] or ''}){'' if marked else '（英文）'}"

    return _LINK.sub(link, text)


def _figures_as_files(cell: dict, figures: dict[str, bytes]) -> None:
    """Diagrams drawn as ``![alt](data:image/svg+xml;base64,...)`` become image files of the site.

    The notebooks embed their SVG diagrams as data URLs (JupyterLab, GitHub and Colab show them);
    MyST's markdown parser refuses SVG data URLs and would print the markdown as text. The
    figure is written to ``figures/<hash of the drawing>.svg`` beside the notebook instead
    (``figures`` collects them, by that path).
    """
    def to_file(match: re.Match) -> str:
        drawing = base64.b64decode(re.sub(r"\s", "", match["data"]))
        name = f"figures/{hashlib.sha256(drawing).hexdigest()[:16]}.svg"
        figures[name] = drawing
        return f"![{match['alt']}]({name})"

    cell["source"] = _FIGURE_SVG.sub(to_file, "".join(cell["source"]))


def page_notebook(text: str, notebook: str, edition: str = "en", figures: dict[str, bytes] | None = None) -> str:
    """The notebook as the site shows it: title line as heading, launch links instead of the badge.

    Its SVG diagrams become files (put in ``figures``, by path relative to the notebook), and its
    links are those ``site_link`` makes.
    """
    nb = json.loads(text)
    first = nb["cells"][0]
    if first["cell_type"] != "markdown":
        raise ValueError(f"{notebook}: the first cell should be the markdown title cell")
    source = "".join(first["source"])
    source = _BOLD_TITLE.sub(lambda m: f"# {m['title'].strip()}\n", source, count=1)
    source = _COLAB_BADGE.sub("", source).rstrip()
    first["source"] = f"{source}\n\n{launch_links(notebook, edition)}\n"
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        origin = f"notebooks/{course.ZH}/{notebook}" if edition == "zh" else f"notebooks/{notebook}"
        cell["source"] = site_markdown("".join(cell["source"]), origin, f"notebooks/{notebook}", edition)
        _figures_as_files(cell, {} if figures is None else figures)
    return json.dumps(nb, ensure_ascii=False)


def readme_block(name: str) -> str:
    """The single command between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.S)
    if not match:
        raise ValueError(f"README.md lacks <!-- {name}:start --> ... <!-- {name}:end -->")
    lines = [line for line in match.group(1).splitlines() if line.strip() and not line.startswith("```")]
    return "\n".join(lines)


def _course_map_table() -> str:
    lines = ["| # | Notebook | Topic | Full-mode run (2 CPUs) | Run it |", "|---|---|---|---|---|"]
    for row in course.course_map(include_planned=False):
        notebook = row["notebook"]
        name = notebook.removesuffix(".ipynb")
        run = (f"{row['seconds']:.0f} s, {row['peak_mb']:.0f} MB" if row["seconds"] is not None
               else "not measured yet")
        open_links = (f"[Binder]({course.binder_url('notebooks/' + notebook)}) · "
                      f"[Colab]({course.colab_url(notebook)})")
        lines.append(f"| {notebook[:2]} | [{name}](notebooks/{notebook}) | {row['topic']} | {run} | {open_links} |")
    return "\n".join(lines)


def _reading_list_anchor() -> str:
    """``notebooks/15_...ipynb#slug`` of the notebook heading that starts the reading list."""
    for notebook in notebooks():
        cells = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            for line in "".join(cell["source"]).splitlines():
                heading = re.match(r"#{2,3}\s+(.*Reading list.*)", line, re.I)
                if heading:  # MyST's heading anchors, as GitHub makes them
                    slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
                    return f"notebooks/{notebook}#{slug}"
    raise ValueError("no notebook has a 'Reading list' heading for the home page to link to")


def home_page() -> str:
    text = (HERE / "index.md").read_text(encoding="utf-8")
    filled = {
        "<!-- install-command -->": f"```bash\n{readme_block('install')}\n```",
        "<!-- course-map -->": _course_map_table(),
        "<!-- reading-list -->": _reading_list_anchor(),
        "<!-- toctree-notebooks -->": "\n".join(f"notebooks/{nb.removesuffix('.ipynb')}" for nb in notebooks()),
    }
    for placeholder, value in filled.items():
        if placeholder not in text:
            raise ValueError(f"website/index.md lacks the placeholder {placeholder}")
        text = text.replace(placeholder, value)
    return text


def zh_home_page() -> str:
    """``README.zh.md`` as the Chinese edition's home page, with the edition's table of contents."""
    text = course.ZH_README.read_text(encoding="utf-8")
    # The line that points from the Chinese README to the English one: the language switch does that.
    text = re.sub(r"^English: \[README\.md\]\(README\.md\)[ \t]*\n+", "", text, count=1, flags=re.M)
    text = site_markdown(text, "README.zh.md", "index.md", "zh")
    if not text.lstrip().startswith("# "):
        raise ValueError("README.zh.md should start with its title, a level-1 heading")
    pages = [f"notebooks/{nb.removesuffix('.ipynb')}" for nb in zh_notebooks()]
    guides = [page.removesuffix(".md") for page, source in ZH_PAGES.items() if (ROOT / source).is_file()]
    toctrees = [("笔记本", pages), ("教师与参考资料", guides)]
    return text.rstrip() + "\n" + "".join(
        f"\n```{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + "\n".join(entries) + "\n```\n"
        for caption, entries in toctrees if entries)


def _mathjax_source() -> Path:
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def stage(source: Path, edition: str = "en") -> None:
    """Lay out the sources of one edition of the site in ``source`` (an empty folder)."""
    (source / "notebooks").mkdir(parents=True)
    figures: dict[str, bytes] = {}
    for notebook in (zh_notebooks() if edition == "zh" else notebooks()):
        origin = ROOT / "notebooks" / (course.ZH if edition == "zh" else "") / notebook
        page = page_notebook(origin.read_text(encoding="utf-8"), notebook, edition, figures)
        (source / "notebooks" / notebook).write_text(page, encoding="utf-8")
    for name, drawing in figures.items():
        (source / "notebooks" / name).parent.mkdir(exist_ok=True)
        (source / "notebooks" / name).write_bytes(drawing)
    if edition == "zh":
        for page, origin in ZH_PAGES.items():
            if (ROOT / origin).is_file():
                (source / page).parent.mkdir(parents=True, exist_ok=True)
                text = (ROOT / origin).read_text(encoding="utf-8")
                (source / page).write_text(site_markdown(text, origin, page, "zh"), encoding="utf-8")
        (source / "index.md").write_text(zh_home_page(), encoding="utf-8")
        return  # MathJax: the English edition's copy (conf.py)
    for page in PAGES:
        (source / page).parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / page).read_text(encoding="utf-8")
        (source / page).write_text(site_markdown(text, page, page), encoding="utf-8")
    (source / "index.md").write_text(home_page(), encoding="utf-8")
    shutil.copytree(_mathjax_source(), source / "_static" / "mathjax", ignore=shutil.ignore_patterns(*_MATHJAX_SKIP))


def build(out: Path = DEFAULT_OUT, quiet: bool = True) -> Path:
    """Build the site into ``out`` (emptied first); fail on any Sphinx warning, such as a broken link.

    The English edition goes to ``out``, the Chinese one to ``out/zh``. Both editions' sources
    are staged first, side by side, so that each page's language switch can see whether the
    other edition has the same page.
    """
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="course_site_") as tmp:
        sources = Path(tmp) / "source"
        for edition in EDITIONS:
            stage(sources / edition, edition)
        for edition, (folder, language) in EDITIONS.items():
            # MyST-NB writes the notebooks' outputs to jupyter_execute/ beside the output folder: for
            # the Chinese edition, that would be inside the site, so it is built apart and moved in.
            target = out if not folder else Path(tmp) / "html" / edition / folder
            args = ["-b", "html", "-c", str(HERE), "-W", "--keep-going", "-D", f"language={language}",
                    "-d", str(Path(tmp) / "doctrees" / edition), str(sources / edition), str(target)]
            status = build_main(args + (["-q"] if quiet else []))
            if status:
                raise SystemExit(f"the site's {edition} edition did not build (Sphinx exit status {status}); "
                                 "see the warnings above")
            if target != out:
                shutil.move(target, out / folder)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _build/html)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress, not only its warnings")
    args = parser.parse_args(argv)
    out = build(args.out, quiet=not args.verbose)
    pages = [page.relative_to(out) for page in out.rglob("*.html") if "_static" not in page.relative_to(out).parts]
    chinese = sum(1 for page in pages if page.parts[0] == EDITIONS["zh"][0])
    print(f"site built: {out} ({len(pages) - chinese} pages, {chinese} in Chinese); open {out / 'index.html'}")


if __name__ == "__main__":
    main()
