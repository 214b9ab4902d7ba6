"""SASRec: self-attentive sequential recommendation in Keras, and its sequence-to-sequence training data.

Taught in ``notebooks/11_large_models_and_scaling.ipynb``, which writes scaled dot-product
attention with a causal mask in NumPy, checks it against ``keras.layers.MultiHeadAttention``
and then builds the model of Kang & McAuley, "Self-Attentive Sequential Recommendation"
(ICDM 2018) block by block.

Conventions are those of :mod:`rec_utils.models.sequential`: items enter as **tokens**
(``position in the item index + 1``, ``0`` = padding), sequences are padded on the left so
the most recent item is in the last column, and the network predicts the next item's
*position* (``token - 1``).

* :func:`build_sasrec` — the model; it maps ``(batch, max_len)`` tokens to next-item logits
  over the ``n_items`` items, read at the last position, so it drops into the same
  evaluation code as :func:`rec_utils.models.sequential.build_gru4rec` (scores are logits
  rather than probabilities, which ranks items in the same order).
* :func:`sequence_training_model` — the same layers read at *every* position: the training
  model of the paper, one next-item loss per position of each sequence
  (:func:`masked_next_item_loss`, which skips padding).
* :func:`causal_attention_mask` — which positions each position may attend to.
* :func:`next_item_sequences` — the training windows for it: each history cut into
  ``max_len``-long pieces, with the item that follows every position as its target.
* :func:`sequence_dataset` — a ``tf.data`` pipeline of those windows for ``fit``;
* :func:`attention_weights` — the causal self-attention weights of every block.
* :func:`training_flops` — the ``6 · parameters · tokens`` estimate of training compute.

:func:`build_sasrec` also takes fixed item vectors as **side input** (``item_features``, e.g.
text vectors), added to the learned item embeddings through a trained projection.

TensorFlow is imported only when a model is built, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_number, check_positions, positive_int
from ..data.sequences import next_item_sequences  # noqa: F401  (re-exported: SASRec's training windows)

__all__ = ["build_sasrec", "sequence_training_model", "masked_next_item_loss", "next_item_sequences",
           "sequence_dataset", "attention_weights", "training_flops", "causal_attention_mask"]


# --------------------------------------------------------------------------- data

def causal_attention_mask(tokens) -> np.ndarray:
    """Which keys each query may attend to: earlier or same positions that are not padding.

    A padding position attends to itself only, so that every row of the attention has at
    least one allowed key (its output is zeroed afterwards anyway).

    Parameters
    ----------
    tokens : array of int, shape (batch, max_len)
        Left-padded item tokens, 0 = padding.

    Returns
    -------
    ndarray of bool, shape (batch, max_len, max_len)
        ``mask[b, i, j]`` is True when query position ``i`` may attend to key position ``j``.

    Examples
    --------
    >>> causal_attention_mask([[0, 5, 7]]).astype(int)[0].tolist()
    [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    """
    tokens = check_positions("tokens", tokens, ndim=2)  # batch x max_len
    length = tokens.shape[1]
    earlier = np.tril(np.ones((length, length), dtype=bool))
    return earlier[None] & ((tokens != 0)[:, None, :] | np.eye(length, dtype=bool)[None])


def sequence_dataset(inputs, targets, batch_size: int = 128, shuffle: bool = False, seed: int = 0,
                     targets_as_input: bool = False):
    """A ``tf.data`` pipeline of (windows, per-position targets) batches for ``fit``.

    Like :func:`rec_utils.models.sequential.next_item_dataset`, but the targets are a
    ``(n, max_len)`` array (one next item per position, -1 = no target). With
    ``shuffle=True`` the rows are permuted once (seeded), batched, and the batch order is
    reshuffled every epoch. With ``targets_as_input=True`` each batch is
    ``((windows, targets),)``, the input of a sampled-softmax trainer
    (:func:`sequence_training_model` with ``n_negatives``).

    Examples
    --------
    >>> dataset = sequence_dataset(np.zeros((5, 3), np.int32), np.zeros((5, 3), np.int32), batch_size=2)
    >>> [tuple(y.shape) for _, y in dataset]
    [(2, 3), (2, 3), (1, 3)]
    """
    import tensorflow as tf

    positive_int("batch_size", batch_size)
    inputs = check_array("inputs", inputs, ndim=2, dtype=np.int32)
    targets = check_array("targets", targets, dtype=np.int32)
    if targets.shape != inputs.shape:
        raise ValueError(f"inputs and targets must be 2-D arrays of the same shape, got {inputs.shape} and "
                         f"{targets.shape}")
    order = np.random.default_rng(seed).permutation(len(inputs)) if shuffle else np.arange(len(inputs))
    pairs = (inputs[order], targets[order])
    batches = tf.data.Dataset.from_tensor_slices((pairs,) if targets_as_input else pairs).batch(batch_size)
    if shuffle:
        batches = batches.shuffle(-(-len(inputs) // batch_size), seed=seed, reshuffle_each_iteration=True)
    return batches.prefetch(1)


def training_flops(n_parameters: int, n_tokens: int) -> float:
    """Training compute by the usual rule: ``6 · parameters · tokens`` floating-point operations.

    Two operations per parameter and token for the forward pass (a multiply and an add),
    four for the backward pass (Kaplan et al., "Scaling Laws for Neural Language Models",
    2020). Embedding lookups are not multiplications, so for an item-embedding-heavy
    recommender the rule over-counts; it is a yardstick for comparing sizes, not a measurement.

    >>> training_flops(1_000, 50)
    300000.0
    """
    return 6.0 * positive_int("n_parameters", n_parameters) * positive_int("n_tokens", n_tokens)


# --------------------------------------------------------------------------- Keras

def _layers():
    """The custom layers, defined on first use so that importing this module never imports Keras."""
    global _LAYERS
    if _LAYERS is None:
        import keras

        @keras.saving.register_keras_serializable(package="rec_utils")
        class CausalPaddingMask(keras.layers.Layer):
            """(batch, L) tokens -> (batch, L, L) bool mask; see :func:`causal_attention_mask`."""

            def call(self, tokens):
                length = keras.ops.shape(tokens)[1]
                positions = keras.ops.arange(length)
                earlier = positions[None, :, None] >= positions[None, None, :]
                same = positions[None, :, None] == positions[None, None, :]
                real_key = keras.ops.not_equal(tokens, 0)[:, None, :]
                return keras.ops.logical_and(earlier, keras.ops.logical_or(real_key, same))

            def compute_output_shape(self, input_shape):
                return (input_shape[0], input_shape[1], input_shape[1])

        @keras.saving.register_keras_serializable(package="rec_utils")
        class PaddingMask(keras.layers.Layer):
            """(batch, L) tokens -> (batch, L, 1) float: 1 for items, 0 for padding."""

            def call(self, tokens):
                return keras.ops.cast(keras.ops.not_equal(tokens, 0), "float32")[:, :, None]

            def compute_output_shape(self, input_shape):
                return (input_shape[0], input_shape[1], 1)

        @keras.saving.register_keras_serializable(package="rec_utils")
        class PositionEmbedding(keras.layers.Layer):
            """Adds a learned vector per position (0 = oldest column) to a (batch, L, d) input.

            ``truncated=True`` starts the vectors from a truncated normal (BERT's choice, used by
            BERT4Rec) instead of a normal, both with standard deviation 0.02.
            """

            def __init__(self, max_len, truncated=False, **kwargs):
                super().__init__(**kwargs)
                self.max_len, self.truncated = max_len, truncated

            def build(self, input_shape):
                start = keras.initializers.TruncatedNormal if self.truncated else keras.initializers.RandomNormal
                self.positions = self.add_weight(shape=(self.max_len, input_shape[-1]), name="positions",
                                                 initializer=start(stddev=0.02))

            def call(self, vectors):
                return vectors + self.positions[None]

            def get_config(self):
                return {**super().get_config(), "max_len": self.max_len, "truncated": self.truncated}

        @keras.saving.register_keras_serializable(package="rec_utils")
        class LastPosition(keras.layers.Layer):
            """(batch, L, d) -> (batch, d): the state at the most recent position."""

            def call(self, states):
                return states[:, -1, :]

            def compute_output_shape(self, input_shape):
                return (input_shape[0], input_shape[2])

        _LAYERS = {"CausalPaddingMask": CausalPaddingMask, "PaddingMask": PaddingMask,
                   "PositionEmbedding": PositionEmbedding, "LastPosition": LastPosition}
    return _LAYERS


_LAYERS = None


def custom_layers() -> dict:
    """SASRec's custom Keras layers by name (masks, ``PositionEmbedding``, ``LastPosition``).

    BERT4Rec builds on the same position and last-state layers; sharing the classes keeps one
    registered Keras name per layer, so saved models of either reload with the right class.

    >>> sorted(custom_layers())
    ['CausalPaddingMask', 'LastPosition', 'PaddingMask', 'PositionEmbedding']
    """
    return dict(_layers())


def build_sasrec(n_items: int, max_len: int = 50, embedding_dim: int = 64, n_blocks: int = 2, n_heads: int = 1,
                 dropout: float = 0.2, learning_rate: float = 1e-3, name: str | None = None, item_features=None):
    """A SASRec next-item model: item + position embeddings -> causal self-attention blocks -> logits.

    After Kang & McAuley, "Self-Attentive Sequential Recommendation" (ICDM 2018). Each block
    is pre-normalised, as in the paper's code: ``x + Dropout(MHA(LN(x)))`` with a causal mask
    that also hides padding keys, then ``x + Dropout(FFN(LN(x)))`` with a two-layer ReLU
    feed-forward network of width ``embedding_dim``; padding positions are zeroed after every
    block, and a final layer normalisation gives the item states. Two choices differ from the
    paper: the output is a separate dense layer with a full softmax over all items (trained
    with cross-entropy, which Klenitskiy & Vasilev, RecSys 2023, found better than the
    paper's sampled binary loss), not the item embedding reused.

    Parameters
    ----------
    n_items : int
        Number of items; inputs are tokens ``0..n_items`` (0 = padding).
    max_len : int
        Length of the left-padded input sequences; also the number of learned positions.
    embedding_dim : int
        Width of the item vectors and of every block; must be divisible by ``n_heads``.
    n_blocks, n_heads : int
        Number of self-attention blocks, and of attention heads per block.
    dropout : float
        Dropout rate in [0, 1) on the embeddings, the attention weights and each residual branch.
    learning_rate : float
        Adam's step size.
    name : str, optional
        The model's name (default ``"sasrec"``).
    item_features : array of float, shape (n_items, n_features), optional
        **Side input**: a fixed vector per item (row ``p`` for the item at position ``p``, e.g.
        text vectors from :class:`rec_utils.data.text_features.TextEmbedder` or a pre-trained
        encoder). Each item then enters the blocks as its learned embedding **plus** a learned
        linear projection of its features, so items that share features share part of their
        representation, which helps the items with few interactions. The features are a frozen
        lookup table (layer ``item_features``, padding row zero); the projection
        (``item_feature_projection``, ``n_features × embedding_dim`` weights, no bias) is trained.

    Returns
    -------
    keras.Model
        Compiled with Adam and sparse categorical cross-entropy on logits; maps
        ``(batch, max_len)`` int32 tokens to ``(batch, n_items)`` next-item logits read at the
        last position. Layers are named ``item_history``, ``item_embedding``,
        ``position_embedding``, ``block_{b}_attention`` (b = 1..n_blocks), ``item_states``,
        ``last_position`` and ``next_item_logits``; :func:`sequence_training_model` reads the
        same layers at every position.

    Examples
    --------
    >>> model = build_sasrec(n_items=20, max_len=5, embedding_dim=8, n_blocks=1)
    >>> model.predict(np.array([[0, 0, 3, 1, 2]]), verbose=0).shape
    (1, 20)
    >>> with_text = build_sasrec(n_items=20, max_len=5, embedding_dim=8, n_blocks=1,
    ...                          item_features=np.eye(20, 4, dtype=np.float32))
    >>> tuple(with_text.get_layer("item_feature_projection").kernel.shape)
    (4, 8)
    """
    n_items = positive_int("n_items", n_items)
    max_len = positive_int("max_len", max_len)
    embedding_dim = positive_int("embedding_dim", embedding_dim)
    n_blocks = positive_int("n_blocks", n_blocks)
    n_heads = positive_int("n_heads", n_heads)
    if embedding_dim % n_heads:
        raise ValueError(f"embedding_dim must be divisible by n_heads, got {embedding_dim} and {n_heads}")
    check_number("dropout", dropout, low=0, high=1, high_inclusive=False)
    check_number("learning_rate", learning_rate, low=0, low_inclusive=False)
    if item_features is not None:
        item_features = check_array("item_features", item_features, ndim=2, dtype=np.float32)
        if item_features.shape[0] != n_items:
            raise ValueError(f"item_features must have one row per item ({n_items} rows), got shape "
                             f"{item_features.shape}")
    import keras

    layers = _layers()
    history = keras.Input(shape=(max_len,), dtype="int32", name="item_history")
    attention_mask = layers["CausalPaddingMask"](name="attention_mask")(history)
    is_item = layers["PaddingMask"](name="padding_mask")(history)
    x = keras.layers.Embedding(n_items + 1, embedding_dim, name="item_embedding")(history)
    if item_features is not None:  # side input: + a learned projection of each item's fixed features
        table = np.vstack([np.zeros((1, item_features.shape[1]), np.float32), item_features])  # row 0: padding
        features = keras.layers.Embedding(n_items + 1, item_features.shape[1], weights=[table], trainable=False,
                                          name="item_features")(history)
        projected = keras.layers.Dense(embedding_dim, use_bias=False, name="item_feature_projection")(features)
        x = keras.layers.Add(name="item_embedding_plus_features")([x, projected])
    x = keras.layers.Rescaling(embedding_dim ** 0.5, name="embedding_scale")(x)
    x = layers["PositionEmbedding"](max_len, name="position_embedding")(x)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    x = keras.layers.Multiply(name="embedding_padding_zero")([x, is_item])
    for block in range(1, n_blocks + 1):
        prefix = f"block_{block}"
        normed = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{prefix}_attention_norm")(x)
        attended, _ = keras.layers.MultiHeadAttention(
            n_heads, embedding_dim // n_heads, dropout=dropout, name=f"{prefix}_attention")(
            normed, normed, attention_mask=attention_mask, return_attention_scores=True)
        attended = keras.layers.Dropout(dropout, name=f"{prefix}_attention_dropout")(attended)
        x = keras.layers.Add(name=f"{prefix}_attention_residual")([x, attended])
        normed = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{prefix}_ffn_norm")(x)
        hidden = keras.layers.Dense(embedding_dim, activation="relu", name=f"{prefix}_ffn_hidden")(normed)
        hidden = keras.layers.Dense(embedding_dim, name=f"{prefix}_ffn_output")(hidden)
        hidden = keras.layers.Dropout(dropout, name=f"{prefix}_ffn_dropout")(hidden)
        x = keras.layers.Add(name=f"{prefix}_ffn_residual")([x, hidden])
        x = keras.layers.Multiply(name=f"{prefix}_padding_zero")([x, is_item])
    states = keras.layers.LayerNormalization(epsilon=1e-6, name="item_states")(x)
    last = layers["LastPosition"](name="last_position")(states)
    logits = keras.layers.Dense(n_items, name="next_item_logits")(last)
    model = keras.Model(history, logits, name=name or "sasrec")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _check_sasrec(model) -> None:
    names = {layer.name for layer in getattr(model, "layers", [])}
    if not {"item_history", "item_states", "next_item_logits", "block_1_attention"} <= names:
        raise ValueError(f"expected a model from build_sasrec (layers item_history, block_1_attention, item_states, "
                         f"next_item_logits), got {type(model).__name__} with layers {sorted(names)}")


def sequence_training_model(model, learning_rate: float = 1e-3, n_negatives: int | None = None, item_counts=None,
                            power: float = 0.5, seed: int = 0):
    """The layers of a :func:`build_sasrec` model read at every position, for sequence-to-sequence training.

    The returned model shares its weights with ``model`` (training one trains the other) and
    maps ``(batch, max_len)`` tokens to ``(batch, max_len, n_items)`` logits: position ``i``
    predicts the item after token ``i`` from tokens ``0..i`` only, thanks to the causal mask.
    It is compiled with :func:`masked_next_item_loss`, the cross-entropy averaged over the
    positions whose target is not ``-1`` (padding), to be fed the windows of
    :func:`next_item_sequences`.

    With ``n_negatives`` (for a large catalogue) the trainer learns with a sampled softmax
    instead: every real target position is scored against ``n_negatives`` drawn items, never
    against the whole catalogue, so no ``(batch, max_len, n_items)`` tensor is built in
    training; see :func:`rec_utils.models.sequential.sampled_softmax_model` (``item_counts``,
    ``power`` and ``seed`` are passed on). That trainer takes ``(windows, targets)`` as its
    input: build its data with ``sequence_dataset(..., targets_as_input=True)``; its
    validation loss is the full softmax's, at the positions that have a target.

    Examples
    --------
    >>> model = build_sasrec(n_items=20, max_len=5, embedding_dim=8, n_blocks=1)
    >>> sequence_training_model(model).output_shape
    (None, 5, 20)
    """
    _check_sasrec(model)
    check_number("learning_rate", learning_rate, low=0, low_inclusive=False)
    if n_negatives is not None:
        from .sequential import sampled_softmax_model

        return sampled_softmax_model(model, n_negatives, item_counts, power, learning_rate, seed,
                                     states=model.get_layer("item_states").output)
    import keras

    every_position = model.get_layer("next_item_logits")(model.get_layer("item_states").output)
    trainer = keras.Model(model.input, every_position, name=f"{model.name}_every_position")
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=masked_next_item_loss)
    return trainer


def masked_next_item_loss(targets, logits):
    """Mean cross-entropy over the positions whose target is not -1 (a scalar per batch).

    Uses the fused sparse softmax cross-entropy on the raw targets clipped at 0, then masks:
    unlike Keras's ``ignore_class``, it makes no masked copy of the ``(batch, max_len, n_items)``
    logits, which is the largest tensor of a training step.
    """
    import keras

    valid = keras.ops.cast(keras.ops.greater_equal(targets, 0), "float32")
    losses = keras.ops.sparse_categorical_crossentropy(keras.ops.maximum(targets, 0), logits, from_logits=True)
    return keras.ops.sum(losses * valid) / keras.ops.maximum(keras.ops.sum(valid), 1.0)


def attention_weights(model, sequences, batch_size: int = 256) -> np.ndarray:
    """The causal self-attention weights of every block of a :func:`build_sasrec` model.

    Parameters
    ----------
    model : keras.Model
        Built by :func:`build_sasrec`.
    sequences : array of int, shape (batch, max_len)
        Left-padded tokens, as the model reads them.
    batch_size : int
        Rows per forward pass.

    Returns
    -------
    ndarray of float32, shape (n_blocks, batch, n_heads, max_len, max_len)
        ``weights[b, r, h, i, j]``: how much query position ``i`` attends to key position ``j``
        in block ``b + 1``, head ``h``, for row ``r`` (each query's weights sum to 1; zero for
        later positions and for padding keys; a padding query attends to itself only).

    Examples
    --------
    >>> model = build_sasrec(n_items=20, max_len=5, embedding_dim=8, n_blocks=2)
    >>> attention_weights(model, np.array([[0, 0, 3, 1, 2]])).shape
    (2, 1, 1, 5, 5)
    """
    _check_sasrec(model)
    max_len = model.input.shape[1]
    sequences = check_positions("sequences", sequences, ndim=2)  # tokens, 0 = padding
    if sequences.shape[1] != max_len:
        raise ValueError(f"sequences must be integer tokens of shape (batch, {max_len}), got shape {sequences.shape}")
    positive_int("batch_size", batch_size)
    import keras

    from .sequential import next_item_dataset

    blocks = sorted((layer for layer in model.layers if layer.name.startswith("block_")
                     and layer.name.endswith("_attention")), key=lambda layer: int(layer.name.split("_")[1]))
    probe = keras.Model(model.input, [layer.output[1] for layer in blocks])
    weights = probe.predict(next_item_dataset(sequences.astype(np.int32), batch_size=batch_size), verbose=0)
    weights = weights if isinstance(weights, list) else [weights]
    return np.stack([np.asarray(w, dtype=np.float32) for w in weights])
