"""The assignments' own tests are honest: solutions pass, blank answers fail, versions are current,
and the grading command turns a folder of submissions into a CSV."""

import csv
import importlib.util
import json
from pathlib import Path

import pytest

import otter  # noqa: F401  (in requirements.txt: the check must run, not skip)

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("course_assignments", ROOT / "assignments" / "assignments.py")
assignments = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assignments)

MASTERS = assignments.masters()


def test_every_master_has_its_generated_versions():
    assert MASTERS, "no assignment masters in assignments/masters"
    for master in MASTERS:
        for folder in (assignments.STUDENT, assignments.AUTOGRADER):
            assert (folder / master.name).exists(), f"run python assignments/assignments.py build {master.name[:2]}"


@pytest.mark.parametrize("master", MASTERS, ids=[m.stem for m in MASTERS])
def test_solutions_pass_blanks_fail_and_versions_are_current(master):
    assert assignments.check([master.name[:2]]) == []


def _cells(path):
    return json.loads(path.read_text())


def _sample_submissions(master: Path, folder: Path) -> None:
    """complete = the solutions; partial = solutions for the first half of the cells only;
    raises = a blank version whose first code cell raises."""
    solved = _cells(assignments.AUTOGRADER / master.name)
    blank = _cells(assignments.STUDENT / master.name)
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
    master = MASTERS[0]
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    _sample_submissions(master, submissions)
    rows = assignments.grade(master.name[:2], submissions, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv") as handle:
        table = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(table) == {"complete", "partial", "raises"} and len(rows) == 3
    full = float(table["complete"]["max"])
    assert float(table["complete"]["total"]) == full > 0
    assert 0 <= float(table["raises"]["total"]) < float(table["partial"]["total"]) <= full
    questions = [c for c in table["complete"] if c not in {"student", "total", "max", "error"}]
    assert questions and all(float(table["complete"][q]) > 0 for q in questions)


def test_grade_refuses_an_empty_folder(tmp_path):
    with pytest.raises(SystemExit, match="no .ipynb submissions"):
        assignments.grade(MASTERS[0].name[:2], tmp_path, tmp_path / "grades.csv")
