"""Test-session settings shared by unit and notebook tests.

Notebooks run in quick mode on the synthetic data set, offline, and write their results to
a temporary folder, whatever the developer's environment says. Kernels started by nbval
inherit these variables.

Tiers (markers registered in pyproject.toml): every notebook collected by nbval is marked
``notebooks``, the assignment checks ``assignments``, and the browser and site tests are also
``slow``; ``pytest -m "not notebooks and not assignments and not slow"`` is the unit tier.
"""

import importlib.util
import os
import tempfile
from pathlib import Path

import pytest

_scratch = tempfile.mkdtemp(prefix="rec_course_tests_")
os.environ.update({
    "REC_QUICK": "1",
    "REC_DATASET": "synthetic",
    "REC_OFFLINE": "1",
    "REC_RESULTS_DIR": os.path.join(_scratch, "results"),
    "REC_CACHE_DIR": os.path.join(_scratch, "cache"),
    "MPLBACKEND": "Agg",
    "TF_CPP_MIN_LOG_LEVEL": "3",
})
os.environ.pop("REC_DATA_DIR", None)

# The Chinese notebooks (notebooks/zh/, built by tools/translate.py) run the English notebooks' code:
# nbval executes the English ones, and tests/test_translations.py checks that the copies are current.
collect_ignore_glob = ["notebooks/zh/*"]


def pytest_configure(config):
    """nbval in lax mode, with this environment's kernel, when nbval is installed."""
    if config.pluginmanager.hasplugin("nbval"):
        config.option.nbval_lax = True
        config.option.nbval_current_env = True
        config.option.nbval_cell_timeout = 600


_TIER_BY_FILE = {"test_assignments.py": "assignments"}
# Doctests of objects that need an optional package: keras-hub is installed by the README's
# command (with --no-deps), not by `pip install -e ".[test]"`, which is enough for the rest.
_DOCTEST_NEEDS = {"rec_utils.data.text_features.PretrainedTextEmbedder": "keras_hub"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
        elif path.name in _TIER_BY_FILE:
            item.add_marker(getattr(pytest.mark, _TIER_BY_FILE[path.name]))
        needed = _DOCTEST_NEEDS.get(item.name)
        if needed and importlib.util.find_spec(needed) is None:
            item.add_marker(pytest.mark.skip(reason=f"{needed} is not installed (the README's install adds it)"))
        if item.get_closest_marker("browser") or item.get_closest_marker("site"):
            item.add_marker(pytest.mark.slow)  # they build the site or start JupyterLab: not the unit tier
