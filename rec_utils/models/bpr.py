"""Bayesian personalised ranking (BPR-MF) in NumPy: the pairwise baseline of notebook 08.

Taught in ``notebooks/08_gans.ipynb``, which writes one SGD step by hand and checks that
:func:`bpr_sgd_step` and :class:`BPR` give the same numbers. The model follows Rendle,
Freudenthaler, Gantner, Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from Implicit
Feedback" (UAI 2009): for a user ``u``, an item ``i`` the user interacted with and an item
``j`` the user did not, maximise ``ln sigmoid(x_ui - x_uj)`` with ``x_ui = p_u . q_i + b_i``,
an L2 penalty on the parameters each triple touches, by stochastic gradient ascent on
triples drawn uniformly (a user's positive, then a non-interacted item).

The item bias ``b_i`` is an addition to the paper's BPR-MF (most libraries have it): it
learns popularity, which the dot product alone learns slowly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import check_number, check_seed, positive_int
from .base import Recommender

__all__ = ["sample_triples", "bpr_sgd_step", "BPR"]


def sample_triples(seen: sp.csr_matrix, n_triples: int, rng: np.random.Generator):
    """Draw ``(user, positive item, negative item)`` position triples, BPR's training examples.

    A triple starts from an interaction drawn uniformly among all of ``seen``'s non-zeros
    (so active users are drawn more often, as in the paper's bootstrap sampling); the
    negative is drawn uniformly among the items, and redrawn while it is one of the user's
    interactions.

    Parameters
    ----------
    seen : scipy.sparse.csr_matrix
        Binary users x items training matrix; every user drawn has at least one interaction.
    n_triples : int
        How many triples.
    rng : numpy.random.Generator

    Returns
    -------
    users, positives, negatives : three int64 arrays of length ``n_triples``

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> seen = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 1]], dtype=np.float32))
    >>> u, i, j = sample_triples(seen, 5, np.random.default_rng(0))
    >>> bool((seen[u, i] == 1).all() and (seen[u, j] == 0).all())
    True
    """
    if not sp.issparse(seen):
        raise TypeError(f"seen must be a SciPy sparse users x items matrix, got {type(seen).__name__}")
    positive_int("n_triples", n_triples)
    seen = sp.csr_matrix(seen)
    if seen.nnz == 0:
        raise ValueError("seen has no interactions to draw positives from")
    full_rows = np.flatnonzero(np.diff(seen.indptr) >= seen.shape[1])
    if full_rows.size:
        raise ValueError(f"user rows {full_rows[:5].tolist()} interacted with every item: no negative to draw")
    row_of_entry = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
    entries = rng.integers(0, seen.nnz, n_triples)
    users, positives = row_of_entry[entries].astype(np.int64), seen.indices[entries].astype(np.int64)
    n_items = seen.shape[1]
    keys = np.sort(row_of_entry.astype(np.int64) * n_items + seen.indices)
    negatives = rng.integers(0, n_items, n_triples)
    redo = np.arange(n_triples)
    while redo.size:  # rejection sampling: redraw only the negatives the user interacted with
        wanted = users[redo] * n_items + negatives[redo]
        found = np.searchsorted(keys, wanted)
        hit = keys[np.minimum(found, len(keys) - 1)] == wanted
        redo = redo[hit]
        negatives[redo] = rng.integers(0, n_items, redo.size)
    return users, positives, negatives.astype(np.int64)


def bpr_sgd_step(user_factors, item_factors, item_bias, users, positives, negatives,
                 learning_rate: float, reg: float) -> float:
    """One mini-batch step of gradient ascent on BPR's objective, in place.

    For each triple, ``x = p_u . (q_i - q_j) + b_i - b_j`` and ``g = sigmoid(-x)`` (the
    derivative of ``ln sigmoid(x)``); then ``p_u += lr (g (q_i - q_j) - reg p_u)``,
    ``q_i += lr (g p_u - reg q_i)``, ``q_j += lr (-g p_u - reg q_j)``, ``b_i += lr (g - reg b_i)``
    and ``b_j += lr (-g - reg b_j)``, all computed from the parameters before the step and
    summed over the batch where a row appears more than once.

    Returns
    -------
    float
        The batch's mean ``ln sigmoid(x)`` before the step (BPR's log-likelihood per triple).

    Examples
    --------
    >>> import numpy as np
    >>> p, q, b = np.full((1, 2), 0.1), np.array([[0.1, 0.1], [0.0, 0.0]]), np.zeros(2)
    >>> round(bpr_sgd_step(p, q, b, np.array([0]), np.array([0]), np.array([1]), 0.1, 0.0), 4)
    -0.6832
    >>> bool(p @ q[0] - p @ q[1] > 0.02)  # the positive moved ahead of the negative
    True
    """
    p_u, q_i, q_j = user_factors[users], item_factors[positives], item_factors[negatives]
    x = np.einsum("bf,bf->b", p_u, q_i - q_j) + item_bias[positives] - item_bias[negatives]
    g = (1.0 / (1.0 + np.exp(x)))[:, None]  # sigmoid(-x)
    np.add.at(user_factors, users, learning_rate * (g * (q_i - q_j) - reg * p_u))
    np.add.at(item_factors, positives, learning_rate * (g * p_u - reg * q_i))
    np.add.at(item_factors, negatives, learning_rate * (-g * p_u - reg * q_j))
    b_i, b_j = item_bias[positives], item_bias[negatives]
    np.add.at(item_bias, positives, learning_rate * (g[:, 0] - reg * b_i))
    np.add.at(item_bias, negatives, learning_rate * (-g[:, 0] - reg * b_j))
    return float(-np.logaddexp(0.0, -x).mean())


class BPR(Recommender):
    """BPR-MF: matrix factorisation trained on sampled (user, positive, negative) triples.

    Parameters
    ----------
    n_factors : int
        Length of the user and item vectors.
    learning_rate : float
        SGD step size.
    reg : float
        L2 penalty on every parameter a triple touches.
    n_epochs : int
        Passes; one pass draws as many triples as there are training interactions.
    batch_size : int
        Triples per vectorised step.
    seed : int
        Seeds the initial factors (normal, standard deviation 0.1) and the triple sampler.

    Attributes
    ----------
    user_factors_, item_factors_, item_bias_ : numpy.ndarray (float32)
    history_ : dict
        ``"log_likelihood"``: the mean ``ln sigmoid(x_uij)`` of each epoch's triples.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 4], "item_id": [1, 2, 1, 2, 1, 3]})
    >>> BPR(n_factors=2, n_epochs=20, seed=0).fit(r).recommend([3], k=1).tolist()
    [[2]]
    """

    def __init__(self, n_factors: int = 32, learning_rate: float = 0.05, reg: float = 0.01,
                 n_epochs: int = 30, batch_size: int = 1024, seed: int = 42):
        self.n_factors, self.learning_rate, self.reg = n_factors, learning_rate, reg
        self.n_epochs, self.batch_size, self.seed = n_epochs, batch_size, seed

    def validate_params(self):
        positive_int("n_factors", self.n_factors)
        check_number("learning_rate", self.learning_rate, low=0, low_inclusive=False)
        check_number("reg", self.reg, low=0)
        positive_int("n_epochs", self.n_epochs)
        positive_int("batch_size", self.batch_size)
        check_seed("seed", self.seed)

    def fit(self, ratings, users=None, items=None):
        """Learn from who interacted with what in ``ratings`` (the ratings' values are ignored)."""
        self.prepare(ratings, users, items)
        rng = np.random.default_rng(self.seed)
        n_users, n_items = self.seen_.shape
        self.user_factors_ = rng.normal(0.0, 0.1, (n_users, self.n_factors)).astype(np.float32)
        self.item_factors_ = rng.normal(0.0, 0.1, (n_items, self.n_factors)).astype(np.float32)
        self.item_bias_ = np.zeros(n_items, np.float32)
        self.history_ = {"log_likelihood": []}
        for _ in range(self.n_epochs):
            users, positives, negatives = sample_triples(self.seen_, self.seen_.nnz, rng)
            per_batch = [bpr_sgd_step(self.user_factors_, self.item_factors_, self.item_bias_,
                                      users[s:s + self.batch_size], positives[s:s + self.batch_size],
                                      negatives[s:s + self.batch_size], self.learning_rate, self.reg)
                         for s in range(0, len(users), self.batch_size)]
            self.history_["log_likelihood"].append(float(np.mean(per_batch)))
        return self

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return self.user_factors_[rows] @ self.item_factors_.T + self.item_bias_[None, :]
