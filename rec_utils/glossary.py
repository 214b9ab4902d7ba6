"""The course's bilingual glossary (English ↔ 中文): the terms, and a search over them.

Taught in ``notebooks/15_applications_and_references.ipynb``. The entries live in
``rec_utils/glossary.csv`` (English, Chinese, the notebook that introduces the term, other
English spellings separated by ``|``, a one-line definition, and optionally how the Chinese
edition writes the term), sorted by English; edit that file to add a term. ``python tools/glossary.py`` checks the notebooks' ``term (中文)`` pairs
against it and writes ``docs/glossary.md``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["Term", "ZH_USAGES", "GLOSSARY", "load_glossary", "lookup"]

# How the Chinese edition writes a term (the CSV's optional ``zh_usage`` column):
#   ""              the glossary's Chinese, wherever the English names the term;
#   "keep-english"  usually left in English in Chinese technical writing (NDCG, Transformer,
#                   softmax): the English name or an abbreviation may stand for the Chinese;
#   "marked-only"   also an everyday English word ("value", "return", "mode"): the Chinese is
#                   required only where the English marks the term as ``term (中文)``.
ZH_USAGES = ("", "keep-english", "marked-only")
_COLUMNS = ["english", "chinese", "notebook", "aliases", "definition"]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes
    ----------
    english, chinese : str
        The term in both languages, as the course writes it on first use.
    notebook : str
        Two digits: the notebook that introduces the term (its first ``term (中文)`` mention).
    definition : str
        One line, in English.
    aliases : tuple of str
        Other English forms the notebooks use for the same term (abbreviations, short forms).
    zh_usage : str
        How the Chinese edition writes the term: one of ``ZH_USAGES`` (``""``: the Chinese above;
        ``"keep-english"``: the English may stand; ``"marked-only"``: an everyday English word,
        checked only where marked as ``term (中文)``).
    """

    english: str
    chinese: str
    notebook: str
    definition: str
    aliases: tuple[str, ...] = field(default=())
    zh_usage: str = ""

    def __post_init__(self):
        for name in ("english", "chinese", "definition"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Term.{name} must be a non-empty string, got {value!r}")
        if not _CJK.search(self.chinese):
            raise ValueError(f"Term.chinese must contain Chinese characters, got {self.chinese!r} for {self.english!r}")
        if not (isinstance(self.notebook, str) and re.fullmatch(r"\d\d", self.notebook)):
            raise ValueError(f"Term.notebook must be two digits such as '05', got {self.notebook!r}")
        if not isinstance(self.aliases, tuple) or not all(isinstance(a, str) and a for a in self.aliases):
            raise ValueError(f"Term.aliases must be a tuple of non-empty strings, got {self.aliases!r}")
        if self.zh_usage not in ZH_USAGES:
            raise ValueError(f"Term.zh_usage must be one of {ZH_USAGES}, got {self.zh_usage!r} for {self.english!r}")

    def names(self) -> tuple[str, ...]:
        """The English term and its aliases."""
        return (self.english, *self.aliases)


def load_glossary(path=None) -> tuple[Term, ...]:
    """The glossary's entries, from ``path`` or the CSV shipped with the package."""
    if path is None:
        text = resources.files("rec_utils").joinpath("glossary.csv").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or list(rows[0]) not in (_COLUMNS, _COLUMNS + ["zh_usage"]):
        raise ValueError(f"the glossary file needs the columns {_COLUMNS}, optionally followed by 'zh_usage'")
    terms = tuple(Term(r["english"], r["chinese"], r["notebook"], r["definition"],
                       tuple(a for a in r["aliases"].split("|") if a), r.get("zh_usage") or "") for r in rows)
    english = [t.english for t in terms]
    if english != sorted(english, key=str.casefold) or len(set(english)) != len(english):
        raise ValueError("the glossary's entries must be unique and sorted by English (case-insensitive)")
    return terms


GLOSSARY: tuple[Term, ...] = load_glossary()


def lookup(query: str, glossary=None) -> list[Term]:
    """Entries whose English (or an alias) or Chinese contains ``query``, case-insensitive.

    >>> [t.chinese for t in lookup("cold start")]
    ['冷启动']
    >>> [t.english for t in lookup("协同过滤")]
    ['collaborative filtering', 'neural collaborative filtering']
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"lookup needs a non-empty search string, got {query!r}")
    glossary = GLOSSARY if glossary is None else glossary
    wanted = query.strip().casefold()
    return [t for t in glossary
            if wanted in t.chinese.casefold() or any(wanted in name.casefold() for name in t.names())]
