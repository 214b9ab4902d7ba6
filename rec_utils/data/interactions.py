"""The course's one data schema in memory: a :class:`Dataset`, its ids and its matrices.

* :class:`Dataset` — ratings plus side information, and what they hold
  (:class:`Capabilities`, :class:`RatingScale`);
* :class:`IdIndex` — raw ids to matrix positions and back;
* :func:`check_interactions`, :func:`deduplicate_interactions` — the checks and the one
  duplicate rule every model applies where data enter it;
* :func:`interaction_matrix` — a users x items sparse matrix.

Taught in ``notebooks/01_data_exploration.ipynb`` and ``02_preprocessing.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._checks import check_frame
from .schema import (
    AGE, GENDER, GENRE_SEPARATOR, GENRES, ITEM, ML100K_GENRES, OCCUPATION, RATING, TIMESTAMP, TITLE, USER,
    YEAR, ZIP,
)

__all__ = ["Dataset", "Capabilities", "CAPABILITIES", "RatingScale", "IdIndex", "check_interactions",
           "deduplicate_interactions", "interaction_matrix"]


@dataclass(frozen=True)
class RatingScale:
    """The values a rating can take: ``low`` to ``high`` in steps of ``step``, or implicit feedback.

    MovieLens-100K and -1M use 1–5 stars (step 1), ml-latest-small 0.5–5 in half stars; a log
    of clicks or purchases has no rating at all (``implicit=True``: every row is a positive,
    stored as rating 1.0).

    Examples
    --------
    >>> RatingScale.infer([1, 2, 3, 4, 5])
    RatingScale(low=1.0, high=5.0, step=1.0, implicit=False)
    >>> print(RatingScale.infer([0.5, 3.0, 4.5, 5.0]))
    0.5–5 in steps of 0.5
    >>> RatingScale.infer([0.5, 3.0, 4.5, 5.0]).like_threshold
    4.0
    """

    low: float
    high: float
    step: float | None
    implicit: bool = False

    @classmethod
    def implicit_feedback(cls) -> RatingScale:
        """The scale of a log without ratings: every row is a positive, stored as 1.0."""
        return cls(1.0, 1.0, None, implicit=True)

    @classmethod
    def infer(cls, values) -> RatingScale:
        """The smallest scale that holds ``values``: their range and the grid they lie on.

        A single distinct value means implicit feedback; values on no common grid of at
        most 20 steps (e.g. predicted scores) get ``step=None``.
        """
        v = np.unique(np.asarray(values, dtype=np.float64))
        v = v[np.isfinite(v)]
        if v.size == 0:
            raise ValueError("cannot infer a rating scale from no finite ratings")
        if v.size == 1:
            return cls.implicit_feedback() if v[0] == 1.0 else cls(float(v[0]), float(v[0]), None)
        micro = np.round(np.diff(v) * 1e6).astype(np.int64)  # the grid: gcd of the gaps, to 1e-6
        step = float(np.gcd.reduce(micro)) / 1e6
        on_grid = step > 0 and (v[-1] - v[0]) / step <= 20
        return cls(float(v[0]), float(v[-1]), step if on_grid else None)

    def values(self) -> np.ndarray:
        """Every rating the scale allows (one value for implicit feedback); needs a step."""
        if self.implicit or self.low == self.high:
            return np.array([self.low])
        if self.step is None:
            raise ValueError(f"the scale {self} is continuous: it has no finite set of values")
        return np.round(np.arange(self.low, self.high + self.step / 2, self.step), 6)

    def contains(self, ratings) -> np.ndarray:
        """True where a rating lies on the scale (inside the range and, with a step, on its grid)."""
        r = np.asarray(ratings, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            ok = (r >= self.low - 1e-9) & (r <= self.high + 1e-9)
            if self.step:
                position = (r - self.low) / self.step
                ok &= np.abs(position - np.round(position)) < 1e-6
        return ok

    @property
    def like_threshold(self) -> float:
        """The rating from which a row counts as a *like*: the top quarter of the scale.

        ``low + 0.75 (high - low)``, rounded up to a value of the scale: 4 on 1–5 stars and
        on 0.5–5 half stars. With implicit feedback every row is a like.
        """
        if self.implicit or self.low == self.high:
            return self.low
        threshold = self.low + 0.75 * (self.high - self.low)
        if self.step:
            threshold = self.low + np.ceil(np.round((threshold - self.low) / self.step, 6)) * self.step
        return float(round(threshold, 6))

    def __str__(self) -> str:
        if self.implicit:
            return "implicit feedback (every row is a positive)"
        low, high = f"{self.low:g}", f"{self.high:g}"
        return f"{low}–{high} in steps of {self.step:g}" if self.step else f"{low}–{high} (continuous)"


# What each capability means, in the words a notebook prints when a section is skipped.
CAPABILITIES = {
    "demographics": "user demographics (age, gender, occupation)",
    "timestamps": "timestamps (the order and time of each rating)",
    "titles": "item titles",
    "years": "release years",
    "genres": "item genres",
    "tags": "user tags",
    "ratings": "explicit ratings (not only implicit feedback)",
}


@dataclass(frozen=True)
class Capabilities:
    """What a data set holds, so a notebook can tell what it can show.

    ``demographics`` lists the demographic columns present (empty when there is no users
    table); the other flags say whether timestamps, titles, release years, genres and
    tags are there; ``rating_scale`` says what a rating can be.
    """

    demographics: tuple[str, ...]
    timestamps: bool
    titles: bool
    years: bool
    genres: bool
    tags: bool
    rating_scale: RatingScale

    def has(self, feature: str) -> bool:
        """True when the data hold ``feature``, one of :data:`CAPABILITIES`."""
        if feature not in CAPABILITIES:
            raise ValueError(f"unknown capability {feature!r}; expected one of {sorted(CAPABILITIES)}")
        if feature == "demographics":
            return bool(self.demographics)
        if feature == "ratings":
            return not self.rating_scale.implicit
        return bool(getattr(self, feature))

    def table(self) -> pd.DataFrame:
        """One row per capability: whether the data have it, and what it is."""
        rows = [(name, self.has(name), text) for name, text in CAPABILITIES.items()]
        frame = pd.DataFrame(rows, columns=["capability", "present", "meaning"]).set_index("capability")
        frame.loc["ratings", "meaning"] += f"; scale: {self.rating_scale}"
        if self.demographics:
            frame.loc["demographics", "meaning"] += f"; columns: {', '.join(self.demographics)}"
        return frame


@dataclass
class Dataset:
    """Ratings plus side information, in the course's one schema.

    Attributes
    ----------
    name : str
        ``"ml-100k"``, ``"ml-1m"``, ``"ml-latest-small"``, a synthetic shape such as
        ``"synthetic"``, or the name of a learner's own file or folder.
    ratings : pandas.DataFrame
        ``user_id`` (int32), ``item_id`` (int32), ``rating`` (float32) and, when the data
        have them, ``timestamp`` (int64, Unix seconds).
    items : pandas.DataFrame
        ``item_id, title, year, genres`` (genres pipe-separated); a column the data lack
        holds missing values (titles, years) or empty strings (genres).
    users : pandas.DataFrame or None
        ``user_id`` and the demographics the data have (``age, gender, occupation, zip``),
        or None.
    source : str
        Where the data came from (a folder, a file, or the generator and its seed).
    quick : bool
        True when the data were shrunk for a fast test run (``REC_QUICK=1``).
    truth : object or None
        For synthetic data, the generator's ground-truth preference model
        (:class:`rec_utils.data.synthetic.PreferenceModel`).
    tags : pandas.DataFrame or None
        ``user_id, item_id, tag`` (and ``timestamp``) where the data have tags.
    rating_scale : RatingScale or None
        Declared by the loader (MovieLens releases) or inferred from the ratings.
    original_ids : dict or None
        When a file's ids were not integers, they are numbered ``1..n`` in sorted order and
        ``original_ids["user_id"][code - 1]`` (likewise ``"item_id"``) is the original id;
        see :meth:`original`.

    Examples
    --------
    >>> from rec_utils.data import load_dataset
    >>> data = load_dataset("synthetic", quick=True, verbose=False)
    >>> data.has("demographics"), str(data.rating_scale)
    (True, '1–5 in steps of 1')
    """

    name: str
    ratings: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame | None
    source: str
    quick: bool = False
    truth: object | None = None
    tags: pd.DataFrame | None = None
    rating_scale: RatingScale | None = None
    original_ids: dict | None = None

    def __post_init__(self):
        if self.rating_scale is None:
            self.rating_scale = RatingScale.infer(self.ratings[RATING].to_numpy())

    @property
    def n_users(self) -> int:
        return int(self.ratings[USER].nunique())

    @property
    def n_items(self) -> int:
        return int(self.ratings[ITEM].nunique())

    @property
    def capabilities(self) -> Capabilities:
        """What these data hold (demographics, timestamps, titles, years, genres, tags, scale)."""
        items = self.items
        demographics = () if self.users is None else tuple(
            c for c in (AGE, GENDER, OCCUPATION, ZIP) if c in self.users.columns and self.users[c].notna().any())
        titles = TITLE in items and bool(items[TITLE].notna().any())
        if not any(c != ZIP for c in demographics):  # a zip code alone says nothing about a person
            demographics = ()
        return Capabilities(
            demographics=demographics,
            timestamps=TIMESTAMP in self.ratings.columns,
            titles=titles,
            years=YEAR in items and bool(items[YEAR].notna().any()),
            genres=GENRES in items and bool(items[GENRES].fillna("").str.len().gt(0).any()),
            tags=self.tags is not None and len(self.tags) > 0,
            rating_scale=self.rating_scale,
        )

    def has(self, *features: str) -> bool:
        """True when the data hold every one of ``features`` (names in :data:`CAPABILITIES`)."""
        caps = self.capabilities
        return all(caps.has(f) for f in features)

    def supports(self, *features: str, section: str) -> bool:
        """``has(*features)``; when not, print one line saying which section is skipped and why.

        The way a notebook guards a section that needs something not every data set has::

            if data.supports("demographics", section="the age and gender plots"):
                ...

        Examples
        --------
        >>> from rec_utils.data import load_dataset
        >>> data = load_dataset("synthetic-latest-small", quick=True, verbose=False)
        >>> data.supports("demographics", section="the age plot")
        Skipped: the age plot needs user demographics (age, gender, occupation), which synthetic-latest-small does not have.
        False
        """
        caps = self.capabilities
        missing = [f for f in features if not caps.has(f)]
        if missing:
            needs = " and ".join(CAPABILITIES[f] for f in missing)
            print(f"Skipped: {section} needs {needs}, which {self.name} does not have.")
        return not missing

    def original(self, column: str, codes) -> np.ndarray:
        """The original ids behind ``codes`` of ``column`` (``"user_id"`` or ``"item_id"``).

        Ids that were integers in the source are their own originals.
        """
        if column not in (USER, ITEM):
            raise ValueError(f"column must be {USER!r} or {ITEM!r}, got {column!r}")
        codes = np.asarray(codes)
        if not self.original_ids or column not in self.original_ids:
            return codes
        labels = np.asarray(self.original_ids[column], dtype=object)
        if codes.size and (codes.min() < 1 or codes.max() > len(labels)):
            raise ValueError(f"{column} codes must lie in 1..{len(labels)}")
        return labels[codes.astype(np.int64) - 1]

    @property
    def genres(self) -> list[str]:
        """The genre names that occur in ``items``, in a stable order (empty without genres)."""
        if GENRES not in self.items:
            return []
        seen = self.items[GENRES].fillna("").str.split(GENRE_SEPARATOR, regex=False).explode()
        names = [g for g in pd.unique(seen.dropna()) if g]
        order = {g: i for i, g in enumerate(ML100K_GENRES)}
        return sorted(names, key=lambda g: (order.get(g, len(order)), g))

    def genre_matrix(self) -> pd.DataFrame:
        """One 0/1 column per genre, indexed by ``item_id`` (uint8, so it stays small).

        Data without genres give a frame with no columns; check ``has("genres")`` first.
        """
        if not self.genres:
            return pd.DataFrame(index=pd.Index(self.items[ITEM], name=ITEM), dtype="uint8")
        flags = self.items.set_index(ITEM)[GENRES].fillna("").str.get_dummies(sep=GENRE_SEPARATOR)
        return flags.reindex(columns=self.genres, fill_value=0).astype("uint8")

    def summary(self) -> dict:
        """Counts a notebook prints first: ratings, users, items, density, rating scale."""
        n_ratings = len(self.ratings)
        return {
            "name": self.name,
            "ratings": n_ratings,
            "users": self.n_users,
            "items": self.n_items,
            "density": n_ratings / (self.n_users * self.n_items),
            "rating_scale": str(self.rating_scale),
            "quick": self.quick,
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (f"Dataset({s['name']!r}: {s['ratings']:,} ratings, {s['users']:,} users, "
                f"{s['items']:,} items, density {s['density']:.2%}{', quick' if self.quick else ''})")


def check_interactions(ratings: pd.DataFrame, columns=(USER, ITEM), what: str = "ratings",
                       allow_missing: bool = False) -> None:
    """Raise unless ``ratings`` is a non-empty frame with ``columns``.

    A ``TypeError`` when ``ratings`` is not a DataFrame; a ``ValueError`` when a column is
    missing, the frame is empty or those columns have missing values (allowed with
    ``allow_missing``, for cleaning code, which looks for them). See
    :func:`rec_utils._checks.check_frame`.
    """
    check_frame(ratings, columns, what, allow_missing=allow_missing)


def deduplicate_interactions(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per (user, item) pair: the latest one.

    The course's rule for a pair rated more than once (a re-rating, or a log that repeats
    an event): **keep the latest rating** — the row with the largest timestamp, ties and
    data without timestamps resolved by keeping the row that comes last. A user who rated
    a movie 5 and later 1 now thinks 1; summing (6) or averaging (3) would describe nobody.
    Every model applies this rule where data enter it (``fit``), so no model ever sees a
    pair twice. Returns ``ratings`` itself when it has no duplicate pair.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [7, 7, 7], "rating": [5.0, 1.0, 3.0],
    ...                   "timestamp": [10, 20, 15]})
    >>> deduplicate_interactions(r)["rating"].tolist()
    [1.0, 3.0]
    """
    check_interactions(ratings)
    pairs = ratings[[USER, ITEM]]
    if not pairs.duplicated().any():
        return ratings
    if TIMESTAMP in ratings.columns:
        order = np.lexsort((np.arange(len(ratings)), ratings[TIMESTAMP].to_numpy()))
        latest = ~pairs.iloc[order].duplicated(keep="last").to_numpy()
        keep = np.sort(order[latest])
    else:
        keep = np.flatnonzero(~pairs.duplicated(keep="last").to_numpy())
    return ratings.iloc[keep].reset_index(drop=True)


class IdIndex:
    """Maps raw user or item ids to row/column positions ``0..n-1`` and back.

    Examples
    --------
    >>> index = IdIndex([10, 30, 20])
    >>> index.positions([20, 30]).tolist()
    [1, 2]
    >>> index.ids[[0, 2]].tolist()
    [10, 30]
    """

    def __init__(self, ids):
        self.ids = np.unique(np.asarray(ids))
        if self.ids.size == 0:
            raise ValueError("an IdIndex needs at least one id")

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, ids, unknown: str = "raise") -> np.ndarray:
        """Positions of ``ids``; ``unknown="raise"`` (default) or ``"mask"`` (-1 for unknown ids)."""
        ids = np.asarray(ids)
        pos = np.searchsorted(self.ids, ids)
        pos_clipped = np.minimum(pos, len(self.ids) - 1)
        known = self.ids[pos_clipped] == ids
        if not known.all():
            if unknown == "raise":
                bad = np.unique(ids[~known])[:5].tolist()
                raise ValueError(f"{(~known).sum()} id(s) are not in the index, e.g. {bad}")
            return np.where(known, pos_clipped, -1)
        return pos_clipped


def interaction_matrix(ratings: pd.DataFrame, users: IdIndex, items: IdIndex,
                       value: str | None = None, dtype=np.float32) -> sp.csr_matrix:
    """A sparse users x items matrix of the ``value`` column, or of interaction counts.

    Without ``value``, each cell counts the rows of its pair (1 when pairs are unique; a
    transition or co-occurrence table when they are not). With ``value`` (e.g. ``"rating"``)
    each pair must occur once: duplicates raise a ``ValueError`` instead of being summed —
    apply :func:`deduplicate_interactions` first.
    """
    check_interactions(ratings)
    if value is not None and ratings[[USER, ITEM]].duplicated().any():
        n = int(ratings[[USER, ITEM]].duplicated().sum())
        raise ValueError(f"ratings has {n} duplicate (user, item) row(s); a matrix of {value!r} values would "
                         f"sum them. Keep one row per pair first: deduplicate_interactions(ratings) keeps the latest")
    data = np.ones(len(ratings), dtype=dtype) if value is None else ratings[value].to_numpy(dtype)
    rows, cols = users.positions(ratings[USER]), items.positions(ratings[ITEM])
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(users), len(items)), dtype=dtype)
    matrix.sum_duplicates()
    return matrix
