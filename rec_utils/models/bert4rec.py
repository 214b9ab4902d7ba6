"""BERT4Rec: a bidirectional transformer trained to fill in masked items (the cloze task), in Keras.

Taught in ``notebooks/12_bert4rec.ipynb``, beside SASRec and GRU4Rec on the leave-last-out
protocol of the sequence notebooks, full ranking first. The model follows Sun, Liu, Wu,
Pei, Lin, Ou, Jiang, "BERT4Rec: Sequential Recommendation with Bidirectional Encoder
Representations from Transformer" (CIKM 2019):

* SASRec reads a history left to right and predicts each next item; BERT4Rec lets every
  position attend to every other (no causal mask, only padding hidden) and learns by
  **masked-item prediction**: a share ``mask_prob`` of the items of each training window is
  replaced by a ``[MASK]`` token and the model predicts them from both sides
  (:func:`mask_items`, fresh masks every epoch in :func:`cloze_batches`). Some windows mask
  only their last item, as the paper's fine-tuning samples do, to match the task of the test;
* to recommend, ``[MASK]`` is appended after the user's history (:func:`append_mask`) and the
  model's output at that position ranks the items (:func:`scoring_function`).

Tokens follow :mod:`rec_utils.data.sequences`: ``0`` is padding, ``1..n_items`` are the items
(position + 1), and ``n_items + 1`` is ``[MASK]`` (:func:`mask_token`); the network predicts
item *positions* (token - 1).

Training budget matters more than for SASRec: Petrov & Macdonald, "A Systematic Review and
Replicability Study of BERT4Rec for Sequential Recommendation" (RecSys 2022), could replicate
the original results with the original code only when training "for a much longer amount of
time (up to 30x) compared to the default configuration" — BERT4Rec is effective "only when
trained for a sufficient amount of time". State the budget next to any BERT4Rec figure.

For a large catalogue, the trainer (:func:`cloze_training_model`) computes the output layer
only at the masked positions and can score them against ``n_negatives`` sampled items (a
sampled softmax with the log-Q correction) instead of every item; ``max_len`` and
``max_windows_per_user`` (:func:`cloze_windows`) cap the history. The loss itself is
:func:`rec_utils.models.sequential.sampled_softmax_cross_entropy`, shared with GRU4Rec and
SASRec. TensorFlow is imported only
when a model is built, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import check_array, check_number, check_positions, check_seed, fraction, positive_int
from ..data.interactions import IdIndex
from ..data.sequences import item_tokens, left_padded_windows
from .sequential import sampled_softmax_cross_entropy

__all__ = ["mask_token", "cloze_windows", "mask_items", "cloze_batches", "append_mask", "build_bert4rec",
           "cloze_training_model", "scoring_function"]


def mask_token(n_items: int) -> int:
    """The ``[MASK]`` token of a catalogue of ``n_items`` items: ``n_items + 1``.

    >>> mask_token(1682)
    1683
    """
    return positive_int("n_items", n_items) + 1


# --------------------------------------------------------------------------- data

def cloze_windows(ratings: pd.DataFrame, max_len: int, items: IdIndex | None = None,
                  max_windows_per_user: int | None = None, stride: int | None = None):
    """Each user's time-ordered history cut into ``max_len``-long windows of tokens, newest first.

    Windows are cut from the most recent end, so the latest window of a user is always full
    (when the history is long enough) and the oldest is left-padded. Unlike
    :func:`rec_utils.data.sequences.next_item_sequences` nothing is shifted: the targets of
    the cloze task are the window's own items, chosen by :func:`mask_items`.

    Parameters
    ----------
    ratings : DataFrame
        ``user_id, item_id, timestamp`` of the training interactions.
    max_len : int
        Window length (the model's ``max_len``).
    items : IdIndex, optional
        The item vocabulary (default: the items of ``ratings``).
    max_windows_per_user : int, optional
        Keep only each user's latest windows (a budget for very long histories).
    stride : int, optional
        Positions between the ends of consecutive windows, 1..max_len (default ``max_len``: no
        overlap). A smaller stride gives overlapping windows — the original code's sliding
        window — so an item is masked in more contexts per epoch, at ``max_len / stride`` times
        the cost.

    Returns
    -------
    windows : ndarray of int32, shape (n_windows, max_len)
    user_ids : ndarray, shape (n_windows,)

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 1, 1, 1, 1], "item_id": [10, 20, 30, 40, 50], "timestamp": [1, 2, 3, 4, 5]})
    >>> windows, users = cloze_windows(r, max_len=3)
    >>> windows.tolist(), users.tolist()
    ([[0, 1, 2], [3, 4, 5]], [1, 1])
    """
    max_len = positive_int("max_len", max_len)
    stride = max_len if stride is None else positive_int("stride", stride)
    if stride > max_len:
        raise ValueError(f"stride must be at most max_len={max_len}, got {stride}")
    if max_windows_per_user is not None:
        max_windows_per_user = positive_int("max_windows_per_user", max_windows_per_user)
    tokens, users, starts = item_tokens(ratings, items)
    ends = np.r_[starts[1:], len(tokens)]
    window_ends, window_firsts = [], []
    for first, end in zip(starts, ends):
        # newest window first; with overlap, stop once a window reaches the user's first item
        cut = np.arange(end, first, -stride)
        if stride < max_len:
            cut = cut[:int(np.searchsorted(-cut, -(first + max_len), side="left")) + 1]
        if max_windows_per_user is not None:
            cut = cut[:max_windows_per_user]
        window_ends.append(cut)
        window_firsts.append(np.full(len(cut), first))
    window_ends = np.concatenate(window_ends).astype(np.int64)
    window_firsts = np.concatenate(window_firsts).astype(np.int64)
    order = np.argsort(window_ends, kind="stable")  # users in order, each user's windows oldest first
    window_ends, window_firsts = window_ends[order], window_firsts[order]
    return left_padded_windows(tokens, window_ends, window_firsts, max_len), users[window_ends - 1]


def mask_items(windows, n_items: int, mask_prob: float = 0.2, rng=None, last_item_prob: float = 0.0):
    """Cloze examples: some items of each window replaced by ``[MASK]``, and what they were.

    Every item (non-padding token) is masked independently with probability ``mask_prob``;
    a window left without a masked item gets one at a random item position. A share
    ``last_item_prob`` of the windows instead masks only its last item — the paper's extra
    samples that "only mask the last item", which match the task of recommending the next one.

    Parameters
    ----------
    windows : array of int, shape (n, max_len)
        Tokens, 0 = padding (:func:`cloze_windows`).
    n_items : int
        Catalogue size; ``[MASK]`` is ``n_items + 1``.
    mask_prob : float
        Share of the items masked, in (0, 1].
    rng : numpy.random.Generator or int, optional
        The randomness (a seed is accepted).
    last_item_prob : float
        Share of windows that mask only their last item, in [0, 1].

    Returns
    -------
    inputs : ndarray of int32, shape (n, max_len)
        The windows with ``[MASK]`` where an item was hidden.
    targets : ndarray of int32, shape (n, max_len)
        The hidden item's position (token - 1) at masked places, -1 elsewhere.

    Examples
    --------
    >>> inputs, targets = mask_items([[0, 3, 1, 2]], n_items=5, mask_prob=0.5, rng=2)
    >>> inputs.tolist(), targets.tolist()
    ([[0, 6, 1, 6]], [[-1, 2, -1, 1]])
    """
    windows = check_positions("windows", windows, ndim=2)
    n_items = positive_int("n_items", n_items)
    if windows.max() > n_items:
        raise ValueError(f"windows must hold tokens 0..{n_items} (0 = padding), got a maximum of {windows.max()}")
    mask_prob = fraction("mask_prob", mask_prob, include_one=True)
    last_item_prob = fraction("last_item_prob", last_item_prob, include_zero=True, include_one=True)
    rng = np.random.default_rng(rng)
    is_item = windows > 0
    if not is_item.any(axis=1).all():
        raise ValueError("every window must hold at least one item")
    masked = is_item & (rng.random(windows.shape) < mask_prob)
    empty = np.flatnonzero(~masked.any(axis=1))
    if empty.size:  # one random item of each window left unmasked
        keys = np.where(is_item[empty], rng.random((empty.size, windows.shape[1])), -1.0)
        masked[empty, keys.argmax(axis=1)] = True
    last_only = rng.random(len(windows)) < last_item_prob
    masked[last_only] = False
    masked[last_only, -1] = is_item[last_only, -1]
    inputs = np.where(masked, n_items + 1, windows).astype(np.int32)
    targets = np.where(masked, windows - 1, -1).astype(np.int32)
    return inputs, targets


def cloze_batches(windows, n_items: int, mask_prob: float = 0.2, batch_size: int = 128, last_item_prob: float = 0.1,
                  seed: int = 0):
    """Mini-batches of cloze examples with fresh masks every epoch: a ``keras.utils.PyDataset``.

    Before the first epoch and after each one, the windows are shuffled and masked again
    (:func:`mask_items`, one generator seeded once by ``seed``: the whole run is reproducible),
    so over many epochs every item is predicted from many contexts — dynamic masking. Each
    batch is ``((inputs, targets),)``, the input of :func:`cloze_training_model`'s trainer.

    Examples
    --------
    >>> batches = cloze_batches(np.array([[0, 1, 2], [3, 1, 2], [2, 2, 1]]), n_items=3, batch_size=2)
    >>> len(batches), [a.shape for a in batches[0][0]]
    (2, [(2, 3), (2, 3)])
    """
    windows = check_positions("windows", windows, ndim=2)
    batch_size = positive_int("batch_size", batch_size)
    check_seed("seed", seed)
    mask_items(windows[:1], n_items, mask_prob, 0, last_item_prob)  # validates the settings
    import keras

    class ClozeBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return -(-len(windows) // batch_size)

        def __getitem__(self, index):
            rows = slice(index * batch_size, (index + 1) * batch_size)
            return ((self.inputs[rows], self.targets[rows]),)

        def on_epoch_end(self):
            order = self.rng.permutation(len(windows))
            self.inputs, self.targets = mask_items(windows[order], n_items, mask_prob, self.rng, last_item_prob)

    return ClozeBatches()


def append_mask(sequences, n_items: int) -> np.ndarray:
    """Inference inputs: each row's latest items followed by ``[MASK]`` (the oldest column drops out).

    ``sequences`` are left-padded rows of tokens (e.g. :func:`rec_utils.data.sequences.user_sequences`
    with the model's ``max_len``); the model's output at the last position then scores the item
    that comes next.

    >>> append_mask([[0, 4, 2], [1, 2, 3]], n_items=5).tolist()
    [[4, 2, 6], [2, 3, 6]]
    """
    sequences = check_positions("sequences", sequences, ndim=2)
    n_items = positive_int("n_items", n_items)
    if sequences.max() > n_items:
        raise ValueError(f"sequences must hold tokens 0..{n_items}, got a maximum of {sequences.max()}")
    return np.concatenate([sequences[:, 1:], np.full((len(sequences), 1), n_items + 1)], axis=1).astype(np.int32)


# --------------------------------------------------------------------------- Keras

def _layers():
    """The custom layers, defined on first use so that importing this module never imports Keras."""
    global _LAYERS
    if _LAYERS is None:
        import keras

        @keras.saving.register_keras_serializable(package="rec_utils")
        class PaddingAttentionMask(keras.layers.Layer):
            """(batch, L) tokens -> (batch, L, L) bool: every query may attend to every non-padding key."""

            def call(self, tokens):
                real = keras.ops.not_equal(tokens, 0)
                return keras.ops.logical_and(keras.ops.ones_like(real)[:, :, None], real[:, None, :])

            def compute_output_shape(self, input_shape):
                return (input_shape[0], input_shape[1], input_shape[1])

        class MaskedItemLoss(keras.layers.Layer):
            """The cloze loss at the masked positions only: full softmax, or sampled with log-Q.

            Takes the item states (batch, L, d) and the targets (batch, L; -1 = not masked), keeps
            the masked positions, applies the model's output head (``transform``, ``norm`` and
            the ``output`` dense layer, shared with the model) and adds the mean cross-entropy.
            With ``n_negatives`` in training, each target is scored against ``n_negatives`` items
            drawn (shared by the batch) from ``exp(log_proposal)``, each draw's logit lowered by
            ``log(n_negatives q)``, a draw equal to the target hidden; in evaluation, and without
            ``n_negatives``, the softmax is over every item.
            """

            def __init__(self, transform, norm, output, n_negatives=None, log_proposal=None, seed=0, **kwargs):
                super().__init__(**kwargs)
                self.transform, self.norm, self.output_layer = transform, norm, output
                self.n_negatives = n_negatives
                if n_negatives is not None:
                    self.log_proposal = np.asarray(log_proposal, dtype=np.float32)
                    self.seed_generator = keras.random.SeedGenerator(seed)

            def call(self, states, targets, training=None):
                sampling = ({"n_negatives": self.n_negatives, "log_proposal": self.log_proposal,
                             "seed_generator": self.seed_generator} if training and self.n_negatives is not None else {})
                loss = sampled_softmax_cross_entropy(states, targets, self.output_layer,
                                                     head=lambda h: self.norm(self.transform(h)), **sampling)
                self.add_loss(loss)
                return loss

            def compute_output_shape(self, *shapes):
                return ()

        from .sasrec import custom_layers  # the position and last-state layers are SASRec's

        shared = custom_layers()
        _LAYERS = {"PaddingAttentionMask": PaddingAttentionMask, "PositionEmbedding": shared["PositionEmbedding"],
                   "LastPosition": shared["LastPosition"], "MaskedItemLoss": MaskedItemLoss}
    return _LAYERS


_LAYERS = None


def build_bert4rec(n_items: int, max_len: int = 50, embedding_dim: int = 64, n_blocks: int = 2, n_heads: int = 2,
                   dropout: float = 0.2, learning_rate: float = 1e-3, seed: int | None = None, name: str | None = None):
    """A BERT4Rec model: item + position embeddings -> bidirectional transformer blocks -> item logits.

    After Sun et al. (CIKM 2019), with BERT's post-normalised blocks: ``x = LN(x +
    Dropout(MHA(x)))`` with attention over every non-padding position (no causal mask), then
    ``x = LN(x + Dropout(FFN(x)))`` with a GELU feed-forward layer four times as wide; the
    embeddings are normalised and dropped out first. The output head is BERT4Rec's: a GELU
    dense layer and a layer normalisation, then one logit per item. One choice differs from
    the paper: the last layer is a separate dense layer over the items (as in the course's
    SASRec), not the item embedding reused.

    Parameters
    ----------
    n_items : int
        Number of items; inputs are tokens ``0..n_items + 1`` (0 padding, ``n_items + 1`` [MASK]).
    max_len : int
        Length of the input rows; also the number of learned positions.
    embedding_dim : int
        Width of the item vectors and of every block; divisible by ``n_heads``.
    n_blocks, n_heads : int
        Transformer blocks, and attention heads per block.
    dropout : float
        Dropout on the embeddings, the attention weights and each residual branch, in [0, 1).
    learning_rate : float
        Adam's step size (used by :func:`cloze_training_model`).
    seed : int, optional
        Seeds Keras first, for reproducible initial weights.
    name : str, optional
        The model's name (default ``"bert4rec"``).

    Returns
    -------
    keras.Model
        Maps ``(batch, max_len)`` int32 tokens to ``(batch, n_items)`` logits read at the last
        position — feed it :func:`append_mask` rows. Layers are named ``item_history``,
        ``item_embedding``, ``position_embedding``, ``block_{b}_attention`` (b = 1..n_blocks),
        ``item_states``, ``output_transform``, ``output_norm`` and ``next_item_logits``;
        :func:`cloze_training_model` trains the same layers.

    Examples
    --------
    >>> model = build_bert4rec(n_items=20, max_len=5, embedding_dim=8, n_blocks=1, n_heads=2, seed=0)
    >>> model.predict(append_mask(np.array([[0, 0, 3, 1, 2]]), 20), verbose=0).shape
    (1, 20)
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
    check_seed("seed", seed)
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    layers = _layers()
    init = keras.initializers.TruncatedNormal(stddev=0.02)
    history = keras.Input(shape=(max_len,), dtype="int32", name="item_history")
    attention_mask = layers["PaddingAttentionMask"](name="attention_mask")(history)
    x = keras.layers.Embedding(n_items + 2, embedding_dim, embeddings_initializer=init, name="item_embedding")(history)
    x = layers["PositionEmbedding"](max_len, truncated=True, name="position_embedding")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="embedding_norm")(x)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for block in range(1, n_blocks + 1):
        prefix = f"block_{block}"
        attended = keras.layers.MultiHeadAttention(n_heads, embedding_dim // n_heads, dropout=dropout,
                                                   kernel_initializer=init, name=f"{prefix}_attention")(
            x, x, attention_mask=attention_mask)
        attended = keras.layers.Dropout(dropout, name=f"{prefix}_attention_dropout")(attended)
        x = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{prefix}_attention_norm")(
            keras.layers.Add(name=f"{prefix}_attention_residual")([x, attended]))
        hidden = keras.layers.Dense(4 * embedding_dim, activation="gelu", kernel_initializer=init,
                                    name=f"{prefix}_ffn_hidden")(x)
        hidden = keras.layers.Dense(embedding_dim, kernel_initializer=init, name=f"{prefix}_ffn_output")(hidden)
        hidden = keras.layers.Dropout(dropout, name=f"{prefix}_ffn_dropout")(hidden)
        x = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{prefix}_ffn_norm")(
            keras.layers.Add(name=f"{prefix}_ffn_residual")([x, hidden]))
    states = keras.layers.Identity(name="item_states")(x)
    last = layers["LastPosition"](name="last_position")(states)
    last = keras.layers.Dense(embedding_dim, activation="gelu", kernel_initializer=init, name="output_transform")(last)
    last = keras.layers.LayerNormalization(epsilon=1e-6, name="output_norm")(last)
    logits = keras.layers.Dense(n_items, kernel_initializer=init, name="next_item_logits")(last)
    model = keras.Model(history, logits, name=name or "bert4rec")
    model.learning_rate = float(learning_rate)
    return model


def _check_bert4rec(model) -> None:
    names = {layer.name for layer in getattr(model, "layers", [])}
    wanted = {"item_history", "item_states", "output_transform", "output_norm", "next_item_logits"}
    if not wanted <= names:
        raise ValueError(f"expected a model from build_bert4rec (layers {sorted(wanted)}), got "
                         f"{type(model).__name__} with layers {sorted(names)}")


def cloze_training_model(model, learning_rate: float | None = None, n_negatives: int | None = None,
                         item_counts=None, power: float = 0.5, seed: int = 0):
    """The trainer of a :func:`build_bert4rec` model: the cloze loss at the masked positions.

    The trainer shares every layer with ``model`` (training it trains ``model``), takes
    ``(inputs, targets)`` — :func:`cloze_batches` yields them — and adds its loss itself (no
    ``y``): the cross-entropy of the hidden items, computed at the masked positions only, so
    the output layer never runs on the others. Without ``n_negatives`` the softmax is over
    every item. With ``n_negatives`` (a large catalogue) each masked position is scored
    against ``n_negatives`` items drawn from ``q(i) ∝ (count_i + 1) ** power`` with the log-Q
    correction (the estimator of Jean et al., ACL 2015, and Yi et al., RecSys 2019); in
    evaluation (a validation pass) the loss is the full softmax's.

    Parameters
    ----------
    model : keras.Model
        From :func:`build_bert4rec`.
    learning_rate : float, optional
        Adam's step size (default: the one given to :func:`build_bert4rec`).
    n_negatives : int, optional
        Sampled items per batch; ``None`` for the full softmax.
    item_counts : array of int, optional
        How often each item (by position) occurs in training, for the proposal (default:
        uniform).
    power : float
        The proposal's shape in [0, 1]: 0 uniform, 1 proportional to popularity.
    seed : int
        Seeds the draws.

    Returns
    -------
    keras.Model
        Compiled with Adam; inputs ``[masked_history, masked_targets]``; output: the loss.

    Examples
    --------
    >>> model = build_bert4rec(n_items=20, max_len=5, embedding_dim=8, n_blocks=1, seed=0)
    >>> trainer = cloze_training_model(model, n_negatives=8)
    >>> [tuple(t.shape) for t in trainer.inputs]
    [(None, 5), (None, 5)]
    """
    _check_bert4rec(model)
    if learning_rate is None:
        learning_rate = getattr(model, "learning_rate", 1e-3)
    check_number("learning_rate", learning_rate, low=0, low_inclusive=False)
    output = model.get_layer("next_item_logits")
    n_items = int(output.units)
    log_proposal = None
    if n_negatives is not None:
        n_negatives = positive_int("n_negatives", n_negatives)
        power = check_number("power", power, low=0, high=1)
        counts = np.zeros(n_items) if item_counts is None else check_array("item_counts", item_counts, ndim=1)
        if counts.shape != (n_items,) or (counts < 0).any():
            raise ValueError(f"item_counts must hold one non-negative count per item ({n_items}), got shape "
                             f"{counts.shape}")
        weights = (counts + 1.0) ** power
        log_proposal = np.log(weights / weights.sum())
    check_seed("seed", seed)
    import keras

    max_len = model.input.shape[1]
    history = keras.Input(shape=(max_len,), dtype="int32", name="masked_history")
    targets = keras.Input(shape=(max_len,), dtype="int32", name="masked_targets")
    states = keras.Model(model.input, model.get_layer("item_states").output, name=f"{model.name}_states")(history)
    loss = _layers()["MaskedItemLoss"](model.get_layer("output_transform"), model.get_layer("output_norm"), output,
                                       n_negatives, log_proposal, seed, name="cloze_loss")(states, targets)
    trainer = keras.Model([history, targets], loss, name=f"{model.name}_cloze")
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return trainer


def scoring_function(model, user_ids, inputs, batch_size: int = 256):
    """A function ``score(user_ids)`` for :func:`rec_utils.evaluation.evaluate_scores`: one row of item logits per user.

    ``inputs`` holds one row of model inputs per user of ``user_ids`` (for BERT4Rec, the
    :func:`append_mask` rows; for SASRec or GRU4Rec, the left-padded histories); the function
    runs the model (``model.predict``) on the requested users' rows, ``batch_size`` at a time, so
    the users x items scores exist only for the users requested.

    Examples
    --------
    >>> model = build_bert4rec(n_items=6, max_len=3, embedding_dim=4, n_blocks=1, n_heads=1, seed=0)
    >>> score = scoring_function(model, [7, 9], append_mask([[0, 1, 2], [3, 4, 5]], 6))
    >>> score([9]).shape
    (1, 6)
    """
    index = IdIndex(user_ids)
    if len(index) != len(np.asarray(user_ids)):
        raise ValueError("user_ids must not repeat a user")
    rows = check_positions("inputs", inputs, ndim=2)
    if len(rows) != len(index):
        raise ValueError(f"inputs must hold one row per user ({len(index)}), got {len(rows)}")
    ordered = np.empty_like(rows)  # rows in the index's (sorted) order
    ordered[index.positions(np.asarray(user_ids))] = rows
    batch_size = positive_int("batch_size", batch_size)

    def score(requested):
        positions = index.positions(np.atleast_1d(np.asarray(requested)))
        # predict runs one traced function; eager calls kept about 70 MB more of TensorFlow's memory
        return np.asarray(model.predict(ordered[positions].astype(np.int32), batch_size=batch_size, verbose=0),
                          dtype=np.float32)

    return score
