"""Grade an assignment's mistake variants in one process, with otter's own test files.

Run by ``assignments.py`` (``check`` and ``variants``), one process per assignment::

    python assignments/variant_runner.py AUTOGRADER.ipynb REPORT.json [--variants VARIANTS.yaml] [--student STUDENT.ipynb]

It does what ``otter run`` does to a submission, once for the solutions and once for every
variant, without starting a kernel per variant:

* the code cells of the autograder notebook run in order in one namespace, as in a kernel
  (an exception in a cell is recorded and the next cell runs, as otter's ``allow_errors``);
* at each ``grader.check("qN")`` cell, question qN's tests run against that namespace with
  ``otter.test_files.OKTestFile`` built from the test specs otter wrote into the notebook's
  metadata: the same cases, points and doctest runner as real grading;
* before the solution cell of a question that has variants, the namespace (deep-copied) and
  the global random states are saved. Each variant then restarts from that state: its code is
  spliced into the solution cell (see ``splice``), and every later cell runs again, check cells
  included, so a variant is graded exactly as the notebook a student with that one mistake
  would hand in — including what it does to later questions.

The report holds, for the solutions and for each variant, every question's points, points
possible, whether the public cases passed, and the failed cases with their messages.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import json
import linecache
import random
import re
import signal
import sys
import time
import types
from pathlib import Path

import nbformat
import numpy as np
import yaml

CHECK_CELL = re.compile(r'^\s*grader\.check\(\s*["\'](?P<name>[^"\']+)["\']\s*\)\s*$')
SOLUTION_TAG = "otter_assign_solution_cell"
ANSWER_TAG = "otter_answer_cell"  # the same cell in the student version
CELL_TIMEOUT_S = 300


def load_variants(path: Path) -> dict[str, list[dict]]:
    """``{question: [{"name", "mistake", "code", "replace"}]}`` from a variants file (empty if none)."""
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text()) or {}
    variants = {}
    for question, entries in raw.items():
        variants[str(question)] = [{"name": str(v["name"]), "mistake": str(v["mistake"]).strip(),
                                    "code": str(v["code"]), "replace": str(v.get("replace", "definitions"))}
                                   for v in entries]
    return variants


def _bound_name(statement: ast.stmt) -> str | None:
    """The single name a top-level statement defines (def, class, ``name = ...``), else None."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return statement.name
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return targets[0].id
    return None


def splice(solution: str, variant_code: str, replace: str = "definitions") -> str:
    """The solution cell with a variant spliced in.

    ``replace: definitions`` (the default): each top-level ``def``, ``class`` or ``name = ...``
    of the variant takes the place of the solution's statement that defines the same name;
    the solution's other statements stay where they are (so a cell that defines a function and
    then applies it applies the wrong function), and variant statements that define nothing the
    solution defines go first. ``replace: cell``: the variant's code is the whole cell.
    """
    if replace == "cell":
        return variant_code
    if replace != "definitions":
        raise ValueError(f"replace must be 'definitions' or 'cell', got {replace!r}")
    solution_lines = solution.splitlines()
    ours = ast.parse(solution).body
    theirs = ast.parse(variant_code).body
    variant_lines = variant_code.splitlines()

    def text(lines, statement):
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        return "\n".join(lines[first - 1:statement.end_lineno])

    by_name = {}
    for statement in theirs:
        by_name.setdefault(_bound_name(statement), []).append(text(variant_lines, statement))
    replaced, pieces = set(), []
    for statement in ours:
        name = _bound_name(statement)
        if name is not None and name in by_name:
            replaced.add(name)
            pieces.append("\n".join(by_name[name]))
        else:
            pieces.append(text(solution_lines, statement))
    extra = [piece for name, texts in by_name.items() if name not in replaced for piece in texts]
    return "\n\n".join(extra + pieces) + "\n"


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int):
    def _raise(signum, frame):
        raise _Timeout(f"cell ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _shared(value) -> bool:
    """Objects restored by reference, not copied: modules, code, and TensorFlow/Keras state."""
    if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)):
        return True
    module = type(value).__module__ or ""
    return module.split(".")[0] in {"keras", "tensorflow", "tf_keras", "tensorboard", "otter", "matplotlib"}


def _deepcopy_namespace(namespace: dict) -> dict:
    """A deep copy that keeps identities between entries (``ratings is data.ratings`` stays true)."""
    memo = {id(value): value for value in namespace.values() if _shared(value)}
    try:
        return copy.deepcopy(namespace, memo)
    except Exception:  # an entry that cannot be copied is shared; the others are still copied
        copied = {}
        for key, value in namespace.items():
            try:
                copied[key] = copy.deepcopy(value, memo)
            except Exception:
                copied[key] = value
        return copied


class Snapshot:
    """A namespace and the global random states, to start several runs from the same point."""

    def __init__(self, namespace: dict):
        self.namespace = _deepcopy_namespace(namespace)
        self.numpy_state = np.random.get_state()
        self.python_state = random.getstate()

    def restore(self, namespace: dict) -> None:
        namespace.clear()  # the same dict: functions defined earlier keep it as their globals
        namespace.update(_deepcopy_namespace(self.namespace))
        np.random.set_state(self.numpy_state)
        random.setstate(self.python_state)


def read_steps(notebook_path: Path) -> tuple[list[dict], dict]:
    """The autograder notebook as steps — ``{"kind": "code" | "check", ...}`` — and its test specs."""
    nb = nbformat.read(notebook_path, as_version=4)
    specs = nb.metadata["otter"]["tests"]
    steps, pending = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = cell.source
        match = CHECK_CELL.match(source)
        if match:
            for step in pending:
                step["question"] = match["name"]
            pending = []
            steps.append({"kind": "check", "question": match["name"], "cell": index})
        elif "otter.Notebook(" in source and "import otter" in source:
            continue  # the "Initialize Otter" cell: checks are run here, not by otter's Notebook
        else:
            step = {"kind": "code", "source": source, "cell": index, "question": None,
                    "solution": SOLUTION_TAG in cell.metadata.get("tags", [])}
            steps.append(step)
            if step["solution"]:
                pending.append(step)
    return steps, specs


_CELLS_RUN = [0]


def _run_cell(source: str, namespace: dict, label: str) -> str:
    """Execute one cell, output hidden; return the error it raised ('' if none).

    Like IPython, the cell's source is registered with ``linecache`` under a file name of its
    own, so ``inspect.getsource`` works on what it defines (tests that check how a function is
    written rely on that).
    """
    _CELLS_RUN[0] += 1
    filename = f"<{label} run {_CELLS_RUN[0]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as error:
        return f"SyntaxError: {error}"
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _time_limit(CELL_TIMEOUT_S):
            exec(code, namespace)
    except BaseException as error:  # noqa: BLE001 - a kernel survives whatever a cell raises
        if isinstance(error, KeyboardInterrupt):
            raise
        return f"{type(error).__name__}: {str(error)[:300]}"
    return ""


def _check(question: str, spec: dict, namespace: dict) -> dict:
    from otter.test_files import OKTestFile

    test = OKTestFile.from_spec(copy.deepcopy(spec), path=f"{question}.py")
    try:
        with _time_limit(CELL_TIMEOUT_S):
            test.run(namespace)
    except _Timeout as error:
        return {"score": 0.0, "possible": float(test.possible), "public_passed": False,
                "failed": [{"case": f"{question} (all)", "hidden": False, "message": str(error)}]}
    failed = [{"case": result.test_case.name, "hidden": bool(result.test_case.hidden),
               "failure_message": result.test_case.failure_message or "",
               "message": _last_lines(result.message)}
              for result in test.test_case_results if not result.passed]
    return {"score": float(test.score), "possible": float(test.possible),
            "public_passed": bool(test.passed_all_public), "failed": failed}


def _last_lines(message: str, n: int = 8) -> str:
    """The failing example of a doctest report and what it raised or printed, or its last lines."""
    lines = [line for line in (message or "").splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.strip() == "Failed example:":
            return "\n".join(lines[i + 1:i + 1 + n])
    return "\n".join(lines[-n:])


def _run_steps(steps: list[dict], start: int, namespace: dict, specs: dict, replacement: dict | None = None) -> dict:
    """Run steps[start:] in ``namespace``; ``replacement`` maps a step index to the source run instead."""
    results, errors = {}, []
    for position in range(start, len(steps)):
        step = steps[position]
        if step["kind"] == "check":
            results[step["question"]] = _check(step["question"], specs[step["question"]], namespace)
            continue
        source = (replacement or {}).get(position, step["source"])
        error = _run_cell(source, namespace, f"cell {step['cell']}")
        if error:
            errors.append({"cell": step["cell"], "question": step["question"], "error": error})
    return {"questions": results, "errors": errors}


def defines_code(source: str) -> bool:
    """Whether a solution cell defines a function or a class (a code question), not only values."""
    try:
        return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in ast.parse(source).body)
    except SyntaxError:
        return False


def blank_run(steps: list[dict], specs: dict, student_path: Path) -> dict:
    """Grade the student version as handed out: every solution cell replaced by its blank."""
    student = [cell for cell in nbformat.read(student_path, as_version=4).cells if cell.cell_type == "code"
               and ANSWER_TAG in cell.metadata.get("tags", [])]
    solutions = [i for i, step in enumerate(steps) if step["kind"] == "code" and step["solution"]]
    if len(student) != len(solutions):
        raise SystemExit(f"{student_path.name} has {len(student)} answer cells, the autograder version {len(solutions)}")
    return _run_steps(steps, 0, {"__name__": "__main__"}, specs,
                      replacement={i: cell.source for i, cell in zip(solutions, student)})


def run(notebook_path: Path, variants: dict[str, list[dict]], only: set[str] | None = None,
        student_path: Path | None = None) -> dict:
    """Grade the solutions, the blank student version (if given) and every variant; see the module docstring."""
    steps, specs = read_steps(notebook_path)
    report = {"notebook": notebook_path.name, "solution": None, "blank": None, "variants": [],
              "code_questions": sorted({s["question"] for s in steps
                                        if s["kind"] == "code" and s["solution"] and defines_code(s["source"])})}
    report["points"] = {question: [{"hidden": bool(case.get("hidden", True)), "points": case.get("points")}
                                   for case in spec["suites"][0]["cases"]] for question, spec in specs.items()}
    if student_path is not None:
        report["blank"] = blank_run(steps, specs, student_path)
    namespace: dict = {"__name__": "__main__"}
    unknown = set(variants) - {s["question"] for s in steps if s["kind"] == "check"}
    if unknown:
        raise SystemExit(f"{notebook_path.name}: variants name questions that do not exist: {sorted(unknown)}")
    first_solution = {}
    for position, step in enumerate(steps):
        if step["kind"] == "code" and step["solution"]:
            first_solution.setdefault(step["question"], position)
    for question, position in first_solution.items():
        solution_cells = [i for i, s in enumerate(steps) if s["kind"] == "code" and s["solution"] and s["question"] == question]
        if question in variants and len(solution_cells) != 1:
            raise SystemExit(f"{notebook_path.name}: {question} has {len(solution_cells)} solution cells; "
                             "variants need exactly one")

    solution = {"questions": {}, "errors": []}
    started = time.perf_counter()
    position = 0
    while position < len(steps):
        step = steps[position]
        question = step.get("question")
        if (step["kind"] == "code" and step["solution"] and question in variants
                and (only is None or question in only)):
            snapshot = Snapshot(namespace)
            for variant in variants[question]:
                snapshot.restore(namespace)
                began = time.perf_counter()
                spliced = splice(step["source"], variant["code"], variant["replace"])
                outcome = _run_steps(steps, position, namespace, specs, replacement={position: spliced})
                report["variants"].append({"question": question, "name": variant["name"],
                                           "mistake": variant["mistake"], "seconds": time.perf_counter() - began,
                                           **outcome})
            snapshot.restore(namespace)
        if step["kind"] == "check":
            solution["questions"][question] = _check(question, specs[question], namespace)
        else:
            error = _run_cell(step["source"], namespace, f"cell {step['cell']}")
            if error:
                solution["errors"].append({"cell": step["cell"], "question": question, "error": error})
        position += 1
    solution["seconds"] = time.perf_counter() - started
    report["solution"] = solution
    # questions checked before a variant's splice point keep the solution's results
    for variant in report["variants"]:
        variant["questions"] = {q: variant["questions"].get(q, solution["questions"][q]) for q in solution["questions"]}
    return report


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path, help="an autograder notebook made by otter assign")
    parser.add_argument("report", type=Path, help="where to write the JSON report")
    parser.add_argument("--variants", type=Path, help="the assignment's variants file (YAML)")
    parser.add_argument("--only", nargs="*", help="only the variants of these questions")
    parser.add_argument("--student", type=Path, help="also grade this blank student version")
    args = parser.parse_args(argv)
    variants = load_variants(args.variants) if args.variants else {}
    report = run(args.notebook, variants, set(args.only) if args.only else None, args.student)
    args.report.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
