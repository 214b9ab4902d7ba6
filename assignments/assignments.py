"""Build, check and grade the course assignments (otter-grader, no Docker needed).

One master per notebook lives in ``assignments/masters/NN_name.ipynb``, in otter-grader's
format (``# BEGIN QUESTION`` / ``# BEGIN SOLUTION`` / ``# BEGIN TESTS`` cells), and beside it
``assignments/variants/NN_name.yaml``, the common mistakes its tests must catch (the format of
both is in ``assignments/README.md``). From each master, ``otter assign`` makes two versions,
committed next to it:

* ``assignments/student/NN_name.ipynb`` — what a learner opens: solutions replaced by
  ``...``, public tests only, a ``grader.check("qN")`` cell after each question;
* ``assignments/autograder/NN_name.ipynb`` — the solutions with every test, hidden ones
  included, for instructors.

Usage, from the repository root::

    python assignments/assignments.py build [NN ...]       # regenerate student + autograder versions
    python assignments/assignments.py check [NN ...]       # solutions pass, blanks and mistakes fail, versions current
    python assignments/assignments.py variants [NN ...]    # how much each mistake keeps (--masters-at REV: older tests;
                                                           #   --submissions DIR: write the mistakes as notebooks)
    python assignments/assignments.py grade NN submissions/ --csv grades.csv --workers 2

``grade`` runs every ``*.ipynb`` in the folder through the autograder, each in a fresh kernel
(otter's ``otter run``), ``--workers`` at a time, and writes one CSV row per submission: the
points per question, the total, the maximum, which test cases failed in each question (with
the mistake they detect), and an error column for a notebook that could not be graded. The
data the assignments load follow the course's rules (``REC_DATA_DIR``, ``REC_QUICK``,
``REC_DATASET``): see ``docs/instructor_guide.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import importlib.util
import json
import multiprocessing
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
VARIANTS = ROOT / "variants"
RUNNER = ROOT / "variant_runner.py"

KEPT_AT_MOST = 0.25  # a mistake variant keeps at most this share of its question's points
HIDDEN_AT_LEAST = 0.75  # the hidden cases carry at least this share of a question's points
MIN_VARIANTS = 2  # mistake variants per code question
TOLERANCE = 1e-9


def _module(name: str):
    """A sibling module of this file (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def masters(selection=None, folder: Path = MASTERS) -> list[Path]:
    """The master notebooks, all or those whose name starts with one of ``selection`` (e.g. "01")."""
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if selection:
        found = [m for m in found if any(m.name.startswith(s) for s in selection)]
        if not found:
            raise SystemExit(f"no master matches {selection}; masters are {[m.stem for m in masters()]}")
    return found


def variants_file(master: Path) -> Path:
    return VARIANTS / f"{master.stem}.yaml"


def _normalise(path: Path) -> None:
    """Give cells stable ids (otter draws random ones) so a rebuild changes nothing."""
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def assign(master: Path, into: Path) -> Path:
    """``otter assign`` one master into ``into`` (in this process); return the dist folder.

    Raises RuntimeError if otter refuses the master. Otter's own test run is not used: ``check``
    grades the solutions with the same test files, and once more with ``otter run`` in a kernel.
    """
    import contextlib
    import io

    from otter.assign import main as otter_assign

    work = into / master.stem
    work.mkdir(parents=True)
    shutil.copy(master, work / master.name)
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            otter_assign(str(work / master.name), str(work / "dist"), no_run_tests=True)
    except Exception as error:
        raise RuntimeError(f"otter assign failed for {master.name}: {type(error).__name__}: {error}\n"
                           f"{output.getvalue()[-3000:]}") from error
    for version in ("student", "autograder"):
        _normalise(work / "dist" / version / master.name)
    return work / "dist"


def autograder_zip(dist: Path) -> Path:
    zips = sorted((dist / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"expected one autograder zip in {dist / 'autograder'}, found {len(zips)}")
    return zips[0]


def run_submission(zip_path: Path, submission: Path, timeout: int = 900) -> dict:
    """Grade one notebook as ``otter run`` does, in this process:
    ``{"scores": {q: points}, "max": {q: points}, "failed": {q: [case: mistake]}, "error": str}``."""
    return _module("grading_worker").grade_one(str(zip_path), str(submission.resolve()), timeout)


def run_in_process(dist: Path, master: Path, variants: Path | None = None, blank: bool = True) -> dict:
    """Grade the solutions, the blank student version and the mistake variants of one assignment
    in one process (``variant_runner.py``), with the test files otter wrote; return its report."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        command = [sys.executable, str(RUNNER), str(dist / "autograder" / master.name), str(report_path)]
        if variants is not None and variants.exists():
            command += ["--variants", str(variants)]
        if blank:
            command += ["--student", str(dist / "student" / master.name)]
        result = subprocess.run(command, cwd=dist / "autograder", capture_output=True, text=True)
        if result.returncode != 0 or not report_path.exists():
            raise RuntimeError(f"grading {master.stem} in process failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return json.loads(report_path.read_text())


def _share(outcome: dict, question: str) -> float:
    result = outcome["questions"][question]
    return result["score"] / result["possible"] if result["possible"] else 0.0


def variant_rows(report: dict) -> list[dict]:
    """One row per variant: its question, name, the share of the question's points it keeps,
    whether it passed every public test, and the other questions whose score it changed."""
    solution = report["solution"]["questions"]
    rows = []
    for variant in report["variants"]:
        question = variant["question"]
        leaks = {q: (result["score"], solution[q]["score"]) for q, result in variant["questions"].items()
                 if q != question and abs(result["score"] - solution[q]["score"]) > TOLERANCE}
        rows.append({"question": question, "name": variant["name"], "mistake": variant["mistake"],
                     "kept": _share(variant, question), "public_passed": variant["questions"][question]["public_passed"],
                     "leaks": leaks, "code": question in report["code_questions"],
                     "failed": [f["case"] for f in variant["questions"][question]["failed"]]})
    return rows


def judge(report: dict, name: str) -> list[str]:
    """The problems of one assignment's in-process report (empty = fine); see ``check``."""
    problems = []
    solution = report["solution"]
    for error in solution["errors"]:
        problems.append(f"{name}: a cell of the solutions raised ({error['question'] or 'setup'}): {error['error']}")
    for question, result in solution["questions"].items():
        if abs(result["score"] - result["possible"]) > TOLERANCE:
            failed = "; ".join(f"{f['case']}: {f['message']}" for f in result["failed"])
            problems.append(f"{name}: the solution of {question} scores {result['score']:g} / {result['possible']:g}: {failed}")
    if report.get("blank") is not None:
        scored = [q for q, result in report["blank"]["questions"].items() if result["score"] > TOLERANCE]
        if scored:
            problems.append(f"{name}: a blank answer scores points on {scored}: "
                            "a test that a blank answer passes cannot tell a student anything")
    for question, cases in report["points"].items():
        if any(case["points"] is None for case in cases):
            problems.append(f"{name}: {question} has test cases without points: give each test cell a TEST CONFIG with points")
            continue
        total = sum(case["points"] for case in cases)
        hidden = sum(case["points"] for case in cases if case["hidden"])
        if total and hidden < HIDDEN_AT_LEAST * total - TOLERANCE:
            problems.append(f"{name}: the hidden cases of {question} carry {hidden:g} of {total:g} points; "
                            f"they must carry at least {HIDDEN_AT_LEAST:.0%}")
    rows = variant_rows(report)
    for row in rows:
        label = f"{name} {row['question']} variant '{row['name']}'"
        if row["kept"] > KEPT_AT_MOST + TOLERANCE:
            problems.append(f"{label} keeps {row['kept']:.0%} of the points (at most {KEPT_AT_MOST:.0%} allowed); "
                            f"it fails only {row['failed']}")
        if row["leaks"]:
            problems.append(f"{label} changes the score of other questions (variant, solution): {row['leaks']}")
    for question in report["code_questions"]:
        mine = [row for row in rows if row["question"] == question]
        if len(mine) < MIN_VARIANTS:
            problems.append(f"{name} {question}: {len(mine)} mistake variants, at least {MIN_VARIANTS} needed "
                            f"in {Path('assignments/variants') / (name + '.yaml')}")
        elif all(row["public_passed"] for row in mine):
            problems.append(f"{name} {question}: the public tests reject none of its mistake variants")
    return problems


def build(selection=None) -> None:
    """Regenerate the committed student and autograder versions of the masters."""
    STUDENT.mkdir(exist_ok=True)
    AUTOGRADER.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for master in masters(selection):
            dist = assign(master, Path(tmp))
            shutil.copy(dist / "student" / master.name, STUDENT / master.name)
            shutil.copy(dist / "autograder" / master.name, AUTOGRADER / master.name)
            print(f"built {master.stem}")


def check(selection=None) -> list[str]:
    """For each master: the committed versions are current; graded with the test files otter
    writes, the solutions score full marks, each question of the blank student version scores 0,
    every test case has its points and the hidden ones carry at least 3/4 of each question's;
    every code question has at least two mistake variants, each of which keeps at most 1/4 of its
    question's points and changes no other question's score, and the public tests reject at least
    one of them. Finally ``otter run`` grades the solutions in a kernel, as a class would be graded,
    and must agree. Returns the problems found (empty = fine)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for master in masters(selection):
            start = time.perf_counter()
            try:
                dist = assign(master, Path(tmp))
            except RuntimeError as error:
                problems.append(str(error))
                continue
            for version, folder in (("student", STUDENT), ("autograder", AUTOGRADER)):
                committed = folder / master.name
                if not committed.exists() or committed.read_text() != (dist / version / master.name).read_text():
                    problems.append(f"{committed.relative_to(ROOT.parent)} is out of date: "
                                    f"run python assignments/assignments.py build {master.name[:2]}")
            # the in-process grading (a subprocess) and otter run (a kernel) use a core each
            with concurrent.futures.ThreadPoolExecutor(1) as background:
                in_process = background.submit(run_in_process, dist, master, variants_file(master))
                real = run_submission(autograder_zip(dist), dist / "autograder" / master.name)
                try:
                    report = in_process.result()
                except RuntimeError as error:
                    problems.append(str(error))
                    continue
            problems += judge(report, master.stem)
            expected = {q: r["score"] for q, r in report["solution"]["questions"].items()}
            if real["error"] or real["scores"] != expected:
                problems.append(f"{master.stem}: otter run gives the solutions {real['scores'] or real['error']}, "
                                f"the in-process grading {expected}")
            print(f"checked {master.stem}: {len(expected)} questions, {len(report['variants'])} mistake variants, "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
    return problems


def variant_submissions(master: Path, folder: Path, only=None) -> list[Path]:
    """Write one notebook per mistake variant into ``folder``: the committed autograder version
    (every answer right) with that variant spliced into its question's answer cell — what a
    student who makes that one mistake hands in. ``only``: names of the variants to write."""
    runner = _module("variant_runner")
    notebook = json.loads((AUTOGRADER / master.name).read_text())
    answer_cells, pending = {}, []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        match = runner.CHECK_CELL.match("".join(cell["source"]))
        if match:
            answer_cells[match["name"]], pending = pending, []
        elif runner.SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            pending.append(index)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for question, entries in runner.load_variants(variants_file(master)).items():
        for variant in entries:
            if only is not None and variant["name"] not in only:
                continue
            (index,) = answer_cells[question]
            spliced = json.loads(json.dumps(notebook))
            spliced["cells"][index]["source"] = runner.splice("".join(notebook["cells"][index]["source"]),
                                                              variant["code"], variant["replace"])
            path = folder / f"{master.name[:2]}-{question}-{variant['name']}.ipynb"
            path.write_text(json.dumps(spliced, indent=1, ensure_ascii=False) + "\n")
            written.append(path)
    return written


def _git_masters(revision: str, into: Path) -> Path:
    """The masters as they were at a git revision, written into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    listing = subprocess.run(["git", "ls-tree", "--name-only", f"{revision}:assignments/masters"], cwd=ROOT.parent,
                             capture_output=True, text=True, check=True).stdout.split()
    for name in listing:
        content = subprocess.run(["git", "show", f"{revision}:assignments/masters/{name}"], cwd=ROOT.parent,
                                 capture_output=True, check=True).stdout
        (into / name).write_bytes(content)
    return into


def variants(selection=None, masters_at: str | None = None, json_path: Path | None = None) -> dict:
    """Grade every mistake variant against the masters (or the masters at git revision
    ``masters_at``, to measure the tests as they were) and print what each keeps."""
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = _git_masters(masters_at, Path(tmp) / "masters") if masters_at else MASTERS
        for master in masters(selection, folder):
            dist = assign(master, Path(tmp) / "dist")
            report = run_in_process(dist, master, variants_file(master), blank=False)
            rows = variant_rows(report)
            table[master.stem] = {"questions": len(report["solution"]["questions"]),
                                  "code_questions": report["code_questions"], "rows": rows}
            print(f"\n{master.stem}")
            for row in rows:
                print(f"  {row['question']:>3} {row['name']:<32} keeps {row['kept']:>4.0%}"
                      f"{'  passes every public test' if row['public_passed'] else ''}"
                      f"{'  changes ' + str(row['leaks']) if row['leaks'] else ''}")
    every = [row for entry in table.values() for row in entry["rows"]]
    code = [row for row in every if row["code"]]
    print(f"\n{'assignment':<45} questions  code  variants  mean kept  public pass  full marks  leaks")
    for name, entry in table.items():
        rows = entry["rows"]
        print(f"{name:<45} {entry['questions']:>9} {len(entry['code_questions']):>5} {len(rows):>9} "
              f"{_mean([r['kept'] for r in rows]):>10.0%} {sum(r['public_passed'] for r in rows):>12} "
              f"{sum(r['kept'] > 1 - TOLERANCE for r in rows):>11} {sum(bool(r['leaks']) for r in rows):>6}")
    for label, rows in (("all variants", every), ("code-question variants", code)):
        print(f"{label}: {len(rows)}, mean share kept {_mean([r['kept'] for r in rows]):.1%}, "
              f"{sum(r['public_passed'] for r in rows)} pass every public test, "
              f"{sum(r['kept'] > 1 - TOLERANCE for r in rows)} keep full marks, "
              f"{sum(r['kept'] > KEPT_AT_MOST + TOLERANCE for r in rows)} keep more than {KEPT_AT_MOST:.0%}, "
              f"{sum(bool(r['leaks']) for r in rows)} change another question")
    if json_path:
        json_path.write_text(json.dumps(table, indent=1))
    return table


def _mean(values) -> float:
    return sum(values) / len(values) if values else float("nan")


def grade(selection: str, submissions: Path, csv_path: Path, workers: int = 1, timeout: int = 900) -> list[dict]:
    """Grade every notebook in ``submissions`` against assignment ``selection``; write ``csv_path``."""
    found = masters([selection])
    if len(found) != 1:
        raise SystemExit(f"'{selection}' must name exactly one assignment")
    (master,) = found
    files = sorted(submissions.glob("*.ipynb"))
    if not files:
        raise SystemExit(f"no .ipynb submissions in {submissions}")
    if workers < 1:
        raise SystemExit(f"--workers must be at least 1, got {workers}")
    with tempfile.TemporaryDirectory() as tmp:
        zip_path = autograder_zip(assign(master, Path(tmp)))
        sys.path.insert(0, str(ROOT))  # the worker processes import grading_worker by name
        try:
            import grading_worker

            context = multiprocessing.get_context("spawn")  # a clean process: no inherited threads or TensorFlow
            with concurrent.futures.ProcessPoolExecutor(min(workers, len(files)), mp_context=context) as pool:
                futures = {submission: pool.submit(grading_worker.grade_one, str(zip_path), str(submission.resolve()),
                                                   timeout) for submission in files}
                results = {}
                for submission, future in futures.items():
                    results[submission] = result = future.result()
                    total = sum(result["scores"].values())
                    print(f"{submission.name}: {total:g}{' (' + result['error'][:80] + ')' if result['error'] else ''}",
                          flush=True)
        finally:
            sys.path.remove(str(ROOT))
    questions = []
    for result in results.values():
        questions += [q for q in result["max"] if q not in questions]
    maximum = max((sum(r["max"].values()) for r in results.values()), default=0) or None
    rows = []
    for submission in files:
        result = results[submission]
        rows.append({"student": submission.stem,
                     **{q: result["scores"].get(q, 0.0) for q in questions},
                     "total": sum(result["scores"].values()), "max": maximum,
                     **{f"{q} failed": "; ".join(result["failed"].get(q, [])) for q in questions},
                     "error": result["error"]})
    columns = ["student", *questions, "total", "max", *(f"{q} failed" for q in questions), "error"]
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
    commands.add_parser("check", help="solutions pass, blanks and mistakes fail, versions current").add_argument("only", nargs="*")
    measure = commands.add_parser("variants", help="grade the mistake variants and print what each keeps")
    measure.add_argument("only", nargs="*")
    measure.add_argument("--masters-at", metavar="REV", help="grade against the masters of this git revision")
    measure.add_argument("--json", type=Path, help="also write the table as JSON")
    measure.add_argument("--submissions", type=Path, metavar="DIR",
                         help="instead, write one notebook per variant (the solutions with that mistake) into DIR")
    grader = commands.add_parser("grade", help="grade a folder of submitted notebooks into a CSV")
    grader.add_argument("assignment", help="the assignment's number or name, e.g. 01")
    grader.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    grader.add_argument("--csv", type=Path, default=Path("grades.csv"), help="where to write the scores")
    grader.add_argument("--workers", type=int, default=1, help="submissions graded at the same time (processes)")
    grader.add_argument("--timeout", type=int, default=900, help="seconds one submission may take")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.command == "build":
        build(args.only)
    elif args.command == "check":
        problems = check(args.only)
        for problem in problems:
            print("PROBLEM:", problem)
        return 1 if problems else 0
    elif args.command == "variants" and args.submissions:
        written = [path for master in masters(args.only) for path in variant_submissions(master, args.submissions)]
        print(f"wrote {len(written)} notebooks with one mistake each into {args.submissions}")
    elif args.command == "variants":
        variants(args.only, args.masters_at, args.json)
    else:
        started = time.perf_counter()
        rows = grade(args.assignment, args.submissions, args.csv, args.workers, args.timeout)
        seconds = time.perf_counter() - started
        print(f"graded {len(rows)} submissions in {seconds:.0f} s ({seconds / len(rows):.1f} s per submission, "
              f"{args.workers} worker{'s' if args.workers > 1 else ''}) -> {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
