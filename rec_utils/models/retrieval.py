"""Two-tower retrieval trained with in-batch negatives and the log-Q sampling-bias correction.

Taught in ``notebooks/13_deployment_and_scale.ipynb`` (section 5, "Approximate nearest
neighbours and two-stage retrieval"): the two-tower model becomes the retrieval stage of the
retrieve-then-rank pipeline, its item vectors go into the nearest-neighbour index taught
there (:class:`rec_utils.systems.serving.IVFIndex`), and its recall of the held-out items is
measured against iALS and EASE as candidate generators.

A **user tower** maps a user — an id, the mean of the embeddings of their latest training
items and, when the data have them, side features such as demographics — to a vector; an
**item tower** maps an item — an id and side features such as genres — to a vector of the
same length; the score is their dot product (a cosine over a temperature when the vectors are
normalised). Training follows Yi, Yang, Hong, Cheng, Heldt, Kumthekar, Zhao, Wei, Chi,
"Sampling-Bias-Corrected Neural Modeling for Large Corpus Item Recommendations" (RecSys 2019):

* a batch holds ``B`` training interactions; each user's positive is its own item, and the
  other ``B - 1`` items of the batch are its negatives (**in-batch negatives**), scored with
  one ``B x B`` matrix product and a softmax over each row;
* popular items appear in many batches, so they are pushed down as negatives far more often
  than the full softmax would push them; the **log-Q correction** subtracts ``log q_j`` from
  every logit of item ``j``, where ``q_j`` is the probability that ``j`` fills a batch slot,
  estimated from its frequency in the training stream (:func:`sampling_log_probability`).
  :func:`in_batch_logits` switches it on and off;
* an item that appears twice in a batch would be its own negative: such "accidental hits"
  are masked.

TensorFlow is imported only when a model is fitted, so importing this module is cheap.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._checks import (
    check_bool, check_choice, check_frame, check_layers, check_number, check_seed, non_negative_int, positive_int,
)
from .._console import progress
from ..data.interactions import IdIndex, deduplicate_interactions
from ..data.schema import ITEM, TIMESTAMP, USER
from ..evaluation.protocols import evaluate_scores
from .base import Recommender

__all__ = ["encode_side_features", "sampling_log_probability", "in_batch_logits", "latest_items", "TwoTower"]


# --------------------------------------------------------------------------- data

def encode_side_features(table, ids) -> np.ndarray:
    """Side information as a float32 matrix, one row per id of ``ids``: numbers scaled, categories one-hot.

    Numeric columns (0/1 genre flags, an age) are filled with their median where missing and
    standardised (mean 0, standard deviation 1; a constant column becomes 0); other columns
    (gender, occupation) become one 0/1 column per value. Ids absent from ``table`` get a row
    of zeros: "nothing known".

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by id (e.g. ``data.users.set_index("user_id")[["age", "gender", "occupation"]]``
        or ``data.genre_matrix()``), with at least one column.
    ids : array-like
        The ids whose rows are wanted, in this order (e.g. ``model.items_.ids``).

    Returns
    -------
    numpy.ndarray of float32, shape (len(ids), n_encoded_columns)

    Examples
    --------
    >>> users = pd.DataFrame({"age": [20, 40], "gender": ["F", "M"]}, index=[1, 2])
    >>> encode_side_features(users, [2, 1, 3]).tolist()
    [[1.0, 0.0, 1.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    check_frame(table, (), "table", allow_missing=True)  # a frame without columns is empty too
    if table.index.has_duplicates:
        raise ValueError("table has duplicate ids in its index")
    parts = []
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            parts.append(pd.get_dummies(values.astype("string"), prefix=str(column), dtype=np.float32))
        else:
            numbers = values.astype(np.float64)
            numbers = numbers.fillna(numbers.median() if numbers.notna().any() else 0.0)
            spread = numbers.std(ddof=0)
            parts.append(((numbers - numbers.mean()) / (spread if spread > 0 else 1.0)).rename(str(column)).to_frame())
    encoded = pd.concat(parts, axis=1).astype(np.float32)
    return encoded.reindex(np.asarray(ids)).fillna(0.0).to_numpy(np.float32)


def sampling_log_probability(item_positions, n_items: int) -> np.ndarray:
    """``log q_j``: the log of the probability that item ``j`` fills a slot of a training batch.

    A batch is a uniform draw of training interactions, so ``q_j = count_j / n_interactions``,
    the item's frequency in the training stream (Yi et al. estimate the same quantity on a
    stream that never ends; a finite training set can count it exactly). Items never seen in
    training never appear in a batch; they get ``log(1 / (n_interactions + 1))``, below every
    seen item, so that the correction stays finite.

    Examples
    --------
    >>> np.exp(sampling_log_probability([0, 0, 0, 1], n_items=3)).astype(float).round(3).tolist()
    [0.75, 0.25, 0.2]
    """
    n_items = positive_int("n_items", n_items)
    positions = np.asarray(item_positions)
    if positions.ndim != 1 or positions.size == 0 or not np.issubdtype(positions.dtype, np.integer):
        raise ValueError(f"item_positions must be a non-empty 1-D array of integer positions, got {positions.dtype} "
                         f"array of shape {positions.shape}")
    if positions.min() < 0 or positions.max() >= n_items:
        raise ValueError(f"item_positions must lie in 0..{n_items - 1}, got {positions.min()}..{positions.max()}")
    counts = np.bincount(positions, minlength=n_items).astype(np.float64)
    total = counts.sum()
    return np.log(np.where(counts > 0, counts / total, 1.0 / (total + 1.0))).astype(np.float32)


def latest_items(ratings: pd.DataFrame, users: IdIndex, items: IdIndex, max_len: int) -> np.ndarray:
    """Each user's latest ``max_len`` training items as tokens (item position + 1), 0 = padding.

    Latest by ``timestamp`` when the column exists (ties by item position), in the rows' item
    order otherwise; the most recent item is in the last column, as in
    :func:`rec_utils.data.sequences.user_sequences`. A (user, item) pair counts once.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [10, 20, 30, 10], "timestamp": [3, 1, 2, 5]})
    >>> latest_items(r, IdIndex([1, 2]), IdIndex([10, 20, 30]), max_len=2).tolist()
    [[3, 1], [0, 1]]
    """
    max_len = positive_int("max_len", max_len)
    ratings = deduplicate_interactions(ratings)
    rows = users.positions(ratings[USER].to_numpy())
    cols = items.positions(ratings[ITEM].to_numpy())
    times = ratings[TIMESTAMP].to_numpy() if TIMESTAMP in ratings.columns else np.zeros(len(ratings))
    order = np.lexsort((cols, times, rows))
    rows, cols = rows[order], cols[order]
    counts = np.bincount(rows, minlength=len(users))
    ends = np.cumsum(counts)
    from_end = ends[rows] - np.arange(len(rows))  # 1 for a user's latest item
    keep = from_end <= max_len
    tokens = np.zeros((len(users), max_len), dtype=np.int32)
    tokens[rows[keep], max_len - from_end[keep]] = cols[keep] + 1
    return tokens


# --------------------------------------------------------------------------- the loss

def in_batch_logits(user_vectors, item_vectors, item_positions, log_q=None, temperature: float = 1.0,
                    remove_accidental_hits: bool = True):
    """The ``B x B`` logits of in-batch softmax: row ``b`` scores user ``b`` against every item of the batch.

    ``logits[b, c] = <user_b, item_c> / temperature - log_q[c]``: the positive of row ``b`` is
    column ``b``; with ``log_q`` (the log sampling probability of each batch item, from
    :func:`sampling_log_probability`) the log-Q correction is applied, without it the
    logits are uncorrected. With ``remove_accidental_hits``, a column holding the same item
    as the row's positive (other than the diagonal) is set to a large negative number, so a
    user's own item is never its negative. Works on NumPy arrays and on TensorFlow tensors.

    Examples
    --------
    >>> u = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> v = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> in_batch_logits(u, v, [7, 8, 7], log_q=np.log([0.5, 0.25, 0.5])).round(2).tolist()
    [[1.69, 1.39, -1000000000.0], [0.69, 2.39, 0.69], [-1000000000.0, 2.39, 1.69]]
    """
    if isinstance(user_vectors, np.ndarray) or not hasattr(user_vectors, "dtype"):
        xp_logits = np.asarray(user_vectors, np.float64) @ np.asarray(item_vectors, np.float64).T / temperature
        if log_q is not None:
            xp_logits = xp_logits - np.asarray(log_q, np.float64)[None, :]
        if remove_accidental_hits:
            positions = np.asarray(item_positions)
            same = positions[:, None] == positions[None, :]
            np.fill_diagonal(same, False)
            xp_logits = np.where(same, -1e9, xp_logits)
        return xp_logits
    import tensorflow as tf

    logits = tf.matmul(user_vectors, item_vectors, transpose_b=True) / temperature
    if log_q is not None:
        logits = logits - log_q[None, :]
    if remove_accidental_hits:
        same = tf.equal(item_positions[:, None], item_positions[None, :])
        same = tf.logical_and(same, tf.logical_not(tf.eye(tf.shape(item_positions)[0], dtype=tf.bool)))
        logits = tf.where(same, tf.fill(tf.shape(logits), tf.constant(-1e9, logits.dtype)), logits)
    return logits


# --------------------------------------------------------------------------- the model

def _towers(n_users, n_items, n_user_features, n_item_features, history_len, embedding_dim, hidden, normalize, l2):
    """The user and item towers as two Keras functional models."""
    import keras

    regularizer = keras.regularizers.L2(l2) if l2 else None
    init = keras.initializers.RandomNormal(stddev=0.05)

    def head(parts, prefix):
        x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=f"{prefix}_concat")(parts)
        for depth, units in enumerate(hidden, start=1):
            x = keras.layers.Dense(units, activation="relu", kernel_regularizer=regularizer,
                                   name=f"{prefix}_hidden_{depth}")(x)
        x = keras.layers.Dense(embedding_dim, kernel_regularizer=regularizer, name=f"{prefix}_output")(x)
        return keras.layers.UnitNormalization(name=f"{prefix}_normalise")(x) if normalize else x

    user = keras.Input(shape=(), dtype="int32", name="user")
    user_inputs = {"user": user}
    user_parts = [keras.layers.Embedding(n_users, embedding_dim, embeddings_initializer=init,
                                         embeddings_regularizer=regularizer, name="user_embedding")(user)]
    if history_len:
        history = keras.Input(shape=(history_len,), dtype="int32", name="history")
        user_inputs["history"] = history
        vectors = keras.layers.Embedding(n_items + 1, embedding_dim, embeddings_initializer=init,
                                         embeddings_regularizer=regularizer, name="history_embedding")(history)
        present = keras.ops.cast(keras.ops.not_equal(history, 0), "float32")[:, :, None]
        summed = keras.ops.sum(vectors * present, axis=1)
        user_parts.append(summed / keras.ops.maximum(keras.ops.sum(present, axis=1), 1.0))
    if n_user_features:
        features = keras.Input(shape=(n_user_features,), dtype="float32", name="user_features")
        user_inputs["user_features"] = features
        user_parts.append(keras.layers.Dense(embedding_dim, name="user_features_projection")(features))
    user_tower = keras.Model(user_inputs, head(user_parts, "user"), name="user_tower")

    item = keras.Input(shape=(), dtype="int32", name="item")
    item_inputs = {"item": item}
    item_parts = [keras.layers.Embedding(n_items, embedding_dim, embeddings_initializer=init,
                                         embeddings_regularizer=regularizer, name="item_embedding")(item)]
    if n_item_features:
        features = keras.Input(shape=(n_item_features,), dtype="float32", name="item_features")
        item_inputs["item_features"] = features
        item_parts.append(keras.layers.Dense(embedding_dim, name="item_features_projection")(features))
    item_tower = keras.Model(item_inputs, head(item_parts, "item"), name="item_tower")
    return user_tower, item_tower


class TwoTower(Recommender):
    """Two-tower retrieval: user and item towers, dot-product scores, in-batch softmax with log-Q correction.

    See the module's documentation for the model. The user tower reads the user's id, the
    mean embedding of their latest ``history_len`` training items (the training example's own
    item left out, so the tower cannot simply look its target up) and, when given, the
    encoded ``user_features``; the item tower reads the item's id and the encoded
    ``item_features``. Each goes through ``hidden`` ReLU layers to ``embedding_dim`` outputs,
    L2-normalised when ``normalize``. A batch of ``batch_size`` training interactions is
    scored with :func:`in_batch_logits` (log-Q corrected when ``logq_correction``) and the
    loss is the softmax cross-entropy of each row's own item. Serving uses the plain dot
    product: the correction is a training device, not part of the score.

    Taught in ``notebooks/13_deployment_and_scale.ipynb``, section 5.

    Parameters
    ----------
    embedding_dim : int
        Length of the user and item vectors (and of every embedding table).
    hidden : sequence of int
        ReLU layers of each tower before its output layer; ``()`` for none.
    history_len : int
        How many of the user's latest training items the user tower reads (0: none).
    logq_correction : bool
        Subtract ``log q_j`` from the in-batch logits in training (Yi et al., 2019).
    temperature : float
        Divides the dot products in training; with normalised vectors they are cosines, and
        a small temperature (0.05–0.2) sharpens the softmax.
    normalize : bool
        L2-normalise both towers' outputs.
    learning_rate : float
        Adam's step size.
    l2 : float
        L2 penalty on the embedding tables and dense kernels (0 for none).
    n_epochs : int
        Passes over the training interactions.
    batch_size : int
        Interactions per batch: the number of in-batch negatives plus one.
    remove_accidental_hits : bool
        Mask a batch item that equals the row's own positive.
    seed : int
        Seeds the initial weights and the shuffles; two fits with one seed give one model.
    verbose : {0, 1}
        1 shows a progress bar over the epochs, with the loss.

    Attributes
    ----------
    user_tower_, item_tower_ : keras.Model
    user_vectors_, item_vectors_ : ndarray of float32
        Every user's and item's vector (rows follow ``users_.ids`` and ``items_.ids``): what an
        index such as :class:`~rec_utils.systems.serving.IVFIndex` is built from.
    log_q_ : ndarray of float32
        ``log q_j`` of every item (:func:`sampling_log_probability`).
    history_ : dict
        ``"loss"`` per epoch; with ``validation``, ``"val_recall@100"`` per epoch (k is capped at
        the number of items).
    fit_seconds_ : float

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [1, 2, 1, 2, 1], "timestamp": [1, 2, 1, 2, 1]})
    >>> model = TwoTower(embedding_dim=4, history_len=2, n_epochs=2, batch_size=4).fit(r)
    >>> model.score([3]).shape, model.item_vectors_.shape
    ((1, 2), (2, 4))

    The item vectors go into a nearest-neighbour index, the user vectors are its queries:

    >>> from rec_utils.systems.serving import IVFIndex
    >>> index = IVFIndex(n_lists=2, n_probe=2).fit(model.item_vectors_)
    >>> positions, _ = index.query(model.user_embeddings([3]), k=2)
    >>> sorted(model.items_.ids[positions[0]].tolist())
    [1, 2]
    """

    def __init__(self, embedding_dim: int = 64, hidden=(), history_len: int = 20, logq_correction: bool = True,
                 temperature: float = 0.1, normalize: bool = True, learning_rate: float = 0.005, l2: float = 0.0,
                 n_epochs: int = 20, batch_size: int = 1024, remove_accidental_hits: bool = True, seed: int = 42,
                 verbose: int = 0):
        self.embedding_dim, self.hidden, self.history_len = embedding_dim, hidden, history_len
        self.logq_correction, self.temperature, self.normalize = logq_correction, temperature, normalize
        self.learning_rate, self.l2, self.n_epochs, self.batch_size = learning_rate, l2, n_epochs, batch_size
        self.remove_accidental_hits, self.seed, self.verbose = remove_accidental_hits, seed, verbose

    def validate_params(self):
        positive_int("embedding_dim", self.embedding_dim)
        if not isinstance(self.hidden, (tuple, list)):
            raise TypeError(f"hidden must be a tuple of layer widths (or () for none), got {self.hidden!r}")
        if len(self.hidden):
            check_layers("hidden", self.hidden)
        non_negative_int("history_len", self.history_len)
        check_bool("logq_correction", self.logq_correction)
        check_number("temperature", self.temperature, low=0, low_inclusive=False)
        check_bool("normalize", self.normalize)
        check_number("learning_rate", self.learning_rate, low=0, low_inclusive=False)
        check_number("l2", self.l2, low=0)
        positive_int("n_epochs", self.n_epochs)
        check_number("batch_size", self.batch_size, low=2, integer=True)
        check_bool("remove_accidental_hits", self.remove_accidental_hits)
        check_seed("seed", self.seed)
        check_choice("verbose", self.verbose, (0, 1))

    def fit(self, ratings, users=None, items=None, user_features=None, item_features=None, validation=None):
        """Train both towers on the interactions of ``ratings`` (their values are ignored).

        Parameters
        ----------
        ratings, users, items :
            As for every recommender.
        user_features, item_features : pandas.DataFrame, optional
            Side information indexed by user id / item id, encoded by
            :func:`encode_side_features` (numbers scaled, categories one-hot). Without them a
            tower reads ids (and, for users, the history) only.
        validation : pandas.DataFrame, optional
            Held-out ``user_id, item_id`` rows; recall@100 over unseen items is recorded
            after every epoch in ``history_["val_recall@100"]``.
        """
        self.prepare(ratings, users, items)
        if validation is not None:
            check_frame(validation, (USER, ITEM), "validation")
        import keras
        import tensorflow as tf

        n_users, n_items = self.seen_.shape
        self.user_features_ = (encode_side_features(user_features, self.users_.ids) if user_features is not None
                               else np.zeros((n_users, 0), np.float32))
        self.item_features_ = (encode_side_features(item_features, self.items_.ids) if item_features is not None
                               else np.zeros((n_items, 0), np.float32))
        self.histories_ = (latest_items(ratings, self.users_, self.items_, self.history_len) if self.history_len
                           else np.zeros((n_users, 0), np.int32))
        stream = sp.coo_matrix(self.seen_)  # one row per (user, item) pair, in a canonical order
        stream_users, stream_items = stream.row.astype(np.int32), stream.col.astype(np.int32)
        self.log_q_ = sampling_log_probability(stream_items.astype(np.int64), n_items)
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        hidden = tuple(self.hidden)
        self.user_tower_, self.item_tower_ = _towers(
            n_users, n_items, self.user_features_.shape[1], self.item_features_.shape[1], self.history_len,
            self.embedding_dim, hidden, self.normalize, float(self.l2))
        optimizer = keras.optimizers.Adam(self.learning_rate)
        variables = self.user_tower_.trainable_variables + self.item_tower_.trainable_variables
        optimizer.build(variables)
        log_q = tf.constant(self.log_q_)
        temperature, correct, hits = float(self.temperature), bool(self.logq_correction), bool(self.remove_accidental_hits)

        @tf.function(reduce_retracing=True)
        def train_step(user_inputs, item_inputs):
            with tf.GradientTape() as tape:
                u = self.user_tower_(user_inputs, training=True)
                v = self.item_tower_(item_inputs, training=True)
                positions = item_inputs["item"]
                logits = in_batch_logits(u, v, positions, tf.gather(log_q, positions) if correct else None,
                                         temperature, hits)
                labels = tf.range(tf.shape(logits)[0])
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
                penalty = tf.add_n(self.user_tower_.losses + self.item_tower_.losses) if (
                    self.user_tower_.losses or self.item_tower_.losses) else 0.0
                total = loss + penalty
            optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))
            return loss

        self.history_ = {"loss": []}
        if validation is not None:
            self.history_["val_recall@100"] = []
        n = len(stream_users)
        epochs = progress(range(self.n_epochs), desc="TwoTower", unit="epoch") if self.verbose else range(self.n_epochs)
        began = time.perf_counter()
        for _ in epochs:
            order = rng.permutation(n)
            losses = []
            for start in range(0, n, self.batch_size):
                rows = order[start:start + self.batch_size]
                if len(rows) < 2:  # a softmax over one item teaches nothing
                    continue
                user_inputs, item_inputs = self._inputs(stream_users[rows], stream_items[rows])
                losses.append(float(train_step(user_inputs, item_inputs)))
            self.history_["loss"].append(float(np.mean(losses)) if losses else float("nan"))
            if validation is not None:
                self._embed_all()
                found = evaluate_scores(self.score, validation, self.users_, self.items_, exclude=self.seen_,
                                        k=min(100, n_items), metrics=("recall",))
                self.history_["val_recall@100"].append(next(iter(found.values())))
            if self.verbose:
                epochs.set_postfix(loss=f"{self.history_['loss'][-1]:.4f}", refresh=False)
        self.fit_seconds_ = time.perf_counter() - began
        self._embed_all()
        return self

    def _inputs(self, user_rows, item_rows=None):
        """The towers' input dicts for users (and their paired items, whose tokens leave the history)."""
        user_inputs = {"user": user_rows.astype(np.int32)}
        if self.history_len:
            history = self.histories_[user_rows]
            if item_rows is not None:
                history = np.where(history == (item_rows[:, None] + 1), 0, history)
            user_inputs["history"] = history.astype(np.int32)
        if self.user_features_.shape[1]:
            user_inputs["user_features"] = self.user_features_[user_rows]
        if item_rows is None:
            return user_inputs
        item_inputs = {"item": item_rows.astype(np.int32)}
        if self.item_features_.shape[1]:
            item_inputs["item_features"] = self.item_features_[item_rows]
        return user_inputs, item_inputs

    def _embed_all(self, batch_size: int = 4096) -> None:
        n_users, n_items = self.seen_.shape
        users = np.arange(n_users)
        self.user_vectors_ = np.concatenate([
            np.asarray(self.user_tower_(self._inputs(users[s:s + batch_size]), training=False))
            for s in range(0, n_users, batch_size)]).astype(np.float32)
        parts = []
        for s in range(0, n_items, batch_size):
            rows = np.arange(s, min(s + batch_size, n_items))
            item_inputs = {"item": rows.astype(np.int32)}
            if self.item_features_.shape[1]:
                item_inputs["item_features"] = self.item_features_[rows]
            parts.append(np.asarray(self.item_tower_(item_inputs, training=False)))
        self.item_vectors_ = np.concatenate(parts).astype(np.float32)

    def user_embeddings(self, user_ids) -> np.ndarray:
        """The user tower's vectors of ``user_ids`` (rows of ``user_vectors_``)."""
        return self.user_vectors_[self.user_positions(user_ids)]

    def score(self, user_ids):
        """Dot products of the users' vectors with every item's vector (no log-Q at serving time)."""
        rows = self.user_positions(user_ids)
        return self.user_vectors_[rows] @ self.item_vectors_.T
