"""The first cell of every notebook, and the record of what it achieved.

``setup()`` seeds Python, NumPy and (when asked) TensorFlow, enables op determinism,
quiets TensorFlow's logs, sets the plotting style and prints what the notebook runs on.
``record(name, value)`` writes a headline result to ``<results dir>/<notebook>.json``
(``$REC_RESULTS_DIR``, else the per-user cache; the measuring harness points it at the
repository's committed ``results/``), and :func:`read_results` reads another notebook's.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import platform
import random
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from ._console import progress, quiet_native_stderr
from .data.datasets import LAST_LOADED, describe_choice, is_quick, resolve_dataset

__all__ = ["setup", "record", "results_dir", "read_results", "committed_results_dir", "progress", "free_memory",
           "Setup"]  # progress comes from _console

_current = {"notebook": None}


@dataclass(frozen=True)
class Setup:
    """What :func:`setup` settled: the notebook's name, its seed and whether it runs quick."""

    notebook: str
    seed: int
    quick: bool
    dataset: str


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _plot_style() -> None:
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (7.0, 4.0), "figure.dpi": 100, "savefig.dpi": 120,
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "axes.titlesize": 12, "axes.labelsize": 11,
        "legend.frameon": False,
    })


def setup(notebook: str, seed: int = 42, tensorflow: bool = False, verbose: bool = True,
          inter_op_threads: int | None = None) -> Setup:
    """Make a notebook reproducible and say what it runs on.

    Parameters
    ----------
    notebook : str
        The notebook's name without extension, e.g. ``"01_data_exploration"``; results
        recorded with :func:`record` go to ``<results dir>/<notebook>.json``.
    seed : int
        Seeds Python's ``random``, NumPy's legacy global generator and, with
        ``tensorflow=True``, TensorFlow; notebooks still pass explicit seeds to splits.
    tensorflow : bool
        Import TensorFlow, seed it and enable op determinism. Off by default because
        importing TensorFlow alone takes about 630 MB, which notebooks without Keras
        should not pay on Binder.
    inter_op_threads : int, optional
        With ``tensorflow=True``: how many independent operations TensorFlow may run side
        by side (default: its own choice, one per core). Each of those threads keeps its own
        oneDNN kernels for every tensor shape it has run, so a notebook that trains many
        models of different sizes grows by several MB per model and thread; 1 keeps one
        copy, at some cost in speed. Results do not change: the operations are the same,
        only their scheduling differs. Applied only when TensorFlow starts; a second call
        in the same kernel keeps the first setting.
    """
    if not notebook or not isinstance(notebook, str):
        raise ValueError("setup() needs the notebook's name, e.g. setup('01_data_exploration')")
    if inter_op_threads is not None and (isinstance(inter_op_threads, bool) or not isinstance(inter_op_threads, int)
                                         or inter_op_threads < 1):
        raise ValueError(f"inter_op_threads must be a positive whole number or None, got {inter_op_threads!r}")
    _current["notebook"] = notebook
    # Before TensorFlow is imported. Level 3 also hides two C++ "E0000" lines TensorFlow 2.21 prints
    # on CPUs without AVX-512 (oneDNN's DT_BOOL fallback) and for tf.data graphs under op determinism
    # (use_unbounded_threadpool): notices about its own build, not errors in the learner's code, which
    # still raise Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    random.seed(seed)
    np.random.seed(seed)
    _plot_style()
    installed = _version("tensorflow") if _version("tensorflow") != "not installed" else _version("tensorflow-cpu")
    tf_line = f"TensorFlow {installed} (not imported)"
    _return_large_blocks_at_once()
    if tensorflow:
        _limit_malloc_arenas(2)
        with quiet_native_stderr():  # TensorFlow's C++ start-up notices are not for learners
            import keras
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
            keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow in one call
            tf.config.experimental.enable_op_determinism()
            if inter_op_threads is not None:
                try:
                    tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads)
                except RuntimeError:  # TensorFlow has already started in this kernel: its setting stays
                    pass
            tf.constant(0.0) + 1.0  # the first op prints more notices; let it happen here
        tf_line = f"TensorFlow {tf.__version__} / Keras {keras.__version__} (seeded, op determinism on)"
    kind, choice = resolve_dataset()  # a wrong REC_DATASET stops here, with the list of valid values
    dataset = str(choice)
    quick = is_quick()
    if verbose:
        print(f"Python {platform.python_version()} | NumPy {np.__version__} | "
              f"pandas {_version('pandas')} | scikit-learn {_version('scikit-learn')} | {tf_line}")
        print(f"Data: {describe_choice()}")
        print(f"Mode: {'QUICK (REC_QUICK=1): small data, short training' if quick else 'full'} | seed {seed}")
    return Setup(notebook=notebook, seed=seed, quick=quick, dataset=dataset)


def results_dir() -> Path:
    """Where :func:`record` writes: ``$REC_RESULTS_DIR``, else the per-user cache.

    The committed ``results/`` folder of the repository is written only when the
    measuring harness asks for it (``benchmarks/run_notebooks.py --write`` sets
    ``REC_RESULTS_DIR``), so a learner who runs a notebook leaves ``git status`` clean.
    """
    if os.environ.get("REC_RESULTS_DIR"):
        return Path(os.environ["REC_RESULTS_DIR"]).expanduser()
    base = os.environ.get("REC_CACHE_DIR") or Path.home() / ".cache" / "rec_utils"
    return Path(base).expanduser() / "results"


def committed_results_dir() -> Path | None:
    """The repository's ``results/`` (full-mode runs on real ML-100K), when running from a clone."""
    folder = Path(__file__).resolve().parents[1] / "results"
    return folder if folder.is_dir() else None


def read_results(notebook: str, dataset: str | None = None, full_mode: bool = True) -> dict | None:
    """The results another notebook recorded, or None when there are none to read.

    Looks in :func:`results_dir` (your own runs) first, then in the repository's committed
    ``results/``. Only results obtained on ``dataset`` (default: the data set this notebook
    works on) and, with ``full_mode``, in full mode count: a quick run never passes for a
    full one.
    """
    dataset = dataset or LAST_LOADED["name"] or str(resolve_dataset()[1])
    for folder in (results_dir(), committed_results_dir()):
        path = folder / f"{notebook}.json" if folder is not None else None
        if path is None or not path.exists():
            continue
        content = json.loads(path.read_text())
        if content.get("dataset") == dataset and not (full_mode and content.get("quick")):
            return content.get("results", {})
    return None


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"cannot record a non-finite number ({value})")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"record() takes numbers, strings, lists and dicts of them, got {type(value).__name__}")


def record(name: str, value, notebook: str | None = None):
    """Store a headline result of the current notebook and print it.

    Results are merged into ``<results dir>/<notebook>.json`` under ``"results"``, with
    the data set and mode they were obtained on, so a quick run never passes for a full
    one.
    """
    notebook = notebook or _current["notebook"]
    if notebook is None:
        raise RuntimeError("call rec_utils.setup('<notebook name>') before record()")
    if not name or not isinstance(name, str):
        raise ValueError(f"a result needs a non-empty string name, got {name!r}")
    plain = _plain(value)
    path = results_dir() / f"{notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.loads(path.read_text()) if path.exists() else {}
    content.update({"notebook": notebook, "quick": is_quick(),
                    "dataset": LAST_LOADED["name"] or os.environ.get("REC_DATASET", "").strip() or "ml-100k"})
    content.setdefault("results", {})[name] = plain
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    shown = f"{plain:.4g}" if isinstance(plain, float) else plain  # 4 significant digits: 3.5e-11 stays visible
    print(f"recorded {name} = {shown}", file=sys.stdout)


def _limit_malloc_arenas(arenas: int) -> None:
    """On Linux/glibc, let the C allocator keep at most ``arenas`` memory pools.

    By default glibc gives busy threads their own pool (up to 8 per core), and
    TensorFlow runs many threads: memory freed in one pool is not reused by another,
    and a notebook that trains several models grows by tens of MB per model. Two pools
    keep it within Binder's 1 GB at no measurable cost on 2 cores. Elsewhere: no-op.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 = M_ARENA_MAX
        except (OSError, AttributeError):  # not glibc (e.g. musl)
            pass


MMAP_THRESHOLD = 128 * 1024  # bytes: glibc's starting value, kept fixed


def _return_large_blocks_at_once() -> bool:
    """On Linux/glibc, give every freed block above 128 KB straight back to the system.

    glibc serves a large request (a NumPy array, a block of scores) from a private memory
    map, freed at once. But each time such a block is freed it raises that threshold,
    up to 32 MB, so later arrays of a few MB come from the heap, where freed memory stays
    counted against the kernel: a notebook that fits model after model on a
    10,000-item catalogue kept 200-400 MB it no longer used. Fixing the threshold
    (``mallopt(M_MMAP_THRESHOLD)``, which also stops it moving) keeps the resident memory
    close to what the notebook holds. Returns whether the setting was applied; elsewhere
    it is a no-op.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-3, MMAP_THRESHOLD))  # -3 = M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False


def free_memory() -> int:
    """Give the memory of models you are done with back to the system; return the MB released.

    Call it after ``del model`` between experiments. It collects Python garbage, clears
    Keras' global state when Keras has been imported (``clear_session(free_memory=True)``),
    and on Linux with glibc asks the C allocator to return its freed pages
    (``malloc_trim``): without that last step, memory TensorFlow freed stays counted
    against the kernel, and a notebook that trains several models one after another
    creeps towards Binder's 1 GB. Elsewhere the last step is skipped.

    Examples
    --------
    >>> free_memory() >= 0
    True
    """
    before = _resident_mb()
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session(free_memory=True)
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to trim
            pass
    return max(0, round(before - _resident_mb()))


def _resident_mb() -> float:
    """Current resident memory of this process in MB (0 where it cannot be read)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        return 0.0
