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
  ``docs/glossary.md`` and ``benchmarks/NOTEBOOK_RUNS.md`` are
  copied as they are.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

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


def notebooks() -> list[str]:
    """The notebooks on the site: those of the course map that exist, in course order."""
    return [row["notebook"] for row in course.course_map(include_planned=False)]


def launch_links(notebook: str) -> str:
    path = f"notebooks/{notebook}"
    return (f"[Open on Binder]({course.binder_url(path)}) · [Open in Colab]({course.colab_url(notebook)})"
            f" · [Source on GitHub]({course.github_url(path)})")


def page_notebook(text: str, notebook: str) -> str:
    """The notebook as the site shows it: title line as heading, launch links instead of the badge."""
    nb = json.loads(text)
    first = nb["cells"][0]
    if first["cell_type"] != "markdown":
        raise ValueError(f"{notebook}: the first cell should be the markdown title cell")
    source = "".join(first["source"])
    source = _BOLD_TITLE.sub(lambda m: f"# {m['title'].strip()}\n", source, count=1)
    source = _COLAB_BADGE.sub("", source).rstrip()
    first["source"] = f"{source}\n\n{launch_links(notebook)}\n"
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


def _mathjax_source() -> Path:
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def stage(source: Path) -> None:
    """Lay out the site's sources in ``source`` (an empty folder)."""
    (source / "notebooks").mkdir(parents=True)
    for notebook in notebooks():
        text = (ROOT / "notebooks" / notebook).read_text(encoding="utf-8")
        (source / "notebooks" / notebook).write_text(page_notebook(text, notebook), encoding="utf-8")
    for page in PAGES:
        (source / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / page, source / page)
    (source / "index.md").write_text(home_page(), encoding="utf-8")
    shutil.copytree(_mathjax_source(), source / "_static" / "mathjax", ignore=shutil.ignore_patterns(*_MATHJAX_SKIP))


def build(out: Path = DEFAULT_OUT, quiet: bool = True) -> Path:
    """Build the site into ``out`` (emptied first); fail on any Sphinx warning, such as a broken link."""
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="course_site_") as tmp:
        source = Path(tmp) / "source"
        stage(source)
        args = ["-b", "html", "-c", str(HERE), "-W", "--keep-going", "-d", str(Path(tmp) / "doctrees"),
                str(source), str(out)]
        status = build_main(args + (["-q"] if quiet else []))
    if status:
        raise SystemExit(f"the site did not build (Sphinx exit status {status}); see the warnings above")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _build/html)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress, not only its warnings")
    args = parser.parse_args(argv)
    out = build(args.out, quiet=not args.verbose)
    pages = sum(1 for page in out.rglob("*.html") if "_static" not in page.relative_to(out).parts)
    print(f"site built: {out} ({pages} pages); open {out / 'index.html'}")


if __name__ == "__main__":
    main()
