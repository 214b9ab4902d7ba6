"""Exercises written once: a notebook exercise that is also an assignment question comes from the master.

Where a notebook's exercise and a question of its assignment ask for the same thing, the
statement and the reference solution are written once, in the assignment master
(``assignments/masters/NN_name.ipynb``), and copied into the notebook by this module:

* In the master, the part of the question's markdown that stands on its own (no reference to
  the assignment's own cells) sits between ``<!-- exercise -->`` and ``<!-- /exercise -->``.
  The reference solution is the question's answer cell: its top-level ``def`` and ``class``
  statements, without otter's ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines.
* In the notebook, the exercise is a numbered item of the ``## Exercises`` cell that holds
  ``**Title.**<!-- from assignment qN -->`` ... ``<!-- /from assignment -->``; its solution is a code cell
  of ``## Solutions`` that starts with ``# from assignment qN`` and whose generated part ends
  with ``# end of the code from the assignment``. What follows that line (the notebook's own
  checks on its own data) is written in the notebook and left alone.

``python tools/exercises.py`` rewrites the generated parts from the masters; ``--check`` only
reports what is out of date. ``tests/test_exercises.py`` fails when a generated part is stale,
and when a notebook exercise asks for a function or class that its assignment also asks for
without coming from the master (written twice).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

try:  # run as a module (tests, python -m tools.exercises) or as a script (python tools/exercises.py)
    from tools import course
except ImportError:  # pragma: no cover
    import course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MASTERS = ROOT / "assignments" / "masters"

STATEMENT = re.compile(r"<!-- exercise -->\s*(.*?)\s*<!-- /exercise -->", re.S)
# A generated item: from the list number to the end marker. The start marker follows the item's
# bold title (or first word) rather than opening the line: a line that begins with an HTML comment
# is raw HTML to CommonMark, JupyterLab and GitHub, which would show the title's ** and the link's
# brackets as they are.
ITEM = re.compile(r"^(?P<number>[ ]{0,3}\d+\. )(?P<lead>[^\n]*?)<!-- from assignment q(?P<question>\d+) -->.*?"
                  r"<!-- /from assignment -->", re.S | re.M)
SOLUTION_HEAD = re.compile(r"^# from assignment q(\d+)\b.*$", re.M)
SOLUTION_END = "# end of the code from the assignment"
TITLE = re.compile(r"^(?:\*\*Question \d+ – (?P<bold>.+?)\*\*|## Question \d+ – (?P<heading>[^\n]+)\n)\s*", re.S)
ASKED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)\(")


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _lines(text: str) -> list[str]:
    return text.splitlines(True)


@dataclass(frozen=True)
class Question:
    """One question of a master: its number, the shared statement (or None) and its definitions."""

    number: int
    statement: str | None
    definitions: str
    names: tuple[str, ...]


def _definitions(code: str) -> tuple[str, tuple[str, ...]]:
    """The top-level ``def``/``class`` statements of an answer cell, otter's markers removed."""
    kept = [line for line in code.splitlines() if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")]
    code = "\n".join(kept)
    tree = ast.parse(code)
    lines = code.splitlines()
    blocks, names = [], []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            blocks.append("\n".join(lines[start:node.end_lineno]))
            names.append(node.name)
    return "\n\n\n".join(blocks), tuple(names)


def master_questions(stem: str) -> dict[int, Question]:
    """The questions of ``assignments/masters/<stem>.ipynb``, by number."""
    path = MASTERS / f"{stem}.ipynb"
    if not path.exists():
        return {}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    questions = {}
    for i, cell in enumerate(cells):
        text = _source(cell)
        if cell["cell_type"] != "raw" or "# BEGIN QUESTION" not in text:
            continue
        number = int(re.search(r"name:\s*q(\d+)", text).group(1))
        markdown = next(_source(c) for c in cells[i + 1:] if c["cell_type"] == "markdown")
        found = STATEMENT.search(markdown)
        answer = ""
        for c in cells[i + 1:]:
            body = _source(c)
            if c["cell_type"] == "raw" and "# END QUESTION" in body:
                break
            if c["cell_type"] == "code" and not body.lstrip().startswith('""" # BEGIN TEST CONFIG'):
                answer = body
                break
        definitions, names = _definitions(answer) if answer else ("", ())
        questions[number] = Question(number, found.group(1) if found else None, definitions, names)
    return questions


def exercise_text(stem: str, question: Question) -> str:
    """The notebook's item text for a question: its statement, the bold title kept, and where it is graded."""
    statement = question.statement
    title = TITLE.match(statement)
    if title:
        name = title.group("bold") or title.group("heading")
        name = name if name.endswith((".", "?", ")")) else name + "."
        statement = f"**{name.rstrip()}** " + statement[title.end():]
    first, *rest = statement.split("\n")
    statement = "\n".join([first] + [f"   {line}" if line else "" for line in rest])  # inside the list item
    link = course.github_url(f"assignments/student/{stem}.ipynb")  # absolute: the course website has no assignments
    lead = re.match(r"\*\*[^\n]*?\*\* ?|\S+ ?", statement)  # the bold title, else the first word
    lead_text = lead.group(0) if lead else ""
    return (f"{lead_text}<!-- from assignment q{question.number} -->{statement[len(lead_text):]} *(Question "
            f"{question.number} of this notebook's [assignment]({link}), whose tests check an answer.)*"
            f"<!-- /from assignment -->")


def solution_code(stem: str, question: Question, rest: str) -> str:
    head = (f"# from assignment q{question.number}: generated from assignments/masters/{stem}.ipynb by "
            "tools/exercises.py (edit it there)")
    return f"{head}\n{question.definitions}\n{SOLUTION_END}{rest}"


def sync_notebook(path: Path, check: bool = False) -> list[str]:
    """Rewrite the generated exercise parts of one notebook; return what was (or would be) changed."""
    stem = path.stem
    notebook = json.loads(path.read_text(encoding="utf-8"))
    questions = master_questions(stem)
    changes = []
    for index, cell in enumerate(notebook["cells"]):
        text = _source(cell)
        if cell["cell_type"] == "markdown" and text.lstrip().startswith("## Exercises"):
            def item(match):
                number = int(match.group("question"))
                if number not in questions or questions[number].statement is None:
                    raise ValueError(f"{path.name}: the exercises name assignment question q{number}, but "
                                     f"assignments/masters/{stem}.ipynb has no <!-- exercise --> statement for it")
                return match.group("number") + exercise_text(stem, questions[number])
            new = ITEM.sub(item, text)
        elif cell["cell_type"] == "code" and SOLUTION_HEAD.match(text):
            number = int(SOLUTION_HEAD.match(text).group(1))
            if number not in questions or not questions[number].definitions:
                raise ValueError(f"{path.name}: cell {index} comes from assignment question q{number}, which has "
                                 "no definitions in its answer cell")
            end = text.find(SOLUTION_END)
            if end < 0:
                raise ValueError(f"{path.name}: cell {index} has no {SOLUTION_END!r} line")
            new = solution_code(stem, questions[number], text[end + len(SOLUTION_END):])
        else:
            continue
        if new != text:
            changes.append(f"{path.name}: cell {index}")
            cell["source"] = _lines(new)
    if changes and not check:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changes


def written_twice(path: Path) -> list[str]:
    """Exercises of a notebook that ask for a function or class its assignment asks for, not copied from it."""
    stem = path.stem
    asked_by_master = {name: q.number for q in master_questions(stem).values() for name in q.names}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    problems = []
    for cell in cells:
        text = _source(cell)
        if cell["cell_type"] != "markdown" or not text.lstrip().startswith("## Exercises"):
            continue
        for number, item in re.findall(r"(?m)^(\d+)\. (.*(?:\n(?!\d+\. ).*)*)", text):
            if "<!-- from assignment" in item:
                continue
            for name in sorted(set(ASKED.findall(item)) & set(asked_by_master)):
                problems.append(f"{path.name}: exercise {number} asks for {name}(), as assignment question "
                                f"q{asked_by_master[name]} does; write it once, in the master, and generate it")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    changes = [c for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) for c in sync_notebook(path, check)]
    for change in changes:
        print(("out of date: " if check else "rewritten: ") + change)
    if not changes:
        print("exercises from the assignments are current")
    return 1 if check and changes else 0


if __name__ == "__main__":
    sys.exit(main())
