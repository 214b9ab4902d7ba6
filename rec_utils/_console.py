"""What library code and notebooks both print through: a progress bar, and quiet native logs.

Internal to the package (``rec_utils.notebook`` re-exports :func:`progress` for notebooks), so
that library modules never import the notebook layer.
"""

from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["progress", "quiet_native_stderr"]


def progress(iterable=None, **kwargs):
    """A text progress bar for loops longer than a few seconds.

    Plain-text ``tqdm`` (no widgets), updated at most once a second, so it reads the same
    live in JupyterLab, in a terminal and in a notebook committed with its outputs.
    """
    from tqdm.std import tqdm

    kwargs.setdefault("mininterval", 1.0)
    kwargs.setdefault("ncols", 90)
    kwargs.setdefault("file", sys.stdout)
    return tqdm(iterable, **kwargs)


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence file descriptor 2 (C++ logging) for the block; Python exceptions still raise."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded kernels): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
