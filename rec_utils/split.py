"""Train/test splits, id indexing and candidate sets.

Taught in ``notebooks/02_preprocessing.ipynb`` (leakage) and used by every notebook that
evaluates a model. Every split is a partition of the input rows: nothing from the test
part is used to build the training part, and each random split takes a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .constants import INTERACTION_COLUMNS, ITEM, RATING, TIMESTAMP, USER

__all__ = [
    "IdIndex", "check_interactions", "deduplicate_interactions", "random_split", "stratified_split",
    "temporal_split", "leave_last_k_out", "sample_candidates", "interaction_matrix",
]


def check_interactions(ratings: pd.DataFrame, columns=(USER, ITEM), what: str = "ratings",
                       allow_missing: bool = False) -> None:
    """Raise a ``ValueError`` unless ``ratings`` is a non-empty frame with ``columns``.

    Missing values in those columns are refused too, unless ``allow_missing`` (cleaning
    code, which looks for them).
    """
    if not isinstance(ratings, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame with columns {list(columns)}, "
                         f"got {type(ratings).__name__}")
    missing = [c for c in columns if c not in ratings.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; expected {list(columns)}, "
                         f"got {list(ratings.columns)}")
    if ratings.empty:
        raise ValueError(f"{what} is empty")
    if not allow_missing and ratings[list(columns)].isna().any().any():
        raise ValueError(f"{what} has missing values in {list(columns)}")


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


def _check_fraction(test_size: float) -> None:
    if not (isinstance(test_size, (float, int)) and 0 < test_size < 1):
        raise ValueError(f"test_size must be a fraction strictly between 0 and 1, got {test_size!r}")


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


def _pair_groups(ratings: pd.DataFrame) -> tuple[np.ndarray, int]:
    """A group number per row, shared by the rows of one (user, item) pair, and the group count."""
    codes = ratings.groupby([USER, ITEM], sort=False).ngroup().to_numpy()
    return codes, int(codes.max()) + 1


def random_split(ratings: pd.DataFrame, test_size: float = 0.25, seed: int = 42):
    """Each (user, item) pair goes to test with probability ``test_size`` (exactly that share, shuffled).

    Rows of a pair that occurs more than once stay together, so a pair is never on both sides.
    """
    check_interactions(ratings)
    _check_fraction(test_size)
    rng = np.random.default_rng(seed)
    groups, n_groups = _pair_groups(ratings)
    group_is_test = np.zeros(n_groups, dtype=bool)
    group_is_test[rng.permutation(n_groups)[: int(round(test_size * n_groups))]] = True
    is_test = group_is_test[groups]
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def stratified_split(ratings: pd.DataFrame, test_size: float = 0.25, seed: int = 42):
    """Per-user random split: each user keeps ``1 - test_size`` of their items in train.

    A user with ``n`` distinct items puts ``round(n * test_size)`` of them (at most ``n - 1``)
    in test, so every test user also has training data. This is the protocol of Microsoft
    Recommenders' ML-100K benchmark (75/25, seed 42). A (user, item) pair that occurs in
    several rows is split as one: all its rows land on the same side.
    """
    check_interactions(ratings)
    _check_fraction(test_size)
    rng = np.random.default_rng(seed)
    groups, n_groups = _pair_groups(ratings)
    first_row = np.full(n_groups, len(ratings))
    np.minimum.at(first_row, groups, np.arange(len(ratings)))
    users = ratings[USER].to_numpy()[first_row]  # one entry per pair
    order = np.lexsort((rng.random(n_groups), users))  # pairs shuffled within each user
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    sizes = np.diff(np.r_[starts, n_groups])
    rank = np.arange(n_groups) - np.repeat(starts, sizes)
    n_test = np.minimum(np.round(sizes * test_size).astype(int), sizes - 1)
    group_is_test = np.zeros(n_groups, dtype=bool)
    group_is_test[order] = rank < np.repeat(n_test, sizes)
    is_test = group_is_test[groups]
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def temporal_split(ratings: pd.DataFrame, test_size: float = 0.2, drop_cold: bool = False):
    """Global time split: the latest ``test_size`` of all rows (by timestamp) are the test set.

    This is how a deployed model meets data: trained on the past, judged on the future.
    ``drop_cold=True`` removes test rows whose user or item never occurs in train.
    """
    check_interactions(ratings, (USER, ITEM, TIMESTAMP))
    _check_fraction(test_size)
    order = np.argsort(ratings[TIMESTAMP].to_numpy(), kind="stable")
    n_test = int(round(test_size * len(ratings)))
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[order[len(ratings) - n_test:]] = True
    train, test = ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)
    if drop_cold:
        warm = test[USER].isin(train[USER].unique()) & test[ITEM].isin(train[ITEM].unique())
        test = test[warm].reset_index(drop=True)
    return train, test


def leave_last_k_out(ratings: pd.DataFrame, k: int = 1, min_train: int = 1):
    """Each user's ``k`` latest interactions form the test set.

    Ties in timestamp are broken by the rows' order in ``ratings``. Users with fewer than
    ``k + min_train`` interactions keep them all in train (they cannot be tested fairly).
    """
    check_interactions(ratings, (USER, ITEM, TIMESTAMP))
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if not (isinstance(min_train, (int, np.integer)) and min_train >= 1):
        raise ValueError(f"min_train must be a positive integer, got {min_train!r}")
    users = ratings[USER].to_numpy()
    order = np.lexsort((np.arange(len(ratings)), ratings[TIMESTAMP].to_numpy(), users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    from_end = np.repeat(starts + sizes, sizes) - np.arange(len(order))  # 1 for the latest row
    eligible = np.repeat(sizes >= k + min_train, sizes)
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[order] = eligible & (from_end <= k)
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def sample_candidates(test: pd.DataFrame, known: pd.DataFrame, item_ids, n_negatives: int = 99,
                      seed: int = 42) -> np.ndarray:
    """Candidate sets of NCF's protocol: each test row's item plus ``n_negatives`` sampled items.

    Negatives are drawn uniformly, without replacement, from ``item_ids`` among the items
    that user never interacted with in ``known`` (pass all interactions, train and test,
    so a held-out positive is never sampled as a negative).

    Returns
    -------
    numpy.ndarray of shape (len(test), 1 + n_negatives)
        Item ids; column 0 is the held-out positive.
    """
    check_interactions(test, what="test")
    check_interactions(known, what="known")
    if not (isinstance(n_negatives, (int, np.integer)) and n_negatives >= 1):
        raise ValueError(f"n_negatives must be a positive integer, got {n_negatives!r}")
    catalogue = np.unique(np.asarray(item_ids))
    seen = known.groupby(USER)[ITEM].nunique()
    most = int(seen.reindex(test[USER].unique()).fillna(0).max())
    if len(catalogue) - most < n_negatives:
        raise ValueError(f"a test user has interacted with {most} of {len(catalogue)} items, leaving "
                         f"fewer than n_negatives={n_negatives} to sample")
    n_items = len(catalogue)
    user_pos = pd.Index(np.unique(np.r_[known[USER].to_numpy(), test[USER].to_numpy()]))
    index = IdIndex(catalogue)
    known_items = index.positions(known[ITEM], unknown="mask")
    keys = np.unique(user_pos.get_indexer(known[USER]).astype(np.int64)[known_items >= 0] * n_items
                     + known_items[known_items >= 0])
    rng = np.random.default_rng(seed)
    test_users = user_pos.get_indexer(test[USER]).astype(np.int64)
    negatives = np.empty((len(test), n_negatives), dtype=np.int64)
    todo = np.arange(len(test))
    while todo.size:  # rejection sampling: a row without enough valid draws is drawn again
        draws = rng.integers(0, n_items, (todo.size, 3 * n_negatives))
        draw_keys = test_users[todo, None] * n_items + draws
        pos = np.minimum(np.searchsorted(keys, draw_keys), len(keys) - 1)
        ok = keys[pos] != draw_keys
        sort = np.argsort(draws, axis=1, kind="stable")  # mark repeats within a row
        sorted_draws = np.take_along_axis(draws, sort, axis=1)
        repeat = np.c_[np.zeros(len(todo), bool), sorted_draws[:, 1:] == sorted_draws[:, :-1]]
        np.put_along_axis(ok, sort, np.take_along_axis(ok, sort, axis=1) & ~repeat, axis=1)
        enough = ok.sum(axis=1) >= n_negatives
        front = np.argsort(~ok, axis=1, kind="stable")[:, :n_negatives]  # valid draws first
        negatives[todo[enough]] = np.take_along_axis(draws, front, axis=1)[enough]
        todo = todo[~enough]
    positives = test[ITEM].to_numpy()[:, None]
    return np.hstack([positives, catalogue[negatives]])
