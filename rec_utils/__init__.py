"""rec_utils: the helper package of the course "Can large models change the recommendation paradigm?".

Each function is taught in a notebook first; its docstring names that notebook. The names
a notebook needs most are importable from the package itself::

    from rec_utils import setup, record, load_dataset

They are loaded on first use, so ``import rec_utils`` stays cheap and never imports TensorFlow.
The package's layers, each importing only the ones below it:

* ``rec_utils.rl`` and ``rec_utils.systems`` — simulator, bandits, off-policy evaluation;
  serving, distributed training, privacy;
* ``rec_utils.models`` — every recommender, on one contract (``models.base.Recommender``);
* ``rec_utils.evaluation`` — metrics, protocols, confidence intervals;
* ``rec_utils.data`` — schema, data sets, splits, cleaning, features;
* ``rec_utils._checks`` and ``rec_utils._console`` — input checks, progress bars.

``rec_utils.notebook`` (setup, record, progress, free_memory) is the course's own layer:
notebooks use it, library code never does.
"""

from importlib import import_module

_EXPORTS = {
    "Dataset": "data", "load_dataset": "data",
    "free_memory": "notebook", "progress": "notebook", "record": "notebook", "setup": "notebook",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'rec_utils' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])
