"""Course tooling: the Chinese edition (中文版), generated from the English notebooks.

The English notebook is the one source of code and outputs. A translation file per notebook,
``translations/zh/<notebook stem>.md``, holds the Chinese of its markdown cells only, one block
per cell, in notebook order::

    <!-- cell: 4e866d39 | en: 1f0c2a9b3d4e -->
    ## 1. 问题
    ...

The header names the English cell by its ``id`` and stores a fingerprint of the English text
the block translates (:func:`english_hash`). When the English cell changes, the fingerprint no
longer matches and the block is *stale*. ``translations/README.md`` tells translators the rules.

    python tools/translate.py stub 05        # create or update translations/zh/05_....md
    python tools/translate.py status [05]    # translated / missing / stale / untranslated cells
    python tools/translate.py build [--check] [--allow-incomplete] [05]   # notebooks/zh/

``stub`` writes, for every English markdown cell without a block, the English text under the
line ``<!-- untranslated -->`` (the translator replaces both); for a stale block it keeps the
Chinese, moves the fingerprint to the new English, and puts the new English below the Chinese in
a comment ``<!-- en (changed): ... -->``, which the translator deletes once the Chinese says the
same again. Blocks whose cell no longer exists are kept, last, so their text can be reused.

``build`` writes ``notebooks/zh/<same file name>`` for every notebook whose translation is complete:
the executed English notebook with each markdown cell's source replaced by its Chinese (links
adjusted for the deeper folder, figures drawn in Chinese, the Colab badge pointed at the Chinese
notebook) and ``metadata["rec_course"]["language"] = "zh"``; everything else is byte for byte the
English. ``translations/zh/pending.txt`` lists the notebooks whose Chinese edition is still to come.

The assignments' student versions work the same way (``stub``/``status``/``build assignments/05``):
``translations/zh/assignments/<master stem>.md`` translates the master's markdown cells, and
``build`` runs ``otter assign`` on the master with that markdown, writing the student version to
``assignments/student/zh/`` (code, tests and points from the English master; see
``translations/README.md``).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import time
import sys
from dataclasses import dataclass, field
from pathlib import Path

try:  # run as a module (tests, python -m tools.translate) or as a script (python tools/translate.py)
    from tools import course, diagrams
except ImportError:  # pragma: no cover
    import course
    import diagrams

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("zh",)

HEADER = re.compile(r"^<!-- cell: (?P<id>[^\s|]+) \| en: (?P<hash>[0-9a-f]{12}) -->$", re.M)
UNTRANSLATED = "<!-- untranslated -->"
CHANGED = "<!-- en (changed):"
PREAMBLE = ("<!-- Chinese (中文) markdown of notebooks/{file}, one block per markdown cell; "
            "format and rules: translations/README.md -->")

# The image after a figure marker is drawn by tools/diagrams.py and written into the notebook as a
# data URI: its bytes are not prose, so a redrawn figure does not make a translation stale.
_FIGURE = re.compile(r"(<!-- figure: (?P<name>[a-z_]+) -->\n!\[[^\]]*\]\()(?P<src>[^)]*)(\))")


# --------------------------------------------------------------------------- notebooks

def english_notebooks() -> list[Path]:
    """The course's English notebooks, ``notebooks/NN_*.ipynb``, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def notebook_path(key: str) -> Path:
    """The English notebook named by its two digits (``"05"``), its stem or its file name."""
    key = Path(str(key)).name.removesuffix(".ipynb").removesuffix(".md")
    found = [p for p in english_notebooks() if p.stem == key or (re.fullmatch(r"\d\d", key) and p.name[:2] == key)]
    if len(found) != 1:
        raise ValueError(f"no English notebook matches {key!r}; expected two digits such as '05' or a stem "
                         f"such as '05_supervised_learning_and_evaluation'")
    return found[0]


def translation_path(notebook: Path | str, lang: str = "zh") -> Path:
    """``translations/<lang>/<stem>.md`` for an English notebook."""
    _check_lang(lang)
    return TRANSLATIONS / lang / f"{Path(notebook).stem}.md"


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")


def read_notebook(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def markdown_cells(nb: dict) -> list[tuple[str, str]]:
    """``(cell id, source)`` of every markdown cell, in order."""
    cells = [(c["id"], "".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown"]
    ids = [cell_id for cell_id, _ in cells]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"markdown cells share an id: {duplicates}")
    return cells


def strip_figures(text: str, replacement: str = "") -> str:
    """The markdown with the image after every ``<!-- figure: NAME -->`` marker replaced.

    ``replacement`` may contain ``{name}``: the stub points the image at the Chinese SVG.
    """
    return _FIGURE.sub(lambda m: m.group(1) + replacement.format(name=m.group("name")) + m.group(4), text)


def normalise(text: str) -> str:
    """What a fingerprint covers: no figure image data, no trailing spaces, no trailing newlines."""
    text = strip_figures(text)
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).rstrip("\n")


def english_hash(source: str) -> str:
    """First 12 hex digits of the SHA-256 of the normalised English markdown.

    >>> english_hash("## Setup\\n") == english_hash("## Setup   ")
    True
    >>> english_hash("## Setup")
    '0ecddf15e1af'
    """
    return hashlib.sha256(normalise(source).encode("utf-8")).hexdigest()[:12]


# --------------------------------------------------------------------------- translation files

@dataclass
class Block:
    """One block of a translation file: the cell it translates, the fingerprint, the Chinese."""

    cell_id: str
    en_hash: str
    text: str

    def untranslated(self) -> bool:
        return self.text.lstrip().startswith(UNTRANSLATED)

    def marked_changed(self) -> bool:
        return CHANGED in self.text

    def render(self) -> str:
        return f"<!-- cell: {self.cell_id} | en: {self.en_hash} -->\n{self.text}\n"


def parse(text: str, where: str = "translation") -> tuple[str, list[Block]]:
    """The preamble (text before the first block) and the blocks of a translation file."""
    text = text.replace("\r\n", "\n")
    headers = list(HEADER.finditer(text))
    preamble = text[:headers[0].start()] if headers else text
    if preamble.strip() and not re.fullmatch(r"(\s*<!--.*?-->\s*)*", preamble, re.S):
        raise ValueError(f"{where}: text before the first '<!-- cell: ID | en: HASH -->' line must be comments only")
    blocks = []
    for header, following in zip(headers, headers[1:] + [None]):
        body = text[header.end():following.start() if following else len(text)]
        blocks.append(Block(header.group("id"), header.group("hash"), body.strip("\n")))
    ids = [b.cell_id for b in blocks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{where}: several blocks for the cell(s) {duplicates}")
    return preamble.strip("\n"), blocks


def read_translation(path: Path) -> list[Block]:
    return parse(Path(path).read_text(encoding="utf-8"), where=str(_rel(path)))[1]


def render(file: str, blocks: list[Block]) -> str:
    """The text of a translation file: the preamble, then the blocks with a blank line between."""
    return PREAMBLE.format(file=file) + "\n\n" + "\n".join(block.render() for block in blocks)


def _comment(text: str) -> str:
    """English inside an HTML comment: its own comment markers are defused so the comment stays one."""
    return text.replace("<!--", "<!~~").replace("-->", "~~>")


def _untranslated(source: str) -> str:
    english = strip_figures(normalise(source), "../../docs/figures/zh/{name}.svg")
    return f"{UNTRANSLATED}\n{english}"


def updated_blocks(nb: dict, blocks: list[Block]) -> list[Block]:
    """The blocks ``stub`` writes: one per English markdown cell in notebook order, then orphans."""
    return _updated(markdown_cells(nb), blocks)


def _updated(cells: list[tuple[str, str]], blocks: list[Block]) -> list[Block]:
    old = {b.cell_id: b for b in blocks}
    new = []
    for cell_id, source in cells:
        fingerprint = english_hash(source)
        block = old.get(cell_id)
        if block is None or block.untranslated():
            new.append(Block(cell_id, fingerprint, _untranslated(source)))
        elif block.en_hash != fingerprint or block.marked_changed():
            chinese = block.text.split(CHANGED, 1)[0].rstrip()
            changed = f"{CHANGED}\n{_comment(strip_figures(normalise(source)))}\n-->"
            new.append(Block(cell_id, fingerprint, f"{chinese}\n\n{changed}" if chinese else changed))
        else:
            new.append(block)
    current = {cell_id for cell_id, _ in cells}
    return new + [b for b in blocks if b.cell_id not in current]


def stub(key: str, lang: str = "zh") -> Path:
    """Create or update the translation file of one notebook (or document); return its path."""
    if is_document(key):
        return document_stub(key, lang)
    if is_assignment(key):
        return assignment_stub(key, lang)
    notebook = notebook_path(key)
    path = translation_path(notebook, lang)
    blocks = read_translation(path) if path.exists() else []
    text = render(notebook.name, updated_blocks(read_notebook(notebook), blocks))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- status

@dataclass
class Status:
    """Where one notebook's translation stands; each list holds cell ids in notebook order."""

    notebook: str
    translated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # English cells without a block
    stale: list[str] = field(default_factory=list)  # the English changed since the block was written
    untranslated: list[str] = field(default_factory=list)  # still the stub's English
    orphaned: list[str] = field(default_factory=list)  # blocks for cells that no longer exist
    key: str = ""  # what ``stub`` takes (a notebook's two digits, or a document's path)
    file: str = ""  # the translation file

    @property
    def complete(self) -> bool:
        return not (self.missing or self.stale or self.untranslated or self.orphaned)

    def problems(self) -> list[str]:
        """One sentence per kind of problem, naming the cells, and the command that fixes it."""
        key = self.key or self.notebook[:2]
        file = self.file or _rel(translation_path(self.notebook))
        fix = f"run python tools/translate.py stub {key}, then edit {file}"
        said = {"missing": "have no block", "stale": "changed in English since they were translated",
                "untranslated": "are still marked <!-- untranslated -->",
                "orphaned": "have blocks but no longer exist in the English notebook (reuse their text, delete them)"}
        return [f"{self.notebook}: cell(s) {', '.join(getattr(self, kind))} {said[kind]}; {fix}"
                for kind in said if getattr(self, kind)]

    def summary(self) -> str:
        counts = ", ".join(f"{len(getattr(self, kind))} {kind}" for kind in
                           ("translated", "missing", "stale", "untranslated", "orphaned"))
        return f"{self.notebook}: {counts}"


def status(key: str, lang: str = "zh") -> Status:
    """Compare a notebook's translation file with the English notebook."""
    if is_document(key):
        return document_status(key, lang)
    if is_assignment(key):
        return assignment_status(key, lang)
    notebook = notebook_path(key)
    path = translation_path(notebook, lang)
    return _compare(Status(notebook.stem), markdown_cells(read_notebook(notebook)), path)


def _compare(result: Status, cells: list[tuple[str, str]], path: Path) -> Status:
    """Fill ``result`` by comparing the English ``cells`` with the translation file at ``path``."""
    blocks = {b.cell_id: b for b in read_translation(path)} if path.exists() else {}
    for cell_id, source in cells:
        block = blocks.get(cell_id)
        if block is None:
            result.missing.append(cell_id)
        elif block.untranslated():
            result.untranslated.append(cell_id)
        elif block.en_hash != english_hash(source) or block.marked_changed():
            result.stale.append(cell_id)
        else:
            result.translated.append(cell_id)
    current = {cell_id for cell_id, _ in cells}
    result.orphaned = [cell_id for cell_id in blocks if cell_id not in current]
    return result


def translated_notebooks(lang: str = "zh") -> list[Path]:
    """English notebooks that have a translation file."""
    return [p for p in english_notebooks() if translation_path(p, lang).exists()]


def _rel(path: Path) -> Path:
    path = Path(path)
    return path.relative_to(ROOT) if path.is_absolute() and path.is_relative_to(ROOT) else path


# --------------------------------------------------------------------------- the build

OUTPUT = NOTEBOOKS  # the Chinese notebooks go to notebooks/<lang>/


def output_path(notebook: Path | str, lang: str = "zh") -> Path:
    """``notebooks/<lang>/<same file name>`` for an English notebook."""
    _check_lang(lang)
    return OUTPUT / lang / f"{Path(notebook).stem}.ipynb"


def pending_path(lang: str = "zh") -> Path:
    _check_lang(lang)
    return TRANSLATIONS / lang / "pending.txt"


def _pending_stems(path: Path, resolve) -> list[str]:
    """The stems a pending list names, one entry per line (``#`` starts a comment), each resolved by ``resolve``."""
    if not path.exists():
        return []
    stems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            try:
                stems.append(resolve(entry).stem)
            except ValueError as error:
                raise ValueError(f"{_rel(path)}, line {number}: {error}") from None
    return stems


def pending(lang: str = "zh") -> list[str]:
    """Stems of the notebooks listed in ``translations/<lang>/pending.txt`` (``#`` starts a comment)."""
    return _pending_stems(pending_path(lang), notebook_path)


class IncompleteTranslation(ValueError):
    """A translation that ``build`` may not use: a cell is missing, stale, untranslated or orphaned."""


_ANCHOR = re.compile(r"""<a\s[^>]*?\b(?:id|name)=["']([^"']+)["']""")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CODE = re.compile(r"(^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*$|`+[^`\n]*`+)", re.M | re.S)
_LINK_TARGETS = (
    re.compile(r"(?P<pre>\]\(\s*)(?P<target>[^)\s]+)"),  # [text](target "title"), ![alt](target)
    re.compile(r"(?P<pre>^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*)(?P<target>\S+)", re.M),  # [ref]: target
    re.compile(r"""(?P<pre>\b(?:href|src)\s*=\s*["'])(?P<target>[^"']+)"""),  # <a href="target">
)


@dataclass(frozen=True)
class Edition:
    """What the build knows of the Chinese editions: which exist, and each one's HTML anchors."""

    lang: str
    anchors: dict  # file name of an English notebook with a Chinese edition -> its anchors

    def has(self, file: str) -> bool:
        return file in self.anchors


def _course_urls(text: str, edition: Edition) -> str:
    """Colab, GitHub and Binder links to a course notebook point at its Chinese edition, if there is one."""
    slug, branch = re.escape(course.REPO_SLUG), re.escape(course.BRANCH)
    prefixes = (rf"https://colab\.research\.google\.com/github/{slug}/blob/{branch}/notebooks/",
                rf"https://github\.com/{slug}/blob/{branch}/notebooks/",
                rf"https://mybinder\.org/v2/gh/{slug}/{branch}\?urlpath=lab/tree/notebooks/")

    def replace(match):
        file = match.group("file")
        return match.group("prefix") + (f"{edition.lang}/" if edition.has(file) else "") + file

    for prefix in prefixes:
        text = re.sub(rf"(?P<prefix>{prefix})(?P<file>\d\d_[A-Za-z0-9_]+\.ipynb)", replace, text)
    return text


def relink(target: str, edition: Edition, base: str = "notebooks") -> str:
    """A link target written relative to ``base`` (``notebooks/``), as seen from ``base/<lang>/``.

    A link to a course notebook goes to its edition in ``notebooks/<lang>/`` when there is one (and
    it has the anchor, if the link names one).

    >>> edition = Edition("zh", {"00_intro.ipynb": {"setup"}})
    >>> [relink(t, edition) for t in ("00_intro.ipynb#setup", "00_intro.ipynb#1.-The-question",
    ...                               "05_x.ipynb", "../docs/glossary.md#k", "#top", "https://a.b/c.ipynb")]
    ['00_intro.ipynb#setup', '../00_intro.ipynb#1.-The-question', '../05_x.ipynb', '../../docs/glossary.md#k', '#top', 'https://a.b/c.ipynb']
    >>> [relink(t, edition, "assignments/student") for t in ("../../notebooks/00_intro.ipynb", "../../notebooks/05_x.ipynb")]
    ['../../../notebooks/zh/00_intro.ipynb', '../../../notebooks/05_x.ipynb']
    """
    if target.startswith(("#", "/")) or _SCHEME.match(target):
        return target
    path, hash_, fragment = target.partition("#")
    if not path:
        return target
    resolved = posixpath.normpath(posixpath.join(base, path))
    folder, name = posixpath.split(resolved)
    if folder == "notebooks" and edition.has(name) and (not fragment or fragment in edition.anchors[name]):
        resolved = f"notebooks/{edition.lang}/{name}"
    return posixpath.relpath(resolved, f"{base}/{edition.lang}") + hash_ + fragment


def localise(markdown: str, edition: Edition, base: str = "notebooks") -> str:
    """A translated cell as the Chinese notebook shows it: figures in Chinese, links from ``base/<lang>/``
    (``notebooks/<lang>/``, or ``assignments/student/<lang>/`` for an assignment)."""
    markdown = diagrams.refresh_markdown(markdown, edition.lang)
    pieces, last = [], 0
    for code in _CODE.finditer(markdown):  # links inside code are text, not links
        pieces.append((markdown[last:code.start()], True))
        pieces.append((code.group(0), False))
        last = code.end()
    pieces.append((markdown[last:], True))
    out = []
    for piece, is_prose in pieces:
        if is_prose:
            for pattern in _LINK_TARGETS:
                piece = pattern.sub(lambda m: m.group("pre") + relink(m.group("target"), edition, base), piece)
            piece = _course_urls(piece, edition)
        out.append(piece)
    return "".join(out)


def chinese_cells(notebook: Path, lang: str = "zh", allow_incomplete: bool = False) -> dict[str, str]:
    """Cell id -> the Chinese markdown of every markdown cell of one notebook.

    Raises :class:`IncompleteTranslation`, naming the notebook and the cells, unless the
    translation is complete; with ``allow_incomplete`` (for looking at work in progress), a cell
    without a current translation shows the Chinese it has, or else the English.
    """
    result = status(notebook.stem, lang)
    if not result.complete and not allow_incomplete:
        raise IncompleteTranslation("the translation is not complete:\n  " + "\n  ".join(result.problems()))
    path = translation_path(notebook, lang)
    blocks = {b.cell_id: b for b in read_translation(path)} if path.exists() else {}
    cells = {}
    for cell_id, source in markdown_cells(read_notebook(notebook)):
        block = blocks.get(cell_id)
        chinese = block.text.split(CHANGED, 1)[0].rstrip() if block and not block.untranslated() else ""
        cells[cell_id] = chinese or source
    return cells


def editions(lang: str = "zh", allow_incomplete: bool = False) -> Edition:
    """The notebooks that get a Chinese edition: complete translations (or all, with ``allow_incomplete``)."""
    anchors = {}
    for notebook in translated_notebooks(lang):
        if allow_incomplete or status(notebook.stem, lang).complete:
            text = translation_path(notebook, lang).read_text(encoding="utf-8")
            anchors[notebook.name] = set(_ANCHOR.findall(text))
    return Edition(lang, anchors)


def build_notebook(notebook: Path, lang: str = "zh", edition: Edition | None = None,
                   allow_incomplete: bool = False) -> str:
    """The text of ``notebooks/<lang>/<file>``: the English notebook with its markdown in ``lang``."""
    edition = editions(lang, allow_incomplete) if edition is None else edition
    chinese = chinese_cells(notebook, lang, allow_incomplete)
    nb = read_notebook(notebook)
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = localise(chinese[cell["id"]], edition).splitlines(keepends=True)
    nb["metadata"]["rec_course"] = {"language": lang, "source": f"notebooks/{notebook.name}",
                                    "translation": str(_rel(translation_path(notebook, lang)).as_posix())}
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def build(keys=(), lang: str = "zh", check: bool = False, allow_incomplete: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) the Chinese notebooks; return what was (or is) out of date.

    Without ``keys``, every notebook with a translation file is built, and a Chinese notebook
    without a complete translation is deleted (reported, with ``check``). A notebook listed as
    pending whose translation is incomplete is skipped; any other incomplete translation raises
    :class:`IncompleteTranslation`.
    """
    edition = editions(lang, allow_incomplete)
    targets = [notebook_path(k) for k in keys] if keys else translated_notebooks(lang)
    waiting = set(pending(lang))
    changed, problems = [], []
    for notebook in targets:
        if not edition.has(notebook.name):
            if notebook.stem in waiting and not keys:
                continue  # work in progress on a pending notebook
            problems.extend(status(notebook.stem, lang).problems() or [f"{notebook.stem}: no translation file; "
                                                                      f"run python tools/translate.py stub {notebook.stem[:2]}"])
            continue
        path = output_path(notebook, lang)
        text = build_notebook(notebook, lang, edition, allow_incomplete)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(f"{_rel(path)}: " + ("missing" if not path.exists() else "differs from a fresh build"))
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if problems:
        raise IncompleteTranslation("cannot build (use --allow-incomplete only to look at work in progress):\n  "
                                    + "\n  ".join(problems))
    if not keys:
        wanted = {output_path(name, lang).name for name in edition.anchors}
        for path in sorted((OUTPUT / lang).glob("*.ipynb")):
            if path.name not in wanted:
                changed.append(f"{_rel(path)}: has no complete translation (delete it)")
                if not check:
                    path.unlink()
    return changed


# --------------------------------------------------------------------------- documents

# Markdown documents translated like the notebooks. The English document is cut into blocks, one
# per heading, paragraph, list item, table or code block (:func:`document_cells`); each block is
# keyed by its section's slug and its place in the section, and fingerprinted like a cell.
DOCUMENTS = ("docs/instructor_guide.md",)
_HEADING = re.compile(r"^(#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s")
GENERATED = ("<!-- 本文件由 tools/translate.py 生成，请勿直接编辑：英文原文是 {source}，"
             "译文在 {translation}（格式见 translations/README.md）。 -->")


def is_document(key) -> bool:
    """Whether ``key`` names one of :data:`DOCUMENTS` (its path, file name or stem)."""
    key = str(key)
    return any(key in (doc, Path(doc).name, Path(doc).stem) for doc in DOCUMENTS)


def document(key) -> str:
    """The path (relative to the repository) of the document ``key`` names."""
    found = [doc for doc in DOCUMENTS if str(key) in (doc, Path(doc).name, Path(doc).stem)]
    if len(found) != 1:
        raise ValueError(f"no translated document matches {key!r}; expected one of {DOCUMENTS}")
    return found[0]


def document_translation_path(key, lang: str = "zh") -> Path:
    """``translations/<lang>/<the document's path>``."""
    _check_lang(lang)
    return TRANSLATIONS / lang / document(key)


def document_output_path(key, lang: str = "zh") -> Path:
    """``docs/instructor_guide.md`` -> ``docs/instructor_guide.<lang>.md``."""
    _check_lang(lang)
    doc = Path(document(key))
    return ROOT / doc.with_name(f"{doc.stem}.{lang}{doc.suffix}")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


def document_cells(text: str) -> list[tuple[str, str]]:
    """``(key, English markdown)`` of every block of a document, in order.

    Blocks are separated by blank lines; a line indented after a blank line continues the
    block before it (the rest of a list item), a code block is never cut, every heading is a
    block of its own, and each item of a list is a block. Keys are the section's slug (the
    heading's block) and ``slug.N`` for its N-th block, so an edit stales the blocks it touches.

    >>> document_cells("# Guide\\n\\nIntro.\\n\\n## Two words\\n\\n- a\\n  more\\n- b\\n\\n  ```\\n  x\\n\\n  ```\\n")
    [('guide', '# Guide'), ('guide.1', 'Intro.'), ('two-words', '## Two words'), ('two-words.1', '- a\\n  more'), ('two-words.2', '- b\\n\\n  ```\\n  x\\n\\n  ```')]
    """
    return [(key, source) for key, source, _ in _document_layout(text)]


def _document_layout(text: str) -> list[tuple[str, str, str]]:
    """:func:`document_cells` with, for each block, what separates it from the block before ("\\n" or "\\n\\n")."""
    chunks: list[list[str]] = []
    separators: list[str] = []
    current: list[str] = []
    fence, gap = None, False
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.rstrip()
        if fence is not None:
            current.append(line)
            if line.strip().startswith(fence):
                fence = None
            continue
        if not line:
            gap = bool(current)
            continue
        new_item = _ITEM.match(line) and current and _ITEM.match(current[0])
        if current and ((gap and not line[:1].isspace()) or _HEADING.match(line) or _HEADING.match(current[0])
                        or new_item):
            chunks.append(current)
            separators.append("\n\n" if gap else "\n")
            current = []
        elif gap:
            current.append("")
        gap = False
        current.append(line)
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
    if current:
        chunks.append(current)
    cells, section, number, used = [], "top", 0, set()
    for chunk, separator in zip(chunks, [""] + separators):
        heading = _HEADING.match(chunk[0])
        if heading and len(chunk) == 1:
            section, n = _slug(heading.group("title")), 2
            while section in used:
                section, n = f"{_slug(heading.group('title'))}-{n}", n + 1
            used.add(section)
            key, number = section, 0
        else:
            number += 1
            key = f"{section}.{number}"
        cells.append((key, "\n".join(chunk), separator))
    return cells


def _document_english(key) -> list[tuple[str, str]]:
    return document_cells((ROOT / document(key)).read_text(encoding="utf-8"))


def document_status(key, lang: str = "zh") -> Status:
    """Compare a document's translation file with the English document."""
    doc = document(key)
    path = document_translation_path(doc, lang)
    return _compare(Status(doc, key=doc, file=str(_rel(path))), _document_english(doc), path)


def document_stub(key, lang: str = "zh") -> Path:
    """Create or update the translation file of a document; return its path."""
    doc = document(key)
    path = document_translation_path(doc, lang)
    blocks = read_translation(path) if path.exists() else []
    text = render(doc, _updated(_document_english(doc), blocks)).replace("of notebooks/", "of ", 1).replace(
        "one block per markdown cell", "one block per paragraph, list item, table or heading", 1)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def build_document(key, lang: str = "zh") -> str:
    """The text of the translated document: its blocks' Chinese, in the English order, one blank line apart."""
    doc = document(key)
    result = document_status(doc, lang)
    if not result.complete:
        raise IncompleteTranslation("the translation is not complete:\n  " + "\n  ".join(result.problems()))
    path = document_translation_path(doc, lang)
    blocks = {b.cell_id: b.text for b in read_translation(path)}
    head = GENERATED.format(source=doc, translation=_rel(path).as_posix())
    layout = _document_layout((ROOT / doc).read_text(encoding="utf-8"))
    return head + "".join(f"{separator or chr(10) * 2}{blocks[key_]}" for key_, _, separator in layout) + "\n"


def build_documents(keys=(), lang: str = "zh", check: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) the translated documents; return what was (or is) out of date."""
    changed = []
    for doc in [document(k) for k in keys] if keys else DOCUMENTS:
        path = document_output_path(doc, lang)
        text = build_document(doc, lang)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(f"{_rel(path)}: " + ("missing" if not path.exists() else "differs from a fresh build"))
            if not check:
                path.write_text(text, encoding="utf-8")
    return changed


# --------------------------------------------------------------------------- assignments

# The assignments' student versions are translated like the notebooks: a file per master,
# ``translations/<lang>/assignments/<master stem>.md``, holds the Chinese of the master's markdown
# cells (intro, question statements, hints), keyed by cell id and fingerprinted. ``build`` puts the
# Chinese into a copy of the master, in a temporary folder, and runs the same ``otter assign`` as
# ``assignments/assignments.py build``: code cells, tests, points and configuration come from the
# English master, so the Chinese student version has the same tests by construction.
MASTERS = ROOT / "assignments" / "masters"
STUDENT = ROOT / "assignments" / "student"  # the Chinese student versions go to assignments/student/<lang>/
ASSIGNMENT_PREAMBLE = ("<!-- Chinese (中文) markdown of assignments/masters/{file} (the student version's prose), "
                       "one block per markdown cell; format and rules: translations/README.md -->")


def english_masters() -> list[Path]:
    """The assignment masters, ``assignments/masters/NN_*.ipynb``, in order."""
    return sorted(MASTERS.glob("[0-9][0-9]_*.ipynb"))


def is_assignment(key) -> bool:
    """Whether ``key`` names an assignment: ``assignments/NN``, ``assignments/<stem>`` or a master's path."""
    return str(key).replace("\\", "/").startswith("assignments/")


def master_path(key) -> Path:
    """The master named by ``assignments/05``, ``assignments/<stem>`` or ``assignments/masters/<file>``."""
    name = Path(str(key)).name.removesuffix(".ipynb").removesuffix(".md")
    found = [p for p in english_masters() if p.stem == name or (re.fullmatch(r"\d\d", name) and p.name[:2] == name)]
    if len(found) != 1:
        raise ValueError(f"no assignment master matches {key!r}; expected 'assignments/' and two digits, "
                         f"such as 'assignments/05', or a master's stem")
    return found[0]


def assignment_key(master: Path | str) -> str:
    return f"assignments/{Path(master).name[:2]}"


def assignment_translation_path(master: Path | str, lang: str = "zh") -> Path:
    """``translations/<lang>/assignments/<master stem>.md``."""
    _check_lang(lang)
    return TRANSLATIONS / lang / "assignments" / f"{Path(master).stem}.md"


def assignment_output_path(master: Path | str, lang: str = "zh") -> Path:
    """``assignments/student/<lang>/<the master's file name>`` (the same name: ``otter.Notebook`` uses it)."""
    _check_lang(lang)
    return STUDENT / lang / f"{Path(master).stem}.ipynb"


def assignment_pending_path(lang: str = "zh") -> Path:
    _check_lang(lang)
    return TRANSLATIONS / lang / "assignments" / "pending.txt"


def assignment_pending(lang: str = "zh") -> list[str]:
    """Stems of the masters listed in ``translations/<lang>/assignments/pending.txt``."""
    return _pending_stems(assignment_pending_path(lang), master_path)


def translated_masters(lang: str = "zh") -> list[Path]:
    """Masters that have a translation file."""
    return [p for p in english_masters() if assignment_translation_path(p, lang).exists()]


def assignment_status(key, lang: str = "zh") -> Status:
    """Compare a master's translation file with the master's markdown cells."""
    master = master_path(key)
    path = assignment_translation_path(master, lang)
    return _compare(Status(f"assignments/{master.stem}", key=assignment_key(master), file=str(_rel(path))),
                    markdown_cells(read_notebook(master)), path)


def assignment_stub(key, lang: str = "zh") -> Path:
    """Create or update the translation file of an assignment master; return its path."""
    master = master_path(key)
    path = assignment_translation_path(master, lang)
    blocks = read_translation(path) if path.exists() else []
    text = render(master.name, updated_blocks(read_notebook(master), blocks))
    text = text.replace(PREAMBLE.format(file=master.name), ASSIGNMENT_PREAMBLE.format(file=master.name), 1)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def chinese_master(master: Path, lang: str = "zh", edition: Edition | None = None) -> dict:
    """The master with each markdown cell's source replaced by its translation, as the student
    version in ``assignments/student/<lang>/`` shows it (links adjusted); everything else unchanged.
    Raises :class:`IncompleteTranslation` unless the translation is complete."""
    result = assignment_status(master, lang)
    if not result.complete:
        raise IncompleteTranslation("the translation is not complete:\n  " + "\n  ".join(result.problems()))
    edition = editions(lang) if edition is None else edition
    blocks = {b.cell_id: b.text for b in read_translation(assignment_translation_path(master, lang))}
    nb = read_notebook(master)
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = localise(blocks[cell["id"]], edition, base="assignments/student").splitlines(keepends=True)
    return nb


def _assignments_module():
    """``assignments/assignments.py`` (the folder is not a package), loaded once."""
    global _ASSIGNMENTS
    if _ASSIGNMENTS is None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("course_assignments", ROOT / "assignments" / "assignments.py")
        _ASSIGNMENTS = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_ASSIGNMENTS)
    return _ASSIGNMENTS


_ASSIGNMENTS = None


def build_assignment(master: Path, lang: str = "zh", edition: Edition | None = None) -> str:
    """The text of ``assignments/student/<lang>/<file>``: ``otter assign`` (the course's own
    pipeline, ``assignments.py``) run on the master with its markdown in ``lang``, the student
    version taken, and ``metadata["rec_course"]`` saying where it comes from."""
    import tempfile

    nb = chinese_master(master, lang, edition)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "master" / master.name
        source.parent.mkdir()
        source.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        dist = _assignments_module().assign(source, Path(tmp) / "assign")
        student = read_notebook(dist / "student" / master.name)
    student["metadata"]["rec_course"] = {"language": lang, "source": f"assignments/masters/{master.name}",
                                         "translation": _rel(assignment_translation_path(master, lang)).as_posix()}
    return json.dumps(student, indent=1, ensure_ascii=False) + "\n"


def build_assignments(keys=(), lang: str = "zh", check: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) the Chinese student versions; return what was (or is) out of date.

    Without ``keys``: every master with a complete translation, skipping pending ones still in
    progress; a Chinese student version without a complete translation is deleted. A master
    named in ``keys``, or not pending, whose translation is incomplete raises :class:`IncompleteTranslation`.
    """
    edition = editions(lang)
    targets = [master_path(k) for k in keys] if keys else translated_masters(lang)
    waiting = set(assignment_pending(lang))
    changed, problems, built = [], [], set()
    for master in targets:
        result = assignment_status(master, lang)
        if not result.complete:
            if master.stem in waiting and not keys:
                continue
            problems.extend(result.problems())
            continue
        path = assignment_output_path(master, lang)
        text = build_assignment(master, lang, edition)
        built.add(path.name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(f"{_rel(path)}: " + ("missing" if not path.exists() else "differs from a fresh build"))
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if problems:
        raise IncompleteTranslation("cannot build:\n  " + "\n  ".join(problems))
    if not keys:
        for path in sorted((STUDENT / lang).glob("*.ipynb")):
            if path.name not in built:
                changed.append(f"{_rel(path)}: has no complete translation (delete it)")
                if not check:
                    path.unlink()
    return changed


# --------------------------------------------------------------------------- command line

USAGE = """usage:
  python tools/translate.py stub NN [NN ...]     create or update translations/zh/<stem>.md
  python tools/translate.py status [NN ...]      translated / missing / stale / untranslated cells
  python tools/translate.py build [NN ...] [--check] [--allow-incomplete]
                                                 regenerate notebooks/zh/ (--check: report only)
NN is a notebook's two digits (05), its stem or file name, a translated document
(docs/instructor_guide.md), or an assignment (assignments/05: translations/zh/assignments/<stem>.md,
built into assignments/student/zh/ by otter assign); without NN, status and build cover every
notebook, document and assignment, and build also brings README.zh.md's generated parts up to date."""


def _print_status(result: Status) -> None:
    print(result.summary())
    for kind in ("missing", "stale", "untranslated", "orphaned"):
        if getattr(result, kind):
            print(f"  {kind}: {' '.join(getattr(result, kind))}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in ("stub", "status", "build"):
        print(USAGE)
        return 2
    command, keys = argv[0], [a for a in argv[1:] if not a.startswith("--")]
    options = {a for a in argv[1:] if a.startswith("--")}
    unknown = options - {"--check", "--allow-incomplete"}
    if unknown or (options and command != "build"):
        print(f"unknown option(s) {sorted(options)} for {command}\n{USAGE}")
        return 2
    documents = [document(k) for k in keys if is_document(k)]
    masters = [master_path(k) for k in keys if is_assignment(k)]
    keys = [k for k in keys if not is_document(k) and not is_assignment(k)]
    everything = not keys and not documents and not masters
    if command == "stub":
        if everything:
            print("stub needs the notebooks to write, e.g. python tools/translate.py stub 05 (or assignments/05)")
            return 2
        for key in keys + documents:
            path = stub(key)
            print(f"{_rel(path)}: {status(key).summary().split(': ', 1)[1]}")
        for master in masters:
            path = assignment_stub(master)
            print(f"{_rel(path)}: {assignment_status(master).summary().split(': ', 1)[1]}")
        return 0
    if command == "build":
        check = "--check" in options
        started = time.perf_counter()
        try:
            changed = build(keys, check=check, allow_incomplete="--allow-incomplete" in options) if keys or everything else []
            if "--allow-incomplete" not in options:
                changed += build_documents(DOCUMENTS if everything else documents, check=check)
                if everything or masters:
                    changed += build_assignments(masters, check=check)
        except IncompleteTranslation as error:
            print(error)
            return 1
        if everything and not course.sync_readme_zh(check=check):
            changed.append(f"{_rel(course.ZH_README)}: generated parts " + ("out of date" if check else "updated"))
        seconds = time.perf_counter() - started
        built = len(editions(allow_incomplete="--allow-incomplete" in options).anchors)
        if check:
            print("the Chinese edition is up to date" if not changed else
                  "out of date (run python tools/translate.py build):\n  " + "\n  ".join(changed))
            return 1 if changed else 0
        print("\n".join(changed) if changed else "the Chinese edition was up to date")
        assignments_built = len(list((STUDENT / "zh").glob("*.ipynb")))
        print(f"{built} Chinese notebook(s) with a complete translation; {len(pending())} pending; "
              f"{len(DOCUMENTS)} document(s); {assignments_built} Chinese assignment(s), "
              f"{len(assignment_pending())} pending; {seconds:.2f} s")
        return 0
    notebooks = [notebook_path(k) for k in keys] if not everything else translated_notebooks()
    if everything and not notebooks:
        print("no notebook has a translation yet: python tools/translate.py stub NN starts one")
    for notebook in notebooks:
        _print_status(status(notebook.stem))
    for doc in DOCUMENTS if everything else documents:
        _print_status(document_status(doc))
    for master in translated_masters() if everything else masters:
        _print_status(assignment_status(master))
    if everything:
        waiting = pending()
        print(f"{len(waiting)} notebook(s) pending in {_rel(pending_path())}"
              + (f": {' '.join(stem[:2] for stem in waiting)}" if waiting else ""))
        waiting = assignment_pending()
        print(f"{len(waiting)} assignment(s) pending in {_rel(assignment_pending_path())}"
              + (f": {' '.join(stem[:2] for stem in waiting)}" if waiting else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
