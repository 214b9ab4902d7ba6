"""rec_utils: the helper package of the course "Can large models change the recommendation paradigm?".

Each function is taught in a notebook first; its docstring names that notebook.
"""

__version__ = "0.1.0"
