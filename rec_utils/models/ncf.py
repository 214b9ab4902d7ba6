"""Neural collaborative filtering in Keras: MF, GMF, MLP and NeuMF, with negative sampling.

Taught in ``notebooks/06_neural_networks.ipynb``, which builds each network layer by layer,
trains it on implicit feedback with sampled negatives, and checks that the builders here give
the same models. The models follow He, Liao, Zhang, Nie, Hu, Chua, "Neural Collaborative
Filtering" (WWW 2017):

* :func:`build_mf` — matrix factorisation as an embedding model: ``sigmoid(p_u . q_i + b_u + b_i)``;
* :func:`build_gmf` — generalised MF: ``sigmoid(h . (p_u * q_i) + b)``, a learned weight per factor;
* :func:`build_mlp` — the user and item embeddings concatenated and passed through a ReLU tower;
* :func:`build_neumf` — GMF and MLP side by side with separate embeddings, their last layers
  concatenated into one prediction; :func:`load_pretrained` copies trained GMF and MLP
  weights into it (NCF's pre-training).

Every model takes two integer inputs, ``user`` and ``item`` (positions ``0..n-1``, e.g. from
:class:`rec_utils.data.IdIndex`), and outputs the probability that the user interacts with
the item (layer ``prediction``). :func:`sample_negatives` and :func:`negative_sampling_batches`
make the training data (each interaction plus sampled non-interactions, resampled every
epoch) and :func:`score_candidates` scores users x items in batches.

TensorFlow is imported only when a model is built, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_layers, check_number, check_positions, check_seed, positive_int

__all__ = ["build_mf", "build_gmf", "build_mlp", "build_neumf", "load_pretrained",
           "sample_negatives", "negative_sampling_batches", "score_candidates"]


# --------------------------------------------------------------------------- validation

def _tower(layers) -> tuple[int, ...]:
    """NCF's MLP widths: positive integers, the first even (it holds the user and the item halves)."""
    sizes = check_layers("layers", layers)
    if sizes[0] % 2:
        raise ValueError(f"layers[0] is the concatenated user and item embedding, so it must be even, "
                         f"got {sizes[0]}")
    return sizes


def _sizes(n_users, n_items) -> tuple[int, int]:
    return positive_int("n_users", n_users), positive_int("n_items", n_items)


# --------------------------------------------------------------------------- models

def _inputs(keras):
    user = keras.Input(shape=(), dtype="int32", name="user")
    item = keras.Input(shape=(), dtype="int32", name="item")
    return user, item


def _embedding(keras, count: int, size: int, l2: float, name: str):
    return keras.layers.Embedding(
        count, size, embeddings_initializer=keras.initializers.RandomNormal(stddev=0.01),
        activity_regularizer=keras.regularizers.L2(l2) if l2 else None, name=name)


def _prediction(keras):
    return keras.layers.Dense(1, activation="sigmoid", name="prediction")


def _seed(seed) -> None:
    """Reseed Keras (Python, NumPy, TensorFlow) when a seed is given."""
    if check_seed("seed", seed) is not None:
        import keras

        keras.utils.set_random_seed(seed)


def build_mf(n_users: int, n_items: int, n_factors: int = 16, l2: float = 0.0, seed: int | None = None):
    """Matrix factorisation as a Keras model: ``sigmoid(p_u . q_i + b_u + b_i)``.

    Layers, by name: inputs ``user`` and ``item``; embeddings ``user_embedding`` and
    ``item_embedding`` (``n_factors`` each, normal with standard deviation 0.01),
    ``user_bias`` and ``item_bias`` (one number each, starting at 0); ``dot`` (the dot
    product), ``logit`` (the sum) and ``prediction`` (the sigmoid). Not compiled. Taught in
    notebook 06, section 4.1.

    Parameters
    ----------
    n_users, n_items : int
        Number of user and item positions (inputs must lie in ``0..n-1``).
    n_factors : int
        Length of each user and item vector.
    l2 : float
        L2 penalty on the embedding rows each example looks up, averaged over the batch (0 for none).
    seed : int, optional
        Passed to ``keras.utils.set_random_seed`` first, so the initial weights are reproducible.

    Raises
    ------
    TypeError
        If a count or size is not an integer, or ``l2`` not a number.
    ValueError
        If a count or size is below 1, or ``l2`` is negative.

    Examples
    --------
    >>> model = build_mf(10, 20, n_factors=4, seed=0)
    >>> model.count_params()  # (10 + 20) x (4 + 1)
    150
    """
    n_users, n_items = _sizes(n_users, n_items)
    n_factors, l2 = positive_int("n_factors", n_factors), float(check_number("l2", l2, low=0))
    import keras

    _seed(seed)
    user, item = _inputs(keras)
    p_u = _embedding(keras, n_users, n_factors, l2, "user_embedding")(user)
    q_i = _embedding(keras, n_items, n_factors, l2, "item_embedding")(item)
    b_u = keras.layers.Embedding(n_users, 1, embeddings_initializer="zeros", name="user_bias")(user)
    b_i = keras.layers.Embedding(n_items, 1, embeddings_initializer="zeros", name="item_bias")(item)
    dot = keras.layers.Dot(axes=1, name="dot")([p_u, q_i])
    logit = keras.layers.Add(name="logit")([dot, b_u, b_i])
    like = keras.layers.Activation("sigmoid", name="prediction")(logit)
    return keras.Model({"user": user, "item": item}, like, name="mf")


def build_gmf(n_users: int, n_items: int, n_factors: int = 16, l2: float = 0.0, seed: int | None = None):
    """Generalised matrix factorisation (GMF): ``sigmoid(h . (p_u * q_i) + b)``.

    Layers, by name: ``user``, ``item``, ``gmf_user_embedding``, ``gmf_item_embedding``,
    ``gmf_product`` (the element-wise product) and ``prediction`` (a one-unit sigmoid
    ``Dense`` layer whose kernel is ``h``). With ``h`` all ones and no bias, GMF is plain
    MF; learning ``h`` lets factors count differently. Not compiled. Taught in notebook 06,
    section 4.2.

    Parameters
    ----------
    n_users, n_items : int
        Number of user and item positions.
    n_factors : int
        Length of each user and item vector (the "predictive factors" of NCF).
    l2 : float
        L2 penalty on the embedding rows each example looks up, averaged over the batch (0 for none).
    seed : int, optional
        Seeds Keras first, for reproducible initial weights.

    Raises
    ------
    TypeError
        If a count or size is not an integer, or ``l2`` not a number.
    ValueError
        If a count or size is below 1, or ``l2`` is negative.

    Examples
    --------
    >>> build_gmf(10, 20, n_factors=4, seed=0).count_params()  # 10*4 + 20*4 + 4 + 1
    125
    """
    n_users, n_items = _sizes(n_users, n_items)
    n_factors, l2 = positive_int("n_factors", n_factors), float(check_number("l2", l2, low=0))
    import keras

    _seed(seed)
    user, item = _inputs(keras)
    product = _gmf_branch(keras, user, item, n_users, n_items, n_factors, l2)
    return keras.Model({"user": user, "item": item}, _prediction(keras)(product), name="gmf")


def _gmf_branch(keras, user, item, n_users, n_items, n_factors, l2):
    p_u = _embedding(keras, n_users, n_factors, l2, "gmf_user_embedding")(user)
    q_i = _embedding(keras, n_items, n_factors, l2, "gmf_item_embedding")(item)
    return keras.layers.Multiply(name="gmf_product")([p_u, q_i])


def _mlp_branch(keras, user, item, n_users, n_items, layers, l2):
    p_u = _embedding(keras, n_users, layers[0] // 2, l2, "mlp_user_embedding")(user)
    q_i = _embedding(keras, n_items, layers[0] // 2, l2, "mlp_item_embedding")(item)
    hidden = keras.layers.Concatenate(name="mlp_concat")([p_u, q_i])
    for depth, units in enumerate(layers[1:], start=1):
        hidden = keras.layers.Dense(units, activation="relu", name=f"mlp_layer_{depth}")(hidden)
    return hidden


def build_mlp(n_users: int, n_items: int, layers=(64, 32, 16), l2: float = 0.0, seed: int | None = None):
    """The MLP of NCF: concatenated embeddings through a tower of ReLU layers.

    ``layers[0]`` is the width of the concatenated embeddings (each of ``layers[0] // 2``);
    every later entry is a ReLU ``Dense`` layer (``mlp_layer_1``, ``mlp_layer_2``, ...);
    a one-unit sigmoid layer ``prediction`` ends it. NCF halves the width at each layer, and
    the last one is the number of "predictive factors". Not compiled. Taught in notebook 06,
    section 4.3.

    Parameters
    ----------
    n_users, n_items : int
        Number of user and item positions.
    layers : sequence of int
        Widths, the first one even (e.g. ``(64, 32, 16, 8)``).
    l2 : float
        L2 penalty on the embedding rows each example looks up, averaged over the batch (0 for none).
    seed : int, optional
        Seeds Keras first, for reproducible initial weights.

    Raises
    ------
    TypeError
        If a count or size is not an integer, or ``l2`` not a number.
    ValueError
        If a count or size is below 1, ``layers`` is empty or starts with an odd width, or
        ``l2`` is negative.

    Examples
    --------
    >>> build_mlp(10, 20, layers=(8, 4), seed=0).count_params()  # (10 + 20)*4 + (8*4 + 4) + (4 + 1)
    161
    """
    n_users, n_items = _sizes(n_users, n_items)
    layers, l2 = _tower(layers), float(check_number("l2", l2, low=0))
    import keras

    _seed(seed)
    user, item = _inputs(keras)
    hidden = _mlp_branch(keras, user, item, n_users, n_items, layers, l2)
    return keras.Model({"user": user, "item": item}, _prediction(keras)(hidden), name="mlp")


def build_neumf(n_users: int, n_items: int, n_factors: int = 16, mlp_layers=(64, 32, 16), l2: float = 0.0,
                seed: int | None = None):
    """NeuMF: a GMF branch and an MLP branch with their own embeddings, fused in one prediction.

    The layers carry the names of :func:`build_gmf` and :func:`build_mlp` (``gmf_*`` and
    ``mlp_*``), then ``neumf_concat`` joins the GMF product (``n_factors`` wide) and the
    last MLP layer, and ``prediction`` (one sigmoid unit) reads both. Because the names
    match, :func:`load_pretrained` can start NeuMF from a trained GMF and MLP. Not compiled.
    Taught in notebook 06, section 4.4.

    Parameters
    ----------
    n_users, n_items : int
        Number of user and item positions.
    n_factors : int
        GMF's embedding length.
    mlp_layers : sequence of int
        The MLP branch's widths (see :func:`build_mlp`).
    l2 : float
        L2 penalty on the embedding rows each example looks up, averaged over the batch (0 for none).
    seed : int, optional
        Seeds Keras first, for reproducible initial weights.

    Raises
    ------
    TypeError
        If a count or size is not an integer, or ``l2`` not a number.
    ValueError
        If a count or size is below 1, ``mlp_layers`` is empty or starts with an odd width, or
        ``l2`` is negative.

    Examples
    --------
    >>> model = build_neumf(10, 20, n_factors=4, mlp_layers=(8, 4), seed=0)
    >>> tuple(model.get_layer("prediction").kernel.shape)  # 4 GMF factors + 4 MLP units
    (8, 1)
    """
    n_users, n_items = _sizes(n_users, n_items)
    n_factors, mlp_layers, l2 = positive_int("n_factors", n_factors), _tower(mlp_layers), float(check_number("l2", l2, low=0))
    import keras

    _seed(seed)
    user, item = _inputs(keras)
    product = _gmf_branch(keras, user, item, n_users, n_items, n_factors, l2)
    hidden = _mlp_branch(keras, user, item, n_users, n_items, mlp_layers, l2)
    fused = keras.layers.Concatenate(name="neumf_concat")([product, hidden])
    return keras.Model({"user": user, "item": item}, _prediction(keras)(fused), name="neumf")


def load_pretrained(neumf, gmf, mlp, alpha: float = 0.5):
    """Copy a trained GMF and MLP into NeuMF (NCF's pre-training), in place; returns ``neumf``.

    Embeddings and MLP layers are copied by name. The prediction layer becomes
    ``[alpha * h_gmf, (1 - alpha) * h_mlp]`` with bias ``alpha * b_gmf + (1 - alpha) * b_mlp``,
    so that before fine-tuning NeuMF's logit is the same mix of the two models' logits
    (NCF uses ``alpha = 0.5``). Taught in notebook 06, section 4.4.

    Parameters
    ----------
    neumf : keras.Model
        From :func:`build_neumf`; its weights are overwritten.
    gmf, mlp : keras.Model
        From :func:`build_gmf` and :func:`build_mlp`, with the same numbers of users, items,
        factors and layers as ``neumf``.
    alpha : float
        Weight of GMF in the output layer, in [0, 1].

    Raises
    ------
    ValueError
        If ``alpha`` is outside [0, 1] or the three models' layer shapes do not fit together.
    """
    alpha = float(check_number("alpha", alpha, low=0, high=1))
    for source in (gmf, mlp):
        for layer in source.layers:
            if layer.name == "prediction" or not layer.weights:
                continue
            try:
                target = neumf.get_layer(layer.name)
            except ValueError:
                raise ValueError(f"NeuMF has no layer {layer.name!r} to receive {source.name}'s weights") from None
            shapes = [w.shape for w in layer.get_weights()], [w.shape for w in target.get_weights()]
            if shapes[0] != shapes[1]:
                raise ValueError(f"layer {layer.name!r}: {source.name} has weight shapes {shapes[0]}, "
                                 f"NeuMF {shapes[1]}")
            target.set_weights(layer.get_weights())
    h_gmf, b_gmf = gmf.get_layer("prediction").get_weights()
    h_mlp, b_mlp = mlp.get_layer("prediction").get_weights()
    kernel = np.vstack([alpha * h_gmf, (1 - alpha) * h_mlp])
    if kernel.shape != tuple(neumf.get_layer("prediction").kernel.shape):
        raise ValueError(f"the GMF and MLP prediction layers ({h_gmf.shape[0]} + {h_mlp.shape[0]} inputs) do not "
                         f"fit NeuMF's ({neumf.get_layer('prediction').kernel.shape[0]})")
    neumf.get_layer("prediction").set_weights([kernel.astype(np.float32),
                                               (alpha * b_gmf + (1 - alpha) * b_mlp).astype(np.float32)])
    return neumf


# --------------------------------------------------------------------------- training data

def sample_negatives(user_positions, item_positions, n_items: int, n_negatives: int = 4, seed=None):
    """Training pairs for implicit feedback: each interaction plus ``n_negatives`` sampled non-interactions.

    For each positive pair ``(u, i)`` the sampler draws ``n_negatives`` items uniformly from
    those ``u`` never interacted with (in the pairs given), with replacement, as NCF does;
    draws that hit one of the user's items are redrawn until none does. Everything is
    vectorised: one sorted array of ``u * n_items + i`` keys answers "is this a positive?"
    for all draws at once. Taught in notebook 06, section 3.

    Parameters
    ----------
    user_positions, item_positions : array of int
        The interactions (positions ``0..n-1``), one pair per entry; duplicates are allowed.
    n_items : int
        Size of the catalogue negatives are drawn from (items ``0..n_items - 1``).
    n_negatives : int
        Negatives per positive.
    seed : int or numpy.random.Generator, optional
        Seeds the draws.

    Returns
    -------
    users, items : numpy.ndarray of int32
        ``(1 + n_negatives) * n_positives`` pairs: the positives first, then the negatives
        (those of positive ``j`` at ``n_positives + j * n_negatives ...``).
    labels : numpy.ndarray of float32
        1 for the positives, 0 for the negatives.

    Raises
    ------
    TypeError
        If the positions are not integers, or a count is not an integer.
    ValueError
        If the positions are not non-empty 1-D arrays of equal length within range, a count is
        below 1, or a user has interacted with every item (nothing to sample).

    Examples
    --------
    >>> users, items, labels = sample_negatives([0, 0, 1], [0, 1, 2], n_items=5, n_negatives=2, seed=0)
    >>> users.tolist(), labels.tolist()
    ([0, 0, 1, 0, 0, 0, 0, 1, 1], [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    >>> bool(set(items[3:7].tolist()) & {0, 1})  # user 0's negatives avoid items 0 and 1
    False
    """
    users, items, keys = _checked_pairs(user_positions, item_positions, n_items)
    n_negatives = positive_int("n_negatives", n_negatives)
    return _with_negatives(users, items, keys, n_items, n_negatives, np.random.default_rng(seed))


def _checked_pairs(user_positions, item_positions, n_items):
    """The pairs as int64 arrays and their sorted unique ``user * n_items + item`` keys."""
    n_items = positive_int("n_items", n_items)
    users = check_positions("user_positions", user_positions).astype(np.int64)
    items = check_positions("item_positions", item_positions, n_items).astype(np.int64)
    if users.shape != items.shape:
        raise ValueError(f"user_positions and item_positions must have the same length, "
                         f"got {users.size} and {items.size}")
    keys = np.unique(users * n_items + items)
    per_user = np.bincount(keys // n_items)
    if per_user.max() >= n_items:
        full = int(np.argmax(per_user))
        raise ValueError(f"user position {full} has interacted with all {n_items} items: no negative to sample")
    return users, items, keys


def _with_negatives(users, items, keys, n_items, n_negatives, rng):
    """``users, items`` followed by ``n_negatives`` draws per pair that avoid every key in ``keys``."""
    neg_users = np.repeat(users, n_negatives)
    neg_items = rng.integers(0, n_items, neg_users.size)
    todo = np.arange(neg_users.size)
    while todo.size:  # rejection sampling: redraw only the draws that hit a positive
        draw_keys = neg_users[todo] * n_items + neg_items[todo]
        hit = keys[np.minimum(np.searchsorted(keys, draw_keys), keys.size - 1)] == draw_keys
        todo = todo[hit]
        neg_items[todo] = rng.integers(0, n_items, todo.size)
    labels = np.r_[np.ones(users.size, np.float32), np.zeros(neg_users.size, np.float32)]
    return (np.r_[users, neg_users].astype(np.int32), np.r_[items, neg_items].astype(np.int32), labels)


def negative_sampling_batches(user_positions, item_positions, n_items: int, n_negatives: int = 4,
                              batch_size: int = 1024, seed: int = 0, positives_per_epoch: int | None = None):
    """Mini-batches for ``model.fit`` with fresh negatives every epoch: a ``keras.utils.PyDataset``.

    Before the first epoch and after each one, new negatives are drawn as in
    :func:`sample_negatives` (with a generator seeded once by ``seed``, so a whole training
    run is reproducible) and the pairs are shuffled. Taught in notebook 06, section 3.

    Parameters
    ----------
    user_positions, item_positions, n_items, n_negatives :
        As in :func:`sample_negatives`.
    batch_size : int
        Pairs per batch (the last batch of an epoch may be smaller).
    seed : int
        Seeds the negatives and the shuffles of the whole run.
    positives_per_epoch : int, optional
        A training budget for large data: each epoch uses a fresh random sample of this many
        interactions (without replacement) plus their negatives, so an epoch costs the same
        whatever the data's size. Negatives still avoid *every* interaction of their user.
        ``None`` (the default), or a number at least the number of interactions, uses them
        all: an epoch is then a full pass, drawn exactly as without the option.

    Returns
    -------
    keras.utils.PyDataset
        ``len()`` batches per epoch, each ``({"user": int32 array, "item": int32 array},
        float32 labels)``; ``positives_per_epoch_`` says how many interactions an epoch uses.

    Raises
    ------
    TypeError, ValueError
        For the arguments :func:`sample_negatives` rejects, or a ``batch_size`` or
        ``positives_per_epoch`` that is not an integer >= 1.

    Examples
    --------
    >>> batches = negative_sampling_batches([0, 1, 2], [1, 2, 0], n_items=4, n_negatives=3, batch_size=5)
    >>> len(batches), batches[0][0]["user"].shape
    (3, (5,))
    >>> len(negative_sampling_batches([0, 1, 2], [1, 2, 0], n_items=4, n_negatives=3, batch_size=4,
    ...                               positives_per_epoch=2))  # 2 positives + 6 negatives per epoch
    2
    """
    batch_size = positive_int("batch_size", batch_size)
    users, items, keys = _checked_pairs(user_positions, item_positions, n_items)
    n_negatives = positive_int("n_negatives", n_negatives)
    per_epoch = users.size if positives_per_epoch is None else min(
        positive_int("positives_per_epoch", positives_per_epoch), users.size)
    import keras

    class NegativeSamplingBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.positives_per_epoch_ = per_epoch
            self.n_pairs = per_epoch * (1 + n_negatives)
            self.on_epoch_end()

        def __len__(self):
            return -(-self.n_pairs // batch_size)

        def __getitem__(self, index):
            rows = slice(index * batch_size, (index + 1) * batch_size)
            return {"user": self.users[rows], "item": self.items[rows]}, self.labels[rows]

        def on_epoch_end(self):
            chosen = slice(None) if per_epoch == users.size else self.rng.choice(users.size, per_epoch, replace=False)
            u, i, y = _with_negatives(users[chosen], items[chosen], keys, n_items, n_negatives, self.rng)
            order = self.rng.permutation(y.size)
            self.users, self.items, self.labels = u[order], i[order], y[order]

    return NegativeSamplingBatches()


# --------------------------------------------------------------------------- scoring

def score_candidates(model, user_positions, item_positions, batch_size: int = 16384) -> np.ndarray:
    """Scores of users x candidate items, computed in batches of pairs.

    Parameters
    ----------
    model : keras.Model
        A model with inputs ``user`` and ``item`` and one output per pair (any builder here).
    user_positions : array of int, shape (n_users,)
        The users to score.
    item_positions : array of int, shape (n_candidates,) or (n_users, n_candidates)
        The same candidates for every user (e.g. the whole catalogue), or one row of
        candidates per user (e.g. NCF's 1 + 99 items).
    batch_size : int
        Pairs per forward pass; memory grows with it.

    Returns
    -------
    numpy.ndarray of float32, shape (n_users, n_candidates)
        The model's output for every pair.

    Raises
    ------
    TypeError
        If the positions are not integers, or ``batch_size`` is not an integer.
    ValueError
        If the positions do not have those shapes, or ``batch_size`` is below 1.

    Notes
    -----
    Taught in notebook 06, section 4; used there for NCF's 1 + 99 candidates and for ranking
    the whole catalogue.

    Examples
    --------
    >>> import numpy as np
    >>> model = build_gmf(5, 8, n_factors=2, seed=0)
    >>> score_candidates(model, np.array([0, 4]), np.arange(8)).shape
    (2, 8)
    """
    batch_size = positive_int("batch_size", batch_size)
    users = check_positions("user_positions", user_positions)
    items = check_positions("item_positions", item_positions, ndim=(1, 2))
    if items.ndim == 2 and items.shape[0] != users.size:
        raise ValueError(f"a 2-D item_positions needs one row per user: {users.size} users, {items.shape[0]} rows")
    n_candidates = items.shape[-1]
    rows_per_batch = max(1, batch_size // n_candidates)
    scores = np.empty((users.size, n_candidates), dtype=np.float32)
    for start in range(0, users.size, rows_per_batch):
        block = slice(start, start + rows_per_batch)
        block_users = users[block]
        block_items = items[block] if items.ndim == 2 else np.broadcast_to(items, (block_users.size, n_candidates))
        pairs = {"user": np.repeat(block_users, n_candidates).astype(np.int32),
                 "item": np.ascontiguousarray(block_items, dtype=np.int32).ravel()}
        scores[block] = np.asarray(model.predict_on_batch(pairs), dtype=np.float32).reshape(block_users.size, -1)
    return scores
