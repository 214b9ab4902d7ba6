"""MovieLens loaders, the download with checksums, and ``load_dataset()``.

Taught in ``notebooks/01_data_exploration.ipynb``.

Every loader returns a :class:`Dataset` in the course's one schema: ratings with
``user_id, item_id, rating, timestamp``; items with ``item_id, title, year, genres``;
users with ``user_id, age, gender, occupation, zip`` where the variant has them.

Where data comes from, first match wins:

1. ``$REC_DATA_DIR/<variant>/`` (e.g. ``REC_DATA_DIR=../shared/data``);
2. the repository's ``data/<variant>/``;
3. the per-user cache, ``$REC_CACHE_DIR`` or ``~/.cache/rec_utils``;
4. a download from GroupLens into ``$REC_DATA_DIR`` (when set) or the cache, verified
   against a checksum, written atomically and extracted safely.

``REC_OFFLINE=1`` forbids step 4. :func:`load_dataset` falls back to the synthetic
MovieLens-like data when the real variant cannot be had, and says so in one line.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from .._checks import check_number
from .interactions import CAPABILITIES, Capabilities, Dataset, RatingScale  # re-exported: loaders return them
from .schema import (
    AGE, DTYPES, GENDER, GENRE_SEPARATOR, GENRES, INTERACTION_COLUMNS, ITEM, ML100K_GENRES,
    OCCUPATION, RATING, TIMESTAMP, TITLE, USER, YEAR, ZIP,
)

__all__ = [
    "Dataset", "Capabilities", "CAPABILITIES", "RatingScale", "DataUnavailableError", "ChecksumError",
    "VARIANTS", "COLUMN_ALIASES", "load_dataset", "resolve_dataset", "dataset_names", "describe_choice",
    "load_movielens", "read_movielens", "read_ratings_file", "fetch_movielens", "find_local",
    "default_download_dir", "is_quick", "safe_extract", "canonical_fold",
]

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"

# ML-1M's users.dat stores occupations as codes; its README gives these names.
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)


@dataclass(frozen=True)
class Variant:
    """What the course knows about one GroupLens release."""

    name: str
    required: tuple[str, ...]
    archive_hash: tuple[str, str] | None  # (algorithm, hex digest) of the zip, when pinned
    file_sha256: dict[str, str] = field(default_factory=dict)  # of extracted files, when pinned
    note: str = ""
    scale: tuple[float, float, float] = (1.0, 5.0, 1.0)  # low, high, step of its ratings
    synthetic: str = "synthetic"  # the synthetic shape that stands in for it offline


VARIANTS: dict[str, Variant] = {
    "ml-100k": Variant(
        "ml-100k",
        ("u.data", "u.item", "u.user"),
        # SHA-1 of GroupLens' ml-100k.zip as published by Dive into Deep Learning (d2l.ai).
        ("sha1", "cd4dcac4241c8a4ad7badc7ca635da8a69dddb83"),
        {
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "u.item": "877066821e4ee9079cb1eb95c359e47cac01240dbd2bdb3f7864060f57c5019b",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
            "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
            "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
            "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
        },
    ),
    "ml-1m": Variant(
        "ml-1m",
        ("ratings.dat", "movies.dat", "users.dat"),
        # MD5 from GroupLens' own ml-1m.zip.md5 file.
        ("md5", "c4d9eecfca2ab87c1945afe126590906"),
        synthetic="synthetic-1m",
    ),
    "ml-latest-small": Variant(
        "ml-latest-small",
        ("ratings.csv", "movies.csv"),
        None,  # "latest" is re-released; its MD5 is read from GroupLens' .md5 file at download
        note="the archive changes with each release, so it is checked against GroupLens' "
        "published .md5 file rather than a pinned value",
        scale=(0.5, 5.0, 0.5),
        synthetic="synthetic-latest-small",
    ),
}
# ml-25m and ml-32m share ml-latest-small's CSV layout; they are only too large for Binder.
for _big in ("ml-25m", "ml-32m"):
    VARIANTS[_big] = Variant(_big, ("ratings.csv", "movies.csv"), None, scale=(0.5, 5.0, 0.5),
                             synthetic="synthetic-latest-small")


class DataUnavailableError(RuntimeError):
    """The requested data set is neither on disk nor downloadable right now."""


class ChecksumError(DataUnavailableError):
    """A download (or an extracted file) does not match its expected checksum."""


# --------------------------------------------------------------------------- locations

def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def is_quick() -> bool:
    """True when ``REC_QUICK`` asks for the small, fast test-mode data."""
    return _env_flag("REC_QUICK")


def _repo_data_dir() -> Path | None:
    root = Path(__file__).resolve().parents[1]
    return root / "data" if (root / "pyproject.toml").exists() else None


def default_download_dir() -> Path:
    """Where a download goes: ``$REC_DATA_DIR`` when set, else the per-user cache."""
    if os.environ.get("REC_DATA_DIR"):
        return Path(os.environ["REC_DATA_DIR"]).expanduser()
    if os.environ.get("REC_CACHE_DIR"):
        return Path(os.environ["REC_CACHE_DIR"]).expanduser()
    return Path.home() / ".cache" / "rec_utils"


def _search_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("REC_DATA_DIR"):
        dirs.append(Path(os.environ["REC_DATA_DIR"]).expanduser())
    repo = _repo_data_dir()
    if repo is not None:
        dirs.append(repo)
    dirs.append(Path(os.environ.get("REC_CACHE_DIR") or Path.home() / ".cache" / "rec_utils").expanduser())
    return dirs


def _variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown MovieLens variant {name!r}; expected one of {sorted(VARIANTS)}")
    return VARIANTS[name]


def find_local(name: str) -> Path | None:
    """The first folder holding every file the variant needs, or None."""
    variant = _variant(name)
    for base in _search_dirs():
        folder = base / name
        if all((folder / f).is_file() for f in variant.required):
            return folder
    return None


# --------------------------------------------------------------------------- download

def _hash_file(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, destination: Path, timeout: float = 30.0) -> None:
    """Stream ``url`` to ``destination`` through a temporary file in the same folder.

    The file appears under its final name only when complete (``os.replace`` is atomic);
    an interrupted transfer leaves nothing behind.
    """
    from tqdm.auto import tqdm

    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    tmp = Path(tmp_name)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "rec_utils (course download)"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=destination.name, leave=False) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def safe_extract(archive: Path, target: Path) -> list[Path]:
    """Extract a zip archive into ``target``, refusing members that would land outside it.

    Absolute paths, ``..`` components and symbolic links are refused with a ``ValueError``
    before anything is written.
    """
    target = Path(target)
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        root = target.resolve()
        for member in members:
            name = member.filename
            path = PurePosixPath(name.replace("\\", "/"))
            is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
            resolved = (root / path).resolve()
            if path.is_absolute() or ".." in path.parts or is_link or (
                resolved != root and root not in resolved.parents
            ):
                raise ValueError(
                    f"refusing to extract {archive.name}: member {name!r} would be written "
                    f"outside {target} (absolute path, '..' or a link)")
        target.mkdir(parents=True, exist_ok=True)
        zf.extractall(target)
    return [target / m.filename for m in members if not m.is_dir()]


def _expected_archive_hash(variant: Variant, url: str, timeout: float) -> tuple[str, str]:
    if variant.archive_hash is not None:
        return variant.archive_hash
    with urllib.request.urlopen(url + ".md5", timeout=timeout) as response:
        text = response.read().decode("ascii", "replace")
    match = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if not match:
        raise ChecksumError(f"GroupLens' checksum file {url}.md5 holds no MD5 digest; not trusting the download")
    return "md5", match.group(0).lower()


def fetch_movielens(name: str = "ml-100k", directory: str | Path | None = None,
                    url: str | None = None, timeout: float = 30.0) -> Path:
    """Download and extract a MovieLens variant; return its folder.

    The archive is checked against its pinned checksum (SHA-1 for ml-100k, MD5 for
    ml-1m) or GroupLens' published ``.md5`` file and extracted safely into a temporary
    folder; only then is the folder moved into place. Any failure leaves no partial
    file or folder. Extracted files whose SHA-256 is pinned (ml-100k) are compared with
    the copy the course was developed on, and a difference is printed, not hidden.
    """
    variant = _variant(name)
    directory = Path(directory) if directory is not None else default_download_dir()
    final = directory / name
    url = url or GROUPLENS_URL.format(name=name)
    if _env_flag("REC_OFFLINE"):
        raise DataUnavailableError(
            f"{name} is not on disk and REC_OFFLINE=1 forbids downloading it. Unset REC_OFFLINE "
            f"to download it, or put the extracted folder at {final}.")
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=directory))
    try:
        archive = work / f"{name}.zip"
        try:
            algorithm, expected = _expected_archive_hash(variant, url, timeout)
            _download(url, archive, timeout=timeout)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DataUnavailableError(
                f"could not download {name} from {url} ({exc}). Check the network, or download "
                f"{name}.zip yourself and extract it to {final}; the course can also run offline "
                f"on synthetic data (REC_DATASET=synthetic).") from exc
        actual = _hash_file(archive, algorithm)
        if actual != expected:
            raise ChecksumError(
                f"{name}.zip from {url} has {algorithm} {actual}, expected {expected}: the download "
                f"is corrupt or GroupLens changed the file. Nothing was kept; try again, and if it "
                f"persists, report it.")
        unpacked = work / "unpacked"
        safe_extract(archive, unpacked)
        source = unpacked / name if (unpacked / name).is_dir() else unpacked
        # The archive's checksum is the guarantee. The extracted files are also compared with
        # the copy the course was developed on, and any difference is said plainly.
        differ = [f for f, digest in variant.file_sha256.items()
                  if (source / f).is_file() and _hash_file(source / f, "sha256") != digest]
        if differ:
            print(f"Note: {name}'s archive checksum is correct, but {', '.join(differ)} differ(s) from "
                  f"the copy this course was checked against; results may differ slightly from the "
                  f"committed notebooks.")
        missing = [f for f in variant.required if not (source / f).is_file()]
        if missing:
            raise DataUnavailableError(f"{name}.zip lacks {missing}; nothing was kept")
        if final.exists():
            shutil.rmtree(final)
        os.replace(source, final)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- readers

_YEAR_IN_TITLE = re.compile(r"\((\d{4})\)\s*$")


def _year_from_title(titles: pd.Series) -> pd.Series:
    return pd.to_numeric(titles.str.extract(_YEAR_IN_TITLE, expand=False), errors="coerce").astype("Int16")


def _tidy_ratings(frame: pd.DataFrame) -> pd.DataFrame:
    """The interaction columns the frame has, in schema order and compact dtypes."""
    columns = [c for c in INTERACTION_COLUMNS if c in frame.columns]
    frame = frame[columns].astype({c: DTYPES[c] for c in columns})
    return frame.reset_index(drop=True)


def _read_delimited(path: Path, sep: str, names: list[str], encoding: str = "utf-8") -> pd.DataFrame:
    raw = path.read_bytes()
    if len(sep) > 1:  # ML-1M's "::" would force pandas' slow Python engine; "\t" is safe there
        raw = raw.replace(sep.encode(), b"\t")
        sep = "\t"
    return pd.read_csv(io.BytesIO(raw), sep=sep, names=names, header=None, encoding=encoding,
                       dtype=str, keep_default_na=False, quoting=3)


def _read_ml100k(folder: Path):
    ratings = pd.read_csv(folder / "u.data", sep="\t", names=list(INTERACTION_COLUMNS), header=None)
    item_cols = [ITEM, TITLE, "release_date", "video_release_date", "url", *ML100K_GENRES]
    raw = _read_delimited(folder / "u.item", "|", item_cols, encoding="iso-8859-1")
    flags = raw[list(ML100K_GENRES)].astype("int8").to_numpy().astype(bool)
    names = np.array(ML100K_GENRES, dtype=object)
    genres = [GENRE_SEPARATOR.join(names[row]) for row in flags]
    year = _year_from_title(raw[TITLE])
    release = pd.to_numeric(raw["release_date"].str[-4:], errors="coerce").astype("Int16")
    items = pd.DataFrame({
        ITEM: raw[ITEM].astype("int32"),
        TITLE: raw[TITLE],
        YEAR: year.fillna(release),
        GENRES: genres,
    })
    users = _read_delimited(folder / "u.user", "|", [USER, AGE, GENDER, OCCUPATION, ZIP])
    users = users.astype({USER: "int32", AGE: "int16"})
    return _tidy_ratings(ratings), items, users, None


def _read_ml1m(folder: Path):
    ratings = _read_delimited(folder / "ratings.dat", "::", list(INTERACTION_COLUMNS))
    raw = _read_delimited(folder / "movies.dat", "::", [ITEM, TITLE, GENRES], encoding="iso-8859-1")
    items = pd.DataFrame({ITEM: raw[ITEM].astype("int32"), TITLE: raw[TITLE],
                          YEAR: _year_from_title(raw[TITLE]), GENRES: raw[GENRES]})
    users = _read_delimited(folder / "users.dat", "::", [USER, GENDER, AGE, OCCUPATION, ZIP])
    occupation = users[OCCUPATION].astype(int).map(dict(enumerate(ML1M_OCCUPATIONS)))
    users = pd.DataFrame({USER: users[USER].astype("int32"), AGE: users[AGE].astype("int16"),
                          GENDER: users[GENDER], OCCUPATION: occupation, ZIP: users[ZIP]})
    return _tidy_ratings(ratings), items, users, None


def _read_ml_latest(folder: Path):
    ratings = pd.read_csv(folder / "ratings.csv").rename(
        columns={"userId": USER, "movieId": ITEM})
    raw = pd.read_csv(folder / "movies.csv", dtype={"title": str, "genres": str}, encoding="utf-8")
    genres = raw["genres"].fillna("").replace("(no genres listed)", "")
    items = pd.DataFrame({ITEM: raw["movieId"].astype("int32"), TITLE: raw["title"].str.strip(),
                          YEAR: _year_from_title(raw["title"].str.strip()), GENRES: genres})
    tags = None
    if (folder / "tags.csv").is_file():
        tags = pd.read_csv(folder / "tags.csv", dtype={"tag": str}, keep_default_na=False).rename(
            columns={"userId": USER, "movieId": ITEM})
        tags = tags.astype({USER: "int32", ITEM: "int32", TIMESTAMP: "int64"})
    return _tidy_ratings(ratings), items, None, tags


_READERS = {"ml-100k": _read_ml100k, "ml-1m": _read_ml1m}


def _complete_items(ratings: pd.DataFrame, items: pd.DataFrame, title=None, genres: str = "") -> pd.DataFrame:
    """Every rated item gets an items row (with ``title`` and ``genres``), so joins never drop ratings."""
    missing = np.setdiff1d(ratings[ITEM].unique(), items[ITEM].to_numpy())
    if not missing.size:
        return items
    filler = pd.DataFrame({ITEM: missing.astype("int32"), TITLE: pd.Series([title] * missing.size, dtype=object),
                           YEAR: pd.array([pd.NA] * missing.size, dtype="Int16"), GENRES: genres})
    return pd.concat([items, filler], ignore_index=True).sort_values(ITEM, ignore_index=True)


def read_movielens(folder: str | Path, name: str | None = None) -> Dataset:
    """Read an extracted MovieLens folder in one of the GroupLens layouts.

    ``name`` defaults to the folder's name; ml-25m and ml-32m are read like
    ml-latest-small (with its ``tags.csv`` when present).
    """
    folder = Path(folder)
    name = name or folder.name
    variant = _variant(name)
    missing = [f for f in variant.required if not (folder / f).is_file()]
    if missing:
        raise DataUnavailableError(f"{folder} is not a complete {name} folder: missing {missing}")
    reader = _READERS.get(name, _read_ml_latest)
    try:
        ratings, items, users, tags = reader(folder)
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise ValueError(f"{folder} does not look like GroupLens' {name} format: {exc}") from exc
    # ML-100K's item 267 is listed as "unknown" (title and genre) in GroupLens' release; a copy
    # may lack its row, which then gets the release's own placeholder.
    items = _complete_items(ratings, items, title="unknown", genres="unknown")
    return Dataset(name=name, ratings=ratings, items=items, users=users, source=str(folder), tags=tags,
                   rating_scale=RatingScale(*variant.scale))


def load_movielens(name: str = "ml-100k", download: bool = True) -> Dataset:
    """Load a MovieLens release from disk, downloading it first when allowed and needed."""
    folder = find_local(name)
    if folder is None:
        if not download:
            raise DataUnavailableError(f"{name} was not found in {[str(d) for d in _search_dirs()]}")
        folder = fetch_movielens(name)
    return read_movielens(folder, name)


# --------------------------------------------------------------------------- a learner's own data

# Accepted column names of a learner's own files, compared case-insensitively and ignoring
# "_", "-" and spaces: the schema's names, MovieLens' CSV names and a few common aliases.
COLUMN_ALIASES = {
    USER: ("user_id", "userId", "user", "uid", "customer_id", "visitor_id"),
    ITEM: ("item_id", "movieId", "itemId", "item", "iid", "movie_id", "product_id", "track_id", "article_id"),
    RATING: ("rating", "score", "stars", "rating_value"),
    TIMESTAMP: ("timestamp", "time", "ts", "datetime", "date", "unix_time", "event_time"),
}
ITEM_COLUMN_ALIASES = {
    ITEM: COLUMN_ALIASES[ITEM],
    TITLE: ("title", "name", "item_name", "movie_title"),
    YEAR: ("year", "release_year"),
    GENRES: ("genres", "genre", "categories", "category"),
}
USER_COLUMN_ALIASES = {
    USER: COLUMN_ALIASES[USER],
    AGE: ("age",),
    GENDER: ("gender", "sex"),
    OCCUPATION: ("occupation", "job"),
    ZIP: ("zip", "zip_code", "zipcode", "postcode"),
}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def _accepted(aliases: dict) -> str:
    return "; ".join(f"{column}: {', '.join(names)}" for column, names in aliases.items())


def _rename_columns(frame: pd.DataFrame, aliases: dict, required: tuple[str, ...], path: Path) -> pd.DataFrame:
    """Map the file's column names onto the schema; name what is missing or not understood."""
    lookup = {_key(alias): column for column, names in aliases.items() for alias in names}
    mapping, unknown = {}, []
    for original in frame.columns:
        column = lookup.get(_key(original))
        if column is None:
            unknown.append(str(original))
        elif column in mapping.values():
            raise ValueError(f"{path.name}: columns {[o for o, c in mapping.items() if c == column] + [original]} "
                             f"all mean {column!r}; keep one")
        else:
            mapping[original] = column
    missing = [c for c in required if c not in mapping.values()]
    if missing or unknown:
        problems = ([f"missing {', '.join(repr(c) for c in missing)}"] if missing else []) + (
            [f"not understood: {', '.join(repr(c) for c in unknown)}"] if unknown else [])
        raise ValueError(f"{path} has columns {[str(c) for c in frame.columns]}: {'; '.join(problems)}. "
                         f"Accepted names (case and '_' ignored) — {_accepted(aliases)}. "
                         f"Rename or drop the other columns.")
    return frame.rename(columns=mapping)


def _sniff_separator(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    if not first.strip():
        raise ValueError(f"{path} is empty: expected a header line such as 'user_id,item_id,rating,timestamp'")
    counts = {sep: first.count(sep) for sep in (",", "\t", ";", "|")}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def _read_table(path: Path, aliases: dict, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep=_sniff_separator(path), dtype=str, keep_default_na=False,
                            na_values=[""], encoding="utf-8", skipinitialspace=True)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path} is not a readable UTF-8 CSV file: {exc}") from exc
    if frame.empty:
        raise ValueError(f"{path} has a header but no rows")
    return _rename_columns(frame, aliases, required, path)


def _numbers(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna()
    if bad.any():
        example = frame.loc[bad, column].iloc[0]
        raise ValueError(f"{path}: {int(bad.sum())} row(s) have a {column} that is not a number "
                         f"(e.g. row {int(np.flatnonzero(bad)[0]) + 2}: {example!r})")
    return values.to_numpy(np.float64)


def _unix_seconds(frame: pd.DataFrame, path: Path) -> np.ndarray:
    """Timestamps as Unix seconds: numbers (seconds, or milliseconds when that large) or dates."""
    raw = frame[TIMESTAMP]
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        seconds = numeric.to_numpy(np.float64)
        if np.nanmax(np.abs(seconds)) > 1e11:  # milliseconds since 1970 (years past 5000 otherwise)
            seconds = seconds / 1000.0
        return np.floor(seconds).astype(np.int64)
    try:
        moments = pd.to_datetime(raw, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: the timestamp column holds neither Unix seconds nor dates "
                         f"(e.g. {raw.iloc[0]!r})") from exc
    if moments.isna().any():
        raise ValueError(f"{path}: {int(moments.isna().sum())} row(s) have no timestamp")
    return ((moments - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _id_codes(*columns: pd.Series) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Integer ids as they are (when every one is an integer in 0..2^31-1), else codes 1..n.

    Returns the int32 arrays for each column and, when codes were assigned, the sorted
    original ids (code ``c`` stands for ``labels[c - 1]``).
    """
    joined = pd.concat(columns, ignore_index=True).str.strip()
    if joined.isna().any() or (joined == "").any():
        raise ValueError("some rows have an empty id")
    numbers = pd.to_numeric(joined, errors="coerce")
    integral = numbers.notna().all() and bool(((numbers % 1 == 0) & numbers.between(0, 2**31 - 1)).all())
    if integral:
        return [pd.to_numeric(c.str.strip()).to_numpy(np.int32) for c in columns], None
    labels = np.sort(joined.unique())
    return [(np.searchsorted(labels, c.str.strip().to_numpy()) + 1).astype(np.int32) for c in columns], labels


def read_ratings_file(path: str | Path) -> Dataset:
    r"""A learner's own data: a CSV file of interactions, or a folder of CSV files.

    A file holds one interaction per row with a header line. A folder holds
    ``ratings.csv`` and, optionally, ``items.csv`` (``item_id, title, year, genres``) and
    ``users.csv`` (``user_id, age, gender, occupation, zip``). Columns:

    * ``user_id`` and ``item_id`` (required): integers or strings; string ids are
      numbered ``1..n`` in sorted order and kept in :attr:`Dataset.original_ids`;
    * ``rating`` (optional): numbers; without it the data are implicit feedback and
      every row is a positive (stored as 1.0);
    * ``timestamp`` (optional): Unix seconds (or milliseconds), or dates such as
      ``2024-05-01 12:00``; without it, sections that need time order are skipped.

    MovieLens' ``userId, movieId`` and a few common aliases are accepted
    (:data:`COLUMN_ALIASES`); a missing or unknown column gets a ``ValueError`` that
    names it and lists the accepted names. The separator (comma, tab, semicolon or ``|``)
    is read from the header line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "log.csv").write_text("userId,movieId\nann,m1\nann,m2\nbob,m1\n")
    >>> data = read_ratings_file(folder / "log.csv")
    >>> data.ratings.values.tolist(), str(data.rating_scale)
    ([[1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [2.0, 1.0, 1.0]], 'implicit feedback (every row is a positive)')
    >>> data.original("user_id", [2]).tolist()
    ['bob']
    """
    path = Path(path).expanduser()
    if path.is_dir():
        ratings_path = path / "ratings.csv"
        if not ratings_path.is_file():
            raise ValueError(f"{path} is a folder without ratings.csv: a folder of your own data holds "
                             f"ratings.csv and, optionally, items.csv and users.csv")
        items_path, users_path = path / "items.csv", path / "users.csv"
        name = path.name
    elif path.is_file():
        ratings_path, items_path, users_path = path, None, None
        name = path.stem
    else:
        raise ValueError(f"{path} is neither a CSV file nor a folder")
    raw = _read_table(ratings_path, COLUMN_ALIASES, (USER, ITEM))
    items_raw = _read_table(items_path, ITEM_COLUMN_ALIASES, (ITEM,)) if items_path and items_path.is_file() else None
    users_raw = _read_table(users_path, USER_COLUMN_ALIASES, (USER,)) if users_path and users_path.is_file() else None

    try:
        item_columns = [raw[ITEM]] + ([items_raw[ITEM]] if items_raw is not None else [])
        user_columns = [raw[USER]] + ([users_raw[USER]] if users_raw is not None else [])
        item_codes, item_labels = _id_codes(*item_columns)
        user_codes, user_labels = _id_codes(*user_columns)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    frame = {USER: user_codes[0], ITEM: item_codes[0]}
    if RATING in raw:
        frame[RATING] = _numbers(raw, RATING, ratings_path)
        scale = None  # inferred from the values by Dataset
    else:
        frame[RATING] = np.ones(len(raw))
        scale = RatingScale.implicit_feedback()
    if TIMESTAMP in raw:
        frame[TIMESTAMP] = _unix_seconds(raw, ratings_path)
    ratings = _tidy_ratings(pd.DataFrame(frame))

    if items_raw is not None:
        items = pd.DataFrame({ITEM: item_codes[1]})
        items[TITLE] = items_raw[TITLE].astype("string").to_numpy() if TITLE in items_raw else pd.NA
        items[TITLE] = items[TITLE].astype("string")
        year = pd.to_numeric(items_raw[YEAR], errors="coerce") if YEAR in items_raw else None
        if year is None and TITLE in items_raw:
            year = _year_from_title(items_raw[TITLE].fillna(""))
        items[YEAR] = pd.array(year if year is not None else [pd.NA] * len(items), dtype="Int16")
        items[GENRES] = (items_raw[GENRES].fillna("").str.replace(r"\s*[|,;]\s*", GENRE_SEPARATOR, regex=True)
                         .replace("(no genres listed)", "").to_numpy() if GENRES in items_raw else "")
        if items[ITEM].duplicated().any():
            raise ValueError(f"{items_path} lists some item ids more than once")
    else:
        ids = np.unique(ratings[ITEM].to_numpy())
        items = pd.DataFrame({ITEM: ids.astype(np.int32), TITLE: pd.array([pd.NA] * len(ids), dtype="string"),
                              YEAR: pd.array([pd.NA] * len(ids), dtype="Int16"), GENRES: ""})
    items = _complete_items(ratings, items.sort_values(ITEM, ignore_index=True))

    users = None
    if users_raw is not None:
        users = pd.DataFrame({USER: user_codes[1]})
        for column in (AGE, GENDER, OCCUPATION, ZIP):
            if column in users_raw:
                users[column] = users_raw[column].to_numpy()
        if AGE in users:
            users[AGE] = pd.to_numeric(users[AGE], errors="coerce").astype("Int16")
        if users[USER].duplicated().any():
            raise ValueError(f"{users_path} lists some user ids more than once")
    originals = {}
    if user_labels is not None:
        originals[USER] = user_labels
    if item_labels is not None:
        originals[ITEM] = item_labels
    return Dataset(name=name, ratings=ratings, items=items, users=users, source=str(path),
                   rating_scale=scale, original_ids=originals or None)


def canonical_fold(data: Dataset, fold: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ML-100K's own ``u{fold}.base`` / ``u{fold}.test`` split (folds 1-5, disjoint 20% tests).

    These five folds are the canonical 5-fold cross-validation of ML-100K. Only the full
    real ML-100K has them; for other data a ``ValueError`` says so (notebooks then use a
    seeded random 80/20 split instead, and say that too).
    """
    fold = check_number("fold", fold, low=1, high=5, integer=True)
    folder = Path(data.source)
    files = [folder / f"u{fold}.base", folder / f"u{fold}.test"]
    if data.name != "ml-100k" or data.quick or not all(f.is_file() for f in files):
        raise ValueError(f"canonical folds exist only for the full real ML-100K; this is {data!r}")
    train, test = (_tidy_ratings(pd.read_csv(f, sep="\t", names=list(INTERACTION_COLUMNS), header=None))
                   for f in files)
    return train, test


# --------------------------------------------------------------------------- load_dataset

QUICK_USERS = 200


def _shrink(data: Dataset, n_users: int | None = None, seed: int = 0) -> Dataset:
    n_users = n_users or QUICK_USERS
    users = np.sort(data.ratings[USER].unique())
    if len(users) > n_users:
        users = np.sort(np.random.default_rng(seed).choice(users, n_users, replace=False))
    ratings = data.ratings[data.ratings[USER].isin(users)].reset_index(drop=True)
    items = data.items[data.items[ITEM].isin(ratings[ITEM].unique())].reset_index(drop=True)
    table = None if data.users is None else data.users[data.users[USER].isin(users)].reset_index(drop=True)
    tags = None if data.tags is None else data.tags[data.tags[USER].isin(users)].reset_index(drop=True)
    return Dataset(data.name, ratings, items, table, data.source, quick=True, truth=data.truth, tags=tags,
                   rating_scale=data.rating_scale, original_ids=data.original_ids)


def _synthetic_shapes() -> tuple[str, ...]:
    from .synthetic import SHAPES

    return tuple(SHAPES)


def dataset_names() -> list[str]:
    """Every name ``load_dataset`` and ``REC_DATASET`` accept (besides a path)."""
    return [*VARIANTS, *_synthetic_shapes()]


def resolve_dataset(name: str | None = None) -> tuple[str, str | Path]:
    """What a data set name means: ``("movielens", name)``, ``("synthetic", shape)`` or ``("path", Path)``.

    ``name`` defaults to ``$REC_DATASET``, then ``"ml-100k"``. A name that is none of these
    gets one ``ValueError`` that lists every valid value and says where the name came from.

    >>> resolve_dataset("synthetic-1m")
    ('synthetic', 'synthetic-1m')
    """
    if name is not None:
        origin = "passed to load_dataset()"
    elif os.environ.get("REC_DATASET", "").strip():
        name, origin = os.environ["REC_DATASET"].strip(), "from the environment variable REC_DATASET"
    else:
        name, origin = "ml-100k", "the default"
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"a data set is named by a string or a path, got {type(name).__name__}")
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if name in VARIANTS:
        return "movielens", name
    if name in _synthetic_shapes():
        return "synthetic", name
    path = Path(name).expanduser()
    looks_like_path = any(sep in name for sep in ("/", "\\")) or path.suffix.lower() in {".csv", ".tsv", ".txt"}
    if path.exists():
        return "path", path
    if looks_like_path:
        raise ValueError(f"data set {name!r} ({origin}) looks like a path, but there is no such file or folder "
                         f"(looked in {Path.cwd()} for a relative path)")
    import difflib

    valid = dataset_names()
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown data set {name!r} ({origin}). Valid values: {', '.join(valid)}, or a path to "
                     f"a CSV file or to a folder holding ratings.csv.{hint}")


def describe_choice(name: str | None = None) -> str:
    """One line on where the data will come from, without loading them (``setup()`` prints it)."""
    kind, value = resolve_dataset(name)
    if kind == "synthetic":
        return f"synthetic MovieLens-like data, shape {value!r}"
    if kind == "path":
        return f"your own data from {value}"
    folder = find_local(value)
    if folder is not None:
        return f"{value} (GroupLens) from {_describe_folder(folder)}"
    if _env_flag("REC_OFFLINE"):
        return f"{value} not on disk: synthetic stand-in {VARIANTS[value].synthetic!r} (REC_OFFLINE=1)"
    return f"{value} not on disk: will be downloaded on first use"


def _describe_folder(folder: Path) -> str:
    """Name a data folder by its role, so committed outputs show no local paths."""
    base = folder.parent.resolve()
    if os.environ.get("REC_DATA_DIR") and base == Path(os.environ["REC_DATA_DIR"]).expanduser().resolve():
        return "$REC_DATA_DIR"
    if _repo_data_dir() is not None and base == _repo_data_dir().resolve():
        return "the repository's data/ folder"
    return "the download cache"


def load_dataset(name: str | os.PathLike | None = None, quick: bool | None = None, seed: int = 0,
                 verbose: bool = True) -> Dataset:
    """The data set a notebook works on.

    Parameters
    ----------
    name : str or path, optional
        A MovieLens release (``"ml-100k"``, ``"ml-1m"``, ``"ml-latest-small"``, ...), a
        synthetic shape (``"synthetic"`` is ML-100K-like, ``"synthetic-latest-small"``
        imitates ml-latest-small's large catalogue without demographics,
        ``"synthetic-1m"`` ML-1M's scale), or the path of your own data: a CSV file, or a
        folder with ``ratings.csv`` and optional ``items.csv`` / ``users.csv`` (see
        :func:`read_ratings_file`). Defaults to ``$REC_DATASET``, else ``"ml-100k"``.
    quick : bool, optional
        Shrink the data for a fast run (``REC_QUICK=1`` by default): 200 users of real
        data, or the small version of a synthetic shape.
    seed : int
        Seed of the synthetic generator and of the quick-mode user sample.

    When a MovieLens release cannot be had (not on disk and not downloadable), this prints
    one line saying why and returns the synthetic shape that imitates it. A path that
    cannot be read raises instead: your own data never silently become other data.

    Examples
    --------
    >>> data = load_dataset("synthetic", quick=True, verbose=False)
    >>> list(data.ratings.columns)
    ['user_id', 'item_id', 'rating', 'timestamp']
    """
    data = _load(name, quick, seed, verbose)
    LAST_LOADED["name"] = data.name
    return data


LAST_LOADED: dict = {"name": None}  # what record() writes next to a result


def _load(name, quick, seed, verbose) -> Dataset:
    from .synthetic import load_synthetic

    kind, value = resolve_dataset(name)
    quick = is_quick() if quick is None else quick
    if kind == "path":
        data = read_ratings_file(value)
        return _shrink(data, seed=seed) if quick else data
    if kind == "movielens":
        try:
            data = load_movielens(value)
            return _shrink(data, seed=seed) if quick else data
        except DataUnavailableError as exc:
            value = VARIANTS[value].synthetic
            if verbose:
                print(f"Real {resolve_dataset(name)[1]} unavailable ({exc}); using the synthetic stand-in {value!r}.")
    return load_synthetic(value, quick=quick, seed=seed)


def _main(argv=None) -> int:
    """``python -m rec_utils.data.datasets fetch ml-100k``: download a release ahead of time."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m rec_utils.data.datasets",
                                     description="Download and verify a MovieLens release, or say where it is.")
    parser.add_argument("command", choices=["fetch", "where"])
    parser.add_argument("name", nargs="?", default="ml-100k", choices=sorted(VARIANTS), metavar="name",
                        help=f"one of {', '.join(sorted(VARIANTS))} (default ml-100k)")
    args = parser.parse_args(argv)
    try:
        folder = find_local(args.name)
        if args.command == "where":
            print(folder or f"{args.name} is not on disk; it would be downloaded to {default_download_dir()}")
            return 0 if folder else 1
        if folder is None:
            folder = fetch_movielens(args.name)
        data = read_movielens(folder, args.name)
    except (DataUnavailableError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name} ready in {folder}: {len(data.ratings):,} ratings")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
