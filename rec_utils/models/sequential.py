"""Next-item (sequential) recommendation: sequence utilities, baselines and Keras builders.

Taught in ``notebooks/08_rnns_and_sequential_recommendation.ipynb``, which builds each piece
step by step before using this module.

Conventions
-----------
* A user's history is ordered by timestamp; ratings given in the same second keep the
  order of their rows in the frame (as in :func:`rec_utils.split.leave_last_k_out`).
* Items enter a network as **tokens**: ``token = position in items + 1`` where ``items`` is
  an :class:`~rec_utils.split.IdIndex`; token ``0`` is padding. Sequences are padded on the
  left, so the most recent item is always the last column.
* Networks predict the item's *position* (``token - 1``): their softmax has one output per
  item of ``items``.

Contents: :func:`time_ordered`, :func:`user_sequences`, :func:`next_item_examples`;
the baselines :class:`MarkovChainRecommender` and :class:`RecentPopularityRecommender`;
the evaluation helpers :func:`candidate_metrics` and :func:`full_ranking_metrics`; the input
pipeline :func:`next_item_dataset`; and the Keras builder :func:`build_gru4rec` (GRU4Rec-style,
or its LSTM variant).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._checks import positive_int as _check_positive_int
from ..baselines import Recommender
from ..constants import ITEM, TIMESTAMP, USER
from ..metrics import exclude_seen, ranking_metrics, top_k
from ..split import IdIndex, check_interactions

__all__ = ["time_ordered", "user_sequences", "next_item_examples", "MarkovChainRecommender",
           "RecentPopularityRecommender", "candidate_metrics", "full_ranking_metrics", "next_item_dataset",
           "build_gru4rec"]


def time_ordered(ratings: pd.DataFrame) -> pd.DataFrame:
    """The rows grouped by user, each user's rows by timestamp, ties in the rows' order.

    >>> r = pd.DataFrame({"user_id": [2, 1, 1], "item_id": [7, 9, 8], "timestamp": [5, 3, 3]})
    >>> time_ordered(r)["item_id"].tolist()
    [9, 8, 7]
    """
    check_interactions(ratings, (USER, ITEM, TIMESTAMP))
    order = np.lexsort((np.arange(len(ratings)), ratings[TIMESTAMP].to_numpy(), ratings[USER].to_numpy()))
    return ratings.iloc[order].reset_index(drop=True)


def _tokens_and_starts(ratings: pd.DataFrame, items: IdIndex | None):
    """Time-ordered tokens, the user of each row, and where each user's rows start."""
    ordered = time_ordered(ratings)
    items = items if items is not None else IdIndex(ordered[ITEM])
    tokens = (items.positions(ordered[ITEM].to_numpy()) + 1).astype(np.int32)
    users = ordered[USER].to_numpy()
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    return tokens, users, starts


def _windows(tokens: np.ndarray, ends: np.ndarray, firsts: np.ndarray, max_len: int) -> np.ndarray:
    """Left-padded windows ``tokens[max(first, end - max_len):end]``, one row per ``end``."""
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
    _check_positive_int("max_len", max_len)
    tokens, users, starts = _tokens_and_starts(ratings, items)
    ends = np.r_[starts[1:], len(tokens)]
    return users[starts], _windows(tokens, ends, starts, max_len)


def next_item_examples(ratings: pd.DataFrame, max_len: int, items: IdIndex | None = None):
    """Training pairs from every prefix of every user's history: (last ``max_len`` items, next item).

    A user with ``n`` interactions gives ``n - 1`` examples: the first item predicts the
    second, the first two the third, and so on; each input is left-padded like
    :func:`user_sequences`.

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
    """
    _check_positive_int("max_len", max_len)
    tokens, users, starts = _tokens_and_starts(ratings, items)
    first_of_row = np.repeat(starts, np.diff(np.r_[starts, len(tokens)]))
    target_rows = np.flatnonzero(np.arange(len(tokens)) > first_of_row)
    inputs = _windows(tokens, target_rows, first_of_row[target_rows], max_len)
    return inputs, tokens[target_rows] - 1, users[target_rows]


# --------------------------------------------------------------------------- baselines

class MarkovChainRecommender(Recommender):
    """First-order Markov chain: the next item follows from the last one.

    ``fit`` counts, over every user's time-ordered history, how often item ``j`` directly
    follows item ``i`` (``transitions_[i, j]``). ``score`` gives each user the transition
    counts out of their last item, plus the item's popularity scaled into ``[0, 1)``: the
    counts decide, and popularity only breaks ties and ranks the items never seen after
    that last item (the fallback).

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10],
    ...                   "timestamp": [1, 2, 1, 2, 1]})
    >>> model = MarkovChainRecommender().fit(r)
    >>> model.transitions_.toarray().tolist()
    [[0, 2], [0, 0]]
    >>> model.recommend([3], k=1).tolist()
    [[20]]
    """

    def fit(self, ratings, users=None, items=None):
        check_interactions(ratings, (USER, ITEM, TIMESTAMP))
        self._prepare(ratings, users, items)
        ordered = time_ordered(ratings)
        positions = self.items_.positions(ordered[ITEM].to_numpy())
        user_ids = ordered[USER].to_numpy()
        same_user = user_ids[1:] == user_ids[:-1]
        n = len(self.items_)
        self.transitions_ = sp.csr_matrix(
            (np.ones(same_user.sum(), dtype=np.int32), (positions[:-1][same_user], positions[1:][same_user])),
            shape=(n, n), dtype=np.int32)
        self.transitions_.sum_duplicates()
        self.popularity_ = np.bincount(positions, minlength=n)
        last_rows = np.flatnonzero(np.r_[~same_user, True])
        self.last_item_ = np.full(len(self.users_), -1, dtype=np.int64)
        self.last_item_[self.users_.positions(user_ids[last_rows])] = positions[last_rows]
        return self

    def score_after(self, last_items) -> np.ndarray:
        """Scores of every item after each of ``last_items`` (item positions; -1 = none)."""
        self._check_fitted()
        last_items = np.asarray(last_items)
        tie_break = (self.popularity_ / (self.popularity_.max() + 1.0)).astype(np.float32)
        scores = np.tile(tie_break, (len(last_items), 1))
        known = last_items >= 0
        scores[known] += self.transitions_[last_items[known]].toarray()
        return scores

    def score(self, user_ids):
        return self.score_after(self.last_item_[self._rows(user_ids)])


class RecentPopularityRecommender(Recommender):
    """The items most often rated in the ``window`` ratings just before a moment in time.

    Popularity that moves with time and never looks ahead: for a user asking at time ``t``
    only training interactions with ``timestamp < t`` count, and of those only the latest
    ``window``. Items outside the window keep a tie-breaking share of their overall
    popularity *up to* ``t`` (scaled into ``[0, 1)``), so the ranking is complete.

    Parameters
    ----------
    window : int
        How many of the most recent interactions before the moment of the request count.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 2, 3, 4], "item_id": [10, 10, 20, 20],
    ...                   "timestamp": [1, 2, 3, 4]})
    >>> model = RecentPopularityRecommender(window=2).fit(r)
    >>> np.round(model.score_at([4, 5]).astype(float), 2).tolist()  # at t=4 the window holds 10 and 20
    [[1.67, 1.33], [0.67, 2.67]]
    """

    def __init__(self, window: int = 1000):
        _check_positive_int("window", window)
        self.window = window

    def fit(self, ratings, users=None, items=None):
        check_interactions(ratings, (USER, ITEM, TIMESTAMP))
        self._prepare(ratings, users, items)
        order = np.argsort(ratings[TIMESTAMP].to_numpy(), kind="stable")
        self.times_ = ratings[TIMESTAMP].to_numpy()[order]
        self.positions_ = self.items_.positions(ratings[ITEM].to_numpy()[order])
        return self

    def score_at(self, at) -> np.ndarray:
        """Scores of every item for requests made at the times ``at`` (one row per time)."""
        self._check_fitted()
        n = len(self.items_)
        ends = np.searchsorted(self.times_, np.asarray(at), side="left")  # strictly before each time
        scores = np.empty((len(ends), n), dtype=np.float32)
        for row, end in enumerate(ends):
            before = np.bincount(self.positions_[:end], minlength=n)
            recent = np.bincount(self.positions_[max(0, end - self.window):end], minlength=n)
            scores[row] = recent + before / (before.max() + 1.0)
        return scores

    def score(self, user_ids):
        """Scores at the end of the training data, the same for everyone."""
        rows = self._rows(user_ids)
        return np.tile(self.score_at([self.times_[-1] + 1]), (len(rows), 1))

    def recommend_at(self, user_ids, at, k: int = 10, exclude_train: bool = True) -> np.ndarray:
        """Item ids of each user's top-k for a request at time ``at`` (one time per user)."""
        scores = self.score_at(at)
        if exclude_train:
            scores = exclude_seen(scores, self.seen_[self._rows(user_ids)])
        return self.items_.ids[top_k(scores, k)]


# --------------------------------------------------------------------------- evaluation

def candidate_metrics(candidate_scores, k: int = 10, seed: int = 0) -> dict:
    """HR@k and NDCG@k when each row ranks its own candidates and column 0 is the positive.

    The protocol of NCF and SASRec: the held-out item among sampled negatives. Ties are
    broken at random (the columns are shuffled with ``seed`` before ranking), because
    :func:`rec_utils.metrics.top_k` breaks ties by column and would otherwise hand every
    tie to the positive in column 0.

    >>> candidate_metrics([[0.9, 0.5, 0.1], [0.2, 0.8, 0.1]], k=1)
    {'hr@1': 0.5, 'ndcg@1': 0.5}
    """
    scores = np.asarray(candidate_scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"candidate_scores must be 2-D (rows x candidates, >= 2 columns), got shape {scores.shape}")
    truth = np.zeros_like(scores)
    truth[:, 0] = 1.0
    shuffle = np.random.default_rng(seed).permuted(np.tile(np.arange(scores.shape[1]), (len(scores), 1)), axis=1)
    result = ranking_metrics(np.take_along_axis(truth, shuffle, axis=1), np.take_along_axis(scores, shuffle, axis=1),
                             k, metrics=("hit_rate", "ndcg"))
    return {f"hr@{k}": result["hit_rate"], f"ndcg@{k}": result["ndcg"]}


def full_ranking_metrics(scores, targets, seen, k: int = 10, batch_size: int = 256) -> dict:
    """HR@k and NDCG@k of one held-out item per row, ranked among all items not in ``seen``.

    ``scores`` is rows x items, ``targets`` the held-out item's column in each row, ``seen``
    the rows x items matrix (dense or sparse) of training interactions, excluded from the
    ranking. Rows are ranked ``batch_size`` at a time, which keeps the temporary arrays small.

    >>> full_ranking_metrics([[5.0, 4.0, 3.0, 2.0]], targets=[2], seen=[[1, 1, 0, 0]], k=1)
    {'hr@1': 1.0, 'ndcg@1': 1.0}
    """
    scores = np.asarray(scores)
    targets = np.asarray(targets)
    if scores.ndim != 2 or targets.shape != (scores.shape[0],):
        raise ValueError(f"scores must be rows x items and targets one column per row, got shapes "
                         f"{scores.shape} and {targets.shape}")
    _check_positive_int("batch_size", batch_size)
    seen = seen if sp.issparse(seen) else np.asarray(seen)
    per_row = {"hit_rate": [], "ndcg": []}
    for start in range(0, len(targets), batch_size):
        rows = slice(start, start + batch_size)
        n = len(targets[rows])
        truth = sp.csr_matrix((np.ones(n), (np.arange(n), targets[rows])), shape=(n, scores.shape[1]))
        batch = ranking_metrics(truth, exclude_seen(scores[rows], seen[rows]), k, metrics=tuple(per_row),
                                average=False)
        for name, values in batch.items():
            per_row[name].append(values)
    return {f"hr@{k}": float(np.mean(np.concatenate(per_row["hit_rate"]))),
            f"ndcg@{k}": float(np.mean(np.concatenate(per_row["ndcg"])))}


# --------------------------------------------------------------------------- Keras

def next_item_dataset(inputs, targets=None, batch_size: int = 512, shuffle: bool = False, seed: int = 0):
    """A ``tf.data`` pipeline of (inputs, targets) batches for ``fit``, or of inputs for ``predict``.

    With ``shuffle=True`` the rows are permuted once (seeded), cut into batches, and the order
    of the batches is reshuffled every epoch: the examples of one user, which
    :func:`next_item_examples` lists together, are spread over many batches, and no
    row-level shuffle buffer is held in memory. (Passing NumPy arrays to ``fit`` directly
    also works, but builds a heavier pipeline.)

    Examples
    --------
    >>> dataset = next_item_dataset(np.zeros((10, 3), np.int32), np.arange(10), batch_size=4)
    >>> [tuple(x.shape) for x, _ in dataset]
    [(4, 3), (4, 3), (2, 3)]
    """
    import tensorflow as tf

    _check_positive_int("batch_size", batch_size)
    inputs = np.asarray(inputs, dtype=np.int32)
    order = np.random.default_rng(seed).permutation(len(inputs)) if shuffle else np.arange(len(inputs))
    if targets is None:
        rows = tf.data.Dataset.from_tensor_slices(inputs[order])
    else:
        targets = np.asarray(targets, dtype=np.int32)
        if targets.shape != (len(inputs),):
            raise ValueError(f"targets must hold one item per input row, got shapes {inputs.shape} and {targets.shape}")
        rows = tf.data.Dataset.from_tensor_slices((inputs[order], targets[order]))
    batches = rows.batch(batch_size)
    if shuffle:
        batches = batches.shuffle(-(-len(inputs) // batch_size), seed=seed, reshuffle_each_iteration=True)
    return batches.prefetch(1)


def build_gru4rec(n_items: int, embedding_dim: int = 64, hidden_units: int = 64, max_len: int = 50,
                  cell: str = "gru", dropout: float = 0.0, learning_rate: float = 1e-3, name: str | None = None):
    """A GRU4Rec-style next-item model: item embedding -> GRU (or LSTM) -> softmax over items.

    After Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks"
    (ICLR 2016), trained here with the full softmax and cross-entropy on all prefixes of
    each history (see :func:`next_item_examples`).

    Parameters
    ----------
    n_items : int
        Number of items; inputs are tokens ``0..n_items`` (0 = padding, masked).
    embedding_dim, hidden_units : int
        Size of the item vectors and of the recurrent state.
    max_len : int
        Length of the (left-padded) input sequences.
    cell : {"gru", "lstm"}
        The recurrent layer.
    dropout : float
        Dropout rate on the item vectors and on the final state, in [0, 1).
    learning_rate : float
        Adam's step size.

    Returns
    -------
    keras.Model
        Compiled with Adam and sparse categorical cross-entropy; maps ``(batch, max_len)``
        int tokens to ``(batch, n_items)`` next-item probabilities. Layers are named
        ``item_history``, ``item_embedding``, ``embedding_dropout``, ``gru``/``lstm``,
        ``state_dropout``, ``next_item_logits`` and ``next_item``.
    """
    for arg, value in (("n_items", n_items), ("embedding_dim", embedding_dim),
                       ("hidden_units", hidden_units), ("max_len", max_len)):
        _check_positive_int(arg, value)
    if cell not in ("gru", "lstm"):
        raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}")
    if not (isinstance(dropout, numbers.Real) and 0 <= dropout < 1):
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    if not (isinstance(learning_rate, numbers.Real) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    import keras

    recurrent = keras.layers.GRU if cell == "gru" else keras.layers.LSTM
    history = keras.Input(shape=(max_len,), dtype="int32", name="item_history")
    vectors = keras.layers.Embedding(n_items + 1, embedding_dim, mask_zero=True, name="item_embedding")(history)
    vectors = keras.layers.Dropout(dropout, name="embedding_dropout")(vectors)
    state = recurrent(hidden_units, name=cell)(vectors)
    state = keras.layers.Dropout(dropout, name="state_dropout")(state)
    logits = keras.layers.Dense(n_items, name="next_item_logits")(state)
    probabilities = keras.layers.Activation("softmax", name="next_item")(logits)
    model = keras.Model(history, probabilities, name=name or f"{cell}4rec")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return model
