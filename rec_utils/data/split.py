"""Train/test splits, id indexing and candidate sets.

Taught in ``notebooks/02_preprocessing.ipynb`` (leakage) and used by every notebook that
evaluates a model. Every split is a partition of the input rows: nothing from the test
part is used to build the training part, and each random split takes a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import fraction, positive_int
from .interactions import IdIndex, check_interactions
from .schema import ITEM, TIMESTAMP, USER

__all__ = ["random_split", "stratified_split", "temporal_split", "leave_last_k_out", "sample_candidates"]


def _pair_groups(ratings: pd.DataFrame) -> tuple[np.ndarray, int]:
    """A group number per row, shared by the rows of one (user, item) pair, and the group count."""
    codes = ratings.groupby([USER, ITEM], sort=False).ngroup().to_numpy()
    return codes, int(codes.max()) + 1


def random_split(ratings: pd.DataFrame, test_size: float = 0.25, seed: int = 42):
    """Each (user, item) pair goes to test with probability ``test_size`` (exactly that share, shuffled).

    Rows of a pair that occurs more than once stay together, so a pair is never on both sides.
    """
    check_interactions(ratings)
    fraction("test_size", test_size)
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
    fraction("test_size", test_size)
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
    fraction("test_size", test_size)
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
    k, min_train = positive_int("k", k), positive_int("min_train", min_train)
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
    n_negatives = positive_int("n_negatives", n_negatives)
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
