"""A seeded, MovieLens-like synthetic data set with a known ground truth.

Taught in ``notebooks/01_data_exploration.ipynb``; used by every notebook when the real
MovieLens cannot be downloaded, and by the tests, which run offline.

At its default size it has the shape of ML-100K: 943 users, 1,682 items, about 100,000
ratings, at least 20 per user, a long-tailed item popularity, ratings 1–5 with ML-100K's
marginal distribution, user and item biases, tastes driven by genres and correlated with
age and gender, and timestamps over seven months that come in sessions and drift.

Its :class:`PreferenceModel` is the truth the ratings were drawn from, so later notebooks
can use it as a user simulator: what a user *would* rate any item, not only the ones
they happened to rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .._checks import check_choice, check_number, fraction
from .interactions import Dataset, RatingScale
from .schema import (
    AGE, DTYPES, GENDER, GENRE_SEPARATOR, GENRES, ITEM, OCCUPATION, RATING, TIMESTAMP, TITLE,
    USER, YEAR, ZIP,
)

__all__ = ["PreferenceModel", "generate_movielens_like", "load_synthetic", "SHAPES", "RATING_MARGINALS",
           "SYNTHETIC_GENRES"]

# ML-100K's genres (without "unknown") and how many of its 1,682 movies carry each.
SYNTHETIC_GENRES = (
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)
_GENRE_COUNTS = np.array([251, 135, 42, 122, 505, 109, 50, 725, 22, 24, 92, 56, 61, 247, 101, 251, 71, 27], float)
# The marginal shares of each rating value in the MovieLens releases the shapes imitate
# (aggregate counts from GroupLens' files): ML-100K and ML-1M use 1–5 stars,
# ml-latest-small 0.5–5 in half stars.
RATING_MARGINALS = {
    "ml-100k": ((1.0, 2.0, 3.0, 4.0, 5.0), (0.0611, 0.1137, 0.27145, 0.34174, 0.21201)),
    "ml-1m": ((1.0, 2.0, 3.0, 4.0, 5.0), (0.0562, 0.1075, 0.2611, 0.3489, 0.2263)),
    "ml-latest-small": ((0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0),
                        (0.0136, 0.0279, 0.0178, 0.0749, 0.0550, 0.1988, 0.1303, 0.2659, 0.0848, 0.1310)),
}
_OCCUPATIONS = (
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive",
    "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none", "other", "programmer",
    "retired", "salesman", "scientist", "student", "technician", "writer",
)
_START = 874_724_710  # 1997-09-20, the first ML-100K rating
_END = 893_286_638  # 1998-04-22, the last one
# Each shape: the generator's arguments at full size and in quick mode (REC_QUICK=1).
SHAPES = {
    # ML-100K: 943 users x 1,682 items, ~100k ratings, >= 20 per user, demographics, 1-5 stars.
    "synthetic": {
        "full": dict(n_users=943, n_items=1682, mean_ratings_per_user=110.0),
        "quick": dict(n_users=200, n_items=400, mean_ratings_per_user=45.0),
    },
    # ml-latest-small: ~600 users x ~9,700 items, ~100k half-star ratings, a third of the items
    # rated once, histories of up to a few thousand ratings, no demographics, 22 years of time.
    "synthetic-latest-small": {
        # Drawn from a catalogue of 30,000 items, of which about 10,000 get rated: like
        # movies.csv, the data list only rated items, so item ids have gaps.
        "full": dict(n_users=610, n_items=30_000, mean_ratings_per_user=172.0, popularity_spread=2.8,
                     activity_spread=1.4, max_share=0.09, ratings_like="ml-latest-small",
                     demographics=False, rated_items_only=True, period=(828_124_615, 1_537_799_250)),
        "quick": dict(n_users=120, n_items=6_000, mean_ratings_per_user=60.0, popularity_spread=2.6,
                      activity_spread=1.4, max_share=0.1, ratings_like="ml-latest-small",
                      demographics=False, rated_items_only=True, period=(828_124_615, 1_537_799_250)),
    },
    # ML-1M: 6,040 users x 3,706 items, ~1M ratings, >= 20 per user, demographics, 1-5 stars.
    "synthetic-1m": {
        "full": dict(n_users=6040, n_items=3706, mean_ratings_per_user=165.6, max_share=0.6,
                     ratings_like="ml-1m", period=(956_703_932, 1_046_454_590)),
        "quick": dict(n_users=300, n_items=600, mean_ratings_per_user=60.0, max_share=0.6,
                      ratings_like="ml-1m", period=(956_703_932, 1_046_454_590)),
    },
}
# Words that a title of each genre draws on, so titles carry a little content signal.
_TITLE_WORDS = {
    "Action": "Strike Fury Bullet Mission Force", "Adventure": "Quest Island Journey Treasure Voyage",
    "Animation": "Toon Dragon Magic Kingdom Dream", "Children's": "Puppy Friends Little Home Adventure",
    "Comedy": "Wedding Party Crazy Weekend Trouble", "Crime": "Heist Money Street Justice Deal",
    "Documentary": "Story Life Voices Truth World", "Drama": "Heart Letters Winter River Silence",
    "Fantasy": "Wizard Realm Sword Spell Legend", "Film-Noir": "Shadow Night Dame Smoke Alibi",
    "Horror": "Blood Curse Scream Dark Grave", "Musical": "Song Dance Broadway Melody Stage",
    "Mystery": "Secret Clue Vanishing Murder Key", "Romance": "Love Kiss Paris Promise Summer",
    "Sci-Fi": "Star Planet Robot Galaxy Future", "Thriller": "Edge Target Danger Conspiracy Hunt",
    "War": "Battle Soldier Front Victory Glory", "Western": "Gun Ranch Outlaw Desert Sheriff",
}
_ADJECTIVES = ("The Last", "The Lost", "Return of the", "The Silent", "The Golden", "The Wild",
               "Beyond the", "The Secret", "A Dangerous", "The Long", "The Little", "The Great")


@dataclass
class PreferenceModel:
    """The ground truth a synthetic data set was drawn from.

    A user ``u``'s latent appetite for item ``i`` is
    ``s = global_mean + user_bias[u] + item_bias[i] + user_factors[u] @ item_factors[i]``;
    an observed rating is ``s + noise * N(0, 1)`` cut at ``cutpoints`` into the rating
    values ``levels`` (1..5 stars by default, or half stars). Users and items are
    addressed by their ids (1-based, as in the ratings).
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    global_mean: float
    cutpoints: np.ndarray
    noise: float
    item_popularity: np.ndarray  # the exposure propensity of each item (sums to 1)
    genre_names: tuple[str, ...] = SYNTHETIC_GENRES
    levels: np.ndarray = field(default_factory=lambda: np.arange(1.0, 6.0))

    @property
    def n_users(self) -> int:
        return len(self.user_bias)

    @property
    def n_items(self) -> int:
        return len(self.item_bias)

    def _index(self, ids, n: int, what: str) -> np.ndarray:
        idx = np.asarray(ids, dtype=np.int64) - 1
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"{what} ids must lie in 1..{n}; got values from {idx.min() + 1} to {idx.max() + 1}")
        return idx

    def latent(self, user_ids, item_ids) -> np.ndarray:
        """Noise-free appetite ``s`` for paired arrays of user and item ids."""
        u = self._index(user_ids, self.n_users, "user")
        i = self._index(item_ids, self.n_items, "item")
        dot = np.einsum("...d,...d->...", self.user_factors[u], self.item_factors[i])
        return self.global_mean + self.user_bias[u] + self.item_bias[i] + dot

    def rating_probabilities(self, user_ids, item_ids) -> np.ndarray:
        """P(rating = each of ``levels``) for each pair; the last axis has ``len(levels)`` entries."""
        s = self.latent(user_ids, item_ids)[..., None]
        below = ndtr((self.cutpoints - s) / self.noise)  # P(rating <= each level but the top one)
        cdf = np.concatenate([below, np.ones_like(s)], axis=-1)
        return np.diff(cdf, axis=-1, prepend=0.0)

    def expected_rating(self, user_ids, item_ids) -> np.ndarray:
        """The mean rating each user would give each paired item."""
        return self.rating_probabilities(user_ids, item_ids) @ np.asarray(self.levels, dtype=np.float64)

    def like_probability(self, user_ids, item_ids, threshold: float = 4) -> np.ndarray:
        """P(rating >= threshold): the click/like probability a simulator can use."""
        levels = np.asarray(self.levels, dtype=np.float64)
        if not levels[0] <= threshold <= levels[-1]:
            raise ValueError(f"threshold must be a rating in {levels[0]:g}..{levels[-1]:g}, got {threshold}")
        first = int(np.searchsorted(levels, threshold - 1e-9))
        return self.rating_probabilities(user_ids, item_ids)[..., first:].sum(axis=-1)

    def score_matrix(self, user_ids=None) -> np.ndarray:
        """Expected ratings of the given users (default: all) for every item, float32."""
        users = np.arange(1, self.n_users + 1) if user_ids is None else np.asarray(user_ids)
        items = np.arange(1, self.n_items + 1)
        return self.expected_rating(users[:, None], items[None, :]).astype(np.float32)


def _sample_genres(rng, n_items: int) -> np.ndarray:
    share = _GENRE_COUNTS / _GENRE_COUNTS.sum()
    n_genres = rng.choice([1, 2, 3, 4], size=n_items, p=[0.5, 0.33, 0.13, 0.04])
    flags = np.zeros((n_items, len(SYNTHETIC_GENRES)), dtype=bool)
    keys = np.log(share)[None, :] + rng.gumbel(size=flags.shape)  # Gumbel top-k = sampling w/o replacement
    order = np.argsort(-keys, axis=1)
    for k in range(4):
        rows = n_genres > k
        flags[rows, order[rows, k]] = True
    return flags


def _demographics(rng, n_users: int) -> pd.DataFrame:
    age = np.clip(np.round(rng.gamma(7.5, 4.6, n_users)), 7, 73).astype("int16")
    gender = np.where(rng.random(n_users) < 0.71, "M", "F")
    occupation = rng.choice(_OCCUPATIONS, size=n_users)
    occupation = np.where(age < 23, np.where(rng.random(n_users) < 0.7, "student", occupation), occupation)
    occupation = np.where(age > 62, np.where(rng.random(n_users) < 0.6, "retired", occupation), occupation)
    occupation = np.where((age >= 23) & (occupation == "student") & (rng.random(n_users) < 0.7), "other", occupation)
    zips = np.char.zfill(rng.integers(1000, 99999, n_users).astype(str), 5)
    return pd.DataFrame({USER: np.arange(1, n_users + 1, dtype=np.int32), AGE: age,
                         GENDER: gender, OCCUPATION: occupation, ZIP: zips})


def _demographic_taste(users: pd.DataFrame) -> np.ndarray:
    """How age and gender shift each genre preference (in latent units)."""
    g = {name: j for j, name in enumerate(SYNTHETIC_GENRES)}
    shift = np.zeros((len(users), len(SYNTHETIC_GENRES)))
    age = users[AGE].to_numpy().astype(float)
    female = (users[GENDER] == "F").to_numpy()
    young = np.clip((30 - age) / 15, -1.5, 1.5)  # > 0 for the young, < 0 for older users
    for name, w in {"Action": 0.4, "Sci-Fi": 0.4, "Horror": 0.5, "Comedy": 0.3, "Animation": 0.3,
                    "Children's": 0.4, "Film-Noir": -0.5, "War": -0.4, "Documentary": -0.3,
                    "Mystery": -0.3, "Western": -0.3, "Drama": -0.2}.items():
        shift[:, g[name]] += w * young
    for name, w in {"Romance": 1.2, "Musical": 0.9, "Drama": 0.4, "Children's": 0.5,
                    "Action": -0.9, "War": -0.8, "Horror": -0.6, "Western": -0.6, "Sci-Fi": -0.5}.items():
        shift[female, g[name]] += w
    return shift


def _titles(rng, flags: np.ndarray, years: np.ndarray) -> list[str]:
    titles, seen = [], {}
    first_genre = np.argmax(flags, axis=1)
    adjective = rng.integers(0, len(_ADJECTIVES), len(flags))
    word = rng.integers(0, 5, len(flags))
    for i, (genre, a, w, year) in enumerate(zip(first_genre, adjective, word, years)):
        base = f"{_ADJECTIVES[a]} {_TITLE_WORDS[SYNTHETIC_GENRES[genre]].split()[w]}"
        seen[base] = seen.get(base, 0) + 1
        sequel = f" {seen[base]}" if seen[base] > 1 else ""
        titles.append(f"{base}{sequel} ({year})")
    return titles


def _paired_dot(left: np.ndarray, right: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``(left[rows] * right[cols]).sum(axis=1)`` in chunks, so a million pairs never need 400 MB."""
    out = np.empty(len(rows))
    for start in range(0, len(rows), 100_000):
        part = slice(start, start + 100_000)
        out[part] = np.einsum("ij,ij->i", left[rows[part]], right[cols[part]])
    return out


def generate_movielens_like(n_users: int = 943, n_items: int = 1682, mean_ratings_per_user: float = 110.0,
                            min_ratings_per_user: int = 20, n_latent: int = 8, seed: int = 0,
                            quick: bool = False, *, popularity_spread: float = 1.5,
                            activity_spread: float = 1.3, max_share: float = 0.45,
                            ratings_like: str = "ml-100k", demographics: bool = True,
                            rated_items_only: bool = False, period: tuple[int, int] = (_START, _END),
                            name: str = "synthetic"):
    """Draw a MovieLens-like data set and the preference model behind it.

    Parameters
    ----------
    n_users, n_items : int
        Size of the user base and of the catalogue (ML-100K: 943 x 1,682).
    mean_ratings_per_user : float
        Average activity before the cap at ``max_share`` of the catalogue (ML-100K: 106);
        every user rates at least ``min_ratings_per_user`` items, and activity is
        long-tailed (log-normal with spread ``activity_spread``).
    n_latent : int
        Latent taste dimensions besides the genres.
    seed : int
        Everything is drawn from ``numpy.random.default_rng(seed)``.
    popularity_spread : float
        Standard deviation of the items' log exposure: larger means a longer tail (at 2.6, a
        third of a 9,700-item catalogue is rated once, as in ml-latest-small).
    ratings_like : str
        Whose rating values and shares to imitate: ``"ml-100k"`` or ``"ml-1m"`` (1–5
        stars) or ``"ml-latest-small"`` (0.5–5 in half stars); see :data:`RATING_MARGINALS`.
    demographics : bool
        Draw a users table (age, gender, occupation, zip) that shapes tastes; without it
        ``users`` is None, as in ml-latest-small.
    rated_items_only : bool
        List only the items someone rated in ``items`` (as MovieLens' later releases do);
        item ids then have gaps. The truth still covers the whole catalogue.
    period : (int, int)
        First and last moment of the log, Unix seconds.
    name : str
        The data set's name (a key of :data:`SHAPES` when drawn by :func:`load_synthetic`).

    Returns
    -------
    rec_utils.data.Dataset
        With ``truth`` set to the :class:`PreferenceModel`.

    Examples
    --------
    >>> data = generate_movielens_like(n_users=50, n_items=80, mean_ratings_per_user=30)
    >>> int(data.ratings.groupby("user_id").size().min()) >= 20
    True
    """
    check_number("n_users", n_users, low=2, integer=True)
    check_number("n_items", n_items, low=2, integer=True)
    check_number("min_ratings_per_user", min_ratings_per_user, low=1, integer=True)
    check_number("mean_ratings_per_user", mean_ratings_per_user, low=min_ratings_per_user, high=n_items)
    check_choice("ratings_like", ratings_like, sorted(RATING_MARGINALS))
    fraction("max_share", max_share, include_one=True)
    if not period[0] < period[1]:
        raise ValueError(f"period must run forwards, got {period!r}")
    rng = np.random.default_rng(seed)
    n_genres = len(SYNTHETIC_GENRES)
    levels, shares = (np.array(v, dtype=np.float64) for v in RATING_MARGINALS[ratings_like])
    start, end = period

    # Items: genres, release year, quality (bias) and exposure (popularity, long-tailed).
    flags = _sample_genres(rng, n_items)
    last_year = pd.Timestamp(end, unit="s").year
    years = np.clip(last_year - np.floor(rng.exponential(7.0, n_items)), 1922, last_year).astype(int)
    item_bias = rng.normal(0.0, 0.4, n_items)
    recency = (years - (last_year - 8)) / 8.0
    log_pop = rng.normal(0.0, popularity_spread, n_items) + 0.8 * item_bias + 0.5 * np.clip(recency, -1, 1)
    popularity = np.exp(log_pop - log_pop.max())
    popularity /= popularity.sum()

    # Users: demographics, then genre tastes that depend on them, then free latent tastes.
    users = _demographics(rng, n_users)
    genre_taste = rng.normal(0.0, 0.6, (n_users, n_genres))
    if demographics:
        genre_taste += _demographic_taste(users)
    item_genre = flags / np.sqrt(flags.sum(axis=1, keepdims=True))
    user_factors = np.hstack([genre_taste * 0.55, rng.normal(0.0, 0.45, (n_users, n_latent))])
    item_factors = np.hstack([item_genre * 0.55, rng.normal(0.0, 0.45, (n_items, n_latent))])
    user_bias = rng.normal(0.0, 0.35, n_users)

    # Activity: at least the minimum, long-tailed above it, mean as asked.
    extra = rng.lognormal(0.0, activity_spread, n_users)
    extra *= (mean_ratings_per_user - min_ratings_per_user) / extra.mean()
    counts = np.minimum(min_ratings_per_user + np.round(extra).astype(int), max(int(max_share * n_items), 1))

    # Who watches what: exposure times taste (people mostly rate what they chose to see). Users
    # are drawn in blocks, so memory stays at a block of users x items at ML-1M's scale too.
    log_popularity = np.log(popularity)
    chosen_items = []
    block = max(1, 2_000_000 // n_items)
    for lo in range(0, n_users, block):
        affinity = user_factors[lo:lo + block] @ item_factors.T
        keys = log_popularity[None, :] + 1.5 * affinity + rng.gumbel(size=affinity.shape)
        order = np.argsort(-keys, axis=1)
        for row, count in enumerate(counts[lo:lo + block]):
            chosen_items.append(order[row, :count])
    u_idx = np.repeat(np.arange(n_users), counts)
    i_idx = np.concatenate(chosen_items)  # user u's items come in a block of counts[u]

    # Ratings: appetite plus noise, cut so the shares of each value match the imitated release.
    base = user_bias[u_idx] + item_bias[i_idx] + _paired_dot(user_factors, item_factors, u_idx, i_idx)
    noise = 0.75
    observed = base + rng.normal(0.0, noise, len(base))
    cut = np.quantile(observed, np.cumsum(shares)[:-1])
    global_mean = 0.0
    ratings = levels[np.searchsorted(cut, observed)].astype(np.float32)

    # Time: each user arrives, rates in sessions (seconds apart within one), and their
    # taste drifts, so later ratings lean towards a direction of their own.
    drift = rng.normal(0.0, 1.0, (n_users, item_factors.shape[1]))
    position = _paired_dot(drift, item_factors, u_idx, i_idx) + rng.normal(0.0, 0.15, len(u_idx))
    arrival = start + rng.beta(1.0, 1.6, n_users) * (end - start) * 0.9
    stay = (end - arrival) * rng.beta(0.6, 2.5, n_users)  # most users stay a short while
    timestamps = np.empty(len(u_idx), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    rank_in_user = np.empty(len(u_idx), dtype=np.int64)
    for u in range(n_users):  # small per-user bookkeeping; the heavy lifting above is vectorised
        lo, hi = starts[u], starts[u + 1]
        rank_in_user[lo:hi] = lo + np.argsort(position[lo:hi], kind="stable")
        n = hi - lo
        n_sessions = 1 + rng.poisson(n / 35)
        session_of = np.sort(rng.integers(0, n_sessions, n))
        session_start = arrival[u] + np.sort(rng.random(n_sessions)) * stay[u]
        within = np.cumsum(rng.exponential(45.0, n))
        within -= within[np.searchsorted(session_of, session_of)]  # restart the clock each session
        timestamps[lo:hi] = (session_start[session_of] + within).astype(np.int64)
    u_idx, i_idx, ratings = u_idx[rank_in_user], i_idx[rank_in_user], ratings[rank_in_user]

    frame = pd.DataFrame({USER: u_idx + 1, ITEM: i_idx + 1, RATING: ratings, TIMESTAMP: timestamps})
    frame = frame.astype(DTYPES).sort_values([USER, TIMESTAMP], kind="stable").reset_index(drop=True)
    names = np.array(SYNTHETIC_GENRES, dtype=object)
    items = pd.DataFrame({
        ITEM: np.arange(1, n_items + 1, dtype=np.int32),
        TITLE: _titles(rng, flags, years),
        YEAR: pd.array(years, dtype="Int16"),
        GENRES: [GENRE_SEPARATOR.join(names[row]) for row in flags],
    })
    if rated_items_only:
        items = items[items[ITEM].isin(frame[ITEM].unique())].reset_index(drop=True)
    truth = PreferenceModel(
        user_factors=user_factors.astype(np.float32), item_factors=item_factors.astype(np.float32),
        user_bias=user_bias.astype(np.float32), item_bias=item_bias.astype(np.float32),
        global_mean=global_mean, cutpoints=cut, noise=noise, item_popularity=popularity, levels=levels,
    )
    step = float(levels[1] - levels[0])
    return Dataset(name=name, ratings=frame, items=items, users=users if demographics else None,
                   source=f"synthetic (shape {name!r}, seed {seed})", quick=quick, truth=truth,
                   rating_scale=RatingScale(float(levels[0]), float(levels[-1]), step))


def load_synthetic(shape: str = "synthetic", quick: bool = False, seed: int = 0):
    """One of the :data:`SHAPES`, at full size or in its quick version.

    >>> data = load_synthetic("synthetic-latest-small", quick=True)
    >>> data.users is None, str(data.rating_scale)
    (True, '0.5–5 in steps of 0.5')
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown synthetic shape {shape!r}; expected one of {sorted(SHAPES)}")
    return generate_movielens_like(seed=seed, quick=quick, name=shape, **SHAPES[shape]["quick" if quick else "full"])
