"""Next-item (sequential) recommendation: baselines, the input pipeline and GRU4Rec.

Taught in ``notebooks/08_rnns_and_sequential_recommendation.ipynb``, which builds each piece
step by step before using this module.

The sequences these models learn from are prepared by :mod:`rec_utils.data.sequences`
(tokens are item positions + 1, padding 0, left-padded rows). Contents: the baselines
:class:`MarkovChainRecommender` and :class:`RecentPopularityRecommender`; the input pipeline
:func:`next_item_dataset`; and the Keras builder :func:`build_gru4rec` (GRU4Rec-style, or its
LSTM variant). Their evaluation is :mod:`rec_utils.evaluation` (full ranking and sampled
candidates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._checks import check_choice, check_number, positive_int
from ..data.interactions import deduplicate_interactions
from ..data.schema import ITEM, TIMESTAMP, USER
from ..data.sequences import time_ordered
from .base import Recommender

__all__ = ["MarkovChainRecommender", "RecentPopularityRecommender", "next_item_dataset", "build_gru4rec"]


# --------------------------------------------------------------------------- baselines

class MarkovChainRecommender(Recommender):
    """First-order Markov chain: the next item follows from the last one.

    ``fit`` counts, over every user's time-ordered history, how often item ``j`` directly
    follows item ``i`` (``transitions_[i, j]``). ``score`` gives each user the transition
    counts out of their last item, plus the item's popularity scaled into ``[0, 1)``: the
    counts decide, and popularity only breaks ties and ranks the items never seen after
    that last item (the fallback).

    Like every recommender, it counts a (user, item) pair once, at its latest timestamp
    (:func:`~rec_utils.data.deduplicate_interactions`): a re-watched item moves to the end
    of the user's history instead of appearing twice.

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
        self.prepare(ratings, users, items, columns=(TIMESTAMP,))
        ordered = time_ordered(deduplicate_interactions(ratings))
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
        self.check_fitted()
        last_items = np.asarray(last_items)
        tie_break = (self.popularity_ / (self.popularity_.max() + 1.0)).astype(np.float32)
        scores = np.tile(tie_break, (len(last_items), 1))
        known = last_items >= 0
        scores[known] += self.transitions_[last_items[known]].toarray()
        return scores

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return self.score_after(self.last_item_[rows])


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
        self.window = window

    def validate_params(self):
        positive_int("window", self.window)

    def fit(self, ratings, users=None, items=None):
        self.prepare(ratings, users, items, columns=(TIMESTAMP,))
        ratings = deduplicate_interactions(ratings)
        order = np.argsort(ratings[TIMESTAMP].to_numpy(), kind="stable")
        self.times_ = ratings[TIMESTAMP].to_numpy()[order]
        self.positions_ = self.items_.positions(ratings[ITEM].to_numpy()[order])
        return self

    def score_at(self, at) -> np.ndarray:
        """Scores of every item for requests made at the times ``at`` (one row per time)."""
        self.check_fitted()
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
        rows = self.user_positions(user_ids)
        return np.tile(self.score_at([self.times_[-1] + 1]), (len(rows), 1))

    def recommend_at(self, user_ids, at, k: int = 10, exclude_train: bool = True) -> np.ndarray:
        """Item ids of each user's top-k for a request at time ``at`` (one time per user).

        Like :meth:`recommend`: never an item the user saw in training, padded with ``PAD``.
        """
        rows = self.user_positions(user_ids)
        return self.top_items(self.score_at(at), rows, k, exclude_train)


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

    positive_int("batch_size", batch_size)
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
        positive_int(arg, value)
    check_choice("cell", cell, ("gru", "lstm"))
    check_number("dropout", dropout, low=0, high=1, high_inclusive=False)
    check_number("learning_rate", learning_rate, low=0, low_inclusive=False)
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
