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

from .constants import (
    AGE, DTYPES, GENDER, GENRE_SEPARATOR, GENRES, INTERACTION_COLUMNS, ITEM, ML100K_GENRES,
    OCCUPATION, RATING, TIMESTAMP, TITLE, USER, YEAR, ZIP,
)

__all__ = [
    "Dataset", "DataUnavailableError", "ChecksumError", "VARIANTS",
    "load_dataset", "load_movielens", "read_movielens", "fetch_movielens",
    "find_local", "default_download_dir", "is_quick", "safe_extract", "canonical_fold",
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
    ),
    "ml-latest-small": Variant(
        "ml-latest-small",
        ("ratings.csv", "movies.csv"),
        None,  # "latest" is re-released; its MD5 is read from GroupLens' .md5 file at download
        note="the archive changes with each release, so it is checked against GroupLens' "
        "published .md5 file rather than a pinned value",
    ),
}
# ml-25m and ml-32m share ml-latest-small's CSV layout; they are only too large for Binder.
for _big in ("ml-25m", "ml-32m"):
    VARIANTS[_big] = Variant(_big, ("ratings.csv", "movies.csv"), None)


class DataUnavailableError(RuntimeError):
    """The requested data set is neither on disk nor downloadable right now."""


class ChecksumError(DataUnavailableError):
    """A download (or an extracted file) does not match its expected checksum."""


@dataclass
class Dataset:
    """Ratings plus side information, in the course's one schema.

    Attributes
    ----------
    name : str
        ``"ml-100k"``, ``"ml-1m"``, ``"ml-latest-small"`` or ``"synthetic"``.
    ratings : pandas.DataFrame
        ``user_id`` (int32), ``item_id`` (int32), ``rating`` (float32), ``timestamp``
        (int64, Unix seconds).
    items : pandas.DataFrame
        ``item_id, title, year, genres`` (genres pipe-separated).
    users : pandas.DataFrame or None
        ``user_id, age, gender, occupation, zip`` where the variant has them.
    source : str
        Where the data came from (a folder, or the generator and its seed).
    quick : bool
        True when the data were shrunk for a fast test run (``REC_QUICK=1``).
    truth : object or None
        For synthetic data, the generator's ground-truth preference model
        (:class:`rec_utils.synthetic.PreferenceModel`).
    """

    name: str
    ratings: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame | None
    source: str
    quick: bool = False
    truth: object | None = None

    @property
    def n_users(self) -> int:
        return int(self.ratings[USER].nunique())

    @property
    def n_items(self) -> int:
        return int(self.ratings[ITEM].nunique())

    @property
    def genres(self) -> list[str]:
        """The genre names that occur in ``items``, in a stable order."""
        seen = self.items[GENRES].str.split(GENRE_SEPARATOR, regex=False).explode()
        names = [g for g in pd.unique(seen.dropna()) if g]
        order = {g: i for i, g in enumerate(ML100K_GENRES)}
        return sorted(names, key=lambda g: (order.get(g, len(order)), g))

    def genre_matrix(self) -> pd.DataFrame:
        """One 0/1 column per genre, indexed by ``item_id`` (uint8, so it stays small)."""
        flags = self.items.set_index(ITEM)[GENRES].str.get_dummies(sep=GENRE_SEPARATOR)
        return flags.reindex(columns=self.genres, fill_value=0).astype("uint8")

    def summary(self) -> dict:
        """Counts a notebook prints first: ratings, users, items, density, rating values."""
        n_ratings = len(self.ratings)
        return {
            "name": self.name,
            "ratings": n_ratings,
            "users": self.n_users,
            "items": self.n_items,
            "density": n_ratings / (self.n_users * self.n_items),
            "rating_values": sorted(float(v) for v in self.ratings[RATING].unique()),
            "quick": self.quick,
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (f"Dataset({s['name']!r}: {s['ratings']:,} ratings, {s['users']:,} users, "
                f"{s['items']:,} items, density {s['density']:.2%}{', quick' if self.quick else ''})")


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
    frame = frame[list(INTERACTION_COLUMNS)].astype(DTYPES)
    return frame.reset_index(drop=True)


def _read_delimited(path: Path, sep: str, names: list[str], encoding: str = "utf-8") -> pd.DataFrame:
    raw = path.read_bytes()
    if len(sep) > 1:  # ML-1M's "::" would force pandas' slow Python engine; "\t" is safe there
        raw = raw.replace(sep.encode(), b"\t")
        sep = "\t"
    return pd.read_csv(io.BytesIO(raw), sep=sep, names=names, header=None, encoding=encoding,
                       dtype=str, keep_default_na=False, quoting=3)


def _read_ml100k(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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
    return _tidy_ratings(ratings), items, users


def _read_ml1m(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ratings = _read_delimited(folder / "ratings.dat", "::", list(INTERACTION_COLUMNS))
    raw = _read_delimited(folder / "movies.dat", "::", [ITEM, TITLE, GENRES], encoding="iso-8859-1")
    items = pd.DataFrame({ITEM: raw[ITEM].astype("int32"), TITLE: raw[TITLE],
                          YEAR: _year_from_title(raw[TITLE]), GENRES: raw[GENRES]})
    users = _read_delimited(folder / "users.dat", "::", [USER, GENDER, AGE, OCCUPATION, ZIP])
    occupation = users[OCCUPATION].astype(int).map(dict(enumerate(ML1M_OCCUPATIONS)))
    users = pd.DataFrame({USER: users[USER].astype("int32"), AGE: users[AGE].astype("int16"),
                          GENDER: users[GENDER], OCCUPATION: occupation, ZIP: users[ZIP]})
    return _tidy_ratings(ratings), items, users


def _read_ml_latest(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, None]:
    ratings = pd.read_csv(folder / "ratings.csv").rename(
        columns={"userId": USER, "movieId": ITEM})
    raw = pd.read_csv(folder / "movies.csv", dtype={"title": str, "genres": str}, encoding="utf-8")
    genres = raw["genres"].fillna("").replace("(no genres listed)", "")
    items = pd.DataFrame({ITEM: raw["movieId"].astype("int32"), TITLE: raw["title"].str.strip(),
                          YEAR: _year_from_title(raw["title"].str.strip()), GENRES: genres})
    return _tidy_ratings(ratings), items, None


_READERS = {"ml-100k": _read_ml100k, "ml-1m": _read_ml1m}


def read_movielens(folder: str | Path, name: str | None = None) -> Dataset:
    """Read an extracted MovieLens folder in one of the GroupLens layouts.

    ``name`` defaults to the folder's name; ml-25m and ml-32m are read like
    ml-latest-small.
    """
    folder = Path(folder)
    name = name or folder.name
    variant = _variant(name)
    missing = [f for f in variant.required if not (folder / f).is_file()]
    if missing:
        raise DataUnavailableError(f"{folder} is not a complete {name} folder: missing {missing}")
    reader = _READERS.get(name, _read_ml_latest)
    try:
        ratings, items, users = reader(folder)
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise ValueError(f"{folder} does not look like GroupLens' {name} format: {exc}") from exc
    # Every rated item gets an items row: a copy may lack one (ML-100K's item 267 is listed
    # as "unknown" in GroupLens' release), and joins should never silently drop ratings.
    missing = np.setdiff1d(ratings[ITEM].unique(), items[ITEM].to_numpy())
    if missing.size:
        filler = pd.DataFrame({ITEM: missing.astype("int32"), TITLE: "unknown",
                               YEAR: pd.array([pd.NA] * missing.size, dtype="Int16"), GENRES: "unknown"})
        items = pd.concat([items, filler], ignore_index=True).sort_values(ITEM, ignore_index=True)
    return Dataset(name=name, ratings=ratings, items=items, users=users, source=str(folder))


def load_movielens(name: str = "ml-100k", download: bool = True) -> Dataset:
    """Load a MovieLens variant from disk, downloading it first when allowed and needed."""
    folder = find_local(name)
    if folder is None:
        if not download:
            raise DataUnavailableError(f"{name} was not found in {[str(d) for d in _search_dirs()]}")
        folder = fetch_movielens(name)
    return read_movielens(folder, name)


def canonical_fold(data: Dataset, fold: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ML-100K's own ``u{fold}.base`` / ``u{fold}.test`` split (folds 1-5, disjoint 20% tests).

    These five folds are the canonical 5-fold cross-validation of ML-100K. Only the full
    real ML-100K has them; for other data a ``ValueError`` says so (notebooks then use a
    seeded random 80/20 split instead, and say that too).
    """
    if fold not in range(1, 6):
        raise ValueError(f"fold must be 1..5, got {fold!r}")
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
    return Dataset(data.name, ratings, items, table, data.source, quick=True, truth=data.truth)


def load_dataset(name: str | None = None, quick: bool | None = None, seed: int = 0,
                 verbose: bool = True) -> Dataset:
    """The data set a notebook works on.

    Parameters
    ----------
    name : str, optional
        A MovieLens variant (``"ml-100k"``, ``"ml-1m"``, ``"ml-latest-small"``, ...) or
        ``"synthetic"``. Defaults to ``$REC_DATASET``, else ``"ml-100k"``.
    quick : bool, optional
        Shrink the data for a fast run (``REC_QUICK=1`` by default): 200 users of the
        real data, or a small synthetic set.
    seed : int
        Seed of the synthetic generator and of the quick-mode user sample.

    When the real variant cannot be had (not on disk and not downloadable), this prints
    one line saying why and returns the synthetic MovieLens-like data instead.

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
    from .synthetic import generate_movielens_like

    name = name or os.environ.get("REC_DATASET", "").strip() or "ml-100k"
    quick = is_quick() if quick is None else quick
    if name != "synthetic":
        try:
            data = load_movielens(name)
            return _shrink(data, seed=seed) if quick else data
        except DataUnavailableError as exc:
            if verbose:
                print(f"Real {name} unavailable ({exc}); falling back to synthetic MovieLens-like data.")
    size = dict(n_users=QUICK_USERS, n_items=400, mean_ratings_per_user=45) if quick else {}
    return generate_movielens_like(seed=seed, quick=quick, **size)


def _main(argv=None) -> int:
    """``python -m rec_utils.datasets fetch ml-100k``: download a variant ahead of time."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rec_utils.datasets",
                                     description="Download and verify a MovieLens variant.")
    parser.add_argument("command", choices=["fetch", "where"])
    parser.add_argument("name", nargs="?", default="ml-100k", choices=sorted(VARIANTS))
    args = parser.parse_args(argv)
    folder = find_local(args.name)
    if args.command == "where":
        print(folder or f"{args.name} is not on disk; it would be downloaded to {default_download_dir()}")
        return 0 if folder else 1
    if folder is None:
        folder = fetch_movielens(args.name)
    data = read_movielens(folder, args.name)
    print(f"{args.name} ready in {folder}: {len(data.ratings):,} ratings")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
