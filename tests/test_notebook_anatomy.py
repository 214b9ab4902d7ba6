"""Every committed notebook follows STYLE.md's anatomy and carries a clean full run."""

import json
import re
from pathlib import Path

import pytest

from tools import course

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"
    listed = {nb.file for nb in course.NOTEBOOKS}
    assert {p.name for p in NOTEBOOKS} <= listed, "every notebook must be on the course map"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_anatomy(path):
    cells = _cells(path)
    head = _source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and head.startswith("**"), "bold title line first"
    assert course.colab_url(path.name) in head, "Open in Colab badge with the course slug"
    code = [_source(c) for c in cells if c["cell_type"] == "code"]
    assert "setup(" in code[0] or any("setup(" in c for c in code[:3]), "Setup section calls setup()"
    markdown = [_source(c) for c in cells if c["cell_type"] == "markdown"]
    assert any(m.lstrip().startswith("## Setup") for m in markdown)
    if not path.name.startswith("00_"):
        assert any(m.lstrip().startswith("## Exercises") for m in markdown), "ends with exercises"
    for c in code:
        if "google.colab" in c:
            assert course.REPO_SLUG in c, "the Colab install cell must use course.REPO_SLUG"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_with_a_clean_full_run(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code" and _source(c).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "run top to bottom in one fresh kernel"
    for c in code:
        assert not [o for o in c["outputs"] if o["output_type"] == "error"], _source(c)[:80]
        text = "".join("".join(o.get("text", "")) for o in c["outputs"])
        assert "QUICK" not in text, "committed outputs must come from a full-mode run"
    setup_output = "".join("".join(o.get("text", "")) for c in code[:3] for o in c["outputs"])
    assert "Data: ml-100k (GroupLens)" in setup_output, "committed outputs must come from the real ML-100K"


def _heading_cells(cells):
    return [(i, _source(c).lstrip()) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_objectives_prerequisites_time_and_main_path(path):
    """STYLE.md: a notebook opens with checkable objectives, prerequisites, expected time and its main path."""
    cells = _cells(path)
    opening = _source(cells[1]).lstrip()
    assert cells[1]["cell_type"] == "markdown" and opening.startswith("## What you will learn"), (
        "the cell after the title is '## What you will learn'")
    objectives = [line for line in opening.splitlines() if re.match(r"\d+\. \S", line)]
    assert 3 <= len(objectives) <= 5, f"3-5 numbered objectives, found {len(objectives)}"
    for label in ("**Prerequisites:**", "**Time:**", "**Main path:**"):
        assert label in opening, f"the opening states {label}"
    headings = [line for _, text in _heading_cells(cells) for line in text.splitlines() if line.startswith("## ")]
    optional = [h for h in headings if "optional" in h.lower()]
    if optional:
        assert "optional" in opening.lower(), "the opening says which sections are optional deep dives"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_recap_states_what_was_measured(path):
    """STYLE.md: a notebook closes with a recap of what the measurements showed, before its exercises."""
    cells = _cells(path)
    markdown = _heading_cells(cells)
    recaps = [i for i, text in markdown if text.startswith("## Recap")]
    assert len(recaps) == 1, "one '## Recap' section"
    exercises = [i for i, text in markdown if text.startswith("## Exercises")]
    if exercises:
        assert recaps[0] < exercises[0], "the recap comes before the exercises"
    recap = _source(cells[recaps[0]])
    lines = [line for line in recap.splitlines() if line.strip()]
    bullets = [i for i, line in enumerate(lines) if line.lstrip().startswith(("- ", "* "))]
    assert len(bullets) >= 3, "the recap lists at least three findings"
    pointers = [i for i, line in enumerate(lines) if line.startswith(("**Next:**", "Next,"))]
    assert pointers and pointers[-1] > bullets[-1], "the pointer to the next notebook comes after the findings"
    labels = [i for i, line in enumerate(lines) if line.startswith("**") and line.endswith(".**")]
    assert all(i + 1 < len(lines) and lines[i + 1].lstrip().startswith(("- ", "* ")) for i in labels), (
        "every labelled group of the recap ('**The ideas.**', ...) holds findings")
