"""Run notebooks top to bottom in a fresh kernel and measure wall time and peak memory.

Usage (from the repository root)::

    REC_DATA_DIR=../shared/data python benchmarks/run_notebooks.py            # every notebook, full mode
    python benchmarks/run_notebooks.py notebooks/01_data_exploration.ipynb --write

``--write`` saves the executed notebook (with its outputs) in place: that is how the
committed notebooks are produced. The measurements are merged into
``benchmarks/notebook_runs.json`` and rendered as ``benchmarks/NOTEBOOK_RUNS.md``; the
README's course map reads them (``python -m tools.course`` refreshes it). A notebook with a Chinese
edition (``notebooks/zh/``) has it rebuilt from the new outputs (``tools/translate.py``).

Peak memory is the kernel process's own high-water mark of resident memory
(``getrusage`` ``ru_maxrss``), read by a cell the harness appends and removes again, so
it counts everything the notebook allocated, TensorFlow included. Processes a notebook
starts (worker pools, distributed-training workers) add to what a machine must hold, so
the harness also samples the kernel's whole process tree every 0.1 s with psutil and
reports the largest total it saw ("kernel + children"). (``RUSAGE_CHILDREN`` would not do:
a child forked from a large kernel reports the parent's pages as its own.) Summed resident
sizes count a shared library once per process, although the machine holds it once; where
the system reports it (Linux), the sampler also sums the proportional set size (PSS), which
splits each shared page between the processes that map it: that is what a container is
charged, and the figure to compare with Binder's limit when a notebook starts workers.

The machine's load average over the run is recorded too: a run that shared the cores with
other work is slower than the same run on an idle machine, and the table says so.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
RUNS_JSON = ROOT / "benchmarks" / "notebook_runs.json"
RUNS_MD = ROOT / "benchmarks" / "NOTEBOOK_RUNS.md"
MEMORY_LIMIT_MB = 1024  # Binder's guaranteed memory
# Budgets per data shape (peak kernel memory in MB, wall time in s): ML-100K and data of its
# size must fit Binder's guarantee; the catalogue-heavy shape must stay under Binder's 2 GB
# kill line with room to spare; ML-1M's scale must complete on a 2 GB machine.
BUDGETS = {
    "ml-100k": (1024, 300), "synthetic": (1024, 300),
    "ml-latest-small": (1536, 600), "synthetic-latest-small": (1536, 600),
    "ml-1m": (2048, 1200), "synthetic-1m": (2048, 1200),
}
DEFAULT_BUDGET = (1024, 300)  # a learner's own data of ML-100K's size
# Notebooks granted more time on ML-100K by their issue: 11's scaling sweep (issue 16: 10 minutes).
NOTEBOOK_SECONDS = {("11_large_models_and_scaling", "ml-100k"): 600}

_PEAK_CELL = """
import json, resource, sys
_scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
print("__PEAK__" + json.dumps({"self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _scale / 2**20}))
"""


class _TreeSampler(threading.Thread):
    """Samples the resident memory of the kernel plus all its child processes, every 0.1 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self.cpu_seconds = {}  # last CPU time (user + system) seen for each process of the tree
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                total = pss = 0
                for proc in tree:
                    try:
                        times = proc.cpu_times()
                        self.cpu_seconds[proc.pid] = times.user + times.system
                        total += proc.memory_info().rss
                        if len(tree) > 1:  # PSS only matters, and is only worth its cost, with children
                            pss += getattr(proc.memory_full_info(), "pss", 0)
                    except psutil.Error:
                        pass
                self.peak_mb = max(self.peak_mb, total / 2**20)
                self.peak_pss_mb = max(self.peak_pss_mb, pss / 2**20)
            except psutil.Error:
                return
            self.stopped.wait(0.1)


def run_notebook(path: Path, timeout: int = 1200, write: bool = False, results: Path | None = None) -> dict:
    """Execute ``path`` in a fresh kernel (cwd = its folder); return the measurements.

    ``results`` is the folder the notebook's ``record()`` calls write to (``REC_RESULTS_DIR``
    of the kernel); the notebook's headline and data set are read back from it.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    scratch = None
    if results is None:
        scratch = tempfile.TemporaryDirectory(prefix="notebook_results_")
        results = Path(scratch.name)
    saved = os.environ.get("REC_RESULTS_DIR")
    os.environ["REC_RESULTS_DIR"] = str(results)  # the kernel inherits it
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    samplers = []

    def start_sampling(**_):
        sampler = _TreeSampler(client.km.provisioner.pid)
        sampler.start()
        samplers.append(sampler)

    client.on_notebook_start = start_sampling
    start = time.perf_counter()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    try:
        client.execute()
    except Exception:
        # keep what ran, with the error, for reading: the committed notebook is left as it was
        failed = Path(tempfile.gettempdir()) / f"{path.stem}.failed.ipynb"
        nb.cells.pop()  # the peak-memory cell
        nbformat.write(nb, failed)
        print(f"  the executed cells, with the error, are in {failed}")
        raise
    finally:
        for sampler in samplers:
            sampler.stopped.set()
        if saved is None:
            os.environ.pop("REC_RESULTS_DIR", None)
        else:
            os.environ["REC_RESULTS_DIR"] = saved
    seconds = time.perf_counter() - start
    peak_cell = nb.cells.pop()
    text = "".join(o.get("text", "") for o in peak_cell.outputs if o.get("output_type") == "stream")
    peak = json.loads(text.split("__PEAK__", 1)[1].strip().splitlines()[0])
    if write:
        nbformat.write(nb, path)
    tree_peak = max([sampler.peak_mb for sampler in samplers] + [peak["self"]])
    measured = {"seconds": round(seconds, 1), "peak_mb": round(peak["self"], 1), "tree_peak_mb": round(tree_peak, 1)}
    cpu = sum(sum(sampler.cpu_seconds.values()) for sampler in samplers)
    if cpu:  # CPU time barely depends on what else the machine runs; wall time does
        measured["cpu_seconds"] = round(cpu, 1)
    pss_peak = max([sampler.peak_pss_mb for sampler in samplers] + [0.0])
    if pss_peak > 0:
        measured["tree_pss_mb"] = round(pss_peak, 1)
    if load_before is not None:
        # the 1-minute load average, before and after: above the core count, the run shared its CPUs
        measured["load"] = round(max(load_before, os.getloadavg()[0]), 1)
    recorded = results / f"{path.stem}.json"
    if recorded.exists():
        content = json.loads(recorded.read_text())
        measured["data"] = content.get("dataset")
        headline = content.get("results", {}).get("headline")
        if isinstance(headline, dict) and {"name", "value"} <= set(headline):
            measured["headline"] = headline
    if scratch is not None:
        scratch.cleanup()
    return measured


@contextlib.contextmanager
def _locked_runs():
    """Read-modify-write ``notebook_runs.json`` under a lock, so parallel runs do not lose rows."""
    RUNS_JSON.parent.mkdir(parents=True, exist_ok=True)
    with open(RUNS_JSON.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runs = json.loads(RUNS_JSON.read_text()) if RUNS_JSON.exists() else {}
        yield runs
        RUNS_JSON.write_text(json.dumps(runs, indent=2, sort_keys=True) + "\n")
        RUNS_MD.write_text(_render(runs))


def _fits(r: dict, data: str, notebook: str = "") -> str:
    memory, seconds = BUDGETS.get(data, DEFAULT_BUDGET)
    seconds = NOTEBOOK_SECONDS.get((Path(notebook).stem, data), seconds)
    tree = r.get("tree_peak_mb")
    # with worker processes, PSS is what the machine holds; summed RSS counts shared libraries twice
    total = max(r["peak_mb"], r.get("tree_pss_mb") or tree or 0)
    problems = []
    if r["peak_mb"] >= memory:
        problems.append(f"memory over {memory} MB")
    if r["seconds"] > seconds and (r.get("load") or 0) <= 2.5:
        problems.append(f"time over {seconds / 60:.0f} min")
    elif r["seconds"] > seconds:
        problems.append(f"time over {seconds / 60:.0f} min at load {r.get('load')}: re-measure on an idle machine")
    if problems:
        return "**no**: " + "; ".join(problems)
    if memory == MEMORY_LIMIT_MB and total >= memory:
        if total >= 2 * MEMORY_LIMIT_MB:
            return "**no**: with workers over 2 GB"
        return f"kernel yes; with workers {total / 1024:.1f} GB, under Binder's 2 GB maximum"
    return "yes"


def _headline(r: dict) -> str:
    headline = r.get("headline")
    if not headline:
        return "—"
    value = headline["value"]
    return f"{headline['name']} {value:.4g}" if isinstance(value, (int, float)) else f"{headline['name']} {value}"


def _render(runs: dict) -> str:
    budgets = ", ".join(f"{data}: {mb / 1024:.1f} GB and {sec / 60:.0f} min"
                        for data, (mb, sec) in BUDGETS.items() if not data.startswith("synthetic"))
    lines = [
        "# Notebook runs: wall time, peak kernel memory and headline result, per data set",
        "",
        "Written by `benchmarks/run_notebooks.py`; each notebook executed top to bottom in a fresh",
        "kernel, in full mode. Budgets per notebook (peak kernel memory, wall time on 2 CPU cores):",
        f"{budgets}; each synthetic shape has the budget of the release it imitates, and a",
        "learner's own data of ML-100K's size has ML-100K's. Notebook 11, whose scaling sweep its issue",
        "allows 10 minutes on ML-100K, is measured against that.",
        "",
        "Kernel + children: resident sizes summed, sampled every 0.1 s; where the notebook starts",
        "worker processes, the proportional set size (PSS) counts their shared libraries once. Load:",
        "the 1-minute load average during the run; above the number of CPUs, the run shared its cores",
        "and its wall time overstates what an idle machine takes. CPU time (user + system, kernel and",
        "its workers) barely depends on the load: on 2 idle cores, wall time is roughly between half",
        "of it and all of it. Within budget: memory and time",
        "under the budget of the data set; on ML-100K, a notebook whose worker processes take the",
        "total above 1 GB says so, and must stay under Binder's 2 GB maximum. Headline: the result",
        "the notebook records as its headline, on that data set.",
        "",
        "| notebook | data | wall time (s) | CPU time (s) | peak kernel memory (MB) | peak kernel + children, RSS (MB) | kernel + children, PSS (MB) | within budget | headline | load | date | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(runs):
        for data in sorted(runs[name], key=lambda d: (d != "ml-100k", d)):
            r = runs[name][data]
            tree, pss, load = r.get("tree_peak_mb"), r.get("tree_pss_mb"), r.get("load")
            cpu = r.get("cpu_seconds")
            lines.append(f"| {name} | {data} | {r['seconds']:.1f} | {'—' if cpu is None else f'{cpu:.0f}'} | {r['peak_mb']:.0f} | "
                         f"{'—' if tree is None else f'{tree:.0f}'} | {'—' if pss is None else f'{pss:.0f}'} | "
                         f"{_fits(r, data, name)} | {_headline(r)} | {'—' if load is None else load} | "
                         f"{r['date']} | {r['machine']} |")
    return "\n".join(lines) + "\n"


def refresh_translation(path: Path) -> str | None:
    """Rebuild the Chinese edition of a notebook just written: its code cells and outputs are the English ones.

    Returns a line to print, or ``None`` when the notebook has no Chinese edition. A translation
    made stale by prose edits is left for its translator (``python tools/translate.py status``).
    """
    sys.path.insert(0, str(ROOT))
    try:
        from tools import translate
    finally:
        sys.path.remove(str(ROOT))
    if not translate.output_path(path).exists():
        return None
    try:
        changed = translate.build([path.stem])
    except translate.IncompleteTranslation as error:
        return f"  note: the Chinese edition is not rebuilt, its translation is out of date:\n  {error}"
    return "  Chinese edition rebuilt" if changed else "  Chinese edition was current"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--write", action="store_true", help="save each executed notebook in place")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    quick = os.environ.get("REC_QUICK", "").lower() in {"1", "true", "yes", "on"}
    data = os.environ.get("REC_DATASET", "").strip() or "ml-100k"
    if not quick and not data.startswith("synthetic") and not os.environ.get("REC_DATA_DIR"):
        print("note: REC_DATA_DIR is not set; notebooks use data found in data/, the cache, or a download")
    if args.write and (quick or data != "ml-100k"):
        print("note: --write commits outputs; committed notebooks are full-mode runs on ML-100K, so this "
              "run saves the notebooks but not the committed results/")
    machine = f"{os.cpu_count()} CPUs, {platform.machine()}"
    failed = []
    for path in paths:
        path = path.resolve()
        print(f"running {path.name} on {data} ...", flush=True)
        results = ROOT / "results" if args.write and not quick and data == "ml-100k" else None
        try:
            measured = run_notebook(path, timeout=args.timeout, write=args.write, results=results)
        except Exception as exc:  # report every notebook, then fail
            print(f"  FAILED: {type(exc).__name__}: {str(exc)[-2000:]}")
            failed.append(path.name)
            continue
        name = measured.pop("data", None) or (Path(data).stem if os.sep in data else data)
        measured.update(mode="quick" if quick else "full", date=date.today().isoformat(), machine=machine)
        if not quick:  # the table holds full-mode runs only; a quick run just prints
            with _locked_runs() as runs:
                runs.setdefault(path.name, {})[name] = measured
        print(f"  {measured['seconds']:.1f} s ({measured.get('cpu_seconds', '—')} s of CPU), peak {measured['peak_mb']:.0f} MB"
              f" (kernel + children {measured['tree_peak_mb']:.0f} MB), load {measured.get('load', '—')}, "
              f"headline {_headline(measured)}", flush=True)
        if args.write and (note := refresh_translation(path)):
            print(note, flush=True)
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
