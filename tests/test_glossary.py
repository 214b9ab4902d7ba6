"""The glossary (rec_utils.glossary and its CSV), its scanner (tools/glossary.py), and its agreement with the notebooks."""

import json

import pytest

from rec_utils.glossary import GLOSSARY, Term, load_glossary, lookup
from tools import glossary
from tools.glossary import (Mention, check_mentions, find_terms, glossary_markdown, resolve, scan_notebooks,
                            terms_missing_in_translation, terms_named)

TOY = (Term("cold start", "冷启动", "01", "No history yet."),
       Term("temporal split", "按时间划分", "02", "Train on the past, test on the future.", ("temporal",)),
       Term("principal component analysis", "主成分分析", "02", "Directions of largest variance.", ("PCA",)),
       Term("gradient check", "梯度检验", "06", "Compare with finite differences."))


# --------------------------------------------------------------------------- the committed state

def test_docs_glossary_is_current():
    assert glossary.GLOSSARY_FILE.exists(), "docs/glossary.md is missing: run python tools/glossary.py"
    assert glossary.write_glossary(check=True), "docs/glossary.md is out of date: run python tools/glossary.py"


def test_entries_are_unique_and_sorted():
    english = [t.english.casefold() for t in GLOSSARY]
    assert english == sorted(english), "GLOSSARY must be sorted by English (case-insensitive)"
    assert len(set(english)) == len(english), "an English term appears twice"
    chinese = [t.chinese for t in GLOSSARY]
    duplicates = sorted({c for c in chinese if chinese.count(c) > 1})
    assert not duplicates, f"one Chinese term for several entries: {duplicates}"
    names = [name.casefold() for t in GLOSSARY for name in t.names()]
    clashes = sorted({n for n in names if names.count(n) > 1})
    assert not clashes, f"an alias is also another entry's name or alias: {clashes}"


def test_every_pair_in_the_notebooks_is_in_the_glossary():
    problems = check_mentions(scan_notebooks(), kinds=("unknown",))
    assert not problems, "terms marked 'English (中文)' in notebooks but missing from GLOSSARY:\n" + "\n".join(problems)


def test_notebooks_translate_every_term_as_the_glossary_does():
    problems = check_mentions(scan_notebooks(), kinds=("translation",))
    assert not problems, "inconsistent translations (notebook text vs GLOSSARY):\n" + "\n".join(problems)


def test_each_entry_names_the_notebook_that_introduces_it():
    problems = check_mentions(scan_notebooks(), kinds=("notebook",))
    assert not problems, "GLOSSARY's 'notebook' field disagrees with the first mention:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- the scanner

def test_find_terms_reads_bold_and_plain_forms():
    text = ("Its **sparsity** (稀疏性) hurts. Use **classification (分类)** first. "
            "Principal component analysis (PCA, 主成分分析) and NDCG@10 (归一化折损累计增益: 1/log2(r + 1) at rank r).")
    found = [(m.phrase, m.chinese, m.inner) for m in find_terms(text, notebook="05")]
    assert found == [("sparsity", "稀疏性", ()), ("classification", "分类", ()),
                     ("Principal component analysis", "主成分分析", ("PCA",)), ("and NDCG@10", "归一化折损累计增益", ())]
    assert {m.notebook for m in find_terms(text, notebook="05")} == {"05"}


def test_find_terms_skips_book_titles_and_parentheses_without_english():
    assert find_terms("项亮 wrote a book (《推荐系统实践》), 2012.") == []
    assert find_terms("(冷启动) alone") == []
    assert find_terms("numbers (1, 2) and words (none)") == []


def test_find_terms_rejects_non_text():
    with pytest.raises(TypeError, match="expects markdown text"):
        find_terms(["not", "a", "string"])


def test_scan_notebooks_reads_markdown_cells_only(tmp_path):
    cells = [{"cell_type": "markdown", "source": ["The **cold start** (冷启动) problem."]},
             {"cell_type": "code", "source": ["# cold start (冷启动) in a comment does not count"]}]
    (tmp_path / "07_toy.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    (tmp_path / "notes.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    mentions = scan_notebooks(tmp_path)
    assert [(m.notebook, m.phrase, m.chinese) for m in mentions] == [("07", "cold start", "冷启动")]


def test_scan_notebooks_needs_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder of the course notebooks"):
        scan_notebooks(tmp_path / "missing")


# --------------------------------------------------------------------------- matching and checking

def test_resolve_accepts_plurals_aliases_and_the_cell_context():
    assert resolve(Mention("02", "冷启动", "users with cold starts"), TOY).english == "cold start"
    assert resolve(Mention("04", "主成分分析", "PCA"), TOY).english == "principal component analysis"
    assert resolve(Mention("02", "主成分分析", "a method", inner=("PCA",)), TOY).english == "principal component analysis"
    in_context = Mention("06", "梯度检验", "compared with numerical ones", before="### The gradient check\n\nSo")
    assert resolve(in_context, TOY).english == "gradient check"
    assert resolve(Mention("06", "梯度检验", "compared with numerical ones", before="nothing here"), TOY) is None


def test_check_mentions_reports_each_kind_of_problem():
    mentions = [Mention("02", "按时间划分", "split is **temporal"),
                Mention("03", "时间切分", "The split is temporal"),  # inconsistent translation
                Mention("03", "长尾", "the long tail"),  # not in the glossary
                Mention("01", "冷启动", "cold start")]  # TOY says notebook 01: fine
    problems = check_mentions(mentions, TOY)
    assert problems == ["03: 'The split is temporal (时间切分)' uses 时间切分, but GLOSSARY has 'temporal split' = 按时间划分",
                        "03: 'the long tail (长尾)' matches no GLOSSARY entry"]
    late = check_mentions([Mention("04", "主成分分析", "PCA")], TOY)
    assert late == ["04: 'principal component analysis' is first marked in notebook 04, but GLOSSARY says 02"]
    assert check_mentions(mentions, TOY, kinds=("notebook",)) == []


def test_check_mentions_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kinds must be among"):
        check_mentions([], TOY, kinds=("typo",))


# --------------------------------------------------------------------------- entries, search, document

@pytest.mark.parametrize("kwargs, message", [
    ({"english": "", "chinese": "冷启动", "notebook": "01", "definition": "x"}, "Term.english"),
    ({"english": "cold start", "chinese": "cold", "notebook": "01", "definition": "x"}, "Chinese characters"),
    ({"english": "cold start", "chinese": "冷启动", "notebook": "1", "definition": "x"}, "two digits"),
    ({"english": "cold start", "chinese": "冷启动", "notebook": "01", "definition": "x", "aliases": ["a"]}, "tuple"),
    ({"english": "cold start", "chinese": "冷启动", "notebook": "01", "definition": "x", "zh_usage": "maybe"}, "zh_usage"),
])
def test_term_validates_its_fields(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Term(**kwargs)


def test_lookup_searches_both_languages_and_aliases():
    assert [t.english for t in lookup("COLD START")] == ["cold start"]
    assert [t.english for t in lookup("主成分")] == ["principal component analysis"]
    assert "principal component analysis" in [t.english for t in lookup("pca")]
    assert lookup("temporal", TOY) == [TOY[1]]
    with pytest.raises(ValueError, match="non-empty search string"):
        lookup("  ")


def test_glossary_markdown_has_one_row_per_entry():
    text = glossary_markdown(TOY)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(TOY)
    assert "| temporal split (temporal) | 按时间划分 | 02 |" in text


def test_the_glossary_file_is_checked_when_read(tmp_path):
    path = tmp_path / "glossary.csv"
    path.write_text("english,chinese,notebook,aliases,definition\nzeta,泽塔,01,,Last.\nalpha,阿尔法,01,,First.\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match="sorted by English"):
        load_glossary(path)
    path.write_text("english,chinese\ncold start,冷启动\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs the columns"):
        load_glossary(path)
    assert load_glossary() == GLOSSARY and len(GLOSSARY) > 200


def test_the_zh_usage_column_is_optional_and_checked(tmp_path):
    path = tmp_path / "glossary.csv"
    path.write_text("english,chinese,notebook,aliases,definition\nalpha,阿尔法,01,,First.\n", encoding="utf-8")
    assert load_glossary(path)[0].zh_usage == ""
    path.write_text("english,chinese,notebook,aliases,definition,zh_usage\nalpha,阿尔法,01,,First.,keep-english\n"
                    "beta,贝塔,01,,Second.,\n", encoding="utf-8")
    assert [t.zh_usage for t in load_glossary(path)] == ["keep-english", ""]
    path.write_text("english,chinese,notebook,aliases,definition,usage\nalpha,阿尔法,01,,First.,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="optionally followed by 'zh_usage'"):
        load_glossary(path)
    path.write_text("english,chinese,notebook,aliases,definition,zh_usage\nalpha,阿尔法,01,,First.,english\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match="Term.zh_usage must be one of"):
        load_glossary(path)


def test_terms_chinese_writing_keeps_in_english_are_marked():
    usage = {t.english: t.zh_usage for t in GLOSSARY}
    for english in ("normalised discounted cumulative gain", "root mean squared error", "Transformer", "softmax",
                    "deep Q-network", "neural collaborative filtering"):
        assert usage[english] == "keep-english", english
    for english in ("value", "return", "mode"):  # everyday words: checked only where marked
        assert usage[english] == "marked-only", english
    assert usage["collaborative filtering"] == "" and usage["cold start"] == ""


def test_glossary_markdown_shows_how_the_chinese_edition_writes_a_term():
    toy = (Term("softmax", "归一化指数函数", "04", "Scores to probabilities.", zh_usage="keep-english"),
           Term("value", "值", "11", "In attention.", zh_usage="marked-only"), TOY[0])
    text = glossary_markdown(toy)
    assert "| softmax | 归一化指数函数 | 04 | Scores to probabilities. | English kept |" in text
    assert "| value | 值 | 11 | In attention. | where marked |" in text
    assert "| cold start | 冷启动 | 01 | No history yet. |  |" in text


def test_terms_named_finds_plurals_abbreviations_and_skips_code_urls_and_titles():
    text = ("Two **cold starts** and the `cold start` code; [a link](https://x.org/cold-start); "
            '"Cold Start in a Title"; principal component analysis, then PCA; pca in lower case.')
    named = {t.english: names for t, names in terms_named(text, TOY).items()}
    assert named == {"cold start": {"cold start"}, "principal component analysis": {"principal component analysis", "PCA"}}
    assert terms_named("The split is temporal.", TOY) == {}  # a one-word alias alone is not checked


def test_terms_missing_in_translation_names_term_and_expected_chinese():
    assert terms_missing_in_translation("Use PCA.", "用 PCA。", TOY) == []
    assert terms_missing_in_translation("Use principal component analysis.", "用 PCA。", TOY) == [
        "'principal component analysis' (as principal component analysis): expected 主成分分析"]
    assert terms_missing_in_translation("A temporal split.", "按时间划分。", TOY) == []
