"""The Chinese edition (tools/translate.py): translations complete and current, notebooks/zh/ a fresh build, terms from the glossary."""

import base64
import doctest
import fnmatch
import json
import re
import warnings
from pathlib import Path

import pytest

from tools import course, diagrams
from tools import glossary as tools_glossary
from tools import translate as tr
from tools.glossary import terms_missing_in_translation, terms_named

ROOT = Path(__file__).resolve().parents[1]
LANG = "zh"
PENDING = tr.pending(LANG)
# Translations that must be complete: every translation file of a notebook not listed as pending
# (a pending notebook's file is work in progress).
FINISHED = [p for p in tr.translated_notebooks(LANG) if p.stem not in PENDING]
BUILT = sorted((ROOT / "notebooks" / LANG).glob("*.ipynb"))


def _ids(paths):
    return [p.name[:2] for p in paths]


# --------------------------------------------------------------------------- the committed translations

@pytest.mark.parametrize("kind", ["missing", "stale", "untranslated", "orphaned"])
@pytest.mark.parametrize("notebook", FINISHED, ids=_ids(FINISHED))
def test_translation_is_complete_and_current(notebook, kind):
    """Every English markdown cell has a block (missing), translating its current text (stale),
    in Chinese (untranslated), and no block is left for a cell that is gone (orphaned)."""
    result = tr.status(notebook.stem, LANG)
    cells = getattr(result, kind)
    assert not cells, "\n".join(result.problems())


def test_committed_chinese_notebooks_equal_a_fresh_build():
    stale = tr.build(lang=LANG, check=True)
    assert not stale, "run python tools/translate.py build:\n" + "\n".join(stale)


def test_every_english_notebook_has_a_chinese_edition_or_is_listed_as_pending():
    built = {p.stem for p in BUILT}
    english = [p.stem for p in tr.english_notebooks()]
    neither = [stem for stem in english if stem not in built and stem not in PENDING]
    assert not neither, (f"no Chinese edition and not in {tr.pending_path(LANG).relative_to(ROOT)}: {neither} "
                         "(python tools/translate.py stub NN, translate, build)")
    assert len(set(PENDING)) == len(PENDING), "a notebook is listed twice as pending"
    if PENDING:
        warnings.warn(f"Chinese edition: {len(english) - len(PENDING)} of {len(english)} notebooks done, "
                      f"{len(PENDING)} pending ({', '.join(stem[:2] for stem in PENDING)})", UserWarning)


@pytest.mark.parametrize("stem", PENDING, ids=[s[:2] for s in PENDING])
def test_a_pending_notebook_is_not_already_translated(stem):
    assert not (tr.translation_path(stem, LANG).exists() and tr.status(stem, LANG).complete), (
        f"{stem}'s translation is complete: remove it from {tr.pending_path(LANG).relative_to(ROOT)} "
        "and run python tools/translate.py build")
    assert not tr.output_path(stem, LANG).exists(), f"{stem} is listed as pending but has a Chinese notebook"


@pytest.mark.parametrize("notebook", FINISHED, ids=_ids(FINISHED))
def test_translation_uses_the_glossary_terms(notebook):
    """Each glossary term an English cell names appears in its Chinese as the glossary writes it."""
    chinese = {block.cell_id: block.text for block in tr.read_translation(tr.translation_path(notebook, LANG))}
    problems = [f"{notebook.stem}, cell {cell_id}: {problem}"
                for cell_id, english in tr.markdown_cells(tr.read_notebook(notebook))
                for problem in terms_missing_in_translation(english, chinese.get(cell_id, ""))]
    assert not problems, ("terms not written as rec_utils/glossary.csv gives them (its Chinese; the English for "
                          "zh_usage=keep-english):\n" + "\n".join(problems))


def test_the_checks_cover_terms():
    """The glossary check is not vacuous: the finished translations name terms it checked."""
    checked = sum(len(terms_named(english)) for notebook in FINISHED
                  for _, english in tr.markdown_cells(tr.read_notebook(notebook)))
    assert not FINISHED or checked > 0


# --------------------------------------------------------------------------- the built notebooks

def _markdown(path):
    return [(c["id"], "".join(c["source"])) for c in tr.read_notebook(path)["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", BUILT, ids=_ids(BUILT))
def test_chinese_notebook_is_the_english_one_with_chinese_markdown(path):
    english = tr.read_notebook(ROOT / "notebooks" / path.name)
    chinese = tr.read_notebook(path)
    assert chinese["metadata"].pop("rec_course")["language"] == LANG
    assert chinese["metadata"] == english["metadata"]
    assert len(chinese["cells"]) == len(english["cells"])
    for zh, en in zip(chinese["cells"], english["cells"]):
        if en["cell_type"] == "markdown":
            assert {k: v for k, v in zh.items() if k != "source"} == {k: v for k, v in en.items() if k != "source"}
            assert re.search(r"[\u4e00-\u9fff]", "".join(zh["source"])), f"{path.name}, cell {en['id']}: no Chinese"
        else:
            assert zh == en, f"{path.name}, cell {en['id']}: code cells and outputs come from the English notebook"


@pytest.mark.parametrize("path", BUILT, ids=_ids(BUILT))
def test_chinese_notebook_links_resolve(path):
    """Relative links and images point at files that exist, seen from notebooks/zh/."""
    broken = []
    for cell_id, text in _markdown(path):
        text = re.sub(r"`[^`\n]*`", "", text)
        for target in re.findall(r"\]\(\s*([^)\s]+)", text) + re.findall(r"""(?:href|src)=["']([^"']+)""", text):
            if target.startswith(("#", "data:")) or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"cell {cell_id}: {target}")
    assert not broken, f"{path.name}: broken links\n" + "\n".join(broken)


@pytest.mark.parametrize("path", BUILT, ids=_ids(BUILT))
def test_chinese_notebook_shows_the_chinese_figures_and_opens_itself_in_colab(path):
    for cell_id, text in _markdown(path):
        for name in diagrams.markers_in(text):
            src = text.split(f"<!-- figure: {name} -->", 1)[1].split("](", 1)[1].split(")", 1)[0]
            assert base64.b64decode(src.split(",", 1)[1]).decode() == diagrams.render(name, LANG), (
                f"{path.name}, cell {cell_id}: figure {name} is not the Chinese drawing")
    head = _markdown(path)[0][1]
    assert course.colab_url(f"{LANG}/{path.name}") in head
    assert course.colab_url(path.name) not in head


def test_nbval_does_not_collect_the_chinese_notebooks(request):
    """Their code is the English notebooks' code: the English ones are executed, these are only checked."""
    root_conftest = next(plugin for plugin in request.config.pluginmanager.get_plugins()
                         if getattr(plugin, "__file__", None) == str(ROOT / "conftest.py"))
    assert any(fnmatch.fnmatch(f"notebooks/{LANG}/00_x.ipynb", pattern)
               for pattern in getattr(root_conftest, "collect_ignore_glob", []))


# --------------------------------------------------------------------------- the tool, on a toy course

TITLE = ("**Notebook 00 – Toy**\n\n_A toy._\n\n"
         f'<a href="{course.colab_url("00_toy.ipynb")}" target="_parent">'
         '<img src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/></a>')
BODY = ("## 1. Links\n\nSee [notebook 01](01_next.ipynb), [its setup](01_next.ipynb#setup), "
        "[the glossary](../docs/glossary.md#c) and [here](#top), `[code](05_x.ipynb)`.\n\n"
        "<!-- figure: pipeline -->\n![The pipeline](data:image/svg+xml;base64,AAAA)\n")


def _cell(cell_id, kind, source):
    cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=1, outputs=[{"name": "stdout", "output_type": "stream", "text": ["42\n"]}])
    return cell


def _notebook(*cells):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A course with two notebooks, its own translations/ and notebooks/zh/."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "glossary.md").write_text("# g\n", encoding="utf-8")
    for name, cells in {"00_toy": [_cell("t", "markdown", TITLE), _cell("c", "code", "print(42)"),
                                   _cell("b", "markdown", BODY)],
                        "01_next": [_cell("n", "markdown", "**Notebook 01**"), _cell("s", "markdown", "## Setup")]}.items():
        (notebooks / f"{name}.ipynb").write_text(json.dumps(_notebook(*cells), indent=1) + "\n", encoding="utf-8")
    for name, value in {"ROOT": tmp_path, "NOTEBOOKS": notebooks, "OUTPUT": notebooks,
                        "TRANSLATIONS": tmp_path / "translations"}.items():
        monkeypatch.setattr(tr, name, value)
    return tmp_path


def _translate(key, texts):
    path = tr.translation_path(tr.notebook_path(key))
    _, blocks = tr.parse(path.read_text(encoding="utf-8"))
    for block in blocks:
        block.text = texts.get(block.cell_id, block.text)
    path.write_text(tr.render(tr.notebook_path(key).name, blocks), encoding="utf-8")


ZH_TITLE = TITLE.replace("**Notebook 00 – Toy**\n\n_A toy._", "**笔记本 00 – 玩具**\n\n_一个玩具。_")
ZH_BODY = BODY.replace("## 1. Links\n\nSee", "## 1. 链接\n\n参见").replace("The pipeline", "流水线")


def test_stub_writes_every_markdown_cell_in_order_and_is_deterministic(toy):
    path = tr.stub("00")
    text = path.read_text(encoding="utf-8")
    assert [m.group("id") for m in tr.HEADER.finditer(text)] == ["t", "b"]  # markdown only, notebook order
    assert text.count(tr.UNTRANSLATED) == 2 and "**Notebook 00 – Toy**" in text
    assert "base64" not in text and "../../docs/figures/zh/pipeline.svg" in text
    assert tr.stub("00").read_text(encoding="utf-8") == text
    result = tr.status("00")
    assert (result.untranslated, result.complete) == (["t", "b"], False)


def test_a_changed_english_cell_is_stale_and_stub_keeps_the_chinese(toy):
    tr.stub("00")
    _translate("00", {"t": ZH_TITLE, "b": ZH_BODY})
    assert tr.status("00").complete
    notebook = tr.notebook_path("00")
    nb = tr.read_notebook(notebook)
    nb["cells"][2]["source"] = [BODY.replace("See", "Read")]
    nb["cells"].insert(1, _cell("new", "markdown", "A new cell -->"))
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    result = tr.status("00")
    assert (result.stale, result.missing) == (["b"], ["new"])
    assert any("cell(s) b changed in English" in p and "translate.py stub 00" in p for p in result.problems())
    text = tr.stub("00").read_text(encoding="utf-8")
    block = {b.cell_id: b for b in tr.parse(text)[1]}["b"]
    assert block.text.startswith("## 1. 链接") and "<!-- en (changed):\n## 1. Links\n\nRead" in block.text
    assert "A new cell ~~>" not in text and "A new cell -->" in text  # untranslated: the English as it is
    assert tr.status("00").stale == ["b"], "still stale until the comment is deleted"
    block.text = block.text.split(tr.CHANGED)[0].rstrip()
    blocks = [b if b.cell_id != "b" else block for b in tr.parse(text)[1]]
    tr.translation_path(notebook).write_text(tr.render(notebook.name, blocks), encoding="utf-8")
    assert tr.status("00").stale == [] and tr.status("00").untranslated == ["new"]


def test_blocks_of_deleted_cells_are_kept_last_and_reported(toy):
    tr.stub("00")
    _translate("00", {"t": ZH_TITLE, "b": ZH_BODY})
    path = tr.translation_path(tr.notebook_path("00"))
    path.write_text(path.read_text(encoding="utf-8").replace("<!-- cell: t |", "<!-- cell: gone |"), encoding="utf-8")
    assert tr.status("00").orphaned == ["gone"]
    text = tr.stub("00").read_text(encoding="utf-8")
    assert [m.group("id") for m in tr.HEADER.finditer(text)] == ["t", "b", "gone"]


def test_build_replaces_markdown_only_and_rewrites_links_figures_and_badge(toy):
    tr.stub("00")
    _translate("00", {"t": ZH_TITLE, "b": ZH_BODY})
    assert tr.build() == ["notebooks/zh/00_toy.ipynb: missing"]
    text = (toy / "notebooks" / "zh" / "00_toy.ipynb").read_text(encoding="utf-8")
    assert text.endswith("}\n") and tr.build(check=True) == []
    nb, english = json.loads(text), tr.read_notebook(tr.notebook_path("00"))
    assert nb["cells"][1] == english["cells"][1] and nb["metadata"]["rec_course"]["language"] == "zh"
    body = "".join(nb["cells"][2]["source"])
    assert "[notebook 01](../01_next.ipynb)" in body  # no Chinese edition of 01: the English one
    assert "[its setup](../01_next.ipynb#setup)" in body
    assert "[the glossary](../../docs/glossary.md#c)" in body and "[here](#top)" in body
    assert "`[code](05_x.ipynb)`" in body  # code is left alone
    assert diagrams.data_uri(diagrams.render("pipeline", "zh")) in body and "![流水线](" in body
    assert course.colab_url("zh/00_toy.ipynb") in "".join(nb["cells"][0]["source"])


def test_links_go_to_a_chinese_edition_once_it_exists_with_the_anchor(toy):
    for key, texts in {"00": {"t": ZH_TITLE, "b": ZH_BODY},
                       "01": {"n": "**笔记本 01**", "s": '<a id="setup"></a>\n## 设置'}}.items():
        tr.stub(key)
        _translate(key, texts)
    tr.build()
    body = "".join(tr.read_notebook(toy / "notebooks" / "zh" / "00_toy.ipynb")["cells"][2]["source"])
    assert "[notebook 01](01_next.ipynb)" in body and "[its setup](01_next.ipynb#setup)" in body


def test_build_refuses_an_incomplete_translation_naming_the_cells(toy):
    tr.stub("00")
    _translate("00", {"t": ZH_TITLE})
    with pytest.raises(tr.IncompleteTranslation, match=r"00_toy: cell\(s\) b are still marked <!-- untranslated -->"):
        tr.build()
    assert tr.build(allow_incomplete=True) == ["notebooks/zh/00_toy.ipynb: missing"]
    with pytest.raises(tr.IncompleteTranslation):
        tr.build(check=True)
    tr.pending_path().write_text("00\n", encoding="utf-8")  # work in progress: not built, and not to be committed
    assert tr.build(check=True) == ["notebooks/zh/00_toy.ipynb: has no complete translation (delete it)"]
    tr.build()
    assert not (toy / "notebooks" / "zh" / "00_toy.ipynb").exists()


def test_pending_work_in_progress_is_skipped_and_listed_names_must_exist(toy):
    tr.stub("00")
    tr.pending_path().write_text("# comment\n00  # in progress\n", encoding="utf-8")
    assert tr.pending() == ["00_toy"] and tr.build() == []
    tr.pending_path().write_text("07\n", encoding="utf-8")
    with pytest.raises(ValueError, match="pending.txt, line 1: no English notebook matches '07'"):
        tr.pending()


def test_translation_files_are_checked_when_read():
    with pytest.raises(ValueError, match="several blocks"):
        tr.parse("<!-- cell: a | en: 0123456789ab -->\n甲\n<!-- cell: a | en: 0123456789ab -->\n乙\n")
    with pytest.raises(ValueError, match="comments only"):
        tr.parse("stray text\n<!-- cell: a | en: 0123456789ab -->\n甲\n")
    with pytest.raises(ValueError, match="no English notebook matches"):
        tr.notebook_path("99")
    with pytest.raises(ValueError, match="unknown language"):
        tr.translation_path("00_x", "fr")


def test_fingerprint_ignores_trailing_space_and_figure_data():
    text = "Intro.  \n<!-- figure: pipeline -->\n![alt](data:image/svg+xml;base64,AAAA)\n\n"
    assert tr.english_hash(text) == tr.english_hash("Intro.\n<!-- figure: pipeline -->\n![alt](other)")
    assert tr.english_hash(text) != tr.english_hash("Intro!\n<!-- figure: pipeline -->\n![alt]()")
    assert re.fullmatch(r"[0-9a-f]{12}", tr.english_hash(text))


@pytest.mark.parametrize("module", [tr, tools_glossary], ids=["translate", "glossary"])
def test_tool_examples_run(module):
    """The docstring examples of the tools (pytest collects doctests under rec_utils/ only)."""
    assert doctest.testmod(module).failed == 0


def test_the_glossary_check_catches_a_wrong_term_and_accepts_english_where_marked():
    assert terms_missing_in_translation("Collaborative filtering and the **cold start** (冷启动).",
                                        "协作过滤与冷启动。") == [
        "'collaborative filtering' (as collaborative filtering): expected 协同过滤"]
    assert terms_missing_in_translation("A softmax, then dropout.", "先做 softmax，再做 dropout。") == []
    assert terms_missing_in_translation("In quick mode the value is 3.", "快速模式下取值为 3。") == []  # marked-only
    assert terms_missing_in_translation('Zhai et al., "Actions Speak Louder than Words".',
                                        "Zhai 等人的 “Actions Speak Louder than Words”。") == []  # a title
    assert terms_missing_in_translation("Precision@10 and PCA.", "Precision@10 与 PCA。") == []


# --------------------------------------------------------------------------- the instructor guide (and other documents)

DOCUMENTS = list(tr.DOCUMENTS)
# Glossary terms a document uses in another sense: the guide's "session" is a class meeting (一次课),
# not a user's browsing session (会话).
HOMONYMS = {"docs/instructor_guide.md": {"session"}}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CODE_SPAN = re.compile(r"`[^`\n]+`")


@pytest.mark.parametrize("kind", ["missing", "stale", "untranslated", "orphaned"])
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_translation_is_complete_and_current(doc, kind):
    """A document is never pending: every block of the English has current Chinese."""
    result = tr.document_status(doc, LANG)
    assert not getattr(result, kind), "\n".join(result.problems())


def test_committed_documents_equal_a_fresh_build():
    stale = tr.build_documents(lang=LANG, check=True)
    assert not stale, "run python tools/translate.py build:\n" + "\n".join(stale)


def _document_pairs(doc):
    chinese = {b.cell_id: b.text for b in tr.read_translation(tr.document_translation_path(doc, LANG))}
    return [(key, english, chinese.get(key, "")) for key, english in tr._document_english(doc)]


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_uses_the_glossary_terms(doc):
    skip = HOMONYMS.get(doc, set())
    problems = [f"{doc}, block {key}: {problem}" for key, english, chinese in _document_pairs(doc)
                for problem in terms_missing_in_translation(english, chinese)
                if problem.split("'")[1] not in skip]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_states_the_same_numbers_and_code(doc):
    """Each block's Chinese has the numbers and the code spans of its English, and no others."""
    problems = []
    for key, english, chinese in _document_pairs(doc):
        for what, pattern in (("numbers", _NUMBER), ("code", _CODE_SPAN)):
            en, zh = set(pattern.findall(english)), set(pattern.findall(chinese))
            if en != zh:
                problems.append(f"{doc}, block {key}: {what} only in the English {sorted(en - zh)}, "
                                f"only in the Chinese {sorted(zh - en)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_links_resolve(doc):
    path = tr.document_output_path(doc, LANG)
    text = re.sub(r"`[^`\n]*`", "", path.read_text(encoding="utf-8"))
    broken = [t for t in re.findall(r"\]\(\s*([^)\s]+)", text)
              if not re.match(r"^[a-z][a-z0-9+.-]*:|#", t) and not (path.parent / t.split("#")[0]).exists()]
    assert not broken, f"{path.name}: broken links {broken}"
    assert f"]({Path(doc).name})" in text, "the Chinese document links to its English original"


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_blocks_cover_the_english_exactly(doc):
    """Put back together with the English's own separators, the blocks are the English document."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    layout = tr._document_layout(text)
    assert "".join(separator + source for _, source, separator in layout) + "\n" == text
    keys = [key for key, _, _ in layout]
    assert len(keys) == len(set(keys)) and len(keys) > 10


@pytest.fixture
def toy_document(toy, monkeypatch):
    (toy / "docs" / "guide.md").write_text("# Guide\n\nIntro, 2 sessions.\n\n## Grading\n\n- Run `grade 05`.\n"
                                           "- Read the CSV.\n", encoding="utf-8")
    monkeypatch.setattr(tr, "DOCUMENTS", ("docs/guide.md",))
    return toy


def test_a_document_is_stubbed_built_and_goes_stale_when_the_english_changes(toy_document):
    path = tr.stub("docs/guide.md")
    assert path == toy_document / "translations" / "zh" / "docs" / "guide.md"
    assert tr.document_status("guide").untranslated == ["guide", "guide.1", "grading", "grading.1", "grading.2"]
    with pytest.raises(tr.IncompleteTranslation, match=r"docs/guide.md: cell\(s\) guide, guide.1, .* untranslated"):
        tr.build_documents()
    texts = {"guide": "# 指南", "guide.1": "简介，2 次课。", "grading": "## 批改",
             "grading.1": "- 运行 `grade 05`。", "grading.2": "- 阅读 CSV。"}
    _, blocks = tr.parse(path.read_text(encoding="utf-8"))
    for block in blocks:
        block.text = texts[block.cell_id]
    path.write_text(tr.render("docs/guide.md", blocks), encoding="utf-8")
    assert tr.document_status("guide").complete
    assert tr.build_documents() == ["docs/guide.zh.md: missing"] and tr.build_documents(check=True) == []
    built = (toy_document / "docs" / "guide.zh.md").read_text(encoding="utf-8")
    assert built.endswith("# 指南\n\n简介，2 次课。\n\n## 批改\n\n- 运行 `grade 05`。\n- 阅读 CSV。\n")  # the English layout
    english = toy_document / "docs" / "guide.md"
    english.write_text(english.read_text(encoding="utf-8").replace("grade 05", "grade 06"), encoding="utf-8")
    assert tr.document_status("guide").stale == ["grading.1"]
    with pytest.raises(tr.IncompleteTranslation, match="grading.1 changed in English"):
        tr.build_documents(check=True)
    text = tr.stub("guide").read_text(encoding="utf-8")
    assert "- 运行 `grade 05`。\n\n<!-- en (changed):\n- Run `grade 06`." in text


# --------------------------------------------------------------------------- the assignments (student versions)

MASTERS = tr.english_masters()
ASSIGNMENTS_PENDING = tr.assignment_pending(LANG)
# Assignment translations that must be complete: every translation file of a master not listed as pending.
FINISHED_ASSIGNMENTS = [m for m in tr.translated_masters(LANG) if m.stem not in ASSIGNMENTS_PENDING]
BUILT_ASSIGNMENTS = sorted((tr.STUDENT / LANG).glob("*.ipynb"))


def _assignment_pairs(master):
    chinese = {b.cell_id: b.text for b in tr.read_translation(tr.assignment_translation_path(master, LANG))}
    return [(cell_id, english, chinese.get(cell_id, "")) for cell_id, english in tr.markdown_cells(tr.read_notebook(master))]


def test_every_master_has_cell_ids():
    """Translations are keyed by the master's cell ids: every cell has one, none shared."""
    for master in MASTERS:
        ids = [cell.get("id") for cell in tr.read_notebook(master)["cells"]]
        assert all(ids) and len(ids) == len(set(ids)), f"{master.name}: cells without an id, or sharing one"


@pytest.mark.parametrize("kind", ["missing", "stale", "untranslated", "orphaned"])
@pytest.mark.parametrize("master", FINISHED_ASSIGNMENTS, ids=_ids(FINISHED_ASSIGNMENTS))
def test_assignment_translation_is_complete_and_current(master, kind):
    """Every markdown cell of the master (intro, question statements, hints) has current Chinese."""
    result = tr.assignment_status(master, LANG)
    assert not getattr(result, kind), "\n".join(result.problems())


def test_every_master_has_a_chinese_student_version_or_is_listed_as_pending():
    built = {p.stem for p in BUILT_ASSIGNMENTS}
    neither = [m.stem for m in MASTERS if m.stem not in built and m.stem not in ASSIGNMENTS_PENDING]
    assert not neither, (f"no Chinese student version and not in "
                         f"{tr.assignment_pending_path(LANG).relative_to(ROOT)}: {neither} "
                         "(python tools/translate.py stub assignments/NN, translate, build assignments/NN)")
    assert len(set(ASSIGNMENTS_PENDING)) == len(ASSIGNMENTS_PENDING), "an assignment is listed twice as pending"
    assert not built - {m.stem for m in MASTERS}, "a Chinese student version without a master"
    if ASSIGNMENTS_PENDING:
        warnings.warn(f"Chinese assignments: {len(MASTERS) - len(ASSIGNMENTS_PENDING)} of {len(MASTERS)} done, "
                      f"{len(ASSIGNMENTS_PENDING)} pending ({', '.join(s[:2] for s in ASSIGNMENTS_PENDING)})",
                      UserWarning)


@pytest.mark.parametrize("stem", ASSIGNMENTS_PENDING, ids=[s[:2] for s in ASSIGNMENTS_PENDING])
def test_a_pending_assignment_is_not_already_translated(stem):
    assert not (tr.assignment_translation_path(stem, LANG).exists() and tr.assignment_status(stem, LANG).complete), (
        f"{stem}'s translation is complete: remove it from {tr.assignment_pending_path(LANG).relative_to(ROOT)} "
        f"and run python tools/translate.py build assignments/{stem[:2]}")
    assert not tr.assignment_output_path(stem, LANG).exists(), f"{stem} is listed as pending but has a Chinese version"


@pytest.mark.parametrize("master", FINISHED_ASSIGNMENTS, ids=_ids(FINISHED_ASSIGNMENTS))
def test_assignment_translation_uses_the_glossary_terms(master):
    problems = [f"assignments/{master.stem}, cell {cell_id}: {problem}"
                for cell_id, english, chinese in _assignment_pairs(master)
                for problem in terms_missing_in_translation(english, chinese)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("master", FINISHED_ASSIGNMENTS, ids=_ids(FINISHED_ASSIGNMENTS))
def test_assignment_translation_states_the_same_numbers_and_code(master):
    """A question's Chinese has the numbers and code spans of its English (examples, names, bounds), and no others."""
    problems = []
    for cell_id, english, chinese in _assignment_pairs(master):
        for what, pattern in (("numbers", _NUMBER), ("code", _CODE_SPAN)):
            en, zh = set(pattern.findall(english)), set(pattern.findall(chinese))
            if en != zh:
                problems.append(f"assignments/{master.stem}, cell {cell_id}: {what} only in the English "
                                f"{sorted(en - zh)}, only in the Chinese {sorted(zh - en)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", BUILT_ASSIGNMENTS, ids=_ids(BUILT_ASSIGNMENTS))
def test_chinese_student_version_has_the_english_code_cells_and_tests(path):
    """The English student version with Chinese markdown: the same code cells (answer cells, given code,
    grader.check cells) and the same otter tests and points in the metadata, cell for cell."""
    english = tr.read_notebook(tr.STUDENT / path.name)
    chinese = tr.read_notebook(path)
    assert chinese["metadata"].pop("rec_course") == {
        "language": LANG, "source": f"assignments/masters/{path.name}",
        "translation": f"translations/{LANG}/assignments/{path.stem}.md"}
    assert chinese["metadata"] == english["metadata"]  # otter's tests, points and assignment name
    assert chinese["metadata"]["otter"]["tests"], "no tests in the student version"
    assert [c["cell_type"] for c in chinese["cells"]] == [c["cell_type"] for c in english["cells"]]
    for zh, en in zip(chinese["cells"], english["cells"]):
        if en["cell_type"] == "markdown":
            assert {k: v for k, v in zh.items() if k != "source"} == {k: v for k, v in en.items() if k != "source"}
            assert re.search(r"[\u4e00-\u9fff]", "".join(zh["source"])), f"{path.name}, cell {en['id']}: no Chinese"
        else:
            assert zh == en, f"{path.name}, cell {en['id']}: code cells come from the English master"


@pytest.mark.parametrize("path", BUILT_ASSIGNMENTS, ids=_ids(BUILT_ASSIGNMENTS))
def test_chinese_student_version_shows_the_current_translation(path):
    """Its markdown is the translation file's, localised, in the master's order (otter passes markdown
    through unchanged): an edited translation fails here at once; the full rebuild, which runs
    otter assign, is compared in tests/test_assignments.py."""
    master = tr.MASTERS / path.name
    expected = ["".join(c["source"]) for c in tr.chinese_master(master, LANG)["cells"] if c["cell_type"] == "markdown"]
    assert _markdown(path) and [text for _, text in _markdown(path)] == expected, (
        f"run python tools/translate.py build assignments/{path.name[:2]}")


@pytest.mark.parametrize("path", BUILT_ASSIGNMENTS, ids=_ids(BUILT_ASSIGNMENTS))
def test_chinese_student_version_links_resolve(path):
    broken = []
    for cell_id, text in _markdown(path):
        text = re.sub(r"`[^`\n]*`", "", text)
        for target in re.findall(r"\]\(\s*([^)\s]+)", text) + re.findall(r"""(?:href|src)=["']([^"']+)""", text):
            if target.startswith(("#", "data:")) or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"cell {cell_id}: {target}")
    assert not broken, f"{path.name}: broken links\n" + "\n".join(broken)


@pytest.fixture
def toy_assignment(toy, monkeypatch):
    """The toy course with one assignment master (raw otter cells, markdown, code)."""
    masters = toy / "assignments" / "masters"
    masters.mkdir(parents=True)
    cells = [_cell("a0", "raw", "# ASSIGNMENT CONFIG\nname: 00_toy"),
             _cell("a1", "markdown", "**Assignment 00**\n\nIt follows [notebook 00](../../notebooks/00_toy.ipynb)."),
             _cell("a2", "raw", "# BEGIN QUESTION\nname: q1\npoints: 1"),
             _cell("a3", "markdown", "**Question 1.** Write `f(x)` returning `x + 1`."),
             _cell("a4", "code", "def f(x):\n    return x + 1  # SOLUTION")]
    (masters / "00_toy.ipynb").write_text(json.dumps(_notebook(*cells), indent=1) + "\n", encoding="utf-8")
    monkeypatch.setattr(tr, "MASTERS", masters)
    monkeypatch.setattr(tr, "STUDENT", toy / "assignments" / "student")
    return masters / "00_toy.ipynb"


def test_an_assignment_is_stubbed_translated_localised_and_goes_stale(toy_assignment):
    path = tr.stub("assignments/00")
    assert path == tr.TRANSLATIONS / "zh" / "assignments" / "00_toy.md"
    text = path.read_text(encoding="utf-8")
    assert [m.group("id") for m in tr.HEADER.finditer(text)] == ["a1", "a3"]  # markdown only, master order
    assert text.startswith("<!-- Chinese (中文) markdown of assignments/masters/00_toy.ipynb")
    assert tr.status("assignments/00").untranslated == ["a1", "a3"]
    with pytest.raises(tr.IncompleteTranslation, match=r"assignments/00_toy: cell\(s\) a1, a3 are still marked"):
        tr.build_assignments()
    tr.assignment_pending_path().write_text("00_toy  # in progress\n", encoding="utf-8")
    assert tr.assignment_pending() == ["00_toy"] and tr.build_assignments() == []
    _, blocks = tr.parse(text)
    texts = {"a1": "**作业 00**\n\n配合[笔记本 00](../../notebooks/00_toy.ipynb)使用。", "a3": "**第 1 题。** 编写 `f(x)`，返回 `x + 1`。"}
    for block in blocks:
        block.text = texts[block.cell_id]
    path.write_text(tr.render("00_toy.ipynb", blocks), encoding="utf-8")
    assert tr.assignment_status("assignments/00").complete
    chinese = tr.chinese_master(toy_assignment)
    english = tr.read_notebook(toy_assignment)
    for zh, en in zip(chinese["cells"], english["cells"]):
        assert zh["source"] == en["source"] or zh["cell_type"] == "markdown"  # code and otter's raw cells unchanged
    # notebook 00 has no Chinese edition in the toy course: the link goes to the English one, one folder deeper
    assert "".join(chinese["cells"][1]["source"]).endswith("[笔记本 00](../../../notebooks/00_toy.ipynb)使用。")
    master = tr.read_notebook(toy_assignment)
    master["cells"][3]["source"] = ["**Question 1.** Write `f(x)` returning `x + 2`."]
    toy_assignment.write_text(json.dumps(master, indent=1) + "\n", encoding="utf-8")
    assert tr.assignment_status("assignments/00").stale == ["a3"]
    with pytest.raises(tr.IncompleteTranslation, match="a3 changed in English"):
        tr.chinese_master(toy_assignment)
    assert "<!-- en (changed):\n**Question 1.** Write `f(x)` returning `x + 2`." in tr.stub("assignments/00").read_text(
        encoding="utf-8")
