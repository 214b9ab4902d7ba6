"""Sphinx configuration of the course website; ``website/build.py`` stages the sources and runs Sphinx.

The stack is Jupyter Book 1's (Sphinx, MyST-NB, sphinx-book-theme), used directly. Notebooks
are rendered from their committed outputs, never executed, and everything a page loads
(styles, scripts, fonts, MathJax) is copied from installed packages: the site works offline.
"""

from pathlib import Path

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
}


def _static_from_the_staged_sources(app, config):
    """build.py stages MathJax in the sources' _static folder; Sphinx reads static paths from here."""
    config.html_static_path = [*config.html_static_path, str(Path(app.srcdir) / "_static")]


def setup(app):
    app.connect("config-inited", _static_from_the_staged_sources)
