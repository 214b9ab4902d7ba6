"""Next-item (sequential) recommendation: baselines, the input pipeline and GRU4Rec.

Taught in ``notebooks/09_rnns_and_sequential_recommendation.ipynb``, which builds each piece
step by step before using this module.

The sequences these models learn from are prepared by :mod:`rec_utils.data.sequences`
(tokens are item positions + 1, padding 0, left-padded rows). Contents: the baselines
:class:`MarkovChainRecommender` and :class:`RecentPopularityRecommender`; the input pipeline
:func:`next_item_dataset`; and the Keras builder :func:`build_gru4rec` (GRU4Rec-style, or its
LSTM variant). Their evaluation is :mod:`rec_utils.evaluation` (full ranking and sampled
candidates).

A large catalogue makes the full softmax the dominant cost of training (one score per item
for every training example). :func:`sampled_softmax_model` trains the same network with a
**sampled softmax**: each batch scores its true next items against ``n_negatives`` items drawn
from a popularity-shaped proposal, with the log-Q correction that keeps the estimate aimed at
the full softmax (Jean et al., ACL 2015; Yi et al., RecSys 2019); validation still uses the
full softmax, and so does scoring. The course's rule is :data:`FULL_SOFTMAX_MAX_ITEMS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd  # noqa: F401 (the doctests use it)
import scipy.sparse as sp

from .._checks import check_choice, check_number, positive_int
from ..data.interactions import deduplicate_interactions
from ..data.schema import ITEM, TIMESTAMP, USER
from ..data.sequences import time_ordered
from .base import Recommender

__all__ = ["MarkovChainRecommender", "RecentPopularityRecommender", "next_item_dataset", "build_gru4rec",
           "FULL_SOFTMAX_MAX_ITEMS", "sampled_softmax_model", "sampled_softmax_cross_entropy",
           "fit_next_item_model"]

FULL_SOFTMAX_MAX_ITEMS = 2000
"""The course's rule for next-item networks: a full softmax up to this many items, a sampled one above.

The full softmax gives the exact gradient, and its cost grows with every item; a sampled
softmax with a few hundred draws (see :func:`sampled_softmax_model`) costs the same whatever
the catalogue. Measured on 2 CPU cores for SASRec (batches of 16 windows of 50), a training step
with the full softmax costs about what the sampled one costs near 2,000 items, and four times
as much at 3,700 (ML-1M's catalogue); above the rule, the sampled softmax is the cheaper one."""


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
        """Scores of every item for requests made at the times ``at`` (one row per time).

        The requests are answered in time order, each updating the counts of the one before
        by the interactions in between, so the cost is one pass over the training data plus
        one row per request, however many requests and however long the data.
        """
        self.check_fitted()
        n = len(self.items_)
        ends = np.searchsorted(self.times_, np.asarray(at), side="left")  # strictly before each time
        scores = np.empty((len(ends), n), dtype=np.float32)
        before = np.zeros(n, dtype=np.int64)  # counts of positions_[:done]
        recent = np.zeros(n, dtype=np.int64)  # counts of positions_[dropped:done]
        done = dropped = 0
        for row in np.argsort(ends, kind="stable"):
            end = int(ends[row])
            start = max(0, end - self.window)
            added = np.bincount(self.positions_[done:end], minlength=n)
            before += added
            recent += added
            recent -= np.bincount(self.positions_[dropped:start], minlength=n)
            done, dropped = end, start
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

def next_item_dataset(inputs, targets=None, batch_size: int = 512, shuffle: bool = False, seed: int = 0,
                      targets_as_input: bool = False):
    """A ``tf.data`` pipeline of (inputs, targets) batches for ``fit``, or of inputs for ``predict``.

    With ``shuffle=True`` the rows are permuted once (seeded), cut into batches, and the order
    of the batches is reshuffled every epoch: the examples of one user, which
    :func:`next_item_examples` lists together, are spread over many batches, and no
    row-level shuffle buffer is held in memory. (Passing NumPy arrays to ``fit`` directly
    also works, but builds a heavier pipeline.) With ``targets_as_input=True`` each batch is
    ``((inputs, targets),)``: both go *into* the model, as :func:`sampled_softmax_model`'s
    trainer needs them.

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
        pairs = (inputs[order], targets[order])
        rows = tf.data.Dataset.from_tensor_slices((pairs,) if targets_as_input else pairs)
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


# --------------------------------------------------------------------------- sampled softmax

def sampled_softmax_cross_entropy(states, targets, output_layer, n_negatives: int | None = None, log_proposal=None,
                                  seed_generator=None, head=None):
    """Mean cross-entropy of a dense output layer's item logits: full softmax, or sampled with the log-Q correction.

    The one loss of the course's next-item networks (GRU4Rec and SASRec through
    :func:`sampled_softmax_model`, BERT4Rec through
    :func:`rec_utils.models.bert4rec.cloze_training_model`), called inside their loss layers.
    ``states`` are the vectors that feed ``output_layer`` (``(batch, d)`` or ``(batch, L, d)``)
    and ``targets`` the item positions to predict (same shape without ``d``; -1 = no target,
    skipped). ``head``, if given, maps the kept states first (BERT4Rec's output transform).

    Without ``n_negatives`` the softmax is over every item. With it, each target is scored
    against ``n_negatives`` items drawn (with replacement, shared by the batch) from
    ``exp(log_proposal)``; each draw's logit is lowered by ``log(n_negatives · q(i))``, how
    often the item is expected among the draws (the log-Q correction of Jean et al., ACL 2015,
    and Yi et al., RecSys 2019), and a draw equal to the row's own target is hidden. The
    corrected draws estimate the softmax's denominator, so the loss estimates the full
    cross-entropy. Taught in ``notebooks/08_rnns_and_sequential_recommendation.ipynb``.

    Parameters
    ----------
    states : tensor, shape (..., d)
    targets : tensor of int, shape (...)
    output_layer : keras.layers.Dense
        The item logits (``kernel`` of shape ``(d, n_items)``, and a ``bias``).
    n_negatives : int, optional
        Items drawn per call; ``None`` for the full softmax.
    log_proposal : array of float32, shape (n_items,)
        Log-probabilities of the proposal (needed with ``n_negatives``).
    seed_generator : keras.random.SeedGenerator
        The draws' randomness (needed with ``n_negatives``).
    head : callable, optional
        Applied to the kept states before ``output_layer``.

    Returns
    -------
    tensor
        The mean loss over the real targets (0 when there is none).

    Examples
    --------
    >>> import keras
    >>> dense = keras.layers.Dense(3)
    >>> _ = dense(np.zeros((1, 2), "float32"))
    >>> dense.set_weights([np.zeros((2, 3), "float32"), np.zeros(3, "float32")])
    >>> loss = sampled_softmax_cross_entropy(np.ones((2, 2), "float32"), np.array([0, -1]), dense)
    >>> round(float(loss), 4) == round(float(np.log(3)), 4)  # one real target, uniform logits
    True
    """
    import keras
    import tensorflow as tf

    flat_states = tf.reshape(states, [-1, tf.shape(states)[-1]])
    flat_targets = tf.reshape(tf.cast(targets, "int32"), [-1])
    keep = tf.where(flat_targets >= 0)[:, 0]
    h, t = tf.gather(flat_states, keep), tf.gather(flat_targets, keep)
    if head is not None:
        h = head(h)
    kernel, bias = output_layer.kernel, output_layer.bias
    if n_negatives is not None:
        if log_proposal is None or seed_generator is None:
            raise ValueError("a sampled softmax (n_negatives given) needs log_proposal and seed_generator")
        log_proposal = np.asarray(log_proposal, dtype=np.float32)
        # log of how often each item is expected among the draws of a batch: the log-Q correction
        log_expected = tf.constant((np.log(int(n_negatives)) + log_proposal).astype(np.float32))
        negatives = tf.cast(keras.random.categorical(
            tf.constant(log_proposal)[None, :], int(n_negatives), seed=seed_generator)[0], "int32")
        true_logits = tf.reduce_sum(h * tf.transpose(tf.gather(kernel, t, axis=1)), axis=1) + tf.gather(bias, t)
        sampled_logits = (tf.matmul(h, tf.gather(kernel, negatives, axis=1))
                          + tf.gather(bias, negatives) - tf.gather(log_expected, negatives))
        accidental_hit = tf.equal(t[:, None], negatives[None, :])  # a negative that is the target
        sampled_logits = tf.where(accidental_hit, tf.fill(tf.shape(sampled_logits), -1e9), sampled_logits)
        logits = tf.concat([true_logits[:, None], sampled_logits], axis=1)
        labels = tf.zeros_like(t)
    else:
        logits, labels = tf.matmul(h, kernel) + bias, t
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_sum(losses) / tf.maximum(tf.cast(tf.size(t), losses.dtype), 1.0)


def _sampled_softmax_layer():
    """The loss layer, defined on first use so that importing this module never imports Keras."""
    global _SAMPLED_SOFTMAX
    if _SAMPLED_SOFTMAX is None:
        import keras

        class SampledSoftmaxLoss(keras.layers.Layer):
            """Next-item cross-entropy of ``output_layer``'s logits: sampled in training, full otherwise.

            Takes the states that feed ``output_layer`` (``(batch, d)`` or ``(batch, L, d)``) and the
            target positions (same shape without ``d``; -1 = no target), adds the mean loss over the
            real targets with ``add_loss`` and returns it.
            """

            def __init__(self, output_layer, log_proposal, n_negatives, seed, **kwargs):
                super().__init__(**kwargs)
                self.output_layer = output_layer
                self.n_negatives = int(n_negatives)
                self.log_proposal = np.asarray(log_proposal, dtype=np.float32)
                self.seed_generator = keras.random.SeedGenerator(seed)

            def call(self, states, targets, training=None):
                sampling = {"n_negatives": self.n_negatives, "log_proposal": self.log_proposal,
                            "seed_generator": self.seed_generator} if training else {}
                loss = sampled_softmax_cross_entropy(states, targets, self.output_layer, **sampling)
                self.add_loss(loss)
                return loss

            def compute_output_shape(self, *shapes):
                return ()

        _SAMPLED_SOFTMAX = SampledSoftmaxLoss
    return _SAMPLED_SOFTMAX


_SAMPLED_SOFTMAX = None


def sampled_softmax_model(model, n_negatives: int = 256, item_counts=None, power: float = 0.5,
                          learning_rate: float | None = None, seed: int = 0, states=None):
    """A training twin of a next-item model that learns with a sampled softmax.

    The full softmax scores every item of the catalogue for every training example; with
    tens of thousands of items that output layer dominates the cost. The sampled softmax
    scores each batch's true next items against ``n_negatives`` items drawn (with
    replacement, shared by the batch) from a proposal ``q(i) ∝ (count_i + 1) ** power``,
    subtracts from each drawn item's logit the log of how often it is expected among the
    draws (``log(n_negatives · q(i))``, the log-Q correction), and hides a draw that is the
    row's own target. The corrected draws then estimate the softmax's denominator
    (importance sampling), so the loss estimates the full cross-entropy — its value and its
    gradient — whatever the proposal. The cost per example is ``n_negatives`` scores instead of
    ``n_items``.

    The twin shares every layer with ``model`` (training it trains ``model``), takes
    ``(history, targets)`` as its inputs (build its data with ``targets_as_input=True``) and
    has no ``y``. In evaluation mode — the validation pass of ``fit`` — the same layer computes
    the **full** softmax cross-entropy, so ``val_loss`` is the one the full-softmax model
    reports and early stopping compares like with like. ``model`` itself is unchanged and
    scores every item.

    Parameters
    ----------
    model : keras.Model
        A next-item model whose last dense layer is named ``next_item_logits``
        (:func:`build_gru4rec`, :func:`rec_utils.models.sasrec.build_sasrec`).
    n_negatives : int
        Items drawn per batch.
    item_counts : array of int, optional
        How often each item (by position) is a training target; default: all equal (uniform
        proposal).
    power : float
        Shape of the proposal in [0, 1]: 0 is uniform, 1 follows popularity.
    learning_rate : float, optional
        Adam's step size (default: that of ``model``'s optimizer).
    seed : int
        Seeds the draws.
    states : KerasTensor, optional
        The tensor the loss reads (default: the input of ``next_item_logits``);
        :func:`rec_utils.models.sasrec.sequence_training_model` passes the states of every
        position.

    Returns
    -------
    keras.Model
        Compiled with Adam; its loss is added by its last layer (``sampled_softmax``).

    Examples
    --------
    >>> model = build_gru4rec(n_items=20_000, max_len=5)  # doctest: +SKIP
    >>> trainer = sampled_softmax_model(model, n_negatives=256)  # doctest: +SKIP
    >>> trainer.fit(next_item_dataset(inputs, targets, targets_as_input=True), epochs=1)  # doctest: +SKIP
    """
    names = {layer.name for layer in getattr(model, "layers", [])}
    if "next_item_logits" not in names:
        raise ValueError(f"expected a next-item model with a layer named next_item_logits (build_gru4rec, "
                         f"build_sasrec), got {type(model).__name__} with layers {sorted(names)}")
    n_negatives = positive_int("n_negatives", n_negatives)
    power = check_number("power", power, low=0, high=1)
    if learning_rate is None:
        learning_rate = float(np.asarray(model.optimizer.learning_rate)) if getattr(model, "optimizer", None) else 1e-3
    check_number("learning_rate", learning_rate, low=0, low_inclusive=False)
    output_layer = model.get_layer("next_item_logits")
    n_items = int(output_layer.units)
    if item_counts is None:
        item_counts = np.zeros(n_items, dtype=np.int64)
    item_counts = np.asarray(item_counts)
    if item_counts.shape != (n_items,) or not np.issubdtype(item_counts.dtype, np.number) or (item_counts < 0).any():
        raise ValueError(f"item_counts must hold one non-negative count per item ({n_items}), got "
                         f"{item_counts.dtype} array of shape {item_counts.shape}")
    weights = (item_counts.astype(np.float64) + 1.0) ** power
    log_proposal = np.log(weights / weights.sum())
    import keras

    states = output_layer.input if states is None else states
    targets = keras.Input(shape=tuple(states.shape[1:-1]), dtype="int32", name="next_item")
    loss = _sampled_softmax_layer()(output_layer, log_proposal, n_negatives, seed, name="sampled_softmax")(
        states, targets)
    trainer = keras.Model([model.input, targets], loss, name=f"{model.name}_sampled_softmax")
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return trainer


def fit_next_item_model(model, inputs, targets, validation, epochs: int, batch_size: int = 512,
                        n_negatives: int | None = None, item_counts=None, power: float = 0.5, patience: int = 2,
                        seed: int = 0, verbose=0):
    """Train a next-item model (e.g. :func:`build_gru4rec`) on prefix examples, stopping early on validation.

    The recipe of notebook 09: the examples go through :func:`next_item_dataset` (rows
    shuffled once with ``seed``, batch order reshuffled every epoch), the validation loss is
    watched after each epoch, and training stops when it has not improved for ``patience``
    epochs, with the best weights restored. With ``n_negatives`` the model learns through
    its sampled-softmax twin (:func:`sampled_softmax_model`, given ``item_counts``, ``power``
    and ``seed``) — the validation loss stays the full softmax's; without, through its own
    compiled full-softmax loss.

    Parameters
    ----------
    model : keras.Model
        A compiled next-item model with a ``next_item_logits`` layer.
    inputs, targets : arrays
        Left-padded token rows and the position of each row's next item
        (:func:`~rec_utils.data.sequences.next_item_examples`).
    validation : tuple of arrays
        ``(inputs, targets)`` of the validation items.
    epochs : int
        The most epochs to run (the training budget); early stopping may end sooner.
    batch_size : int
        Examples per step.

    Returns
    -------
    dict
        The History's curves: ``loss`` (training; with ``n_negatives`` the sampled loss, over
        the drawn candidates) and ``val_loss`` (the full softmax's) per epoch.
    """
    import keras

    epochs = positive_int("epochs", epochs)
    positive_int("patience", patience)
    if not (isinstance(validation, tuple) and len(validation) == 2):
        raise TypeError(f"validation must be a tuple (inputs, targets), got {type(validation).__name__}")
    sampled = n_negatives is not None
    trainer = sampled_softmax_model(model, n_negatives, item_counts, power, seed=seed) if sampled else model
    stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = trainer.fit(
        next_item_dataset(inputs, targets, batch_size, shuffle=True, seed=seed, targets_as_input=sampled),
        validation_data=next_item_dataset(*validation, batch_size, targets_as_input=sampled),
        epochs=epochs, shuffle=False, callbacks=[stop_early], verbose=verbose)  # the pipeline shuffles
    return history.history
