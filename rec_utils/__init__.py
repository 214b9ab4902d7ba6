"""rec_utils: the helper package of the course "Can large models change the recommendation paradigm?".

Each function is taught in a notebook first; its docstring names that notebook. The names
a notebook needs most are importable from the package itself::

    from rec_utils import setup, record, load_dataset
"""

from .datasets import Dataset, load_dataset
from .notebook import progress, record, setup

__all__ = ["Dataset", "load_dataset", "progress", "record", "setup"]
__version__ = "0.1.0"
