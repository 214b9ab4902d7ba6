"""The course map, launch links and measured run times, kept in one place.

``REPO_SLUG`` is the only place the GitHub address is written: the README's badges and
course map, ``notebooks/index.ipynb`` and the course map in notebook 00 are generated from
this module (``python tools/course.py`` rewrites them, and a test fails when they are out of
date; notebooks never import ``tools``, which Colab does not install);
the notebooks' Colab cells are checked against it by ``tests/test_notebook_anatomy.py``, and
the course website (``website/build.py``) takes its launch links from here.

The Chinese README, ``README.zh.md``, is generated the same way between the same markers: its
badges open the Chinese notebook 00, its install, test and site commands are copied from
``README.md`` (so they are the same bytes), and its course map links each notebook's Chinese
edition (``notebooks/zh/``) where there is one, the English notebook otherwise, with the Chinese
topics of the course map in the Chinese notebook 00. Its prose is written by hand; each section
names the English section it translates and that section's fingerprint
(:func:`readme_section_fingerprints`), so a test fails when the English changes.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

__all__ = ["REPO_SLUG", "BRANCH", "NOTEBOOKS", "Notebook", "colab_url", "binder_url", "lab_path", "github_url",
           "course_map", "readme_sections", "sync_readme", "index_notebook", "sync_index", "notebook_map",
           "sync_notebook_map", "ZH_README", "zh_edition", "zh_topics", "zh_readme_sections", "sync_readme_zh",
           "readme_blocks", "readme_english_sections", "readme_section_fingerprints", "zh_readme_problems",
           "ZH_README_UNTRACKED"]

REPO_SLUG = "recsys-course/large-models-recsys"
BRANCH = "main"
ROOT = Path(__file__).resolve().parents[1]
RUNS_FILE = ROOT / "benchmarks" / "notebook_runs.json"
MAP_MARKERS = re.compile(r"(<!-- course-map:start -->).*?(<!-- course-map:end -->)", re.S)
README = ROOT / "README.md"
ZH_README = ROOT / "README.zh.md"
ZH = "zh"


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


def _markers(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {re.escape(name)}:start -->).*?(<!-- {re.escape(name)}:end -->)", re.S)


def _sync_markers(path: Path, sections: dict[str, str], check: bool) -> bool:
    """Rewrite what lies between each section's markers in ``path``; with ``check``, only report staleness."""
    text = path.read_text(encoding="utf-8")
    new = text
    for name, body in sections.items():
        pattern = _markers(name)
        if not pattern.search(new):
            raise ValueError(f"{path} lacks the markers <!-- {name}:start --> ... <!-- {name}:end -->")
        new = pattern.sub(lambda m: f"{m.group(1)}\n{body}\n{m.group(2)}", new)
    if new != text and not check:
        path.write_text(new, encoding="utf-8")
    return new == text


def sync_readme(path: Path = README, check: bool = False) -> bool:
    """Rewrite the generated parts of the README; with ``check``, only report staleness."""
    return _sync_markers(path, readme_sections(), check)


# --------------------------------------------------------------------------- the Chinese README

def readme_blocks(path: Path = README) -> dict[str, str]:
    """What lies between each pair of ``<!-- name:start -->`` / ``<!-- name:end -->`` markers, by name."""
    text = path.read_text(encoding="utf-8")
    return {m.group("name"): m.group("body").strip("\n")
            for m in re.finditer(r"<!-- (?P<name>[\w-]+):start -->(?P<body>.*?)<!-- (?P=name):end -->", text, re.S)}


def zh_edition(notebook: str) -> bool:
    """Whether the notebook (file name) has a committed Chinese edition in ``notebooks/zh/``."""
    return (ROOT / "notebooks" / ZH / notebook).exists()


def zh_topics() -> dict[str, tuple[str, str]]:
    """Notebook number -> (topic, source sections) in Chinese, from the course map of the Chinese notebook 00.

    That map is the translation of the English one (``translations/zh/00_....md``), checked for
    staleness like every translated cell; empty when the Chinese notebook 00 does not exist yet.
    """
    path = ROOT / "notebooks" / ZH / NOTEBOOKS[0].file
    if not path.exists():
        return {}
    cells = ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "markdown"]
    maps = [m.group(0) for text in cells for m in [MAP_MARKERS.search(text)] if m]
    if len(maps) != 1:
        raise ValueError(f"{path} needs exactly one course map between <!-- course-map:start/end -->, found {len(maps)}")
    topics = {}
    for line in maps[0].splitlines():
        cells_ = [part.strip() for part in line.strip().strip("|").split(" | ")]
        if len(cells_) == 4 and re.fullmatch(r"\d\d", cells_[0]):
            topics[cells_[0]] = (cells_[2], cells_[3])
    return topics


def _zh_table() -> str:
    lines = ["| # | 笔记本 | 主题 | 源文章章节 | 完整运行（2 个 CPU） | 打开 |",
             "|---|---|---|---|---|---|"]
    topics = zh_topics()
    for row in course_map():
        file, number = row["notebook"], row["notebook"][:2]
        topic, sections = topics.get(number, (row["topic"], row["sections"]))
        if row["available"]:
            if zh_edition(file):
                name, colab = f"[{file}](notebooks/{ZH}/{file})", colab_url(f"{ZH}/{file}")
            else:
                name, colab = f"[{file}](notebooks/{file})（英文）", colab_url(file)
            badge = f"[![在 Colab 中打开](https://colab.research.google.com/assets/colab-badge.svg)]({colab})"
            run = (f"{row['seconds']:.0f} 秒，{row['peak_mb']:.0f} MB" if row["seconds"] is not None
                   else "尚未测量")
        else:
            name, badge, run = f"{file}（准备中）", "", "—"
        lines.append(f"| {number} | {name} | {topic} | {sections} | {run} | {badge} |")
    return "\n".join(lines)


def _zh_badges() -> str:
    first = NOTEBOOKS[0].file
    path, colab = ((f"notebooks/{ZH}/{first}", f"{ZH}/{first}") if zh_edition(first)
                   else (f"notebooks/{first}", first))
    return (f"[![在 Binder 上打开](https://mybinder.org/badge_logo.svg)]({binder_url(path)}) "
            f"[![在 Colab 中打开](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(colab)})")


ZH_COPIED = ("install", "test", "site")  # commands README.zh.md shows exactly as README.md does


def zh_readme_sections() -> dict[str, str]:
    """The generated parts of ``README.zh.md``, by marker name."""
    english = readme_blocks()
    missing = [name for name in ZH_COPIED if name not in english]
    if missing:
        raise ValueError(f"README.md lacks the markers of {missing}, which README.zh.md copies")
    return {"badges": _zh_badges(), **{name: english[name] for name in ZH_COPIED},
            "course-map": _zh_table(), "assignments-badge": _assignments_badge()}


def sync_readme_zh(path: Path = ZH_README, check: bool = False) -> bool:
    """Rewrite the generated parts of the Chinese README; with ``check``, only report staleness."""
    return _sync_markers(path, zh_readme_sections(), check)


# Sections of README.md that README.zh.md does not translate, and why.
ZH_README_UNTRACKED = {
    "for-contributors": "contributor detail (test counts and timings change with every CI run); "
                        "README.zh.md points to CONTRIBUTING.md instead",
}
_EN_MARK = re.compile(r"<!-- en: (?P<name>[\w-]+)(?: (?P<hash>[0-9a-f]{12}))? -->")


def zh_readme_problems(path: Path = ZH_README, english: Path = README) -> list[str]:
    """Sections of the English README whose Chinese is missing or older than the English, one sentence each.

    Each translated section of ``README.zh.md`` carries ``<!-- en: SECTION HASH -->``: the
    English section it translates and that section's fingerprint when it was translated.
    """
    current = readme_section_fingerprints(english)
    marks = [(m.group("name"), m.group("hash")) for m in _EN_MARK.finditer(path.read_text(encoding="utf-8"))]
    names = [name for name, _ in marks]
    problems = [f"{path.name} translates the section {name!r} {names.count(name)} times"
                for name in sorted(set(names)) if names.count(name) > 1]
    problems += [f"{path.name} names the section {name!r}, which README.md does not have (sections: "
                 f"{', '.join(current)})" for name in names if name not in current]
    for name, fingerprint in current.items():
        if name in ZH_README_UNTRACKED:
            continue
        found = [h for n, h in marks if n == name]
        if not found:
            problems.append(f"README.md's section {name!r} has no Chinese in {path.name}: translate it there "
                            f"under <!-- en: {name} {fingerprint} --> (or list it in ZH_README_UNTRACKED with the reason)")
        elif found[0] != fingerprint:
            problems.append(f"README.md's section {name!r} changed since {path.name} translated it "
                            f"(en: {found[0]}, now {fingerprint}): bring the Chinese in line with it "
                            f"(git log -p README.md shows what changed), then write <!-- en: {name} {fingerprint} -->")
    return problems


def _fingerprint(text: str) -> str:
    normal = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip("\n").split("\n"))
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:12]


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def readme_english_sections(path: Path = README) -> dict[str, str]:
    """The sections of the English README: ``top`` (before the first ``## ``), then one per ``## `` heading,
    by its slug; the generated parts (between ``<!-- name:start -->`` and ``<!-- name:end -->``) are emptied."""
    text = re.sub(r"(<!-- (?P<name>[\w-]+):start -->).*?(<!-- (?P=name):end -->)", r"\1\3",
                  path.read_text(encoding="utf-8"), flags=re.S)
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    sections = {"top": parts[0]}
    for heading, body in zip(parts[1::2], parts[2::2]):
        sections[_slug(heading)] = f"## {heading}{body}"
    return sections


def readme_section_fingerprints(path: Path = README) -> dict[str, str]:
    """Each section of the English README (:func:`readme_english_sections`) -> the first 12 hex digits
    of the SHA-256 of its text.

    The generated parts are left out, so a new run time in the course map does not count as a
    change of the prose.
    """
    return {name: _fingerprint(body) for name, body in readme_english_sections(path).items()}


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
    up_to_date = (sync_index(check=check) & sync_readme(check=check) & sync_readme_zh(check=check)
                  & sync_notebook_map(check=check))
    generated = "README.md, README.zh.md, notebooks/index.ipynb and notebook 00's course map"
    print(f"{generated} are up to date" if up_to_date else
          ("out of date: run python tools/course.py" if check else f"{generated} updated"))
    sys.exit(0 if up_to_date or "--check" not in sys.argv else 1)
