"""The course map, launch links and measured run times, kept in one place.

``REPO_SLUG`` is the only place the GitHub address is written: the README's badges and
course map, ``notebooks/index.ipynb`` and the course map in notebook 00 are generated from
this module (``python tools/course.py`` rewrites them, and a test fails when they are out of
date; notebooks never import ``tools``, which Colab does not install);
the notebooks' Colab cells are checked against it by ``tests/test_notebook_anatomy.py``, and
the course website (``website/build.py``) takes its launch links from here.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

__all__ = ["REPO_SLUG", "BRANCH", "NOTEBOOKS", "Notebook", "colab_url", "binder_url", "lab_path", "github_url",
           "course_map", "readme_sections", "sync_readme", "index_notebook", "sync_index", "notebook_map",
           "sync_notebook_map"]

REPO_SLUG = "recsys-course/large-models-recsys"
BRANCH = "main"
ROOT = Path(__file__).resolve().parents[1]
RUNS_FILE = ROOT / "benchmarks" / "notebook_runs.json"
MAP_MARKERS = re.compile(r"(<!-- course-map:start -->).*?(<!-- course-map:end -->)", re.S)


@dataclass(frozen=True)
class Notebook:
    file: str
    topic: str
    sections: str  # sections of the source article the notebook covers


NOTEBOOKS = (
    Notebook("00_can_large_models_change_recommendation.ipynb",
             "The question, the paradigm shift from collaborative filtering to generative models, environment check", "1"),
    Notebook("01_data_exploration.ipynb", "Data exploration and visualisation of MovieLens", "2.1, 2.9"),
    Notebook("02_preprocessing.ipynb", "Cleaning, normalisation, dimensionality reduction, splits and leakage", "2.2"),
    Notebook("03_feature_engineering.ipynb", "User, item, content, context and cross features", "2.3"),
    Notebook("04_unsupervised_learning.ipynb", "Clustering, embeddings maps, autoencoders and EASE", "2.4, 2.10"),
    Notebook("05_supervised_learning_and_evaluation.ipynb",
             "Classification, rating prediction, matrix factorisation, metrics and protocols", "2.5–2.7, 2.11, 2.12"),
    Notebook("06_neural_networks.ipynb", "Backpropagation by hand, GMF, MLP and NeuMF", "3.1, 4.1"),
    Notebook("07_feature_interactions_and_graph_cf.ipynb",
             "Rankers that learn feature crosses (DCN-v2, DeepFM, Wide & Deep) and graph collaborative filtering (LightGCN)",
             "beyond the source"),
    Notebook("08_gans.ipynb", "The GAN minimax game, mode collapse, CFGAN against BPR-MF and EASE", "3.2, 4.2"),
    Notebook("09_rnns_and_sequential_recommendation.ipynb", "RNNs, GRU4Rec and next-item prediction", "3.3, 4.3, 5"),
    Notebook("10_reinforcement_learning.ipynb", "Bandits, Q-learning, DQN, REINFORCE and off-policy evaluation", "3.4, 4.4"),
    Notebook("11_large_models_and_scaling.ipynb", "Self-attention, SASRec, scaling laws, LLM-based recommenders", "the title question"),
    Notebook("12_bert4rec.ipynb", "BERT4Rec, trained on masked items, against SASRec and GRU4Rec under one budget, full ranking first",
             "beyond the source"),
    Notebook("13_deployment_and_scale.ipynb",
             "Export, serving latency, approximate retrieval, online updates, drift and distributed training", "2.8"),
    Notebook("14_challenges_and_the_future.ipynb",
             "Interpretability, overfitting, cost, privacy (DP-SGD, federated), fairness, side information", "8"),
    Notebook("15_applications_and_references.ipynb", "Applications, FAQ, reading list and glossary", "6, 7, 9, 10"),
)


def colab_url(notebook: str) -> str:
    """Open a committed notebook from GitHub in Google Colab."""
    return f"https://colab.research.google.com/github/{REPO_SLUG}/blob/{BRANCH}/notebooks/{notebook}"


def lab_path(path: str) -> str:
    """JupyterLab's URL path, below the server's root, that opens ``path`` (relative to the repository root).

    A notebook opens with the file browser at the repository root, so the notebooks, the
    assignments and the docs are one click away; a folder opens in the file browser. The
    README's launch command and the Binder links use the same path.

    >>> lab_path("notebooks/01_data_exploration.ipynb")
    'lab/tree/notebooks/01_data_exploration.ipynb?file-browser-path=/'
    >>> lab_path("assignments/student")
    'lab/tree/assignments/student'
    """
    return f"lab/tree/{path}?file-browser-path=/" if path.endswith(".ipynb") else f"lab/tree/{path}"


def binder_url(path: str = "notebooks/" + NOTEBOOKS[0].file) -> str:
    """Launch the repository on Binder in JupyterLab, opening ``path`` as :func:`lab_path` does."""
    return f"https://mybinder.org/v2/gh/{REPO_SLUG}/{BRANCH}?urlpath={quote(lab_path(path), safe='/')}"


def github_url(path: str) -> str:
    """A file of the repository (``path`` relative to its root) on GitHub."""
    return f"https://github.com/{REPO_SLUG}/blob/{BRANCH}/{path}"


def _runs() -> dict:
    return json.loads(RUNS_FILE.read_text()) if RUNS_FILE.exists() else {}


def course_map(include_planned: bool = True) -> list[dict]:
    """One row per notebook: file, topic, source sections, whether it exists, full-mode run."""
    runs = _runs()
    rows = []
    for nb in NOTEBOOKS:
        exists = (ROOT / "notebooks" / nb.file).exists()
        if not exists and not include_planned:
            continue
        run = runs.get(nb.file, {}).get("ml-100k", {})  # the course map shows the committed runs
        rows.append({"notebook": nb.file, "topic": nb.topic, "sections": nb.sections,
                     "available": exists, "seconds": run.get("seconds"), "peak_mb": run.get("peak_mb")})
    return rows


def _table() -> str:
    lines = ["| # | Notebook | Topic | Source sections | Full-mode run (2 CPUs) | Open |",
             "|---|---|---|---|---|---|"]
    for row in course_map():
        number = row["notebook"][:2]
        if row["available"]:
            name = f"[{row['notebook']}](notebooks/{row['notebook']})"
            badge = f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(row['notebook'])})"
            run = (f"{row['seconds']:.0f} s, {row['peak_mb']:.0f} MB" if row["seconds"] is not None
                   else "not measured yet")
        else:
            name, badge, run = f"{row['notebook']} *(in preparation)*", "", "—"
        lines.append(f"| {number} | {name} | {row['topic']} | {row['sections']} | {run} | {badge} |")
    return "\n".join(lines)


def _badges() -> str:
    return (f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url()}) "
            f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(NOTEBOOKS[0].file)})")


def _assignments_badge() -> str:
    return (f"[![Open the assignments on Binder](https://mybinder.org/badge_logo.svg)]"
            f"({binder_url('assignments/student')})")


def readme_sections() -> dict[str, str]:
    """The generated parts of the README, by marker name."""
    return {"badges": _badges(), "course-map": _table(), "assignments-badge": _assignments_badge()}


def sync_readme(path: Path = ROOT / "README.md", check: bool = False) -> bool:
    """Rewrite the generated parts of the README; with ``check``, only report staleness."""
    text = path.read_text(encoding="utf-8")
    new = text
    for name, body in readme_sections().items():
        pattern = re.compile(rf"(<!-- {name}:start -->).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(new):
            raise ValueError(f"{path} lacks the markers <!-- {name}:start --> ... <!-- {name}:end -->")
        new = pattern.sub(lambda m: f"{m.group(1)}\n{body}\n{m.group(2)}", new)
    if new != text and not check:
        path.write_text(new, encoding="utf-8")
    return new == text


def index_notebook() -> str:
    """``notebooks/index.ipynb``: the table of contents, one markdown cell (JSON text)."""
    lines = ["**Can large models change the recommendation paradigm? – Table of contents**", "",
             "_The course's notebooks in order; each opens in JupyterLab here, or in Colab from its badge._", ""]
    for row in course_map():
        if row["available"]:
            lines.append(f"{row['notebook'][:2]}. [{row['topic']}]({row['notebook']}) "
                         f"(source sections {row['sections']}) "
                         f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                         f"({colab_url(row['notebook'])})")
        else:
            lines.append(f"{row['notebook'][:2]}. {row['topic']} *(in preparation)*")
        lines.append("")
    cell = {"cell_type": "markdown", "id": "table-of-contents", "metadata": {}, "source": "\n".join(lines).strip() + "\n"}
    nb = {"cells": [cell], "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                       "name": "python3"}, "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def sync_index(path: Path = ROOT / "notebooks" / "index.ipynb", check: bool = False) -> bool:
    """Rewrite the table-of-contents notebook; with ``check``, only report staleness."""
    new = index_notebook()
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if new != current and not check:
        path.write_text(new, encoding="utf-8")
    return new == current


def notebook_map() -> str:
    """The course map as notebook 00 shows it: links relative to ``notebooks/``, no run times."""
    lines = ["| # | Notebook | Topic | Source sections |", "|---|---|---|---|"]
    for row in course_map():
        name = (f"[{row['notebook']}]({row['notebook']})" if row["available"]
                else f"{row['notebook']} *(in preparation)*")
        lines.append(f"| {row['notebook'][:2]} | {name} | {row['topic']} | {row['sections']} |")
    return "\n".join(lines)


def sync_notebook_map(path: Path = ROOT / "notebooks" / NOTEBOOKS[0].file, check: bool = False) -> bool:
    """Rewrite the course map between the markers in notebook 00's one markdown cell that has them.

    The notebook shows the map without importing this module; with ``check``, only report
    staleness. The file is written the way ``nbformat`` writes it, so nothing else changes.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "markdown" and MAP_MARKERS.search("".join(c["source"]))]
    if len(cells) != 1:
        raise ValueError(f"{path} needs exactly one markdown cell with <!-- course-map:start --> ... "
                         f"<!-- course-map:end -->, found {len(cells)}")
    text = "".join(cells[0]["source"])
    new = MAP_MARKERS.sub(lambda m: f"{m.group(1)}\n{notebook_map()}\n{m.group(2)}", text)
    if new != text and not check:
        cells[0]["source"] = new.splitlines(keepends=True)
        path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return new == text


if __name__ == "__main__":
    check = "--check" in sys.argv
    up_to_date = sync_index(check=check) & sync_readme(check=check) & sync_notebook_map(check=check)
    generated = "README, notebooks/index.ipynb and notebook 00's course map"
    print(f"{generated} are up to date" if up_to_date else
          ("out of date: run python tools/course.py" if check else f"{generated} updated"))
    sys.exit(0 if up_to_date or "--check" not in sys.argv else 1)
