"""Interaction histories as sequences: the inputs of next-item models.

Taught in ``notebooks/09_rnns_and_sequential_recommendation.ipynb`` (GRU4Rec) and used by
``11_large_models_and_scaling.ipynb`` (SASRec).

Conventions
-----------
* A user's history is ordered by timestamp; ratings given in the same second keep the
  order of their rows in the frame (as in :func:`~rec_utils.data.leave_last_k_out`).
  Every function here needs a ``timestamp`` column: data without one have no order to learn.
* Items enter a network as **tokens**: ``token = position in items + 1`` where ``items`` is
  an :class:`~rec_utils.data.IdIndex`; token ``0`` is padding. Sequences are padded on the
  left, so the most recent item is always the last column.
* Networks predict the item's *position* (``token - 1``).

Cost grows with the data only as far as a stated budget allows: ``max_len`` caps the history
a network reads, and ``max_per_user`` (:func:`next_item_examples`) or ``max_windows_per_user``
(:func:`next_item_sequences`) keep each user's most recent training examples only, with
:func:`cap_per_user` choosing the cap that fits a total number of examples. A user with
thousands of ratings then costs no more than the budget gives every user.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import positive_int
from .interactions import IdIndex, check_interactions
from .schema import ITEM, TIMESTAMP, USER

__all__ = ["time_ordered", "item_tokens", "left_padded_windows", "user_sequences", "next_item_examples",
           "next_item_sequences", "cap_per_user"]


def time_ordered(ratings: pd.DataFrame) -> pd.DataFrame:
    """The rows grouped by user, each user's rows by timestamp, ties in the rows' order.

    >>> r = pd.DataFrame({"user_id": [2, 1, 1], "item_id": [7, 9, 8], "timestamp": [5, 3, 3]})
    >>> time_ordered(r)["item_id"].tolist()
    [9, 8, 7]
    """
    check_interactions(ratings, (USER, ITEM, TIMESTAMP))
    order = np.lexsort((np.arange(len(ratings)), ratings[TIMESTAMP].to_numpy(), ratings[USER].to_numpy()))
    return ratings.iloc[order].reset_index(drop=True)


def item_tokens(ratings: pd.DataFrame, items: IdIndex | None = None):
    """Time-ordered tokens (item position + 1), the user of each row, and where each user's rows start.

    >>> r = pd.DataFrame({"user_id": [2, 1, 1], "item_id": [7, 9, 8], "timestamp": [5, 3, 4]})
    >>> tokens, users, starts = item_tokens(r)
    >>> tokens.tolist(), users.tolist(), starts.tolist()
    ([3, 2, 1], [1, 1, 2], [0, 2])
    """
    ordered = time_ordered(ratings)
    items = items if items is not None else IdIndex(ordered[ITEM])
    tokens = (items.positions(ordered[ITEM].to_numpy()) + 1).astype(np.int32)
    users = ordered[USER].to_numpy()
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    return tokens, users, starts


def left_padded_windows(tokens: np.ndarray, ends: np.ndarray, firsts: np.ndarray, max_len: int) -> np.ndarray:
    """Left-padded windows ``tokens[max(first, end - max_len):end]``, one row per ``end``.

    >>> left_padded_windows(np.array([5, 6, 7]), ends=np.array([1, 3]), firsts=np.array([0, 0]), max_len=2).tolist()
    [[0, 5], [6, 7]]
    """
    index = ends[:, None] - max_len + np.arange(max_len)[None, :]
    inside = index >= firsts[:, None]
    return np.where(inside, tokens[np.maximum(index, 0)], 0).astype(np.int32)


def user_sequences(ratings: pd.DataFrame, max_len: int, items: IdIndex | None = None):
    """Each user's latest ``max_len`` items as a left-padded row of tokens.

    Parameters
    ----------
    ratings : DataFrame
        Interactions with ``user_id, item_id, timestamp``.
    max_len : int
        Length of every row; longer histories keep their most recent ``max_len`` items.
    items : IdIndex, optional
        The item vocabulary (default: the items in ``ratings``); token = position + 1.

    Returns
    -------
    user_ids : ndarray of shape (n_users,)
        Sorted user ids, one per row.
    sequences : ndarray of int32, shape (n_users, max_len)
        Tokens, oldest first, most recent in the last column, 0 for padding.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [30, 10, 20, 10],
    ...                   "timestamp": [3, 1, 2, 1]})
    >>> users, seqs = user_sequences(r, max_len=2)
    >>> users.tolist(), seqs.tolist()
    ([1, 2], [[2, 3], [0, 1]])
    """
    positive_int("max_len", max_len)
    tokens, users, starts = item_tokens(ratings, items)
    ends = np.r_[starts[1:], len(tokens)]
    return users[starts], left_padded_windows(tokens, ends, starts, max_len)


def next_item_examples(ratings: pd.DataFrame, max_len: int, items: IdIndex | None = None,
                       max_per_user: int | None = None):
    """Training pairs from every prefix of every user's history: (last ``max_len`` items, next item).

    A user with ``n`` interactions gives ``n - 1`` examples: the first item predicts the
    second, the first two the third, and so on; each input is left-padded like
    :func:`user_sequences`. With ``max_per_user`` only each user's most recent
    ``max_per_user`` examples are kept (the newest targets: the ones most like the next item
    to predict), so a very long history costs no more than that; :func:`cap_per_user`
    chooses the cap that fits a budget of examples.

    Returns
    -------
    inputs : ndarray of int32, shape (n_examples, max_len)
        Tokens of the items before the target.
    targets : ndarray of int32, shape (n_examples,)
        Position of the next item in ``items`` (its token minus 1).
    user_ids : ndarray, shape (n_examples,)
        Whose history each example comes from.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [10, 20, 30], "timestamp": [1, 2, 3]})
    >>> inputs, targets, _ = next_item_examples(r, max_len=2)
    >>> inputs.tolist(), targets.tolist()
    ([[0, 1], [1, 2]], [1, 2])
    >>> next_item_examples(r, max_len=2, max_per_user=1)[1].tolist()  # the newest example only
    [2]
    """
    positive_int("max_len", max_len)
    if max_per_user is not None:
        positive_int("max_per_user", max_per_user)
    tokens, users, starts = item_tokens(ratings, items)
    sizes = np.diff(np.r_[starts, len(tokens)])
    first_of_row = np.repeat(starts, sizes)
    row = np.arange(len(tokens))
    is_target = row > first_of_row
    if max_per_user is not None:
        is_target &= np.repeat(starts + sizes, sizes) - row <= max_per_user  # 1 for a user's newest row
    target_rows = np.flatnonzero(is_target)
    inputs = left_padded_windows(tokens, target_rows, first_of_row[target_rows], max_len)
    return inputs, tokens[target_rows] - 1, users[target_rows]


def next_item_sequences(ratings: pd.DataFrame, max_len: int, items: IdIndex | None = None, stride: int | None = None,
                        max_windows_per_user: int | None = None):
    """Sequence-to-sequence training windows: tokens, and the next item at every position.

    Each user's time-ordered history ``t_1 .. t_n`` becomes input ``t_1 .. t_{n-1}`` with
    targets ``t_2 .. t_n`` (every position predicts the item that follows it), cut from the
    most recent end into windows of ``max_len`` positions; the oldest window of a user is
    left-padded (token 0, target -1). Every training interaction except each user's first is
    the target of exactly one position, as in :func:`next_item_examples`,
    but a position sees only the earlier items of its own window.

    With ``stride < max_len`` the windows overlap: one ends every ``stride`` positions. A
    position in the overlap sits near the end of the older window (many items before it) and
    near the start of the newer one (few), so the newer window drops its target: every window
    but a user's oldest keeps targets only in its last ``stride`` positions. Every target is
    still trained once, now with at least ``max_len - stride`` earlier items in view (where the
    history has them), at about ``max_len / stride`` times the cost.

    With ``max_windows_per_user`` only each user's newest windows are kept: the targets of a
    long history's oldest part are dropped, and the oldest window kept keeps all its targets.

    Parameters
    ----------
    ratings : DataFrame
        Interactions with ``user_id, item_id, timestamp``.
    max_len : int
        Window length.
    items : IdIndex, optional
        The item vocabulary (default: the items in ``ratings``); token = position + 1.
    stride : int, optional
        Positions between the ends of consecutive windows, 1..max_len (default ``max_len``:
        no overlap).
    max_windows_per_user : int, optional
        Keep at most this many windows per user, the newest (default: all).

    Returns
    -------
    inputs : ndarray of int32, shape (n_windows, max_len)
        Tokens, 0 for padding.
    targets : ndarray of int32, shape (n_windows, max_len)
        Position of the next item in ``items`` (token - 1), -1 where the input is padding.
    user_ids : ndarray, shape (n_windows,)
        Whose history each window comes from.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 1, 1], "item_id": [10, 20, 30, 40],
    ...                   "timestamp": [1, 2, 3, 4]})
    >>> inputs, targets, users = next_item_sequences(r, max_len=2)
    >>> inputs.tolist(), targets.tolist(), users.tolist()
    ([[0, 1], [2, 3]], [[-1, 1], [2, 3]], [1, 1])
    >>> next_item_sequences(r, max_len=2, max_windows_per_user=1)[0].tolist()  # the newest window only
    [[2, 3]]
    """
    max_len = positive_int("max_len", max_len)
    stride = max_len if stride is None else positive_int("stride", stride)
    if stride > max_len:
        raise ValueError(f"stride must be at most max_len={max_len}, got {stride}")
    if max_windows_per_user is not None:
        positive_int("max_windows_per_user", max_windows_per_user)
    tokens, users, starts = item_tokens(ratings, items)
    ends = np.r_[starts[1:], len(tokens)]
    window_ends, window_firsts, oldest_kept = [], [], []
    for first, end in zip(starts, ends):
        # input positions first .. end-2 predict first+1 .. end-1; windows are cut from the newest end
        last_inputs = np.arange(end - 1, first, -stride)[:max_windows_per_user]
        window_ends.append(last_inputs)
        window_firsts.append(np.full(len(last_inputs), first))
        oldest_kept.append(np.arange(len(last_inputs)) == len(last_inputs) - 1)
    window_ends = np.concatenate(window_ends).astype(np.int64)
    window_firsts = np.concatenate(window_firsts).astype(np.int64)
    oldest_kept = np.concatenate(oldest_kept)
    order = np.argsort(window_ends, kind="stable")
    window_ends, window_firsts, oldest_kept = window_ends[order], window_firsts[order], oldest_kept[order]
    inputs = left_padded_windows(tokens, window_ends, window_firsts, max_len)
    targets = left_padded_windows(tokens, window_ends + 1, window_firsts + 1, max_len).astype(np.int32) - 1
    targets[inputs == 0] = -1
    if stride < max_len:
        # positions already covered, with more context, by the next older window kept for the same user
        has_older = (window_ends - stride > window_firsts) & ~oldest_kept
        targets[has_older, :max_len - stride] = -1
    return inputs, targets, users[window_ends]


def cap_per_user(counts, max_total: int) -> int | None:
    """The largest per-user cap ``N`` with ``sum(min(counts, N)) <= max_total``; None when everything fits.

    How many training examples (or windows) to keep per user so that an epoch holds at most
    ``max_total`` of them: users with fewer keep all theirs, the heaviest users are cut to
    their newest ``N``. When even one per user is too many, the cap is 1.

    Parameters
    ----------
    counts : array of int
        Examples available per user, e.g. each user's number of interactions minus 1.
    max_total : int
        The budget: examples per epoch.

    Examples
    --------
    >>> cap_per_user([2, 5, 100], max_total=200) is None  # 107 examples fit
    True
    >>> cap_per_user([2, 5, 100], max_total=20)  # 2 + 5 + 13 = 20
    13
    """
    counts = np.asarray(counts)
    if counts.ndim != 1 or not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
        raise ValueError(f"counts must be a 1-D array of non-negative integers, got {counts.dtype} array of "
                         f"shape {counts.shape}")
    max_total = positive_int("max_total", max_total)
    if counts.sum() <= max_total:
        return None
    low, high = 1, int(counts.max())  # sum(min(counts, high)) > max_total
    while high - low > 1:
        middle = (low + high) // 2
        if np.minimum(counts, middle).sum() <= max_total:
            low = middle
        else:
            high = middle
    return low
