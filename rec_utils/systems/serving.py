"""Serving a recommender: batch top-k, latency, nearest-neighbour retrieval, online updates, drift.

Taught in ``notebooks/13_deployment_and_scale.ipynb``, which builds each piece in NumPy
first and checks that the functions here give the same result:

* :func:`batch_top_k` — the top-k items of every user, computed in blocks of users so the
  users x items score matrix never exists at once (section 3);
* :func:`measure_latency` — p50/p99 latency and throughput of a scoring function called
  once per request, warm-up excluded (section 4);
* :func:`exact_search` and :class:`IVFIndex` — exact and approximate maximum-inner-product
  search: an inverted-file index with a k-means coarse quantiser, probing ``n_probe`` lists
  (section 5); :func:`recall_against_exact` measures what the approximation loses;
* :func:`retrieve_then_rank` — a two-stage pipeline: a cheap retriever proposes candidates,
  a stronger ranker orders them (section 5);
* :func:`fold_in_user` — the implicit-ALS least-squares user vector for new interactions,
  with the item vectors held fixed (section 6);
* :func:`population_stability_index` — how far one distribution has drifted from another (section 6).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from .._checks import (
    check_array, check_callable, check_fitted, check_number, check_positions, check_seed, positive_int,
)

__all__ = ["batch_top_k", "exact_search", "measure_latency", "IVFIndex", "recall_against_exact",
           "retrieve_then_rank", "fold_in_user", "population_stability_index"]


def _matrix(name: str, value, columns: int | None = None) -> np.ndarray:
    """Vectors as a float32 matrix (no copy when they already are), with ``columns`` columns if given."""
    array = check_array(name, value, ndim=2, dtype=None)
    if columns is not None and array.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns (the vector length), got {array.shape[1]}")
    return array.astype(np.float32, copy=False)


def _top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest entries of each row, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_scores, order, axis=1)


def exact_search(queries, item_vectors, k: int = 10, block_size: int = 1024):
    """The ``k`` items with the largest inner product with each query, by brute force.

    The queries are scored ``block_size`` at a time, so memory holds one
    ``block_size x n_items`` block of scores, not all queries x items at once.

    Parameters
    ----------
    queries : array, shape (n_queries, d)
    item_vectors : array, shape (n_items, d)
    k : int
    block_size : int
        Queries scored together.

    Returns
    -------
    indices : numpy.ndarray of int, shape (n_queries, min(k, n_items))
    scores : numpy.ndarray of float32, same shape, best first.

    Examples
    --------
    >>> exact_search([[1.0, 0.0]], [[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]], k=2)[0].tolist()
    [[1, 2]]
    """
    items = _matrix("item_vectors", item_vectors)
    queries = _matrix("queries", np.atleast_2d(np.asarray(queries)), items.shape[1])
    k, block_size = min(positive_int("k", k), items.shape[0]), positive_int("block_size", block_size)
    indices = np.empty((len(queries), k), np.int64)
    scores = np.empty((len(queries), k), np.float32)
    for start in range(0, len(queries), block_size):
        rows = slice(start, start + block_size)
        indices[rows], scores[rows] = _top_k_rows(queries[rows] @ items.T, k)
    return indices, scores


def batch_top_k(user_vectors, item_vectors, k: int = 10, exclude=None, block_size: int = 256):
    """Top-k items of every user, scored ``user_vectors @ item_vectors.T`` one block of users at a time.

    Memory holds one ``block_size x n_items`` float32 block at a time (256 x 1,682 x 4 bytes
    is 1.7 MB on ML-100K), not the whole users x items matrix. Taught in notebook 13, section 3.

    Parameters
    ----------
    user_vectors : array, shape (n_users, d)
    item_vectors : array, shape (n_items, d)
    k : int
    exclude : scipy sparse matrix, shape (n_users, n_items), optional
        Non-zero entries (e.g. the items each user already has) are never recommended.
    block_size : int
        Users per block.

    Returns
    -------
    indices : numpy.ndarray of int32, shape (n_users, k)
    scores : numpy.ndarray of float32, shape (n_users, k), best first.

    Raises
    ------
    TypeError
        For non-numeric arrays, or a ``k`` or ``block_size`` that is not an integer.
    ValueError
        For arrays of the wrong shape, a ``k`` or ``block_size`` below 1, or ``k`` above the number of items.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> users, items = np.eye(2), np.array([[1.0, 0.0], [0.5, 0.0], [0.0, 1.0]])
    >>> batch_top_k(users, items, k=1, exclude=sp.csr_matrix([[1, 0, 0], [0, 0, 0]]))[0].tolist()
    [[1], [2]]
    """
    items = _matrix("item_vectors", item_vectors)
    users = _matrix("user_vectors", user_vectors, items.shape[1])
    k, block_size = positive_int("k", k), positive_int("block_size", block_size)
    if k > items.shape[0]:
        raise ValueError(f"k must be at most the number of items ({items.shape[0]}), got {k}")
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        if exclude.shape != (users.shape[0], items.shape[0]):
            raise ValueError(f"exclude must have shape {(users.shape[0], items.shape[0])}, got {exclude.shape}")
    indices = np.empty((users.shape[0], k), np.int32)
    scores = np.empty((users.shape[0], k), np.float32)
    for start in range(0, users.shape[0], block_size):
        rows = slice(start, start + block_size)
        block = users[rows] @ items.T
        if exclude is not None:
            block[exclude[rows].nonzero()] = -np.inf
        indices[rows], scores[rows] = _top_k_rows(block, k)
    return indices, scores


def measure_latency(score_one, requests, warmup: int = 10) -> dict:
    """Call ``score_one(request)`` once per request and report its latency distribution.

    The first ``warmup`` calls are run but not timed (they pay for tracing, caches, lazy
    allocation). Each remaining call is timed alone with ``time.perf_counter``; throughput
    is requests served per second by this one caller, one request after another. Taught in
    notebook 13, section 4.

    Parameters
    ----------
    score_one : callable
        Serves one request.
    requests : sequence
        The requests, in order.
    warmup : int
        Calls excluded from the statistics (0 or more, fewer than the requests).

    Returns
    -------
    dict
        ``p50_ms``, ``p99_ms``, ``mean_ms``, ``throughput_per_s`` (floats), ``n`` (timed calls)
        and ``latencies_ms`` (numpy array, one per timed call).

    Raises
    ------
    TypeError
        If ``score_one`` is not callable or ``warmup`` not an integer.
    ValueError
        If ``warmup`` leaves no timed request.

    Examples
    --------
    >>> stats = measure_latency(lambda r: time.sleep(0.002), range(12), warmup=2)
    >>> stats["n"], 2.0 <= stats["p50_ms"] < 50
    (10, True)
    """
    check_callable("score_one", score_one)
    requests = list(requests)
    if not requests:
        raise ValueError("requests is empty: nothing to time")
    check_number("warmup (fewer than the requests)", warmup, low=0, high=len(requests) - 1, integer=True)
    for request in requests[:warmup]:
        score_one(request)
    latencies = np.empty(len(requests) - warmup)
    for position, request in enumerate(requests[warmup:]):
        start = time.perf_counter()
        score_one(request)
        latencies[position] = time.perf_counter() - start
    latencies_ms = latencies * 1000.0
    return {"p50_ms": float(np.percentile(latencies_ms, 50)), "p99_ms": float(np.percentile(latencies_ms, 99)),
            "mean_ms": float(latencies_ms.mean()), "throughput_per_s": float(len(latencies) / latencies.sum()),
            "n": int(len(latencies)), "latencies_ms": latencies_ms}


def _kmeans(vectors: np.ndarray, n_clusters: int, n_iter: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means (squared Euclidean distance); an emptied cluster keeps its old centre."""
    rng = np.random.default_rng(seed)
    centroids = vectors[rng.choice(len(vectors), n_clusters, replace=False)].copy()
    squared_norms = (vectors ** 2).sum(axis=1)
    for _ in range(n_iter):
        distances = squared_norms[:, None] - 2 * vectors @ centroids.T + (centroids ** 2).sum(axis=1)
        assignment = distances.argmin(axis=1)
        for cluster in range(n_clusters):
            members = vectors[assignment == cluster]
            if len(members):
                centroids[cluster] = members.mean(axis=0)
    distances = squared_norms[:, None] - 2 * vectors @ centroids.T + (centroids ** 2).sum(axis=1)
    return centroids, distances.argmin(axis=1)


class IVFIndex(BaseEstimator):
    """Approximate maximum-inner-product search with an inverted file (IVF) and a k-means quantiser.

    ``fit`` clusters the item vectors with k-means into ``n_lists`` cells and keeps, for each
    cell, the list of its items. ``query`` scores a query against the ``n_lists`` centroids,
    opens the ``n_probe`` most promising lists (largest inner product with the centroid) and
    scores only their items exactly. With ``n_probe = n_lists`` every item is scored and the
    result equals :func:`exact_search`. Taught in notebook 13, section 5.

    Parameters
    ----------
    n_lists : int
        Number of k-means cells (at most the number of items).
    n_probe : int
        Default number of lists opened per query.
    n_iter : int
        k-means iterations.
    seed : int
        Seeds the k-means start.

    Like scikit-learn's estimators, it stores its parameters as given and checks them in
    :meth:`fit`; :meth:`query` before :meth:`fit` raises ``NotFittedError``.

    Attributes
    ----------
    centroids_ : numpy.ndarray, shape (n_lists, d)
    lists_ : list of numpy.ndarray
        Item indices of each cell.

    Examples
    --------
    >>> import numpy as np
    >>> items = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    >>> index = IVFIndex(n_lists=5, n_probe=5).fit(items)
    >>> bool((index.query(items[:3], k=4)[0] == exact_search(items[:3], items, k=4)[0]).all())
    True
    """

    def __init__(self, n_lists: int = 32, n_probe: int = 4, n_iter: int = 20, seed: int = 0):
        self.n_lists, self.n_probe, self.n_iter, self.seed = n_lists, n_probe, n_iter, seed

    def fit(self, item_vectors):
        for name in ("n_lists", "n_probe", "n_iter"):
            positive_int(name, getattr(self, name))
        check_seed("seed", self.seed)
        items = _matrix("item_vectors", item_vectors)
        if self.n_lists > len(items):
            raise ValueError(f"n_lists must be at most the number of items ({len(items)}), got {self.n_lists}")
        self.items_ = np.ascontiguousarray(items)
        self.centroids_, assignment = _kmeans(self.items_, self.n_lists, self.n_iter, self.seed)
        self.lists_ = [np.flatnonzero(assignment == cell) for cell in range(self.n_lists)]
        return self

    def query(self, queries, k: int = 10, n_probe: int | None = None):
        """Top-``k`` items of each query among the items of its ``n_probe`` best lists.

        Returns ``indices`` (int64, shape (n_queries, k), -1 where fewer than k items were
        scored) and ``scores`` (float32, -inf there), best first.
        """
        check_fitted(self, "lists_")
        queries = _matrix("queries", np.atleast_2d(np.asarray(queries)), self.items_.shape[1])
        k = positive_int("k", k)
        n_probe = self.n_probe if n_probe is None else positive_int("n_probe", n_probe)
        n_probe = min(n_probe, self.n_lists)
        probed = _top_k_rows(queries @ self.centroids_.T, n_probe)[0]
        indices = np.full((len(queries), k), -1, np.int64)
        scores = np.full((len(queries), k), -np.inf, np.float32)
        for row, cells in enumerate(probed):
            candidates = np.concatenate([self.lists_[cell] for cell in cells])
            if candidates.size == 0:
                continue
            found, found_scores = _top_k_rows((self.items_[candidates] @ queries[row])[None, :], k)
            indices[row, :found.shape[1]] = candidates[found[0]]
            scores[row, :found.shape[1]] = found_scores[0]
        return indices, scores


def recall_against_exact(approximate, exact) -> float:
    """Mean share of each row's exact top-k that the approximate top-k also found.

    Examples
    --------
    >>> recall_against_exact([[1, 2], [3, 9]], [[2, 1], [3, 4]])
    0.75
    """
    approximate = check_array("approximate", approximate, ndim=2, dtype=None)
    exact = check_array("exact", exact, ndim=2, dtype=None)
    if len(approximate) != len(exact):
        raise ValueError(f"approximate and exact must be 2-D arrays with the same number of rows, "
                         f"got shapes {approximate.shape} and {exact.shape}")
    hits = [np.isin(true_row, found_row).mean() for found_row, true_row in zip(approximate, exact)]
    return float(np.mean(hits))


def retrieve_then_rank(retrieve, rank, user_rows, n_candidates: int = 100, k: int = 10):
    """Two-stage recommendation: ``retrieve`` proposes candidates, ``rank`` orders them.

    Parameters
    ----------
    retrieve : callable
        ``retrieve(user_rows, n_candidates)`` -> item indices, shape (n_users, n_candidates)
        (-1 for a missing candidate).
    rank : callable
        ``rank(user_rows, candidates)`` -> scores of those candidates, same shape.
    user_rows : array of int
    n_candidates, k : int
        Candidates per user from stage one, items per user returned (``k <= n_candidates``).

    Returns
    -------
    numpy.ndarray of int, shape (n_users, k)
        The ``k`` best-ranked candidates of each user, best first.

    Examples
    --------
    >>> retrieve = lambda rows, n: np.tile(np.arange(n), (len(rows), 1))
    >>> rank = lambda rows, candidates: -candidates.astype(float)  # prefers small indices
    >>> retrieve_then_rank(retrieve, rank, np.array([0, 1]), n_candidates=5, k=2).tolist()
    [[0, 1], [0, 1]]
    """
    n_candidates, k = positive_int("n_candidates", n_candidates), positive_int("k", k)
    if k > n_candidates:
        raise ValueError(f"k must be at most n_candidates ({n_candidates}), got {k}")
    check_callable("retrieve", retrieve)
    check_callable("rank", rank)
    user_rows = check_positions("user_rows", user_rows)
    candidates = np.asarray(retrieve(user_rows, n_candidates))
    if candidates.shape != (len(user_rows), n_candidates):
        raise ValueError(f"retrieve must return shape {(len(user_rows), n_candidates)}, got {candidates.shape}")
    scores = np.asarray(rank(user_rows, candidates), dtype=np.float32).copy()
    scores[candidates < 0] = -np.inf
    order = _top_k_rows(scores, k)[0]
    return np.take_along_axis(candidates, order, axis=1)


def fold_in_user(item_factors, item_positions, reg: float = 0.02, unobserved_weight: float = 0.2):
    """The implicit-ALS user vector for the interactions ``item_positions``, items held fixed.

    Solves exactly the user half-step of :class:`rec_utils.models.ImplicitALS`:
    ``p = (w0 QᵀQ + (1 - w0) Q_Sᵀ Q_S + reg (n_u + w0 n_items) I)⁻¹ Q_Sᵀ 1``, where ``Q_S`` are
    the rows of the user's items. A new interaction changes the user's vector in
    a millisecond or so, without retraining. Taught in notebook 13, section 6.

    Parameters
    ----------
    item_factors : array, shape (n_items, d)
    item_positions : array of int
        The user's items (duplicates count once).
    reg, unobserved_weight : float
        As in ``ImplicitALS``.

    Returns
    -------
    numpy.ndarray of float32, shape (d,)

    Examples
    --------
    >>> import numpy as np
    >>> q = np.eye(3, dtype=np.float32)
    >>> fold_in_user(q, [0], reg=0.0, unobserved_weight=0.5).round(3).tolist()
    [1.0, 0.0, 0.0]
    """
    q = _matrix("item_factors", item_factors).astype(np.float64)
    positions = np.unique(check_positions("item_positions", item_positions, len(q), non_empty=False))
    check_number("reg", reg, low=0)
    check_number("unobserved_weight", unobserved_weight, low=0, high=1, low_inclusive=False)
    w0, chosen = unobserved_weight, q[positions]
    gram = w0 * q.T @ q + (1 - w0) * chosen.T @ chosen
    gram += reg * (len(positions) + w0 * len(q)) * np.eye(q.shape[1])
    return np.linalg.solve(gram, chosen.sum(axis=0)).astype(np.float32)


def population_stability_index(expected, actual, epsilon: float = 1e-4) -> float:
    """Population stability index (PSI) of ``actual`` against ``expected`` counts per bin.

    ``PSI = sum_b (a_b - e_b) ln(a_b / e_b)`` over the bins' shares ``e`` and ``a`` (each
    smoothed by ``epsilon`` and renormalised, so empty bins do not divide by zero); it is
    the symmetrised Kullback-Leibler divergence ``KL(a||e) + KL(e||a)``. A common rule of
    thumb: below 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 a major one. Taught in
    notebook 13, section 6.

    Examples
    --------
    >>> population_stability_index([50, 50], [50, 50])
    0.0
    >>> round(population_stability_index([50, 50], [80, 20]), 3)
    0.416
    """
    expected, actual = check_array("expected", expected, ndim=1), check_array("actual", actual, ndim=1)
    if expected.shape != actual.shape or expected.size < 2:
        raise ValueError(f"expected and actual must be 1-D counts over the same bins (2 or more), "
                         f"got shapes {expected.shape} and {actual.shape}")
    if (expected < 0).any() or (actual < 0).any() or expected.sum() == 0 or actual.sum() == 0:
        raise ValueError("expected and actual must be non-negative counts with a positive total")
    e = expected / expected.sum() + epsilon
    a = actual / actual.sum() + epsilon
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))
