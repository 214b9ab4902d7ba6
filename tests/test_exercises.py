"""Exercises written once: notebook exercises that are assignment questions come from the masters."""

import json
import re

import pytest

from tools import exercises

NOTEBOOKS = sorted(exercises.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

# Exercises that still restate an assignment question in their own words. Each is to be generated
# from its master like the others (issue 13, item 7); the list may only shrink: the last test fails
# when an entry is no longer a duplicate, so that it is removed here.
NOT_YET_FROM_THE_MASTER = {
    ("03_feature_engineering.ipynb", "point_in_time_item_like_share"),  # the notebook follows the data's like threshold
}


def _known(problem: str) -> bool:
    return any(problem.startswith(f"{name}:") and f" {function}()" in problem for name, function in NOT_YET_FROM_THE_MASTER)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_from_the_assignment_are_current(path):
    stale = exercises.sync_notebook(path, check=True)
    assert not stale, f"regenerate with `python tools/exercises.py`: {stale}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_exercise_is_written_twice(path):
    problems = [p for p in exercises.written_twice(path) if not _known(p)]
    assert not problems, "\n".join(problems)


def test_the_list_of_exercises_still_written_twice_only_shrinks():
    found = [p for path in NOTEBOOKS for p in exercises.written_twice(path)]
    for name, function in NOT_YET_FROM_THE_MASTER:
        assert any(p.startswith(f"{name}:") and f" {function}()" in p for p in found), (
            f"{name} no longer restates {function}(): remove it from NOT_YET_FROM_THE_MASTER")


def test_generated_parts_come_from_the_master():
    generated = 0
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            text = "".join(cell["source"])
            if cell["cell_type"] == "code" and exercises.SOLUTION_HEAD.match(text):
                generated += 1
                number = int(exercises.SOLUTION_HEAD.match(text).group(1))
                question = exercises.master_questions(path.stem)[number]
                assert question.definitions in text and question.names
    assert generated >= 3


def test_definitions_drop_otters_markers_and_keep_only_definitions():
    code = ("def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n\n\n"
            "class Bandit:\n    pass\n\n\nanswer = f(1)  # SOLUTION\n")
    definitions, names = exercises._definitions(code)
    assert names == ("f", "Bandit")
    assert "BEGIN SOLUTION" not in definitions and "answer" not in definitions
    assert definitions == "def f(x):\n    return x + 1\n\n\nclass Bandit:\n    pass"


def test_exercise_text_keeps_the_title_and_says_where_it_is_graded():
    question = exercises.Question(2, "**Question 2 – Time of day.** Write `f(x)`.\n\n- a rule\n- another",
                                  "def f(x):\n    return x", ("f",))
    text = exercises.exercise_text("01_data_exploration", question)
    assert text.startswith("**Time of day.** <!-- from assignment q2 -->Write `f(x)`.")
    assert "\n\n   - a rule\n   - another" in text  # continuation lines stay inside the list item
    assert exercises.course.github_url("assignments/student/01_data_exploration.ipynb") in text
    assert text.endswith("<!-- /from assignment -->")


def test_a_notebook_naming_a_question_without_a_statement_is_refused(tmp_path, monkeypatch):
    masters, notebooks = tmp_path / "masters", tmp_path / "notebooks"
    masters.mkdir(), notebooks.mkdir()
    master = {"cells": [{"cell_type": "raw", "source": ["# BEGIN QUESTION\nname: q1\npoints: 1\n"]},
                        {"cell_type": "markdown", "source": ["**Question 1 – X.** No markers here."]},
                        {"cell_type": "code", "source": ["def g():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"]}]}
    (masters / "99_toy.ipynb").write_text(json.dumps(master), encoding="utf-8")
    notebook = {"cells": [{"cell_type": "markdown", "source": ["## Exercises\n\n1. **X.** <!-- from assignment q1 --><!-- /from assignment -->\n"]}]}
    (notebooks / "99_toy.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    monkeypatch.setattr(exercises, "MASTERS", masters)
    with pytest.raises(ValueError, match="no <!-- exercise --> statement"):
        exercises.sync_notebook(notebooks / "99_toy.ipynb", check=True)


def test_generated_items_render_their_title_and_link_as_markdown():
    """A list item that opens with an HTML comment is raw HTML to CommonMark: its ** and [..](..) would show."""
    markdown_it = pytest.importorskip("markdown_it")
    question = exercises.Question(2, "**Question 2 – Time of day.** Write `f(x)`.", "def f(x):\n    return x", ("f",))
    html = markdown_it.MarkdownIt("commonmark").render("1. " + exercises.exercise_text("01_data_exploration", question))
    assert "<strong>Time of day.</strong>" in html and '<a href="' in html and "**" not in html
    for path in sorted(exercises.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and "<!-- from assignment" in text:
                assert not re.search(r"(?m)^\s*\d+\. <!-- from assignment", text), \
                    f"{path.name}: an exercise item opens with its marker; run python tools/exercises.py"
