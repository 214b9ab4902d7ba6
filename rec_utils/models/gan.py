"""Generative adversarial networks: a toy minimax game and the CFGAN recommender, in Keras.

Taught in ``notebooks/08_gans.ipynb``, which writes each piece by hand first and checks that
the versions here give the same numbers.

* The toy game (section 1 of the notebook): :func:`ring_of_gaussians` (a mixture of Gaussians
  on a circle), the two players :func:`build_toy_generator` and
  :func:`build_toy_discriminator`, the losses :func:`discriminator_loss` and
  :func:`generator_loss` (original minimax or non-saturating), and two ways to judge the
  generated points: :func:`sliced_wasserstein` (a distance between two point clouds) and
  :func:`mode_coverage` (how many of the mixture's modes the generator reaches).
* CFGAN (Chae, Kang, Kim, Lee, "CFGAN: A Generic Collaborative Filtering Framework based on
  Generative Adversarial Networks", CIKM 2018), sections 3-5 of the notebook: a
  **vector-wise** generator that maps a user's purchase history to a whole purchase vector
  (:func:`build_cfgan_generator`), a discriminator that judges a (masked purchase vector,
  history) pair (:func:`build_cfgan_discriminator`), negative sampling by zero
  reconstruction (ZR) and partial masking (PM) (:func:`cfgan_masks`), the training steps
  (:func:`cfgan_train_steps`) and the recommender :class:`CFGAN`, with the
  ``fit``/``score`` interface of :class:`rec_utils.models.Recommender`.
  ``CFGAN(adversarial=False)`` trains the same generator with the discriminator switched
  off: a plain reconstruction loss, i.e. an autoencoder, which is how a replication study
  (Pérez Maurera, Ferrari Dacrema, Cremonesi, "An Evaluation Study of Generative Adversarial
  Networks for Collaborative Filtering", ECIR 2022, arXiv 2201.01815) explains what CFGAN learns.

All losses work on the discriminator's **logits** ``l`` (``D = sigmoid(l)``), because
``-log sigmoid(l) = softplus(-l)`` and ``log(1 - sigmoid(l)) = -softplus(l)`` are exact and
never take the log of 0.

TensorFlow is imported only when a model is built or trained, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_bool, check_fitted, check_layers, check_number, check_seed, positive_int
from .._console import progress
from ..evaluation.protocols import evaluate_scores
from .base import Recommender

__all__ = ["ring_centres", "ring_of_gaussians", "sliced_wasserstein", "mode_coverage",
           "build_toy_generator", "build_toy_discriminator", "discriminator_loss", "generator_loss",
           "build_cfgan_generator", "build_cfgan_discriminator", "cfgan_masks", "cfgan_train_steps", "CFGAN"]


# --------------------------------------------------------------------------- helpers

def _seed(seed) -> None:
    """Reseed Keras (Python, NumPy, TensorFlow) when a seed is given."""
    if check_seed("seed", seed) is not None:
        import keras

        keras.utils.set_random_seed(seed)


# --------------------------------------------------------------------------- the toy game: data and judges

def ring_centres(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The ``n_modes`` centres of :func:`ring_of_gaussians`, evenly spaced on a circle, float32.

    >>> ring_centres(4, 1.0).round(3).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    """
    n_modes = positive_int("n_modes", n_modes)
    radius = float(check_number("radius", radius, low=0, low_inclusive=False))
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return (radius * np.column_stack([np.cos(angles), np.sin(angles)])).astype(np.float32)


def ring_of_gaussians(n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      seed: int | np.random.Generator | None = None) -> np.ndarray:
    """``n`` points from an equal mixture of round Gaussians centred on a circle (float32, n x 2).

    The standard toy target of GAN papers (e.g. Metz et al., "Unrolled Generative Adversarial
    Networks", ICLR 2017): its separate modes make mode collapse easy to see.

    >>> x = ring_of_gaussians(1000, seed=0)
    >>> x.shape, bool(abs(np.linalg.norm(x, axis=1).mean() - 2.0) < 0.01)
    ((1000, 2), True)
    """
    n = positive_int("n", n)
    std = float(check_number("std", std, low=0, low_inclusive=False))
    centres = ring_centres(n_modes, radius)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mode = rng.integers(0, len(centres), n)
    return (centres[mode] + rng.normal(0.0, std, (n, 2))).astype(np.float32)


def sliced_wasserstein(a, b, n_projections: int = 64, seed: int = 0) -> float:
    """Sliced Wasserstein-1 distance between two equally large point clouds.

    Both clouds are projected on ``n_projections`` random unit directions; on a line the
    Wasserstein-1 distance between two samples of equal size is the mean absolute
    difference of their sorted values; the result is the average over the directions.
    0 for identical clouds, and in the units of the points.

    Parameters
    ----------
    a, b : array-like, shape (n, d)
        Two samples with the same number of points and dimensions.
    n_projections : int
        Random directions (drawn from ``numpy.random.default_rng(seed)``).

    >>> a = np.array([[0.0, 0.0], [1.0, 0.0]])
    >>> sliced_wasserstein(a, a + [3.0, 4.0], n_projections=1000) > 2.0
    True
    >>> sliced_wasserstein(a, a[::-1])
    0.0
    """
    a, b = check_array("a", a, ndim=2), check_array("b", b, ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape (points x dimensions), got {a.shape} and {b.shape}")
    n_projections = positive_int("n_projections", n_projections)
    directions = np.random.default_rng(seed).normal(size=(a.shape[1], n_projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    return float(np.abs(np.sort(a @ directions, axis=0) - np.sort(b @ directions, axis=0)).mean())


def mode_coverage(samples, centres, std: float, min_share: float = 0.25) -> dict:
    """How many modes a generator reaches, and how many of its points are of high quality.

    A point is **high quality** if it lies within 3 standard deviations of its nearest
    centre; a mode is **covered** if it receives at least ``min_share`` of its fair share of
    high-quality points (``min_share * len(samples) / n_modes``). The measures of Metz et
    al. (ICLR 2017) and Srivastava et al. (VEEGAN, NeurIPS 2017).

    Returns
    -------
    dict
        ``{"modes_covered": int, "high_quality_share": float, "points_per_mode": list of int}``.

    >>> centres = ring_centres(4, 1.0)
    >>> mode_coverage(np.repeat(centres[:3], 10, axis=0), centres, std=0.1)["modes_covered"]
    3
    """
    samples, centres = check_array("samples", samples, ndim=2), check_array("centres", centres, ndim=2)
    if samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples and centres need the same dimension, got {samples.shape[1]} and {centres.shape[1]}")
    std = float(check_number("std", std, low=0, low_inclusive=False))
    min_share = float(check_number("min_share", min_share, low=0))
    distance = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest, good = distance.argmin(axis=1), distance.min(axis=1) < 3 * std
    per_mode = np.bincount(nearest[good], minlength=len(centres))
    covered = int((per_mode >= max(min_share * len(samples) / len(centres), 1)).sum())
    return {"modes_covered": covered, "high_quality_share": float(good.mean()), "points_per_mode": per_mode.tolist()}


# --------------------------------------------------------------------------- the toy game: players and losses

def _mlp(keras, inputs, width: int, depth: int, outputs: int, prefix: str):
    hidden = inputs
    for layer in range(1, depth + 1):
        hidden = keras.layers.Dense(width, activation="relu", name=f"{prefix}_hidden_{layer}")(hidden)
    return keras.layers.Dense(outputs, name=f"{prefix}_output")(hidden)


def build_toy_generator(noise_dim: int = 8, width: int = 64, depth: int = 2, out_dim: int = 2,
                        seed: int | None = None):
    """The toy game's generator: noise ``z`` (``noise_dim``) -> ReLU MLP -> a point (``out_dim``).

    Layers ``noise``, ``generator_hidden_1..depth``, ``generator_output`` (linear). Not compiled.

    >>> build_toy_generator(4, 8, 1, seed=0).count_params()  # (4*8 + 8) + (8*2 + 2)
    58
    """
    noise_dim, width = positive_int("noise_dim", noise_dim), positive_int("width", width)
    depth, out_dim = positive_int("depth", depth), positive_int("out_dim", out_dim)
    import keras

    _seed(seed)
    noise = keras.Input(shape=(noise_dim,), name="noise")
    return keras.Model(noise, _mlp(keras, noise, width, depth, out_dim, "generator"), name="toy_generator")


def build_toy_discriminator(in_dim: int = 2, width: int = 64, depth: int = 2, seed: int | None = None):
    """The toy game's discriminator: a point -> ReLU MLP -> one logit ``l`` (``D = sigmoid(l)``).

    Layers ``point``, ``discriminator_hidden_1..depth``, ``discriminator_output`` (linear). Not compiled.

    >>> build_toy_discriminator(2, 8, 1, seed=0).output.shape
    (None, 1)
    """
    in_dim, width, depth = positive_int("in_dim", in_dim), positive_int("width", width), positive_int("depth", depth)
    import keras

    _seed(seed)
    point = keras.Input(shape=(in_dim,), name="point")
    return keras.Model(point, _mlp(keras, point, width, depth, 1, "discriminator"), name="toy_discriminator")


def discriminator_loss(real_logits, fake_logits):
    """``-log D(x) - log(1 - D(G(z)))``, averaged over each batch: ``mean softplus(-l_real) + mean softplus(l_fake)``.

    >>> round(float(discriminator_loss(np.zeros(3, "float32"), np.zeros(3, "float32"))), 4)  # D = 1/2: 2 ln 2
    1.3863
    """
    import keras

    return (keras.ops.mean(keras.ops.softplus(-keras.ops.convert_to_tensor(real_logits)))
            + keras.ops.mean(keras.ops.softplus(keras.ops.convert_to_tensor(fake_logits))))


def generator_loss(fake_logits, saturating: bool = False):
    """The generator's loss on the discriminator's logits of generated samples.

    ``saturating=False`` (the default, and the source article's ``L_G``): the
    non-saturating ``-log D(G(z)) = mean softplus(-l)``. ``saturating=True``: the original
    minimax ``log(1 - D(G(z))) = -mean softplus(l)``, whose gradient vanishes when the
    discriminator rejects the samples confidently.

    >>> round(float(generator_loss(np.zeros(2, "float32"))), 4), round(float(generator_loss(np.zeros(2, "float32"), True)), 4)
    (0.6931, -0.6931)
    """
    check_bool("saturating", saturating)
    import keras

    logits = keras.ops.convert_to_tensor(fake_logits)
    return -keras.ops.mean(keras.ops.softplus(logits)) if saturating else keras.ops.mean(keras.ops.softplus(-logits))


# --------------------------------------------------------------------------- CFGAN

def build_cfgan_generator(n_items: int, hidden=(256,), seed: int | None = None):
    """CFGAN's vector-wise generator: a user's purchase history -> a whole purchase vector.

    Layers ``history`` (input, one 0/1 column per item), ``generator_hidden_1..`` (ReLU) and
    ``purchase_vector`` (one sigmoid per item: the generated vector ``r_hat`` in (0, 1)).
    CFGAN conditions the generator on the history ``c_u`` and found that a random noise
    input adds nothing, so there is none. Not compiled.

    >>> build_cfgan_generator(30, hidden=(8,), seed=0).output.shape
    (None, 30)
    """
    n_items, hidden = positive_int("n_items", n_items), check_layers("hidden", hidden)
    import keras

    _seed(seed)
    history = keras.Input(shape=(n_items,), name="history")
    x = history
    for depth, units in enumerate(hidden, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"generator_hidden_{depth}")(x)
    vector = keras.layers.Dense(n_items, activation="sigmoid", name="purchase_vector")(x)
    return keras.Model(history, vector, name="cfgan_generator")


def build_cfgan_discriminator(n_items: int, hidden=(128,), seed: int | None = None):
    """CFGAN's discriminator: (a masked purchase vector, the history it is conditioned on) -> one logit.

    Inputs ``purchase_vector`` and ``history`` (both ``n_items`` wide), concatenated
    (``condition``), then ``discriminator_hidden_1..`` (ReLU) and ``real_logit`` (linear:
    ``D = sigmoid(real_logit)`` is the probability that the vector is a real one). Not compiled.

    >>> build_cfgan_discriminator(30, hidden=(8,), seed=0).count_params()  # (60*8 + 8) + (8 + 1)
    497
    """
    n_items, hidden = positive_int("n_items", n_items), check_layers("hidden", hidden)
    import keras

    _seed(seed)
    vector = keras.Input(shape=(n_items,), name="purchase_vector")
    history = keras.Input(shape=(n_items,), name="history")
    x = keras.layers.Concatenate(name="condition")([vector, history])
    for depth, units in enumerate(hidden, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"discriminator_hidden_{depth}")(x)
    logit = keras.layers.Dense(1, name="real_logit")(x)
    return keras.Model({"purchase_vector": vector, "history": history}, logit, name="cfgan_discriminator")


def cfgan_masks(history: np.ndarray, zr_ratio: float, pm_ratio: float, rng: np.random.Generator):
    """CFGAN's two samples of each user's non-purchased items, as 0/1 float32 masks.

    * **ZR** (zero reconstruction): a share ``zr_ratio`` of the non-purchased items, whose
      generated values are pulled towards 0 by a penalty;
    * **PM** (partial masking): another share ``pm_ratio``, left **visible** to the
      discriminator, so the generator cannot put mass there without being caught.

    >>> h = np.array([[1, 0, 0, 0]], dtype="float32")
    >>> zr, pm = cfgan_masks(h, 1.0, 1.0, np.random.default_rng(0))
    >>> zr.tolist(), pm.tolist()
    ([[0.0, 1.0, 1.0, 1.0]], [[0.0, 1.0, 1.0, 1.0]])
    """
    history = check_array("history", history, ndim=2, dtype=None)
    zr_ratio = float(check_number("zr_ratio", zr_ratio, low=0, high=1))
    pm_ratio = float(check_number("pm_ratio", pm_ratio, low=0, high=1))
    unseen = history == 0
    zr = (rng.random(history.shape, dtype=np.float32) < zr_ratio) & unseen
    pm = (rng.random(history.shape, dtype=np.float32) < pm_ratio) & unseen
    return zr.astype(np.float32), pm.astype(np.float32)


def cfgan_train_steps(generator, discriminator, generator_optimizer, discriminator_optimizer,
                      zr_weight: float = 0.1, adversarial: bool = True):
    """The two compiled training steps of CFGAN, ``(discriminator_step, generator_step)``.

    Both take float32 batches ``(history, zr_mask, pm_mask)`` (users x items). With
    ``r_hat = G(c)`` and the PM mask ``k``:

    * ``discriminator_step`` minimises ``softplus(-D(c, c)) + softplus(D(r_hat * (c + k), c))``
      (a real history scores "real", a generated vector masked to the purchased and PM items
      scores "fake") and returns ``(loss, accuracy)``, the accuracy at threshold 1/2 over
      the real and the generated vectors;
    * ``generator_step`` minimises the non-saturating ``softplus(-D(r_hat * (c + k), c))``
      plus ``zr_weight`` times the mean of ``r_hat**2`` over the ZR items, and returns
      ``(loss, adversarial part)``.

    With ``adversarial=False`` the generator's adversarial part is replaced by what the
    discriminator checks, written directly: a real vector is 1 on the purchased items and 0
    on the PM items, so the loss is the mean of ``(1 - r_hat)**2`` over the purchased items
    plus the mean of ``r_hat**2`` over the PM items. That is a plain reconstruction loss, so the generator
    becomes an autoencoder; ``discriminator_step`` still works (it can watch the generator
    without being heard).
    """
    zr_weight = float(check_number("zr_weight", zr_weight, low=0))
    check_bool("adversarial", adversarial)
    import tensorflow as tf

    def masked_mean(values, mask):
        return tf.reduce_sum(values * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)

    @tf.function
    def discriminator_step(history, zr_mask, pm_mask):
        generated = generator(history, training=False)
        with tf.GradientTape() as tape:
            real_logit = discriminator({"purchase_vector": history, "history": history}, training=True)
            fake_logit = discriminator({"purchase_vector": generated * (history + pm_mask), "history": history},
                                       training=True)
            loss = tf.reduce_mean(tf.nn.softplus(-real_logit)) + tf.reduce_mean(tf.nn.softplus(fake_logit))
        variables = discriminator.trainable_variables
        discriminator_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        accuracy = 0.5 * (tf.reduce_mean(tf.cast(real_logit > 0, tf.float32))
                          + tf.reduce_mean(tf.cast(fake_logit < 0, tf.float32)))
        return loss, accuracy

    @tf.function
    def generator_step(history, zr_mask, pm_mask):
        with tf.GradientTape() as tape:
            generated = generator(history, training=True)
            if adversarial:
                fake_logit = discriminator({"purchase_vector": generated * (history + pm_mask), "history": history},
                                           training=False)
                main = tf.reduce_mean(tf.nn.softplus(-fake_logit))
            else:
                main = (masked_mean(tf.square(1.0 - generated), history)
                        + masked_mean(tf.square(generated), pm_mask))
            loss = main + zr_weight * masked_mean(tf.square(generated), zr_mask)
        variables = generator.trainable_variables
        generator_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, main

    return discriminator_step, generator_step


class CFGAN(Recommender):
    """CFGAN (Chae et al., CIKM 2018) with ZR and PM negatives, as a recommender.

    A user's score for every item is the generator's purchase vector given the user's
    training history.

    Parameters
    ----------
    generator_hidden, discriminator_hidden : sequences of int
        Hidden layer widths of the two networks.
    epochs : int
        Passes over the users; each batch takes ``discriminator_steps`` discriminator steps,
        then ``generator_steps`` generator steps.
    batch_size : int
        Users per batch.
    learning_rate : float
        Adam's learning rate for the generator.
    discriminator_learning_rate : float, optional
        Adam's learning rate for the discriminator (``learning_rate`` if not given).
    zr_ratio, pm_ratio : float in [0, 1]
        Shares of each user's non-purchased items drawn afresh every batch for ZR and PM.
    zr_weight : float
        Weight of the ZR penalty.
    adversarial : bool
        ``False`` switches the discriminator off (see :func:`cfgan_train_steps`): the same
        generator trained as a plain autoencoder, for the ablation of notebook 08.
    eval_every : int
        With ``validation`` passed to :meth:`fit`, the validation NDCG@``eval_k`` is computed
        every ``eval_every`` epochs and the generator of the best one is kept.
    seed : int
        Seeds the weights (through Keras) and the masks and batch order (through NumPy).
    verbose : bool
        Show a progress bar over the epochs.

    Attributes
    ----------
    generator_, discriminator_ : keras.Model
    history_ : dict of lists
        Per epoch: ``"discriminator_loss"``, ``"discriminator_accuracy"``, ``"generator_loss"``,
        ``"generator_adversarial"``, ``"output_on_history"`` and ``"output_elsewhere"`` (the mean
        generated value on the users' purchased and non-purchased items); with validation also
        ``"validation_epoch"`` and ``"validation_ndcg"``.
    best_epoch_ : int
        The epoch whose generator is kept (the last one without validation).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [1, 2, 1, 2, 1]})
    >>> model = CFGAN(generator_hidden=(4,), discriminator_hidden=(4,), epochs=2, seed=0).fit(r)
    >>> model.score([3]).shape, len(model.history_["generator_loss"])
    ((1, 2), 2)
    """

    def __init__(self, generator_hidden=(256,), discriminator_hidden=(128,), epochs: int = 100,
                 batch_size: int = 64, learning_rate: float = 1e-3,
                 discriminator_learning_rate: float | None = None, zr_ratio: float = 0.5,
                 pm_ratio: float = 0.5, zr_weight: float = 0.1, discriminator_steps: int = 1,
                 generator_steps: int = 1, adversarial: bool = True, eval_every: int = 10,
                 eval_k: int = 20, seed: int = 42, verbose: bool = False):
        self.generator_hidden, self.discriminator_hidden = generator_hidden, discriminator_hidden
        self.epochs, self.batch_size, self.learning_rate = epochs, batch_size, learning_rate
        self.discriminator_learning_rate = discriminator_learning_rate
        self.zr_ratio, self.pm_ratio, self.zr_weight = zr_ratio, pm_ratio, zr_weight
        self.discriminator_steps, self.generator_steps = discriminator_steps, generator_steps
        self.adversarial, self.eval_every, self.eval_k = adversarial, eval_every, eval_k
        self.seed, self.verbose = seed, verbose

    def validate_params(self):
        check_layers("generator_hidden", self.generator_hidden)
        check_layers("discriminator_hidden", self.discriminator_hidden)
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        check_number("learning_rate", self.learning_rate, low=0, low_inclusive=False)
        if self.discriminator_learning_rate is not None:
            check_number("discriminator_learning_rate", self.discriminator_learning_rate, low=0, low_inclusive=False)
        check_number("zr_ratio", self.zr_ratio, low=0, high=1)
        check_number("pm_ratio", self.pm_ratio, low=0, high=1)
        check_number("zr_weight", self.zr_weight, low=0)
        positive_int("discriminator_steps", self.discriminator_steps)
        positive_int("generator_steps", self.generator_steps)
        check_bool("adversarial", self.adversarial)
        positive_int("eval_every", self.eval_every)
        positive_int("eval_k", self.eval_k)
        check_seed("seed", self.seed)
        check_bool("verbose", self.verbose)

    def fit(self, ratings, users=None, items=None, validation=None):
        """Train on who interacted with what in ``ratings``.

        ``validation`` (optional): interactions held out from the same users; every
        ``eval_every`` epochs the generator ranks each validation user's unseen items, and
        the generator with the best NDCG@``eval_k`` is kept.

        The users x items history stays a sparse matrix: each batch of users is made dense
        when it is fed to the networks, and the per-epoch diagnostics and the validation
        ranking go a block of users at a time, so memory grows with the catalogue and the
        batch, not with users x items.
        """
        import keras

        seen = self.prepare(ratings, users, items)
        n_users, n_items = seen.shape
        self.generator_ = build_cfgan_generator(n_items, self.generator_hidden, seed=self.seed)
        self.discriminator_ = build_cfgan_discriminator(
            n_items, self.discriminator_hidden, seed=None if self.seed is None else self.seed + 1)
        discriminator_step, generator_step = cfgan_train_steps(
            self.generator_, self.discriminator_, keras.optimizers.Adam(self.learning_rate),
            keras.optimizers.Adam(self.learning_rate if self.discriminator_learning_rate is None
                                  else self.discriminator_learning_rate), self.zr_weight, self.adversarial)
        rng = np.random.default_rng(self.seed)
        log = {name: [] for name in ("discriminator_loss", "discriminator_accuracy", "generator_loss",
                                     "generator_adversarial", "output_on_history", "output_elsewhere")}
        if validation is not None:
            log |= {"validation_epoch": [], "validation_ndcg": []}
        best = (-np.inf, None, self.epochs)
        epochs = progress(range(1, self.epochs + 1), desc="CFGAN" if self.adversarial else "no discriminator") \
            if self.verbose else range(1, self.epochs + 1)
        for epoch in epochs:
            sums = np.zeros(4)
            order = rng.permutation(n_users)
            for start in range(0, n_users, self.batch_size):
                batch = self._dense_history(order[start:start + self.batch_size])
                for _ in range(self.discriminator_steps):
                    d_loss, d_accuracy = discriminator_step(batch, *cfgan_masks(batch, self.zr_ratio, self.pm_ratio, rng))
                for _ in range(self.generator_steps):
                    g_loss, g_adversarial = generator_step(batch, *cfgan_masks(batch, self.zr_ratio, self.pm_ratio, rng))
                sums += len(batch) * np.array([float(d_loss), float(d_accuracy), float(g_loss), float(g_adversarial)])
            for name, value in zip(list(log)[:4], sums / n_users):
                log[name].append(float(value))
            on_history, elsewhere = self._mean_outputs()
            log["output_on_history"].append(on_history)
            log["output_elsewhere"].append(elsewhere)
            if validation is not None and (epoch % self.eval_every == 0 or epoch == self.epochs):
                ndcg = evaluate_scores(self._scores_of_ids, validation, self.users_, self.items_, exclude=seen,
                                       k=self.eval_k, metrics=("ndcg",))[f"ndcg@{self.eval_k}"]
                log["validation_epoch"].append(epoch)
                log["validation_ndcg"].append(float(ndcg))
                if ndcg > best[0]:
                    best = (ndcg, self.generator_.get_weights(), epoch)
        if best[1] is not None:
            self.generator_.set_weights(best[1])
        self.history_, self.best_epoch_ = log, best[2]
        return self

    def _dense_history(self, rows) -> np.ndarray:
        """The 0/1 histories of the users at ``rows``, as a dense float32 block (the networks' input)."""
        return self.seen_[rows].toarray().astype(np.float32, copy=False)

    def _generate(self, rows, batch_size: int = 512) -> np.ndarray:
        """The generated purchase vectors of the users at ``rows``, ``batch_size`` users per forward pass."""
        rows = np.asarray(rows)
        if rows.size == 0:
            return np.zeros((0, self.seen_.shape[1]), np.float32)
        return np.concatenate([np.asarray(self.generator_(self._dense_history(rows[s:s + batch_size]), training=False))
                               for s in range(0, len(rows), batch_size)]).astype(np.float32, copy=False)

    def _scores_of_ids(self, user_ids) -> np.ndarray:
        return self._generate(self.users_.positions(np.asarray(user_ids)))

    def _mean_outputs(self, batch_size: int = 512) -> tuple[float, float]:
        """Mean generated value on the users' purchased items and on all other items, block by block."""
        n_users, n_items = self.seen_.shape
        on_history = total = 0.0
        for start in range(0, n_users, batch_size):
            rows = np.arange(start, min(start + batch_size, n_users))
            generated = self._generate(rows, batch_size)
            total += float(generated.sum(dtype=np.float64))
            block = self.seen_[rows]
            on_history += float(generated[block.nonzero()].sum(dtype=np.float64))
        n_on = self.seen_.nnz
        n_else = n_users * n_items - n_on
        return on_history / max(n_on, 1), (total - on_history) / max(n_else, 1)

    def score(self, user_ids):
        """The generated purchase vector of each user, given the user's training history."""
        rows = self.user_positions(user_ids)
        check_fitted(self, "generator_")
        return self._generate(rows)
