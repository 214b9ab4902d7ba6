"""Autoencoder recommenders in Keras: the denoising autoencoder of Mult-DAE.

Taught in ``notebooks/04_unsupervised_learning.ipynb``, which builds the same network layer
by layer, trains it with early stopping and checks that :func:`build_mult_dae` and
:class:`MultDAE` give the same model. The linear autoencoder EASE lives in
:mod:`rec_utils.models.classical`.

The model follows Liang, Krishnan, Hoffman, Jebara, "Variational Autoencoders for
Collaborative Filtering" (WWW 2018), denoising variant: a user's binary item vector is
L2-normalised, corrupted by dropout, encoded by one ``tanh`` layer and decoded into one logit
per item; the loss is the multinomial log-likelihood of the user's items under the softmax
of the logits.

TensorFlow is imported only when a model is built, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import check_choice, check_fitted, check_number, check_seed, positive_int
from ..data.interactions import interaction_matrix
from .base import Recommender

__all__ = ["multinomial_log_loss", "build_mult_dae", "user_batches", "MultDAE"]


def multinomial_log_loss(y_true, logits):
    """Per-user negative multinomial log-likelihood: ``-sum_i y_i * log softmax(logits)_i``.

    ``y_true`` is a batch of binary item vectors (users x items) and ``logits`` the
    decoder's output of the same shape; the result has one value per user. For 0/1
    targets it equals ``keras.losses.CategoricalCrossentropy(from_logits=True)`` without
    the batch mean.
    """
    import keras

    return -keras.ops.sum(y_true * keras.ops.log_softmax(logits, axis=-1), axis=-1)


def build_mult_dae(n_items: int, hidden: int = 200, dropout: float = 0.5, l2: float = 1e-5,
                   seed: int | None = None):
    """The Mult-DAE network as a Keras functional model (not compiled).

    Layers, by name: ``items_seen`` (input, one 0/1 column per item), ``normalise`` (unit
    L2 norm per user), ``noise`` (dropout, active only in training), ``encoder`` (``hidden``
    tanh units) and ``decoder`` (one logit per item). ``l2`` penalises both weight matrices.

    ``seed``, when given, is passed to ``keras.utils.set_random_seed`` first (it reseeds
    Python, NumPy and TensorFlow), so the initial weights are reproducible.

    >>> build_mult_dae(50, hidden=8, seed=0).output.shape
    (None, 50)
    """
    n_items = check_number("n_items", n_items, low=2, integer=True)
    hidden = positive_int("hidden", hidden)
    check_number("dropout", dropout, low=0, high=1, high_inclusive=False)
    check_number("l2", l2, low=0)
    check_seed("seed", seed)
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    items_seen = keras.Input(shape=(n_items,), name="items_seen")
    normalised = keras.layers.UnitNormalization(name="normalise")(items_seen)
    noisy = keras.layers.Dropout(dropout, name="noise")(normalised)
    code = keras.layers.Dense(hidden, activation="tanh", kernel_regularizer=keras.regularizers.L2(l2),
                              name="encoder")(noisy)
    logits = keras.layers.Dense(n_items, kernel_regularizer=keras.regularizers.L2(l2), name="decoder")(code)
    return keras.Model(items_seen, logits, name="mult_dae")


def user_batches(inputs, targets, batch_size: int = 128, seed: int | None = None):
    """Mini-batches of users for ``model.fit``: a ``keras.utils.PyDataset`` of row slices.

    ``inputs`` and ``targets`` are users x items matrices (dense arrays or SciPy sparse
    matrices; sparse batches are densified one batch at a time, as float32). With a
    ``seed`` the users are shuffled before the first epoch and after every epoch, by
    ``numpy.random.default_rng(seed)``; without one they come in order (for validation).

    Unlike ``tf.data.Dataset.from_tensor_slices``, nothing is copied into TensorFlow up
    front, which keeps a notebook that trains several models within 1 GB.

    >>> import numpy as np
    >>> batches = user_batches(np.eye(5, dtype="float32"), np.eye(5, dtype="float32"), batch_size=2)
    >>> len(batches), batches[2][0].shape
    (3, (1, 5))
    """
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"inputs and targets need the same users (rows), got {inputs.shape[0]} and {targets.shape[0]}")
    batch_size = positive_int("batch_size", batch_size)
    check_seed("seed", seed)
    import keras

    def dense(batch):
        return np.asarray(batch.toarray() if sp.issparse(batch) else batch, dtype=np.float32)

    class UserBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.order = np.arange(inputs.shape[0])
            self.rng = np.random.default_rng(seed) if seed is not None else None
            self.on_epoch_end()

        def __len__(self):
            return -(-len(self.order) // batch_size)

        def __getitem__(self, index):
            rows = self.order[index * batch_size:(index + 1) * batch_size]
            return dense(inputs[rows]), dense(targets[rows])

        def on_epoch_end(self):
            if self.rng is not None:
                self.rng.shuffle(self.order)

    return UserBatches()


class MultDAE(Recommender):
    """Denoising autoencoder recommender (Mult-DAE), trained with Adam on the multinomial loss.

    Parameters
    ----------
    hidden, dropout, l2 : network size, input dropout rate and L2 penalty (see :func:`build_mult_dae`).
    epochs : int
        Maximum number of passes over the users.
    batch_size, learning_rate : Adam's settings.
    patience : int
        With ``validation`` passed to :meth:`fit`, stop after this many epochs without a
        better validation loss and keep the best weights.
    seed : int or None
        Reseeds Keras (Python, NumPy, TensorFlow) at the start of :meth:`fit` and orders the
        batches, so two fits with the same seed give the same model; ``None`` draws fresh
        randomness each time.
    verbose : {0, 1, 2}
        Keras' training verbosity.

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    history_ : dict
        Keras' training history (``"loss"``, and ``"val_loss"`` with validation).
    best_epoch_ : int
        The epoch whose weights are kept (the last one without validation).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [1, 2, 2, 3, 1]})
    >>> MultDAE(hidden=4, epochs=2).fit(r).score([1, 3]).shape
    (2, 3)
    """

    def __init__(self, hidden: int = 200, dropout: float = 0.5, l2: float = 1e-5, epochs: int = 100,
                 batch_size: int = 128, learning_rate: float = 1e-3, patience: int = 10, seed: int = 42,
                 verbose: int = 0):
        self.hidden, self.dropout, self.l2 = hidden, dropout, l2
        self.epochs, self.batch_size, self.learning_rate = epochs, batch_size, learning_rate
        self.patience, self.seed, self.verbose = patience, seed, verbose

    def validate_params(self):
        positive_int("hidden", self.hidden)
        check_number("dropout", self.dropout, low=0, high=1, high_inclusive=False)
        check_number("l2", self.l2, low=0)
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        check_number("learning_rate", self.learning_rate, low=0, low_inclusive=False)
        positive_int("patience", self.patience)
        check_seed("seed", self.seed)
        check_choice("verbose", self.verbose, (0, 1, 2))

    def fit(self, ratings, users=None, items=None, validation=None):
        """Train on the binary matrix of ``ratings``.

        ``validation`` (optional) holds interactions held out from the same users: the
        validation loss is the multinomial loss of those items given each user's training
        items, and it drives early stopping.
        """
        import keras

        self.prepare(ratings, users, items)
        x = self.seen_
        # without a seed the batches are still shuffled, with fresh randomness
        order_seed = self.seed if self.seed is not None else int(np.random.default_rng().integers(2**32))
        model = build_mult_dae(len(self.items_), self.hidden, self.dropout, self.l2, seed=self.seed)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss=multinomial_log_loss)
        fit_args = {"epochs": self.epochs, "verbose": self.verbose}
        if validation is not None:
            held_out = interaction_matrix(validation, self.users_, self.items_)
            held_out.data[:] = 1.0
            fit_args["validation_data"] = user_batches(x, held_out, self.batch_size)
            fit_args["callbacks"] = [keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=self.patience, restore_best_weights=True)]
        history = model.fit(user_batches(x, x, self.batch_size, seed=order_seed), **fit_args).history
        self.model_, self.history_ = model, history
        self.best_epoch_ = (int(np.argmin(history["val_loss"])) + 1 if validation is not None
                            else len(history["loss"]))
        return self

    def score(self, user_ids, batch_size: int = 1024):
        """Logits of every item for each user (larger is better), from their training items."""
        rows = self.user_positions(user_ids)
        check_fitted(self, "model_")
        parts = [np.asarray(self.model_(self.seen_[rows[start:start + batch_size]].toarray(), training=False))
                 for start in range(0, len(rows), batch_size)]
        return np.concatenate(parts).astype(np.float32)
