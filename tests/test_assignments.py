"""The assignments' own tests are honest: solutions pass, blank answers and the common mistakes of
assignments/variants/ lose their points (and only their own question's), the points follow the
rule, versions are current, and the grading command turns a folder of submissions into a CSV that
agrees with what the checks proved."""

import csv
import importlib.util
import json
import tempfile
from pathlib import Path

import pytest

import otter  # noqa: F401  (in requirements.txt: the check must run, not skip)

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("course_assignments", ROOT / "assignments" / "assignments.py")
assignments = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assignments)
runner = assignments._module("variant_runner")

MASTERS = assignments.masters()


def test_every_master_has_its_generated_versions_and_its_mistakes():
    assert MASTERS, "no assignment masters in assignments/masters"
    for master in MASTERS:
        for folder in (assignments.STUDENT, assignments.AUTOGRADER):
            assert (folder / master.name).exists(), f"run python assignments/assignments.py build {master.name[:2]}"
        variants = runner.load_variants(assignments.variants_file(master))
        assert variants, f"{master.stem} has no common-mistake variants in {assignments.variants_file(master)}"
        for question, entries in variants.items():
            names = [entry["name"] for entry in entries]
            assert len(names) == len(set(names)), f"{master.stem} {question}: two variants share a name"
            assert all(entry["mistake"] and entry["code"].strip() for entry in entries)


@pytest.mark.parametrize("master", MASTERS, ids=[m.stem for m in MASTERS])
def test_solutions_pass_blanks_and_mistakes_fail_and_versions_are_current(master):
    """assignments.py check: see its docstring (variants lose >= 3/4 of their question and leak nowhere)."""
    assert assignments.check([master.name[:2]]) == []


def test_splice_replaces_the_definitions_a_variant_gives_and_keeps_the_rest():
    solution = ('def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n\n\n'
                'def g(x):\n    return 2 * x\n\n\ny = f(1)  # SOLUTION\ny\n')
    spliced = runner.splice(solution, "import math\n\ndef g(x):\n    return math.floor(x)\n")
    namespace = {}
    exec(spliced, namespace)
    assert namespace["f"](1) == 2 and namespace["g"](2.5) == 2 and namespace["y"] == 2
    assert spliced.index("import math") < spliced.index("def f")  # new statements go first
    applied = runner.splice(solution, "def f(x):\n    return x - 1\n")
    exec(applied, namespace)
    assert namespace["y"] == 0  # the cell's own call now uses the wrong f, as in the student's notebook
    assert runner.splice(solution, "y = 5\n", replace="cell") == "y = 5\n"


def _sample_submissions(master: Path, folder: Path) -> None:
    """complete = the solutions; partial = solutions for the first half of the cells only;
    raises = a blank version whose first code cell raises."""
    solved = json.loads((assignments.AUTOGRADER / master.name).read_text())
    blank = json.loads((assignments.STUDENT / master.name).read_text())
    assert len(solved["cells"]) == len(blank["cells"])
    (folder / "complete.ipynb").write_text(json.dumps(solved))
    half = len(solved["cells"]) // 2
    partial = dict(solved, cells=solved["cells"][:half] + blank["cells"][half:])
    (folder / "partial.ipynb").write_text(json.dumps(partial))
    raising = json.loads(json.dumps(blank))
    first_code = next(c for c in raising["cells"][1:] if c["cell_type"] == "code")
    first_code["source"] = 'raise RuntimeError("this submission crashes")\n' + "".join(first_code["source"])
    (folder / "raises.ipynb").write_text(json.dumps(raising))


def test_grading_a_folder_writes_one_csv_row_per_submission(tmp_path):
    """Two workers grade real notebooks with otter run; the spliced mistakes score in the CSV exactly
    what the in-process checks computed for them, and the CSV says which cases failed and why."""
    master = MASTERS[0]
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    _sample_submissions(master, submissions)
    variants = runner.load_variants(assignments.variants_file(master))
    chosen = {entries[0]["name"]: question for question, entries in list(variants.items())[:2]}
    spliced = assignments.variant_submissions(master, submissions, only=set(chosen))
    assert len(spliced) == 2
    rows = assignments.grade(master.name[:2], submissions, tmp_path / "grades.csv", workers=2)
    with open(tmp_path / "grades.csv") as handle:
        table = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(table) == {"complete", "partial", "raises", *(path.stem for path in spliced)} and len(rows) == 5
    full = float(table["complete"]["max"])
    assert float(table["complete"]["total"]) == full > 0
    assert 0 <= float(table["raises"]["total"]) < float(table["partial"]["total"]) <= full
    questions = [c for c in table["complete"] if c.startswith("q") and not c.endswith(" failed")]
    assert questions and all(float(table["complete"][q]) > 0 and table["complete"][f"{q} failed"] == "" for q in questions)
    assert table["partial"][f"{questions[-1]} failed"]  # the blank answers' failed cases are named

    with_dist = assignments.assign(master, tmp_path / "dist")
    report = assignments.run_in_process(with_dist, master, assignments.variants_file(master), blank=False)
    for path in spliced:
        question, name = chosen[path.stem.split("-", 2)[2]], path.stem.split("-", 2)[2]
        (expected,) = [v for v in report["variants"] if v["question"] == question and v["name"] == name]
        row = table[path.stem]
        assert {q: float(row[q]) for q in questions} == {q: r["score"] for q, r in expected["questions"].items()}
        assert row[f"{question} failed"], f"the CSV does not say which cases of {question} failed"


def test_grade_refuses_an_empty_folder(tmp_path):
    with pytest.raises(SystemExit, match="no .ipynb submissions"):
        assignments.grade(MASTERS[0].name[:2], tmp_path, tmp_path / "grades.csv")


# --------------------------------------------------------------------------- the Chinese student versions

from tools import translate as tr  # noqa: E402

ZH_BUILT = sorted((tr.STUDENT / "zh").glob("*.ipynb"))


def test_committed_chinese_student_versions_equal_a_fresh_build():
    """tools/translate.py runs otter assign on each master with its Chinese markdown; the result is committed."""
    stale = tr.build_assignments(lang="zh", check=True)
    assert not stale, "run python tools/translate.py build assignments/NN:\n" + "\n".join(stale)


def _solved(student: dict, autograder: dict) -> dict:
    """The student version with every answer cell replaced by the solution cell at the same place."""
    solved = json.loads(json.dumps(student))
    for index, cell in enumerate(solved["cells"]):
        if runner.ANSWER_TAG in cell["metadata"].get("tags", []):
            assert runner.SOLUTION_TAG in autograder["cells"][index]["metadata"].get("tags", [])
            cell["source"] = autograder["cells"][index]["source"]
    return solved


@pytest.mark.parametrize("path", ZH_BUILT, ids=[p.name[:2] for p in ZH_BUILT])
def test_chinese_student_version_checks_and_grades_the_solutions(path, tmp_path, monkeypatch):
    """End to end, in quick mode: with the master's solutions in its answer cells, the Chinese student
    version runs in a kernel and each grader.check cell prints otter's "qN results: All test cases
    passed!"; graded by otter run with the English autograder, it gets full marks."""
    import nbformat
    from nbclient import NotebookClient

    autograder = json.loads((assignments.AUTOGRADER / path.name).read_text())
    solved = _solved(json.loads(path.read_text()), autograder)
    submission = tmp_path / path.name  # the same name: otter.Notebook("NN_name.ipynb") reads its tests from it
    submission.write_text(json.dumps(solved, ensure_ascii=False))
    monkeypatch.setenv("REC_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(submission, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    questions = list(solved["metadata"]["otter"]["tests"])
    printed = {}
    for cell in notebook.cells:
        match = runner.CHECK_CELL.match(cell.source) if cell.cell_type == "code" else None
        if match:
            printed[match["name"]] = " ".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
    assert list(printed) == questions, "one grader.check cell per question"
    failing = {q: text for q, text in printed.items() if text != f"{q} results: All test cases passed!"}
    assert not failing, failing

    with tempfile.TemporaryDirectory() as tmp:
        zip_path = assignments.autograder_zip(assignments.assign(assignments.MASTERS / path.name, Path(tmp)))
        graded = assignments.run_submission(zip_path, submission)
    assert not graded["error"] and graded["scores"] == graded["max"] and sum(graded["max"].values()) > 0, graded
