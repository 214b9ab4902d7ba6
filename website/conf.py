"""Sphinx configuration of the course website; ``website/build.py`` stages the sources and runs Sphinx.

The stack is Jupyter Book 1's (Sphinx, MyST-NB, sphinx-book-theme), used directly. Notebooks
are rendered from their committed outputs, never executed, and everything a page loads
(styles, scripts, fonts, MathJax) is copied from installed packages: the site works offline.
The same configuration builds the Chinese edition when build.py passes ``-D language=zh_CN``;
each page's language switch (``_templates/language-switch.html``) is set up below.
"""

from pathlib import Path

from docutils import nodes

from tools import course

project = "Can large models change the recommendation paradigm?"
author = "The course's authors"
copyright = "the course's authors; MovieLens data by GroupLens (not redistributed)"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# Committed outputs only: a full run takes the better part of an hour and needs the real data.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
# build.py fails on any warning, so that a broken link stops the build; a skipped heading
# level in a notebook's markdown breaks nothing on the site.
suppress_warnings = ["myst.header"]
myst_update_mathjax = False  # MyST would configure MathJax 3; the site ships MathJax 2 (below)

# MathJax 2.7 from the jupyter-server-mathjax package, copied into _static/mathjax by build.py,
# instead of Sphinx's default CDN copy.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True},
    "HTML-CSS": {"availableFonts": [], "imageFont": None, "preferredFont": None, "webFont": "STIX-Web"},
    "menuSettings": {"zoom": "None"},
    "showMathMenu": False,
    "messageStyle": "none",
}

templates_path = ["_templates"]
html_static_path = ["_static"]  # website/_static: the language switch's style
html_css_files = ["language-switch.css"]
html_theme = "sphinx_book_theme"
html_title = "Can large models change the recommendation paradigm?"
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "repository_url": f"https://github.com/{course.REPO_SLUG}",
    "repository_branch": course.BRANCH,
    "use_repository_button": True,
    "use_download_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # The language switch (English ↔ 中文) comes first in the bar above every page's text.
    "article_header_end": ["language-switch.html", "article-header-buttons.html"],
}

# The editions of the site (website/build.py runs Sphinx once for each, with -D language=..., and
# keeps the same folders in its EDITIONS): folder in the site, the switch's label, its hreflang.
EDITIONS = {"en": {"folder": "", "label": "English", "hreflang": "en"},
            "zh": {"folder": "zh/", "label": "中文", "hreflang": "zh-CN"}}
ZH_TITLE = "大模型能改变推荐范式吗？"
# Generated pages that both editions have without a source file.
_GENERATED_PAGES = {"genindex", "search"}


def _edition(config) -> str:
    """``"zh"`` for the Chinese edition's build (``language = "zh_CN"``), else ``"en"``."""
    return "zh" if (config.language or "en").startswith("zh") else "en"


def _chinese_edition(app, config):
    """The Chinese edition's title, and MathJax from the English build's _static (one folder up)."""
    if _edition(config) != "zh":
        return
    config.project = config.html_title = ZH_TITLE
    config.author = "本课程的作者"
    config.copyright = "本课程的作者；MovieLens 数据来自 GroupLens（本站不再分发）"
    config.html_theme_options = {**config.html_theme_options, "toc_title": "本页目录"}
    config.mathjax_path = "../../_static/" + config.mathjax_path


def _other_edition_page(app, pagename: str) -> tuple[str, bool]:
    """The other edition's page for ``pagename``, and whether it is the same page (else its home)."""
    other = "en" if _edition(app.config) == "zh" else "zh"
    sources = Path(app.srcdir).parent / other
    same = pagename in _GENERATED_PAGES or any(
        (sources / f"{pagename}{suffix}").is_file() for suffix in (".md", ".ipynb"))
    return (pagename if same else app.config.root_doc), same


def _language_switch(app, pagename, templatename, context, doctree):
    """``language_switch`` for website/_templates/language-switch.html: this page in the other language.

    build.py stages both editions' sources side by side (``.../en``, ``.../zh``); a page whose
    counterpart is not there links to the other edition's home page and says so.
    """
    if not (Path(app.srcdir).parent / ("en" if _edition(app.config) == "zh" else "zh")).is_dir():
        return  # Sphinx run on one edition alone
    this = _edition(app.config)
    other = "en" if this == "zh" else "zh"
    target, same = _other_edition_page(app, pagename)
    site_root = "../" * pagename.count("/") + ("../" if EDITIONS[this]["folder"] else "")
    href = site_root + EDITIONS[other]["folder"] + app.builder.get_target_uri(target)
    if same:
        title = "Read this page in English" if other == "en" else "阅读本页的中文版"
    else:
        title = ("No Chinese edition of this page yet: go to the Chinese home page (本页尚无中文版)"
                 if other == "zh" else "This page has no English edition: go to the English home page")
    context["language_switch"] = {
        "current": EDITIONS[this], "other": EDITIONS[other], "href": href, "title": title}
    if same:
        context["metatags"] = context.get("metatags", "") + (
            f'\n<link rel="alternate" hreflang="{EDITIONS[other]["hreflang"]}" href="{href}" />')


def _site_links(app, doctree, docname):
    """Links written ``site:ADDRESS`` (build.py, for pages only the other edition has) go to ADDRESS."""
    for reference in doctree.findall(nodes.reference):
        if reference.get("refuri", "").startswith("site:"):
            reference["refuri"] = reference["refuri"].removeprefix("site:")


# site: is a scheme MyST lets through untouched, like http:
myst_url_schemes = {"http": None, "https": None, "mailto": None, "ftp": None, "site": None}


def _static_from_the_staged_sources(app, config):
    """build.py stages MathJax in the sources' _static folder; Sphinx reads static paths from here.

    The Chinese edition has no such folder: it loads the English edition's MathJax.
    """
    if (Path(app.srcdir) / "_static").is_dir():
        config.html_static_path = [*config.html_static_path, str(Path(app.srcdir) / "_static")]


def setup(app):
    app.connect("config-inited", _static_from_the_staged_sources)
    app.connect("config-inited", _chinese_edition)
    app.connect("doctree-resolved", _site_links)
    app.connect("html-page-context", _language_switch)
