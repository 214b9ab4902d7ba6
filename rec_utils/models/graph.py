"""Graph collaborative filtering: LightGCN on the user-item graph, with its sparse propagation.

Taught in ``notebooks/07_feature_interactions_and_graph_cf.ipynb`` (sections 6-9): LightGCN
keeps BPR's loss and its (user, positive, negative) triples and changes only where the
embeddings come from, so it arrives as "BPR, with embeddings smoothed over the user-item
graph", measured on the leaderboard protocol of notebook 05.

The model follows He, Deng, Wang, Li, Zhang, Wang, "LightGCN: Simplifying and Powering Graph
Convolution Network for Recommendation" (SIGIR 2020):

* users and items are the nodes of one bipartite graph, an edge per training interaction;
* :func:`normalized_adjacency` builds its symmetric-normalised adjacency
  ``A_hat = D^-1/2 A D^-1/2`` as a SciPy sparse matrix (nothing dense);
* :func:`propagate` applies it ``K`` times to the free ("ego") embeddings ``E0`` — no weight
  matrix, no non-linearity between layers — and combines the layers by their mean,
  ``E = (E0 + A_hat E0 + ... + A_hat^K E0) / (K + 1)``;
* :class:`LightGCN` learns ``E0`` with the BPR loss on mini-batches of (user, positive,
  negative) triples, an L2 penalty on the ego embeddings of each triple, and Adam; a score is
  the dot product of a user's and an item's combined embeddings.

With ``n_layers=0`` no propagation happens and LightGCN is BPR matrix factorisation without
item biases: the depth curve of the notebook starts there.

Everything here is NumPy and SciPy: LightGCN is linear in its embeddings, so its gradient is
one more propagation (:func:`bpr_graph_gradient`) and no deep-learning framework is needed —
nor its ~630 MB of memory.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .._checks import check_choice, check_frame, check_number, check_seed, non_negative_int, positive_int
from .._console import progress
from ..data.schema import ITEM, USER
from ..evaluation.protocols import evaluate_scores
from .base import Recommender

__all__ = ["normalized_adjacency", "propagate", "sample_user_triples", "bpr_graph_gradient", "LightGCN"]


def normalized_adjacency(seen) -> sp.csr_matrix:
    """The symmetric-normalised adjacency of the user-item graph, ``D^-1/2 A D^-1/2``.

    ``A = [[0, R], [R^T, 0]]`` for the binary users x items matrix ``R``: users are nodes
    ``0..n_users-1``, items nodes ``n_users..n_users+n_items-1``. ``D`` holds the node degrees;
    the edge between user ``u`` and item ``i`` gets weight ``1 / sqrt(d_u d_i)``. A node
    without edges (a user or item absent from training) keeps an empty row.

    Parameters
    ----------
    seen : scipy.sparse matrix, shape (n_users, n_items)
        The training interactions; non-zero entries are edges (their values are ignored).

    Returns
    -------
    scipy.sparse.csr_matrix of float32, shape (n_users + n_items, n_users + n_items)

    Examples
    --------
    >>> R = sp.csr_matrix(np.array([[1, 1], [0, 1]]))
    >>> normalized_adjacency(R).toarray().astype(float).round(3).tolist()  # degrees: users 2, 1; items 1, 2
    [[0.0, 0.0, 0.707, 0.5], [0.0, 0.0, 0.0, 0.707], [0.707, 0.0, 0.0, 0.0], [0.5, 0.707, 0.0, 0.0]]
    """
    if not sp.issparse(seen):
        raise TypeError(f"seen must be a SciPy sparse users x items matrix, got {type(seen).__name__}")
    r = sp.csr_matrix(seen, dtype=np.float32, copy=True)
    r.eliminate_zeros()
    r.data[:] = 1.0
    user_degree = np.asarray(r.sum(axis=1)).ravel()
    item_degree = np.asarray(r.sum(axis=0)).ravel()
    with np.errstate(divide="ignore"):
        user_scale = np.where(user_degree > 0, 1.0 / np.sqrt(user_degree), 0.0).astype(np.float32)
        item_scale = np.where(item_degree > 0, 1.0 / np.sqrt(item_degree), 0.0).astype(np.float32)
    scaled = sp.diags(user_scale) @ r @ sp.diags(item_scale)
    return sp.bmat([[None, scaled], [scaled.T, None]], format="csr", dtype=np.float32)


def propagate(adjacency, embeddings, n_layers: int) -> np.ndarray:
    """LightGCN's layer combination: the mean of ``E0, A E0, ..., A^K E0``.

    Parameters
    ----------
    adjacency : scipy.sparse matrix, shape (n_nodes, n_nodes)
        Usually :func:`normalized_adjacency`.
    embeddings : array, shape (n_nodes, d)
        The ego embeddings ``E0``.
    n_layers : int
        ``K``, the number of propagation steps (0 returns ``E0``).

    Returns
    -------
    ndarray of float32, shape (n_nodes, d)

    Examples
    --------
    >>> A = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> propagate(A, np.array([[1.0], [3.0]]), n_layers=1).tolist()  # (E0 + A E0) / 2
    [[2.0], [2.0]]
    """
    if not sp.issparse(adjacency):
        raise TypeError(f"adjacency must be a SciPy sparse matrix, got {type(adjacency).__name__}")
    n_layers = non_negative_int("n_layers", n_layers)
    layer = np.asarray(embeddings, dtype=np.float32)
    if layer.ndim != 2 or layer.shape[0] != adjacency.shape[0] or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"embeddings must be n_nodes x d with n_nodes = {adjacency.shape[0]} (a square adjacency), "
                         f"got adjacency {adjacency.shape} and embeddings {layer.shape}")
    total = layer.copy()
    adjacency = sp.csr_matrix(adjacency, dtype=np.float32)
    for _ in range(n_layers):
        layer = np.asarray(adjacency @ layer, dtype=np.float32)
        total += layer
    return total / np.float32(n_layers + 1)


def sample_user_triples(seen: sp.csr_matrix, n_triples: int, rng: np.random.Generator):
    """(user, positive, negative) position triples, drawing the *user* first, as LightGCN does.

    A user is drawn uniformly among those with at least one interaction (and one item left
    to be a negative), then one of their items uniformly, then a negative uniformly among the
    items, redrawn while it is one of the user's. Unlike
    :func:`rec_utils.models.bpr.sample_triples` (an interaction first), light users weigh as
    much as heavy ones.

    Returns
    -------
    users, positives, negatives : three int64 arrays of length ``n_triples``

    Examples
    --------
    >>> seen = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 1]], dtype=np.float32))
    >>> u, i, j = sample_user_triples(seen, 6, np.random.default_rng(0))
    >>> bool((seen[u, i] == 1).all() and (seen[u, j] == 0).all())
    True
    """
    if not sp.issparse(seen):
        raise TypeError(f"seen must be a SciPy sparse users x items matrix, got {type(seen).__name__}")
    n_triples = positive_int("n_triples", n_triples)
    seen = sp.csr_matrix(seen)
    seen.sum_duplicates()
    n_items = seen.shape[1]
    counts = np.diff(seen.indptr)
    eligible = np.flatnonzero((counts > 0) & (counts < n_items))
    if eligible.size == 0:
        raise ValueError("seen has no user with both an interaction and an item left to be a negative")
    users = eligible[rng.integers(0, eligible.size, n_triples)]
    offsets = (rng.random(n_triples) * counts[users]).astype(np.int64)
    positives = seen.indices[seen.indptr[users] + offsets].astype(np.int64)
    keys = np.repeat(np.arange(seen.shape[0], dtype=np.int64), counts) * n_items + seen.indices  # sorted
    negatives = rng.integers(0, n_items, n_triples)
    redo = np.arange(n_triples)
    while redo.size:  # rejection sampling: redraw only the negatives the user interacted with
        wanted = users[redo] * n_items + negatives[redo]
        hit = keys[np.minimum(np.searchsorted(keys, wanted), keys.size - 1)] == wanted
        redo = redo[hit]
        negatives[redo] = rng.integers(0, n_items, redo.size)
    return users.astype(np.int64), positives, negatives.astype(np.int64)


def bpr_graph_gradient(adjacency, ego, n_users: int, n_layers: int, users, positives, negatives,
                       reg: float = 0.0):
    """LightGCN's BPR loss on a batch of triples, and its gradient with respect to the ego embeddings.

    The loss is ``mean(softplus(-(e_u . e_i - e_u . e_j))) + reg / 2 * sum(|e0_u|^2 + |e0_i|^2 +
    |e0_j|^2) / batch``, where ``e`` are rows of ``E = propagate(adjacency, ego, n_layers)``
    (item ``i`` is node ``n_users + i``) and ``e0`` rows of ``ego``.

    Propagation is linear, ``E = P E0`` with ``P = (I + A + ... + A^K) / (K + 1)``, and ``A`` is
    symmetric, so the gradient is the BPR gradient with respect to ``E`` propagated the same
    way: ``dL/dE0 = P (dL/dE) + reg * (the batch's rows of E0) / batch``. A step costs two
    passes of ``K`` sparse products, whatever the batch; nothing is dense but ``n_nodes x d``.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_matrix, shape (n_nodes, n_nodes)
        Symmetric (:func:`normalized_adjacency`).
    ego : ndarray, shape (n_nodes, d)
        Users first, then items.
    n_users : int
        How many of the nodes are users.
    n_layers : int
        ``K``.
    users, positives, negatives : arrays of int
        User positions and item positions (``0..n_items-1``) of the triples.
    reg : float
        L2 weight on the batch's ego rows.

    Returns
    -------
    loss : float
    gradient : ndarray of float32, shape (n_nodes, d)

    Examples
    --------
    >>> A = normalized_adjacency(sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0]])))
    >>> ego = np.full((4, 3), 0.01, dtype=np.float32)
    >>> loss, grad = bpr_graph_gradient(A, ego, 2, 2, [0], [0], [1])
    >>> round(loss, 4), grad.shape  # log(2) when the two items score alike
    (0.6931, (4, 3))
    """
    final = propagate(adjacency, ego, n_layers)
    users = np.asarray(users, dtype=np.int64)
    items_i = np.asarray(positives, dtype=np.int64) + n_users
    items_j = np.asarray(negatives, dtype=np.int64) + n_users
    e_u, e_i, e_j = final[users], final[items_i], final[items_j]
    margin = np.einsum("bd,bd->b", e_u, e_i - e_j)
    batch = max(len(users), 1)
    rows = np.concatenate([users, items_i, items_j])
    penalty = 0.5 * float(np.square(ego[rows], dtype=np.float64).sum()) / batch
    loss = float(np.logaddexp(0.0, -margin.astype(np.float64)).mean()) + reg * penalty
    weight = (-1.0 / (1.0 + np.exp(margin)) / batch).astype(np.float32)[:, None]  # d softplus(-x) / dx, averaged
    upstream = np.zeros_like(final)
    np.add.at(upstream, users, weight * (e_i - e_j))
    np.add.at(upstream, items_i, weight * e_u)
    np.add.at(upstream, items_j, -weight * e_u)
    gradient = propagate(adjacency, upstream, n_layers)
    np.add.at(gradient, rows, (reg / batch) * ego[rows])
    return loss, gradient.astype(np.float32, copy=False)


class LightGCN(Recommender):
    """LightGCN: BPR matrix factorisation whose embeddings are averaged over the user-item graph.

    Each user and item has a free ("ego") embedding; a forward pass propagates them
    ``n_layers`` times over :func:`normalized_adjacency` and averages the layers
    (:func:`propagate`, weight ``1 / (n_layers + 1)`` each). For a triple (user ``u``, an item
    ``i`` of theirs, an item ``j`` not), the loss is BPR's ``-log sigmoid(e_u . e_i - e_u . e_j)``
    on the combined embeddings plus ``reg / 2`` times the squared norms of the three *ego*
    embeddings, averaged over the batch (as in the paper's code); Adam minimises it, with the
    gradient of :func:`bpr_graph_gradient`. An epoch draws as many triples as there are
    training interactions, in batches; every batch propagates the whole graph, forward and
    back, so a step costs ``2 n_layers`` sparse products of the ``2 x interactions`` non-zeros
    by ``n_factors`` columns — no dense users x items matrix, and no TensorFlow.

    Taught in ``notebooks/07_feature_interactions_and_graph_cf.ipynb``, on the leaderboard protocol.

    Parameters
    ----------
    n_factors : int
        Embedding length.
    n_layers : int
        ``K``, propagation steps (0 = BPR-MF without biases).
    learning_rate : float
        Adam's step size.
    reg : float
        L2 weight on the ego embeddings of each triple (the paper's ``lambda``, "decay").
    n_epochs : int
        Passes over the training interactions.
    batch_size : int
        Triples per step.
    sampling : {"user", "interaction"}
        Draw a user first (LightGCN's sampler, :func:`sample_user_triples`) or an
        interaction first (:func:`rec_utils.models.bpr.sample_triples`).
    init_scale : float
        Standard deviation of the normal initial ego embeddings (0.1 in the paper's code).
    seed : int
        Seeds the initial embeddings and the sampler; two fits with one seed give one model.
    verbose : {0, 1}
        1 shows a progress bar over the epochs, with the loss.
    patience : int, optional
        Early stopping, used only when :meth:`fit` gets ``validation``: training stops after
        ``patience`` epochs without a better validation NDCG@10, and the embeddings of the
        best epoch are kept (``best_epoch_``). ``None`` (the default) trains all ``n_epochs``
        and keeps the last epoch's embeddings.

    Attributes
    ----------
    adjacency_ : scipy.sparse.csr_matrix
        The normalised adjacency the model propagated over.
    embeddings_ : ndarray (n_users + n_items, n_factors), float32
        The learned ego embeddings (users first).
    user_factors_, item_factors_ : ndarray, float32
        The combined (propagated) embeddings that score.
    history_ : dict
        ``"loss"``: the mean training loss per epoch; with ``validation`` passed to
        :meth:`fit`, ``"val_ndcg@10"``: the validation NDCG@10 after each epoch.
    best_epoch_ : int or None
        With ``validation``: the (1-based) epoch of the best validation NDCG@10 — the
        embeddings kept when ``patience`` is set; without ``validation``: ``None``.
    fit_seconds_ : float
        Wall time of the training loop.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 4], "item_id": [1, 2, 1, 2, 1, 3]})
    >>> model = LightGCN(n_factors=4, n_layers=2, n_epochs=30, batch_size=4, learning_rate=0.05, seed=0).fit(r)
    >>> model.recommend([3], k=1).tolist()  # user 3 shares item 1 with users 1 and 2, who also have item 2
    [[2]]
    """

    def __init__(self, n_factors: int = 64, n_layers: int = 3, learning_rate: float = 0.005, reg: float = 1e-4,
                 n_epochs: int = 50, batch_size: int = 1024, sampling: str = "user", init_scale: float = 0.1,
                 seed: int = 42, verbose: int = 0, patience: int | None = None):
        self.n_factors, self.n_layers, self.learning_rate, self.reg = n_factors, n_layers, learning_rate, reg
        self.n_epochs, self.batch_size, self.sampling, self.init_scale = n_epochs, batch_size, sampling, init_scale
        self.seed, self.verbose, self.patience = seed, verbose, patience

    def validate_params(self):
        positive_int("n_factors", self.n_factors)
        non_negative_int("n_layers", self.n_layers)
        check_number("learning_rate", self.learning_rate, low=0, low_inclusive=False)
        check_number("reg", self.reg, low=0)
        positive_int("n_epochs", self.n_epochs)
        positive_int("batch_size", self.batch_size)
        check_choice("sampling", self.sampling, ("user", "interaction"))
        check_number("init_scale", self.init_scale, low=0, low_inclusive=False)
        check_seed("seed", self.seed)
        check_choice("verbose", self.verbose, (0, 1))
        if self.patience is not None:
            positive_int("patience", self.patience)

    def fit(self, ratings, users=None, items=None, validation=None):
        """Learn the ego embeddings from who interacted with what (the ratings' values are ignored).

        ``validation`` (optional): held-out ``user_id, item_id`` rows of the same users; the
        validation NDCG@10 over unseen items is recorded after every epoch in
        ``history_["val_ndcg@10"]``, to choose ``n_epochs`` (or any other setting) without
        touching the test set; with ``patience`` set, training also stops early and keeps the
        best epoch's embeddings.
        """
        self.prepare(ratings, users, items)
        if validation is not None:
            check_frame(validation, (USER, ITEM), "validation")
        from .bpr import sample_triples

        rng = np.random.default_rng(self.seed)
        n_users, n_items = self.seen_.shape
        self.adjacency_ = normalized_adjacency(self.seen_)
        ego = rng.normal(0.0, self.init_scale, (n_users + n_items, self.n_factors)).astype(np.float32)
        first, second = np.zeros_like(ego), np.zeros_like(ego)  # Adam's moment estimates
        beta1, beta2, epsilon, lr = 0.9, 0.999, 1e-8, float(self.learning_rate)
        sampler = sample_user_triples if self.sampling == "user" else sample_triples
        n_per_epoch = max(int(self.seen_.nnz), 1)
        self.history_ = {"loss": []}
        if validation is not None:
            self.history_["val_ndcg@10"] = []
        epochs = progress(range(self.n_epochs), desc="LightGCN", unit="epoch") if self.verbose else range(self.n_epochs)
        began, step = time.perf_counter(), 0
        self.best_epoch_, best_score, best_ego = None, -np.inf, None
        for epoch in epochs:
            users_, positives, negatives = sampler(self.seen_, n_per_epoch, rng)
            losses = []
            for s in range(0, n_per_epoch, self.batch_size):
                batch = slice(s, s + self.batch_size)
                loss, gradient = bpr_graph_gradient(self.adjacency_, ego, n_users, self.n_layers, users_[batch],
                                                    positives[batch], negatives[batch], self.reg)
                step += 1
                first *= beta1
                first += (1 - beta1) * gradient
                second *= beta2
                second += (1 - beta2) * np.square(gradient)
                corrected = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
                ego -= (corrected * first / (np.sqrt(second) + epsilon)).astype(np.float32)
                losses.append(loss)
            self.history_["loss"].append(float(np.mean(losses)))
            if validation is not None:
                self._set_factors(ego)
                found = evaluate_scores(self.score, validation, self.users_, self.items_, exclude=self.seen_, k=10,
                                        metrics=("ndcg",))
                self.history_["val_ndcg@10"].append(found["ndcg@10"])
                if found["ndcg@10"] > best_score:
                    self.best_epoch_, best_score = epoch + 1, found["ndcg@10"]
                    best_ego = ego.copy() if self.patience is not None else None
            if self.verbose:
                epochs.set_postfix(loss=f"{self.history_['loss'][-1]:.4f}", refresh=False)
            if validation is not None and self.patience is not None and epoch + 1 - self.best_epoch_ >= self.patience:
                break
        self.fit_seconds_ = time.perf_counter() - began
        self._set_factors(best_ego if best_ego is not None else ego)
        return self

    def _set_factors(self, ego: np.ndarray) -> None:
        self.embeddings_ = ego.astype(np.float32)
        final = propagate(self.adjacency_, self.embeddings_, self.n_layers)
        n_users = self.seen_.shape[0]
        self.user_factors_, self.item_factors_ = final[:n_users], final[n_users:]

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return self.user_factors_[rows] @ self.item_factors_.T
