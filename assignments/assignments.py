"""Build, check and grade the course assignments (otter-grader, no Docker needed).

One master per notebook lives in ``assignments/masters/NN_name.ipynb``, in otter-grader's
format (``# BEGIN QUESTION`` / ``# BEGIN SOLUTION`` / ``# BEGIN TESTS`` cells). From each
master, ``otter assign`` makes two versions, committed next to it:

* ``assignments/student/NN_name.ipynb`` — what a learner opens: solutions replaced by
  ``...``, public tests only, a ``grader.check("qN")`` cell after each question;
* ``assignments/autograder/NN_name.ipynb`` — the solutions with every test, hidden ones
  included, for instructors.

Usage, from the repository root::

    python assignments/assignments.py build                 # regenerate student + autograder versions
    python assignments/assignments.py check [NN ...]        # solutions pass, blanks fail, versions current
    python assignments/assignments.py grade NN submissions/ --csv grades.csv

``grade`` runs every ``*.ipynb`` in the folder through the autograder, one after the other
in a fresh kernel each (``otter run``), and writes one CSV row per submission: a score per
question, the total, and an error column for a notebook that could not be run. The data the
assignments load follow the course's rules (``REC_DATA_DIR``, ``REC_QUICK``, ``REC_DATASET``):
see ``docs/instructor_guide.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MASTERS = ROOT / "masters"
STUDENT = ROOT / "student"
AUTOGRADER = ROOT / "autograder"


def masters(selection=None) -> list[Path]:
    """The master notebooks, all or those whose name starts with one of ``selection`` (e.g. "01")."""
    found = sorted(MASTERS.glob("[0-9][0-9]_*.ipynb"))
    if selection:
        found = [m for m in found if any(m.name.startswith(s) for s in selection)]
        if not found:
            raise SystemExit(f"no master matches {selection}; masters are {[m.stem for m in masters()]}")
    return found


def _normalise(path: Path) -> None:
    """Give cells stable ids (otter draws random ones) so a rebuild changes nothing."""
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def _otter(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "otter", *args], cwd=cwd, capture_output=True, text=True)


def assign(master: Path, into: Path, run_tests: bool) -> Path:
    """``otter assign`` one master into ``into``; return the dist folder. Raises if otter fails."""
    work = into / master.stem
    work.mkdir(parents=True)
    shutil.copy(master, work / master.name)
    result = _otter("assign", *([] if run_tests else ["--no-run-tests"]), master.name, "dist", cwd=work)
    if result.returncode != 0:
        raise RuntimeError(f"otter assign failed for {master.name}"
                           f"{' (a test failed on the solutions)' if run_tests else ''}:\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    for version in ("student", "autograder"):
        _normalise(work / "dist" / version / master.name)
    return work / "dist"


def autograder_zip(dist: Path) -> Path:
    zips = sorted((dist / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"expected one autograder zip in {dist / 'autograder'}, found {len(zips)}")
    return zips[0]


def run_submission(zip_path: Path, submission: Path) -> dict:
    """Grade one notebook with ``otter run``: {"scores": {q: points}, "max": {q: points}, "error": str}."""
    with tempfile.TemporaryDirectory() as out:
        result = _otter("run", "--no-logo", "-a", str(zip_path), "-o", out, str(submission.resolve()),
                        cwd=submission.parent)
        report = Path(out) / "results.json"
        if not report.exists():
            return {"scores": {}, "max": {}, "error": (result.stderr or result.stdout).strip()[-500:] or "no results"}
        tests = [t for t in json.loads(report.read_text())["tests"] if t.get("max_score") is not None]
    return {"scores": {t["name"]: float(t["score"] or 0) for t in tests},
            "max": {t["name"]: float(t["max_score"]) for t in tests}, "error": ""}


def build(selection=None) -> None:
    """Regenerate the committed student and autograder versions of the masters."""
    STUDENT.mkdir(exist_ok=True)
    AUTOGRADER.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for master in masters(selection):
            dist = assign(master, Path(tmp), run_tests=False)
            shutil.copy(dist / "student" / master.name, STUDENT / master.name)
            shutil.copy(dist / "autograder" / master.name, AUTOGRADER / master.name)
            print(f"built {master.stem}")


def check(selection=None) -> list[str]:
    """For each master: the solutions pass every test, each question of the blank student version
    scores 0, and the committed versions are current. Returns the problems found (empty = fine)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for master in masters(selection):
            start = time.perf_counter()
            try:
                dist = assign(master, Path(tmp), run_tests=True)  # fails if a test fails on the solutions
            except RuntimeError as error:
                problems.append(str(error))
                continue
            for version, folder in (("student", STUDENT), ("autograder", AUTOGRADER)):
                committed = folder / master.name
                if not committed.exists() or committed.read_text() != (dist / version / master.name).read_text():
                    problems.append(f"{committed.relative_to(ROOT.parent)} is out of date: "
                                    f"run python assignments/assignments.py build {master.name[:2]}")
            blank = run_submission(autograder_zip(dist), dist / "student" / master.name)
            if blank["error"] or not blank["scores"]:
                problems.append(f"{master.stem}: the blank student version could not be graded: {blank['error']}")
            passed_blank = [q for q, score in blank["scores"].items() if score > 0]
            if passed_blank:
                problems.append(f"{master.stem}: a blank answer scores points on {passed_blank}: "
                                "a test that a blank answer passes cannot tell a student anything")
            print(f"checked {master.stem}: {len(blank['scores'])} questions, "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
    return problems


def grade(selection: str, submissions: Path, csv_path: Path) -> list[dict]:
    """Grade every notebook in ``submissions`` against assignment ``selection``; write ``csv_path``."""
    (master,) = masters([selection]) if len(masters([selection])) == 1 else (None,)
    if master is None:
        raise SystemExit(f"'{selection}' must name exactly one assignment")
    files = sorted(submissions.glob("*.ipynb"))
    if not files:
        raise SystemExit(f"no .ipynb submissions in {submissions}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        zip_path = autograder_zip(assign(master, Path(tmp), run_tests=False))
        questions = None
        for submission in files:
            result = run_submission(zip_path, submission)
            questions = questions or list(result["max"])
            total = sum(result["scores"].values())
            rows.append({"student": submission.stem,
                         **{q: result["scores"].get(q, 0.0) for q in (questions or [])},
                         "total": total, "max": sum(result["max"].values()) or None, "error": result["error"]})
            print(f"{submission.name}: {total:g}{' (' + result['error'][:80] + ')' if result['error'] else ''}",
                  flush=True)
    columns = ["student", *(questions or []), "total", "max", "error"]
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="regenerate student and autograder versions").add_argument("only", nargs="*")
    commands.add_parser("check", help="solutions pass, blanks fail, versions current").add_argument("only", nargs="*")
    grader = commands.add_parser("grade", help="grade a folder of submitted notebooks into a CSV")
    grader.add_argument("assignment", help="the assignment's number or name, e.g. 01")
    grader.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    grader.add_argument("--csv", type=Path, default=Path("grades.csv"), help="where to write the scores")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.command == "build":
        build(args.only)
    elif args.command == "check":
        problems = check(args.only)
        for problem in problems:
            print("PROBLEM:", problem)
        return 1 if problems else 0
    else:
        started = time.perf_counter()
        rows = grade(args.assignment, args.submissions, args.csv)
        print(f"graded {len(rows)} submissions in {time.perf_counter() - started:.0f} s -> {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
