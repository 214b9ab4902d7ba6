"""Course tooling: the scanner that keeps the bilingual glossary honest, and docs/glossary.md.

Notebooks mark a key term on its first use as ``term (中文)``, e.g. "collaborative filtering
(协同过滤)". The entries themselves are data, in ``rec_utils/glossary.csv`` (read by
:mod:`rec_utils.glossary`). This module holds

* :func:`find_terms` — the ``English words (中文)`` pairs in a piece of markdown, and
  :func:`scan_notebooks`, the same over the markdown cells of ``notebooks/*.ipynb``;
* :func:`check_mentions` — every pair found must name a glossary entry with the same Chinese,
  in the notebook the entry says introduces it; the problems come back as readable sentences;
* :func:`terms_named` and :func:`terms_missing_in_translation` — the glossary terms an English
  cell names (aliases, plurals, case), and those its Chinese translation does not write as the
  glossary does (``tests/test_translations.py``);
* :func:`glossary_markdown` — ``docs/glossary.md``. ``python tools/glossary.py`` rewrites
  it; ``--check`` reports whether it is current and lists any problem in the notebooks.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from rec_utils.glossary import GLOSSARY, Term, lookup  # noqa: F401  (lookup: for callers of this tool)

__all__ = ["Mention", "PROBLEM_KINDS", "find_terms", "scan_notebooks", "resolve", "check_mentions",
           "terms_named", "terms_missing_in_translation", "glossary_markdown", "write_glossary"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
GLOSSARY_FILE = ROOT / "docs" / "glossary.md"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Mention:
    """A ``words (中文)`` pair found in markdown.

    ``phrase`` is the English just before the parenthesis (the bold span, or the clause's
    last words), ``inner`` the English parts written inside it (e.g. ``PCA`` in
    ``(PCA, 主成分分析)``), ``before`` the cell's text up to the pair (for context and for
    terms named a few words earlier).
    """

    notebook: str
    chinese: str
    phrase: str
    inner: tuple[str, ...] = ()
    before: str = ""

    def show(self) -> str:
        """The pair as written, for messages: ``'the cold-start (冷启动)'``."""
        return f"'{self.phrase.strip()} ({self.chinese})'"


# --------------------------------------------------------------------------- scanning

# where a clause ends; an en dash inside a name (Kullback–Leibler) does not end it
_CLAUSE_END = re.compile(r"[.,;:!?()（）\[\]|—\"“”\n]|`|\s–\s")
_PHRASE_WORDS = 6


def _parentheses(text: str) -> list[tuple[int, int]]:
    """(start, end) of every balanced parenthesis, nested ones included, in order of opening."""
    spans, opened = [], []
    for position, char in enumerate(text):
        if char in "(（":
            opened.append(position)
        elif char in ")）" and opened:
            spans.append((opened.pop(), position))
    return sorted(spans)


def _parts(inside: str) -> tuple[str | None, tuple[str, ...]]:
    """Split the text in parentheses into its Chinese term and its English parts."""
    head = re.split(r"[:：;；]", inside, maxsplit=1)[0]
    parts = [p.strip(" *_") for p in re.split(r"[,，、]", head) if p.strip(" *_")]
    chinese = next((p for p in parts if _CJK.search(p)), None)
    inner = tuple(p for p in parts if not _CJK.search(p) and len(p.split()) <= _PHRASE_WORDS)
    return chinese, inner


def _phrase(before: str) -> str:
    """The English a parenthesis refers to: the bold span it closes or sits in, else the clause's end."""
    stripped = before.rstrip()
    if before.count("**") % 2 == 1:  # inside **bold (中文)**
        return before[before.rfind("**") + 2:].strip()
    if stripped.endswith("**"):  # **bold** (中文)
        body = stripped[:-2]
        return body[body.rfind("**") + 2:].strip()
    clause = _CLAUSE_END.split(stripped.replace("**", ""))[-1]
    return " ".join(clause.split()[-_PHRASE_WORDS:])


def find_terms(markdown: str, notebook: str = "") -> list[Mention]:
    """The ``English words (中文)`` pairs in a markdown text, in order.

    A parenthesis counts when it holds Chinese characters and English words precede it;
    book titles in 《》, parentheses without English before them and inline code do not count.

    Parameters
    ----------
    markdown : str
        Markdown text, e.g. one notebook cell.
    notebook : str
        Stored in each :class:`Mention` (the two-digit notebook number).

    Examples
    --------
    >>> [(m.phrase, m.chinese) for m in find_terms("Its **sparsity** (稀疏性) is the difficulty of "
    ...                                             "collaborative filtering (协同过滤).")]
    [('sparsity', '稀疏性'), ('is the difficulty of collaborative filtering', '协同过滤')]
    >>> find_terms("Principal component analysis (PCA, 主成分分析) keeps variance.")[0].inner
    ('PCA',)
    """
    if not isinstance(markdown, str):
        raise TypeError(f"find_terms expects markdown text (str), got {type(markdown).__name__}")
    markdown = re.sub(r"`[^`\n]*`", lambda code: " " * len(code.group()), markdown)  # code is not prose
    mentions = []
    for start, end in _parentheses(markdown):
        chinese, inner = _parts(re.sub(r"[(（][^()（）]*[)）]", "", markdown[start + 1:end]))
        if chinese is None or chinese.startswith("《"):
            continue
        before = markdown[:start]
        phrase = _phrase(before)
        if not re.search(r"[A-Za-z]", phrase + " ".join(inner)):
            continue
        mentions.append(Mention(notebook, chinese, phrase, inner, before))
    return mentions


def scan_notebooks(folder: str | Path = NOTEBOOK_DIR, pattern: str = "[0-9][0-9]_*.ipynb") -> list[Mention]:
    """Every ``English (中文)`` pair in the markdown cells of the notebooks in ``folder``.

    Notebooks are read in name order; each mention carries the notebook's two-digit number.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"scan_notebooks needs the folder of the course notebooks, got {folder} "
                                "(on Colab, use GLOSSARY: the notebooks are not installed with the package)")
    mentions = []
    for path in sorted(folder.glob(pattern)):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                mentions.extend(find_terms("".join(cell["source"]), notebook=path.name[:2]))
    return mentions


# --------------------------------------------------------------------------- matching

def _words(text: str) -> list[str]:
    text = re.sub(r"[*`_\"“”'’]", " ", text.lower())
    return re.sub(r"[-‐–/]", " ", text).split()


def _same_word(written: str, entry: str) -> bool:
    """``written`` is ``entry`` or a regular plural of it."""
    plurals = {entry, entry + "s", entry + "es"}
    if entry.endswith("y"):
        plurals.add(entry[:-1] + "ies")
    return written in plurals


def _ends_with(words: list[str], name: str) -> bool:
    target = _words(name)
    return 0 < len(target) <= len(words) and all(
        _same_word(w, t) for w, t in zip(words[-len(target):], target))


def _candidates(mention: Mention, glossary) -> list[Term]:
    """Entries the mention's English names: longest match first."""
    phrase = _words(mention.phrase)
    found = []
    for term in glossary:
        lengths = [len(_words(name)) for name in term.names()
                   if _ends_with(phrase, name) or any(_ends_with(_words(part), name) for part in mention.inner)]
        if lengths:
            found.append((max(lengths), term))
    return [term for _, term in sorted(found, key=lambda pair: -pair[0])]


def resolve(mention: Mention, glossary=None) -> Term | None:
    """The glossary entry a mention refers to, or ``None``.

    The English before (or inside) the parenthesis must end with the entry's English or one of
    its aliases (plurals allowed); when several entries fit, the one with the same Chinese
    wins. Failing that, an entry with the mention's Chinese counts if the phrase's last word
    starts its English (a shortened term: "noise (噪声点)" for "noise point") or if its English
    appears earlier in the same cell (a heading "The gradient check" above "compared with
    numerical ones (梯度检验)"). Otherwise the longest English match is returned, whose
    Chinese then differs (an inconsistent translation), or ``None``.

    >>> term = resolve(Mention("02", "冷启动", "For each we count the cold-start"))
    >>> term.english, term.chinese
    ('cold start', '冷启动')
    """
    glossary = GLOSSARY if glossary is None else glossary
    candidates = _candidates(mention, glossary)
    for term in candidates:
        if term.chinese == mention.chinese:
            return term
    phrase = _words(mention.phrase)
    context = " ".join(_words(mention.before))
    for term in glossary:
        if term.chinese != mention.chinese:
            continue
        for name in term.names():
            words = _words(name)
            if (phrase and _same_word(phrase[-1], words[0])) or f" {' '.join(words)}" in f" {context}":
                return term
    return candidates[0] if candidates else None


PROBLEM_KINDS = ("unknown", "translation", "notebook")


def check_mentions(mentions, glossary=None, kinds=PROBLEM_KINDS) -> list[str]:
    """Problems between the notebooks' pairs and the glossary, one sentence each (empty = consistent).

    Three kinds: ``"unknown"``, a pair that names no entry; ``"translation"``, a pair whose
    Chinese differs from the entry's (an inconsistent translation); ``"notebook"``, an entry
    whose ``notebook`` is not the first notebook that marks it. ``kinds`` selects which to report.

    >>> check_mentions([Mention("01", "冷启动", "what helps with **cold start")])
    []
    >>> check_mentions([Mention("03", "时间切分", "The split is temporal")])
    ["03: 'The split is temporal (时间切分)' uses 时间切分, but GLOSSARY has 'temporal split' = 按时间划分"]
    """
    unknown_kinds = set(kinds) - set(PROBLEM_KINDS)
    if unknown_kinds:
        raise ValueError(f"kinds must be among {PROBLEM_KINDS}, got {sorted(unknown_kinds)}")
    glossary = GLOSSARY if glossary is None else glossary
    problems, first_seen = [], {}
    for mention in mentions:
        term = resolve(mention, glossary)
        if term is None:
            owner = next((t.english for t in glossary if t.chinese == mention.chinese), None)
            hint = f"; GLOSSARY gives {mention.chinese} to '{owner}'" if owner else ""
            problems.append(("unknown", f"{mention.notebook}: {mention.show()} matches no GLOSSARY entry{hint}"))
        elif term.chinese != mention.chinese:
            problems.append(("translation", f"{mention.notebook}: {mention.show()} uses {mention.chinese}, "
                                            f"but GLOSSARY has '{term.english}' = {term.chinese}"))
        else:
            first_seen.setdefault(term, mention.notebook)
    for term, notebook in first_seen.items():
        if term.notebook != notebook:
            problems.append(("notebook", f"{notebook}: '{term.english}' is first marked in notebook {notebook}, "
                                         f"but GLOSSARY says {term.notebook}"))
    return [message for kind, message in problems if kind in kinds]


# --------------------------------------------------------------------------- terms in a translation

# What is not prose: code, HTML comments and tags, link targets, URLs, math, and quoted titles
# (papers' titles stay in English in the Chinese edition, so a term inside one asks for nothing).
_NOT_PROSE = re.compile(r"(`{3,}|~{3,}).*?\1|`[^`\n]*`|<!--.*?-->|<[^>\n]+>|\]\([^)]*\)|https?://\S+"
                        r"|\$\$.*?\$\$|\$[^$\n]+\$|\"[^\"\n]*\"|“[^”\n]*”", re.S)


def _is_abbreviation(name: str) -> bool:
    """One word with two or more capitals: NDCG@10, ReLU, TF-IDF, kNN is not (one capital)."""
    return not re.search(r"\s", name) and sum(char.isupper() for char in name) >= 2


def _checked_names(term: Term) -> tuple[str, ...]:
    """The English term, its abbreviations and its aliases of several words.

    A one-word alias in lower case ("loss", "temporal", "power") is a shorthand the notebooks
    use next to the full term; alone it is too often an everyday word to be checked.
    """
    return tuple(name for name in term.names()
                 if name == term.english or _is_abbreviation(name) or len(re.split(r"[\s‐-]+", name)) > 1)


def _name_pattern(name: str) -> re.Pattern:
    """``name`` as whole words: spaces and hyphens alike, a regular plural, case ignored unless an abbreviation."""
    words = re.split(r"[\s‐-]+", name)
    last = re.escape(words[-1])
    if words[-1].endswith("y"):
        last = f"(?:{last}|{re.escape(words[-1][:-1])}ies)"
    body = r"[\s‐-]+".join([re.escape(w) for w in words[:-1]] + [last + "(?:s|es)?"])
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])", 0 if _is_abbreviation(name) else re.I)


_PATTERNS: dict[str, re.Pattern] = {}


def terms_named(markdown: str, glossary=None) -> dict[Term, set[str]]:
    """The glossary terms an English markdown text names, each with the names it is called by.

    Code, URLs, link targets, HTML, math and double-quoted titles are skipped; where names
    overlap ("mode collapse" and "mode") the longest wins. A ``marked-only`` term counts only
    where the text marks it as ``term (中文)``.

    >>> sorted((t.english, sorted(n)) for t, n in terms_named(
    ...     "Cold-start users and NDCG@10; `cold start` in code; quick mode; mode collapse (模式崩溃).").items())
    [('cold start', ['cold start']), ('mode collapse', ['mode collapse']), ('normalised discounted cumulative gain', ['NDCG@10'])]
    """
    glossary = GLOSSARY if glossary is None else glossary
    prose = _NOT_PROSE.sub(lambda match: " " * len(match.group()), markdown)
    hits = []
    for term in glossary:
        for name in _checked_names(term):
            pattern = _PATTERNS.setdefault(name, _name_pattern(name))
            hits.extend((match.start(), match.end(), term, name) for match in pattern.finditer(prose))
    hits.sort(key=lambda hit: (hit[0] - hit[1], hit[0]))  # longest first
    taken, named = [], {}
    for start, end, term, name in hits:
        if not any(start < other_end and other_start < end for other_start, other_end in taken):
            taken.append((start, end))
            named.setdefault(term, set()).add(name)
    marked = {resolve(mention, glossary) for mention in find_terms(markdown)}
    return {term: names for term, names in sorted(named.items(), key=lambda item: item[0].english.casefold())
            if term.zh_usage != "marked-only" or term in marked}


def terms_missing_in_translation(english: str, chinese: str, glossary=None) -> list[str]:
    """Terms the English names whose glossary Chinese the translation lacks, one sentence each.

    The translation passes for a term when it contains the glossary's Chinese; or, where the
    English calls the term by an abbreviation, that abbreviation; or, where the English writes
    it as a metric at a cut-off (``Precision@10``), the same; or, for a ``keep-english`` term,
    any of its English names (case ignored).

    >>> terms_missing_in_translation("The **cold start** (冷启动) and PCA.", "冷启动与 PCA。")
    []
    >>> terms_missing_in_translation("Collaborative filtering and NDCG.", "协同过滤与归一化折损累计增益。")
    []
    >>> terms_missing_in_translation("Collaborative filtering again.", "再谈 CF。")
    ["'collaborative filtering' (as collaborative filtering): expected 协同过滤"]
    """
    problems = []
    for term, names in terms_named(english, glossary).items():
        if term.chinese in chinese:
            continue
        abbreviations = [name for name in names if _is_abbreviation(name)]
        if any(_name_pattern(name).search(chinese) for name in abbreviations):
            continue
        if term.zh_usage == "keep-english" and any(name.casefold() in chinese.casefold() for name in term.names()):
            continue
        metric_names = [name for name in names if f"{name}@".casefold() in english.casefold()]  # Precision@10
        if any(f"{name}@".casefold() in chinese.casefold() for name in metric_names):
            continue
        expected = term.chinese + (" or the English" if term.zh_usage == "keep-english" else "")
        expected += f" or {' / '.join(sorted(abbreviations))}" if abbreviations else ""
        problems.append(f"'{term.english}' (as {', '.join(sorted(names))}): expected {expected}")
    return problems


# --------------------------------------------------------------------------- using it

_USAGE_NOTE = {"": "", "keep-english": "English kept", "marked-only": "where marked"}


def glossary_markdown(glossary=None) -> str:
    """The text of ``docs/glossary.md``: one table row per entry, in glossary order."""
    glossary = GLOSSARY if glossary is None else glossary
    lines = ["# Glossary (术语表)", "",
             "Generated from `rec_utils/glossary.csv` by `python tools/glossary.py`; do not edit by hand.",
             "Each term is introduced, with its Chinese name, in the notebook given.",
             "The last column says how the Chinese edition (`translations/zh/`) writes a term: *English kept* —",
             "usually left in English in Chinese technical writing, so the English name or its abbreviation may",
             "stand for the Chinese; *where marked* — also an everyday English word, so the Chinese is checked only",
             "where the English marks it as `term (中文)`; otherwise the Chinese given here, wherever the English",
             "names the term (an abbreviation such as PCA may stand where the English uses it).", "",
             "| English | 中文 | notebook | definition | Chinese edition |", "|---|---|---|---|---|"]

    def cell(text):
        return text.replace("|", "\\|")  # a bar inside a definition would end the table cell

    for term in glossary:
        english = term.english + (f" ({', '.join(term.aliases)})" if term.aliases else "")
        lines.append(f"| {cell(english)} | {term.chinese} | {term.notebook} | {cell(term.definition)} | "
                     f"{_USAGE_NOTE[term.zh_usage]} |")
    return "\n".join(lines) + "\n"


def write_glossary(path: str | Path = GLOSSARY_FILE, check: bool = False) -> bool:
    """Write ``docs/glossary.md``; with ``check``, only report whether it is current."""
    path = Path(path)
    new = glossary_markdown()
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if new != current and not check:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new, encoding="utf-8")
    return new == current


def _main(argv=None) -> int:
    """``python tools/glossary.py [--check]``: write (or check) docs/glossary.md, list notebook problems."""
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    current = write_glossary(check=check)
    print(f"{GLOSSARY_FILE.relative_to(ROOT)}: " + ("up to date" if current else
                                                  "out of date" if check else "written") + f" ({len(GLOSSARY)} terms)")
    problems = check_mentions(scan_notebooks()) if NOTEBOOK_DIR.is_dir() else []
    for problem in problems:
        print("  " + problem)
    if problems:
        print(f"{len(problems)} problem(s) between the notebooks' 'term (中文)' pairs and GLOSSARY")
    return 1 if check and (problems or not current) else 0


if __name__ == "__main__":
    sys.exit(_main())
