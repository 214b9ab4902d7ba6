"""Cleaning and normalisation of a ratings log.

Taught in ``notebooks/02_preprocessing.ipynb``, which builds each check by hand on a
deliberately corrupted copy of MovieLens and then shows that these functions agree.

* :func:`find_rating_anomalies` flags, row by row, the five problems a ratings log
  typically has: missing values, ratings off the scale, implausible timestamps,
  duplicated user-item pairs and bot-like users; :func:`clean_ratings` drops them.
* :func:`user_rating_stats` is the per-user behaviour the bot check reads (how many
  ratings, how fast, how uniform), and :func:`apply_bot_rule` says which parts of the
  bot rule (:data:`BOT_RULE`) each user meets, so a notebook can show what it flags and why
  the heaviest real users are not flagged.
* :class:`UserMeanCenterer` subtracts each user's mean rating, with the means fitted on
  the training data only, and :func:`mean_center` does it for a train/test pair.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .._checks import check_fitted, check_frame, check_number, fraction, positive_int
from .schema import DTYPES, INTERACTION_COLUMNS, ITEM, RATING, TIMESTAMP, USER

__all__ = ["ANOMALY_CHECKS", "BOT_RULE", "find_rating_anomalies", "clean_ratings", "user_rating_stats",
           "apply_bot_rule", "UserMeanCenterer", "mean_center"]

# The checks of find_rating_anomalies, in the order they are applied.
ANOMALY_CHECKS = ("missing", "rating_out_of_range", "timestamp_out_of_range", "duplicate", "bot_user")
# The bot rule's default thresholds: a user is a bot only when all three hold at once.
BOT_RULE = {"bot_min_ratings": 50, "bot_min_per_minute": 20.0, "bot_min_same_share": 0.95}


def _unix_seconds(moment, default: float) -> float:
    if moment is None:
        return default
    if isinstance(moment, (int, float, np.integer, np.floating)):
        return float(moment)
    try:
        stamp = pd.Timestamp(moment)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"time_range bounds must be dates, Unix seconds or None, got {moment!r}") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return (stamp - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)


def user_rating_stats(ratings: pd.DataFrame) -> pd.DataFrame:
    """Per-user behaviour: how many ratings, how fast, how uniform.

    Returns
    -------
    pandas.DataFrame indexed by ``user_id`` with columns

    ``n_ratings``
        number of ratings;
    ``active_minutes``
        time between the user's first and last rating, in minutes;
    ``ratings_per_minute``
        ``n_ratings / max(active_minutes, 1)`` (a burst within one minute counts as one minute);
    ``same_rating_share``
        share of the user's ratings that equal their most common rating (1.0: always the same).

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 1, 2, 2], "item_id": [1, 2, 3, 1, 2],
    ...                   "rating": [5.0, 5, 5, 1, 4], "timestamp": [0, 10, 20, 0, 600]})
    >>> user_rating_stats(r)[["n_ratings", "ratings_per_minute", "same_rating_share"]]  # doctest: +NORMALIZE_WHITESPACE
             n_ratings  ratings_per_minute  same_rating_share
    user_id
    1                3                 3.0                1.0
    2                2                 0.2                0.5
    """
    check_frame(ratings, (USER, RATING, TIMESTAMP), allow_missing=True, numeric=(RATING, TIMESTAMP))
    by_user = ratings.groupby(USER, sort=True)
    n = by_user.size()
    minutes = (by_user[TIMESTAMP].max() - by_user[TIMESTAMP].min()) / 60.0
    modal_count = ratings.groupby([USER, RATING]).size().groupby(level=0).max()
    return pd.DataFrame({
        "n_ratings": n,
        "active_minutes": minutes.astype(float),
        "ratings_per_minute": n / np.maximum(minutes.astype(float), 1.0),
        "same_rating_share": (modal_count / n).astype(float),
    })


def _check_bot_thresholds(bot_min_ratings, bot_min_per_minute, bot_min_same_share) -> None:
    positive_int("bot_min_ratings", bot_min_ratings)
    check_number("bot_min_per_minute", bot_min_per_minute, low=0, low_inclusive=False)
    fraction("bot_min_same_share", bot_min_same_share, include_one=True)


def apply_bot_rule(stats: pd.DataFrame, bot_min_ratings: int = BOT_RULE["bot_min_ratings"],
                   bot_min_per_minute: float = BOT_RULE["bot_min_per_minute"],
                   bot_min_same_share: float = BOT_RULE["bot_min_same_share"]) -> pd.DataFrame:
    """Which parts of the bot rule each user meets, and the verdict.

    The rule of :func:`find_rating_anomalies`: a user is a bot when all three hold at once —
    at least ``bot_min_ratings`` ratings (``many_ratings``), at least ``bot_min_per_minute``
    of them per minute over the whole active span (``machine_speed``), and at least
    ``bot_min_same_share`` of them equal (``constant_rating``). Reading the three columns
    says *why* a heavy real user is not flagged.

    Parameters
    ----------
    stats : pandas.DataFrame
        :func:`user_rating_stats`' output.

    Returns
    -------
    pandas.DataFrame
        ``stats`` with the boolean columns ``many_ratings, machine_speed, constant_rating``
        and ``bot`` (all three).

    Examples
    --------
    >>> stats = pd.DataFrame({"n_ratings": [300, 2000], "active_minutes": [5.0, 9000.0],
    ...                       "ratings_per_minute": [60.0, 0.2], "same_rating_share": [1.0, 0.3]})
    >>> apply_bot_rule(stats)[["many_ratings", "machine_speed", "constant_rating", "bot"]].values.tolist()
    [[True, True, True, True], [True, False, False, False]]
    """
    needed = ("n_ratings", "ratings_per_minute", "same_rating_share")
    check_frame(stats, needed, "stats (user_rating_stats' output)", numeric=needed)
    _check_bot_thresholds(bot_min_ratings, bot_min_per_minute, bot_min_same_share)
    verdict = stats.assign(many_ratings=stats["n_ratings"] >= bot_min_ratings,
                           machine_speed=stats["ratings_per_minute"] >= bot_min_per_minute,
                           constant_rating=stats["same_rating_share"] >= bot_min_same_share)
    return verdict.assign(bot=verdict["many_ratings"] & verdict["machine_speed"] & verdict["constant_rating"])


def find_rating_anomalies(ratings: pd.DataFrame, rating_range=None, time_range=("1995-01-01", None),
                          bot_min_ratings: int = BOT_RULE["bot_min_ratings"],
                          bot_min_per_minute: float = BOT_RULE["bot_min_per_minute"],
                          bot_min_same_share: float = BOT_RULE["bot_min_same_share"]) -> pd.DataFrame:
    """Flag the rows of a ratings log that a model should not learn from.

    The checks, in order (``ANOMALY_CHECKS``):

    ``missing``
        any of ``user_id, item_id, rating`` (and ``timestamp``, when the log has one) is missing;
    ``rating_out_of_range``
        the rating is not a value of the data's scale: outside ``rating_range`` or, when
        that is a :class:`~rec_utils.data.RatingScale` with a step, off its grid (3.7 on
        a half-star scale). Pass the data's own scale, ``data.rating_scale``; a ``(low,
        high)`` pair checks the range only, and ``None`` skips the check;
    ``timestamp_out_of_range``
        the timestamp lies outside ``time_range`` (inclusive; dates or Unix seconds; ``None``
        as the upper bound means "now", so future timestamps are flagged). The default lower
        bound, 1995, predates every MovieLens release; for other data, pass the date your
        service started;
    ``duplicate``
        among the rows that pass the three checks above, every row of a (user, item) pair
        except its latest one (exact copies and re-ratings alike; ties keep the last row);
    ``bot_user``
        every remaining row of a user who looks automated, by a stated rule that needs all
        three at once: at least ``bot_min_ratings`` ratings, at least ``bot_min_per_minute``
        of them per minute over the user's whole active span, and at least
        ``bot_min_same_share`` of them equal (see :func:`user_rating_stats` and
        :func:`apply_bot_rule`). A heavy real user rates many items, often in bursts
        (MovieLens' web form saved a page of ratings at once), but over days and with varied
        ratings; only machine speed *and* a constant rating together mark a bot.

    Checks that the data cannot support are skipped, not guessed: without a ``timestamp``
    column the time and bot checks are skipped; with implicit feedback (one rating value),
    the bot check is skipped, since a constant rating is then no evidence. The reasons are
    in ``flags.attrs["skipped"]``.

    Returns
    -------
    pandas.DataFrame
        One boolean column per check, with ``ratings``' index. A row may carry several
        flags; ``flags.any(axis=1)`` marks the rows :func:`clean_ratings` drops and
        ``flags.sum()`` counts each problem.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [1, 1, 2, 3],
    ...                   "rating": [4.0, 5.0, 7.0, None],
    ...                   "timestamp": [880000000, 880000100, 880000200, 880000300]})
    >>> find_rating_anomalies(r, rating_range=(1, 5)).sum().to_dict()
    {'missing': 1, 'rating_out_of_range': 1, 'timestamp_out_of_range': 0, 'duplicate': 1, 'bot_user': 0}
    """
    has_time = TIMESTAMP in getattr(ratings, "columns", ())
    columns = INTERACTION_COLUMNS if has_time else (USER, ITEM, RATING)
    # missing values are allowed: they are one of the things we look for
    check_frame(ratings, columns, allow_missing=True, numeric=(RATING, TIMESTAMP) if has_time else (RATING,))
    scale = rating_range if hasattr(rating_range, "contains") else None
    if scale is None and rating_range is not None:
        low, high = rating_range
        if not low < high:
            raise ValueError(f"rating_range must be (low, high) with low < high, got {rating_range!r}")
    _check_bot_thresholds(bot_min_ratings, bot_min_per_minute, bot_min_same_share)
    skipped = {}

    rating = ratings[RATING].to_numpy(np.float64)
    flags = pd.DataFrame(False, index=ratings.index, columns=list(ANOMALY_CHECKS))
    flags["missing"] = ratings[list(columns)].isna().any(axis=1).to_numpy()
    with np.errstate(invalid="ignore"):  # NaN compares False: missing values are not also out of range
        if scale is not None:
            flags["rating_out_of_range"] = ~scale.contains(rating) & ~np.isnan(rating)
        elif rating_range is not None:
            flags["rating_out_of_range"] = (rating < low) | (rating > high)
        else:
            skipped["rating_out_of_range"] = "no rating scale given"
        if has_time:
            stamp = ratings[TIMESTAMP].to_numpy(np.float64)
            start = _unix_seconds(time_range[0], -np.inf)
            end = _unix_seconds(time_range[1], time.time())
            if not start < end:
                raise ValueError(f"time_range must run forwards, got {time_range!r}")
            flags["timestamp_out_of_range"] = (stamp < start) | (stamp > end)
        else:
            skipped["timestamp_out_of_range"] = "the data have no timestamps"

    valid = ~flags.to_numpy().any(axis=1)
    rows = np.flatnonzero(valid)
    kept = ratings.iloc[rows]
    times = kept[TIMESTAMP].to_numpy() if has_time else np.zeros(len(rows))
    order = np.lexsort((rows, times))  # by time, ties by row order
    earlier = kept.iloc[order].duplicated([USER, ITEM], keep="last").to_numpy()
    duplicate = np.zeros(len(ratings), dtype=bool)
    duplicate[rows[order][earlier]] = True
    flags["duplicate"] = duplicate

    valid &= ~duplicate
    implicit = bool(getattr(scale, "implicit", False)) or (
        scale is None and bool(np.all(rating[valid & ~np.isnan(rating)] == 1.0)))
    if not has_time:
        skipped["bot_user"] = "the data have no timestamps, so rating speed is unknown"
    elif implicit:
        skipped["bot_user"] = "every rating has the same value (implicit feedback), so uniformity says nothing"
    elif valid.any():
        verdict = apply_bot_rule(user_rating_stats(ratings.iloc[np.flatnonzero(valid)]), bot_min_ratings,
                                 bot_min_per_minute, bot_min_same_share)
        bots = verdict.index[verdict["bot"]]
        flags["bot_user"] = valid & ratings[USER].isin(bots).to_numpy()
    flags.attrs["skipped"] = skipped
    return flags


def clean_ratings(ratings: pd.DataFrame, **checks) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop every row :func:`find_rating_anomalies` flags (``checks`` are its keyword arguments).

    Pass the data's own scale, ``clean_ratings(data.ratings, rating_range=data.rating_scale)``,
    so that half stars are not taken for errors on a half-star scale.

    Returns
    -------
    (clean, flags)
        ``clean`` has the course's dtypes and a fresh index; ``flags`` is the full report,
        aligned with the input, so what was dropped and why stays inspectable.
    """
    flags = find_rating_anomalies(ratings, **checks)
    columns = [c for c in INTERACTION_COLUMNS if c in ratings.columns]
    clean = ratings.loc[~flags.any(axis=1), columns]
    return clean.astype({c: DTYPES[c] for c in columns}).reset_index(drop=True), flags


class UserMeanCenterer:
    """Subtract each user's mean rating: ``r - mean_u``, with the means fitted on training data.

    Users differ in how generous they are; centring removes that offset, so similarities
    and models compare tastes rather than rating habits. Fit on the training split only:
    means computed with test ratings leak the answers (notebook 02, section 5).

    Attributes
    ----------
    user_means_ : pandas.Series
        Mean training rating of each user, indexed by ``user_id``.
    global_mean_ : float
        Mean training rating; the offset of users the training data never saw.

    Examples
    --------
    >>> train = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1], "rating": [4.0, 2.0, 5.0]})
    >>> centerer = UserMeanCenterer().fit(train)
    >>> centerer.transform(train)["rating"].tolist()
    [1.0, -1.0, 0.0]
    >>> centerer.inverse_transform([1, 3], [0.5, 0.0]).tolist()  # user 3 is unknown: global mean
    [3.5, 3.6666666666666665]
    """

    def fit(self, ratings: pd.DataFrame) -> UserMeanCenterer:
        check_frame(ratings, (USER, RATING), allow_missing=True, numeric=(RATING,))
        if ratings[[USER, RATING]].isna().any().any():
            raise ValueError("ratings has missing user_id or rating values; clean them first (clean_ratings)")
        self.user_means_ = ratings.groupby(USER)[RATING].mean().astype(float)
        self.global_mean_ = float(ratings[RATING].mean())
        return self

    def user_mean(self, user_ids) -> np.ndarray:
        """The fitted mean of each user (the global mean for users not seen in training)."""
        check_fitted(self, "user_means_")
        means = self.user_means_.reindex(np.asarray(user_ids)).to_numpy()
        return np.where(np.isnan(means), self.global_mean_, means)

    def transform(self, ratings: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``ratings`` whose ``rating`` column is centred (float32)."""
        check_fitted(self, "user_means_")
        check_frame(ratings, (USER, RATING), allow_missing=True, numeric=(RATING,))
        centred = ratings[RATING].to_numpy(np.float64) - self.user_mean(ratings[USER])
        return ratings.assign(**{RATING: centred.astype(np.float32)})

    def fit_transform(self, ratings: pd.DataFrame) -> pd.DataFrame:
        return self.fit(ratings).transform(ratings)

    def inverse_transform(self, user_ids, centred) -> np.ndarray:
        """Back to the rating scale: ``centred + mean_u`` for paired users and values."""
        check_fitted(self, "user_means_")
        centred = np.asarray(centred, dtype=np.float64)
        if centred.shape != np.shape(user_ids):
            raise ValueError(f"user_ids and centred values must pair up, got shapes "
                             f"{np.shape(user_ids)} and {centred.shape}")
        return centred + self.user_mean(user_ids)


def mean_center(train: pd.DataFrame, test: pd.DataFrame | None = None):
    """Centre ``train`` (and ``test``) on user means fitted on ``train`` only.

    Returns
    -------
    (centred_train, centred_test, centerer)
        ``centred_test`` is None when no test frame is given; ``centerer`` is the fitted
        :class:`UserMeanCenterer` (``centerer.user_means_`` are the training means).
    """
    centerer = UserMeanCenterer().fit(train)
    return centerer.transform(train), None if test is None else centerer.transform(test), centerer
