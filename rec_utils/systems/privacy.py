"""Private training: DP-SGD's clipping and noise, its Rényi-DP accountant, and federated averaging.

Taught in ``notebooks/14_challenges_and_the_future.ipynb`` (section 4), which builds each piece
by hand first and checks that the functions here agree.

* :func:`per_example_gradients` — the gradient of each example's loss separately, with
  ``tf.vectorized_map`` (one gradient per row of the batch, not their sum);
* :func:`clip_by_example_norm` and :func:`add_gaussian_noise` — the two steps that make
  stochastic gradient descent differentially private (DP-SGD: Abadi et al., "Deep Learning
  with Differential Privacy", CCS 2016): bound every example's influence, then hide it in
  Gaussian noise;
* :func:`rdp_subsampled_gaussian`, :func:`compute_rdp`, :func:`rdp_to_epsilon` and
  :func:`dp_sgd_epsilon` — the privacy budget of the whole training run, by Rényi differential
  privacy (Mironov, "Rényi Differential Privacy", CSF 2017) of the Poisson-subsampled Gaussian
  mechanism (Mironov, Talwar, Zhang, "Rényi Differential Privacy of the Sampled Gaussian
  Mechanism", arXiv 1908.10530, 2019), at integer orders;
* :func:`federated_average` — the server step of federated averaging (McMahan et al.,
  "Communication-Efficient Learning of Deep Networks from Decentralized Data", AISTATS 2017).

TensorFlow is imported only by the functions that need it, so the accountant is cheap to use.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp

from .._checks import check_array, check_callable, check_number, positive_int

__all__ = ["per_example_gradients", "clip_by_example_norm", "add_gaussian_noise", "rdp_subsampled_gaussian",
           "compute_rdp", "rdp_to_epsilon", "dp_sgd_epsilon", "federated_average", "DEFAULT_ORDERS"]

DEFAULT_ORDERS = tuple(range(2, 257))
"""Integer Rényi orders searched by default (2..256)."""


def _orders(orders) -> np.ndarray:
    """Rényi orders: integers >= 2 (this accountant handles integer orders only)."""
    values = check_array("orders", np.atleast_1d(np.asarray(orders)), ndim=1, dtype=None)
    if not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"orders must be integers (this accountant handles integer orders only), got {orders!r}")
    if values.min() < 2:
        raise ValueError(f"orders must be integers >= 2, got {orders!r}")
    return values.astype(np.int64)


# --------------------------------------------------------------------------- DP-SGD's two steps

def per_example_gradients(loss_fn, parameters, targets):
    """The gradient of every example's loss with respect to the parameters *that example uses*.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(*example_parameters, example_target) -> scalar`` for **one** example (no batch
        dimension).
    parameters : list of tensors
        One tensor per parameter group, each with a leading batch dimension: row ``b`` holds the
        parameters example ``b`` uses, e.g. the embedding rows of its user and item (looked up
        with ``tf.gather``), or a shared weight repeated once per example.
    targets : tensor
        The examples' targets, leading batch dimension.

    Returns
    -------
    list of tf.Tensor
        Per-example gradients, shaped like ``parameters``. ``tf.vectorized_map`` computes them in
        one vectorised pass instead of a Python loop over microbatches of size 1.

    Examples
    --------
    >>> import tensorflow as tf
    >>> w = tf.constant([[1.0, 2.0], [3.0, 4.0]])  # one weight vector per example
    >>> x = tf.constant([[1.0, 0.0], [0.0, 2.0]])
    >>> grads = per_example_gradients(lambda wi, xi: 0.5 * tf.reduce_sum(wi * xi) ** 2, [w], x)
    >>> grads[0].numpy().tolist()  # (w_b . x_b) x_b
    [[1.0, 0.0], [0.0, 16.0]]
    """
    import tensorflow as tf

    check_callable("loss_fn", loss_fn)
    parameters = [tf.convert_to_tensor(p) for p in parameters]
    targets = tf.convert_to_tensor(targets)
    if not parameters:
        raise ValueError("parameters must hold at least one tensor")
    sizes = {p.shape[0] for p in (*parameters, targets)} - {None}  # None: unknown inside a tf.function
    if len(sizes) > 1:
        raise ValueError(f"every parameter tensor and the targets need the same batch size (first dimension), "
                         f"got {sorted(sizes)}")

    def one_example(example):
        *example_parameters, target = example
        with tf.GradientTape() as tape:
            tape.watch(example_parameters)
            loss = loss_fn(*example_parameters, target)
        return tape.gradient(loss, example_parameters)

    return list(tf.vectorized_map(one_example, (*parameters, targets)))


def clip_by_example_norm(per_example_grads, clip_norm: float):
    """Scale each example's gradient down to an L2 norm of at most ``clip_norm``.

    The norm of example ``b`` is taken over all its parameter groups together,
    ``sqrt(sum_g |grad_g[b]|^2)``, and every group is multiplied by
    ``min(1, clip_norm / norm_b)``: the direction is kept, only the length is bounded. This
    bounds the **sensitivity** (敏感度) of the summed gradient to one example.

    Parameters
    ----------
    per_example_grads : list of arrays or tensors
        Leading batch dimension, as returned by :func:`per_example_gradients`.
    clip_norm : float
        The bound ``C`` > 0.

    Returns
    -------
    clipped : list of tf.Tensor
        The clipped gradients, same shapes.
    norms : tf.Tensor of shape (batch,)
        Each example's norm before clipping.

    Examples
    --------
    >>> clipped, norms = clip_by_example_norm([[[3.0, 4.0], [0.3, 0.4]]], clip_norm=1.0)
    >>> np.round(norms.numpy(), 3).tolist(), np.round(clipped[0].numpy().astype(float), 3).tolist()
    ([5.0, 0.5], [[0.6, 0.8], [0.3, 0.4]])
    """
    import tensorflow as tf

    if not tf.is_tensor(clip_norm):  # a tensor inside a tf.function cannot be checked in Python
        check_number("clip_norm", clip_norm, low=0, low_inclusive=False)
    grads = [tf.convert_to_tensor(g, dtype=tf.float32) for g in per_example_grads]
    if not grads or any(g.shape.rank is None or g.shape.rank < 1 for g in grads):
        raise ValueError("per_example_grads must be a non-empty list of tensors with a leading batch dimension")
    squares = [tf.reshape(tf.square(g), (tf.shape(g)[0], -1)) for g in grads]
    norms = tf.sqrt(tf.add_n([tf.reduce_sum(s, axis=1) for s in squares]))
    factor = tf.minimum(1.0, clip_norm / tf.maximum(norms, 1e-12))
    clipped = [g * tf.reshape(factor, [-1] + [1] * (g.shape.rank - 1)) for g in grads]
    return clipped, norms


def add_gaussian_noise(summed_grads, noise_multiplier: float, clip_norm: float, seed=None):
    """Add independent ``N(0, (noise_multiplier * clip_norm)^2)`` noise to every coordinate.

    Applied to the *sum* of clipped per-example gradients (dense: every coordinate, including
    embedding rows no example in the batch touched, so that the update does not reveal who
    was in the batch). Divide by the expected batch size afterwards to get DP-SGD's gradient.

    Parameters
    ----------
    summed_grads : list of arrays or tensors
        The summed clipped gradients, any shapes.
    noise_multiplier : float
        ``sigma``, the noise standard deviation in units of ``clip_norm`` (>= 0; 0 adds nothing).
    clip_norm : float
        The clipping bound ``C`` used for the per-example gradients.
    seed : int or tf.random.Generator, optional
        A generator is advanced (use one per training run); an int seeds a fresh one.

    Examples
    --------
    >>> noisy = add_gaussian_noise([np.zeros(100_000)], noise_multiplier=2.0, clip_norm=0.5, seed=0)
    >>> round(float(np.std(noisy[0])), 2)
    1.0
    """
    import tensorflow as tf

    check_number("noise_multiplier", noise_multiplier, low=0)
    check_number("clip_norm", clip_norm, low=0, low_inclusive=False)
    generator = seed if isinstance(seed, tf.random.Generator) else (
        tf.random.Generator.from_seed(seed) if seed is not None else tf.random.Generator.from_non_deterministic_state())
    std = float(noise_multiplier) * float(clip_norm)
    out = []
    for g in summed_grads:
        g = tf.convert_to_tensor(g, dtype=tf.float32)
        out.append(g + generator.normal(tf.shape(g), stddev=std) if std > 0 else g)
    return out


# --------------------------------------------------------------------------- the accountant

def rdp_subsampled_gaussian(q: float, noise_multiplier: float, orders=DEFAULT_ORDERS) -> np.ndarray:
    """Rényi-DP of **one** step of the Poisson-subsampled Gaussian mechanism, at integer orders.

    Each example joins the batch independently with probability ``q``; the summed clipped
    gradients (sensitivity 1 in units of the clipping norm) get Gaussian noise of standard
    deviation ``noise_multiplier``. For an integer order ``alpha >= 2`` the exact value is
    (Mironov, Talwar, Zhang 2019, section 3.3)

    ``eps(alpha) = log( sum_{k=0}^{alpha} C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2)) ) / (alpha - 1)``

    computed in log space. Without subsampling (``q = 1``) it is ``alpha / (2 sigma^2)``.

    Returns
    -------
    numpy.ndarray of float
        One value per order (``inf`` where the sum overflows).

    Examples
    --------
    >>> rdp_subsampled_gaussian(1.0, 2.0, [2, 4]).tolist()  # alpha / (2 sigma^2)
    [0.25, 0.5]
    """
    check_number("q (a sampling probability)", q, low=0, high=1, low_inclusive=False)
    check_number("noise_multiplier", noise_multiplier, low=0, low_inclusive=False)
    alphas = _orders(orders)
    if q == 1.0:
        return alphas / (2.0 * noise_multiplier ** 2)
    result = np.empty(len(alphas))
    for row, alpha in enumerate(alphas):
        k = np.arange(alpha + 1, dtype=np.float64)
        log_binomial = gammaln(alpha + 1) - gammaln(k + 1) - gammaln(alpha - k + 1)
        log_terms = (log_binomial + (alpha - k) * np.log1p(-q) + k * np.log(q)
                     + (k * k - k) / (2.0 * noise_multiplier ** 2))
        result[row] = logsumexp(log_terms) / (alpha - 1)
    return result


def compute_rdp(q: float, noise_multiplier: float, steps: int, orders=DEFAULT_ORDERS) -> np.ndarray:
    """Rényi-DP of ``steps`` steps: RDP composes by addition, so ``steps`` times one step's.

    >>> float(compute_rdp(0.1, 2.0, 10, [5])[0].round(5))  # TensorFlow Privacy's test value
    0.07737
    """
    positive_int("steps", steps)
    return steps * rdp_subsampled_gaussian(q, noise_multiplier, orders)


def rdp_to_epsilon(orders, rdp, delta: float):
    """Convert Rényi-DP curves to (epsilon, delta)-DP: ``min over alpha of rdp(alpha) + log(1/delta) / (alpha - 1)``.

    The conversion of Mironov (2017), Proposition 3. Returns ``(epsilon, best_order)``.

    >>> rdp_to_epsilon([2, 3], [0.5, 0.6], delta=np.exp(-2))
    (1.6, 3)
    """
    alphas = _orders(orders)
    values = check_array("rdp", np.atleast_1d(rdp), finite=False)  # inf where a sum overflowed
    if values.shape != alphas.shape:
        raise ValueError(f"rdp needs one value per order, got {values.shape} for {alphas.shape} orders")
    check_number("delta", delta, low=0, high=1, low_inclusive=False, high_inclusive=False)
    epsilons = values + np.log(1.0 / delta) / (alphas - 1)
    best = int(np.nanargmin(epsilons))
    return float(epsilons[best]), int(alphas[best])


def dp_sgd_epsilon(n_examples: int, batch_size: float, noise_multiplier: float, steps: int, delta: float,
                   orders=DEFAULT_ORDERS) -> float:
    """The epsilon of DP-SGD after ``steps`` steps with expected batch ``batch_size`` out of ``n_examples``.

    Sampling probability ``q = batch_size / n_examples`` (Poisson sampling), then
    :func:`compute_rdp` and :func:`rdp_to_epsilon`.

    >>> round(dp_sgd_epsilon(60_000, 600, 4.0, 10_000, 1e-5, orders=range(2, 33)), 4)
    1.2586
    """
    positive_int("n_examples", n_examples)
    check_number("batch_size", batch_size, low=0, low_inclusive=False)
    if batch_size > n_examples:
        raise ValueError(f"batch_size ({batch_size}) cannot exceed n_examples ({n_examples})")
    rdp = compute_rdp(batch_size / n_examples, noise_multiplier, steps, orders)
    return rdp_to_epsilon(orders, rdp, delta)[0]


# --------------------------------------------------------------------------- federated averaging

def federated_average(client_weights, client_sizes):
    """The server step of FedAvg: the clients' parameters averaged, weighted by their data sizes.

    Parameters
    ----------
    client_weights : list of lists of arrays
        ``client_weights[c]`` is client ``c``'s list of parameter arrays after its local
        training (the same shapes for every client).
    client_sizes : sequence of numbers
        How many training examples each client holds (``n_c``); the weights are ``n_c / sum n``.

    Returns
    -------
    list of numpy.ndarray
        ``sum_c n_c / n * w_c`` for every parameter array.

    Examples
    --------
    >>> federated_average([[np.array([0.0, 2.0])], [np.array([4.0, 6.0])]], [3, 1])[0].tolist()
    [1.0, 3.0]
    """
    clients = list(client_weights)
    if not clients:
        raise ValueError("federated_average needs at least one client")
    sizes = check_array("client_sizes", client_sizes, ndim=1)
    if sizes.shape != (len(clients),):
        raise ValueError(f"client_sizes needs one size per client: {len(clients)} clients, got shape {sizes.shape}")
    if (sizes < 0).any() or sizes.sum() <= 0:
        raise ValueError(f"client_sizes must be non-negative with a positive total, got {sizes.tolist()}")
    shapes = [tuple(np.shape(w) for w in client) for client in clients]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("every client must send parameters of the same shapes")
    shares = sizes / sizes.sum()
    return [sum(share * np.asarray(client[g], dtype=np.float64) for share, client in zip(shares, clients)).astype(
        np.asarray(clients[0][g]).dtype) for g in range(len(clients[0]))]
