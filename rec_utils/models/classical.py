"""The classical recommenders: top-k models from implicit feedback and rating predictors.

Taught in notebooks 04 (EASE) and 05 (popularity, item-kNN, the bias baseline, biased matrix
factorisation by ALS and by SGD, item-kNN with baselines, implicit ALS and the blends), and
used as the yardstick of every later model.

Every recommender follows the contract of :class:`rec_utils.models.Recommender`
(scikit-learn's conventions):

* hyper-parameters are constructor arguments, stored as given and checked at the start of
  ``fit`` (``TypeError`` for a wrong type, ``ValueError`` for a bad value), so
  ``sklearn.base.clone`` and ``set_params`` work;
* ``fit(ratings, users=None, items=None)`` learns from an interactions frame and returns
  ``self``; pass ``items=IdIndex(all_item_ids)`` so items absent from training can still be
  scored and evaluated;
* learned state ends in ``_``: ``users_``, ``items_`` (:class:`~rec_utils.data.IdIndex`),
  ``seen_`` (the binary users x items training matrix);
* ``score(user_ids)`` returns a users x items array (larger is better);
* ``recommend(user_ids, k=10)`` returns the ids of the top-k unseen items, best first
  (padded with :data:`~rec_utils.models.PAD` when fewer remain);
* rating models (:class:`BiasBaseline`, :class:`BiasedMF`, :class:`FunkSVD`,
  :class:`ItemKNNBaseline`, :class:`RatingBlend`) also have ``predict(user_ids, item_ids)``
  for paired users and items; users or items unknown at fit time get what the model knows
  (the global mean plus the biases it has).

The top-k models learn from implicit feedback (who rated what, not how):
:class:`PopularityRecommender`, :class:`ItemKNN`, :class:`EASE` and :class:`ImplicitALS`;
:class:`ScoreBlend` mixes their per-user standardised scores.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sklearn.base import clone

from .._checks import check_frame, check_number, check_seed, fraction, positive_int
from ..data.interactions import deduplicate_interactions
from ..data.schema import ITEM, RATING, USER
from ..data.split import random_split
from .base import Recommender

__all__ = ["PopularityRecommender", "ItemKNN", "EASE", "ImplicitALS", "ScoreBlend",
           "BiasBaseline", "BiasedMF", "FunkSVD", "ItemKNNBaseline", "RatingBlend", "ease_weights", "item_gram"]


# --------------------------------------------------------------------------- top-k from implicit feedback

class PopularityRecommender(Recommender):
    """Recommends the items with the most training interactions, to everyone.

    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 20, 10, 30], "rating": 4.0})
    >>> PopularityRecommender().fit(r).recommend([3], k=2).tolist()
    [[10, 20]]
    """

    def fit(self, ratings, users=None, items=None):
        self.prepare(ratings, users, items)
        self.popularity_ = np.asarray(self.seen_.sum(axis=0)).ravel()
        return self

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return np.tile(self.popularity_.astype(np.float32), (len(rows), 1))


class ItemKNN(Recommender):
    """Item-based collaborative filtering: score = sum of similarities to the user's items.

    Cosine similarity between item columns of the binary interaction matrix, shrunk by
    ``shrink`` (similarity = dot / (norms + shrink)), keeping each item's ``n_neighbors``
    most similar items (and any tied with the last of them). ``similarity_`` is a sparse
    items x items matrix (column ``j`` holds item ``j``'s neighbours), so memory grows with
    ``n_items * n_neighbors``, not ``n_items ** 2``.

    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
    >>> ItemKNN(n_neighbors=1, shrink=0).fit(r).recommend([3], k=1).tolist()
    [[20]]
    """

    def __init__(self, n_neighbors: int = 100, shrink: float = 10.0):
        self.n_neighbors = n_neighbors
        self.shrink = shrink

    def validate_params(self):
        positive_int("n_neighbors", self.n_neighbors)
        check_number("shrink", self.shrink, low=0)

    def fit(self, ratings, users=None, items=None):
        self.prepare(ratings, users, items)
        sim = item_gram(self.seen_)  # co-occurrence counts, float32, built in place
        norms = np.sqrt(np.diag(sim).copy())
        for rows in _blocks(sim.shape[0], sim.shape[1]):  # cosine with shrinkage, one row block at a time
            sim[rows] /= np.outer(norms[rows], norms) + (self.shrink + 1e-9)
        np.fill_diagonal(sim, 0.0)
        n = sim.shape[0]
        keep = min(self.n_neighbors, n - 1)
        columns = []
        for cols in _blocks(n, n):  # each item's n_neighbors largest similarities (ties kept)
            block = sim[:, cols]
            cutoff = np.partition(block, n - keep, axis=0)[n - keep] if keep < n else np.full(block.shape[1], -np.inf)
            block[block < cutoff[None, :]] = 0.0
            columns.append(sp.csc_matrix(block))
        del sim
        self.similarity_ = sp.hstack(columns, format="csr").astype(np.float32)
        return self

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return (self.seen_[rows] @ self.similarity_).toarray()


def _blocks(n: int, width: int, budget: int = 2**24):
    """Consecutive slices of ``range(n)`` whose rows of ``width`` floats stay within ``budget`` entries."""
    step = max(1, budget // max(width, 1))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def item_gram(seen: sp.csr_matrix, l2: float = 0.0) -> np.ndarray:
    """``X^T X + l2 I`` for a sparse users x items matrix, as a dense float32 array.

    Built a block of users at a time with BLAS ``syrk`` in one Fortran-ordered array, so
    the memory is one items x items matrix and a small block: at ml-latest-small's 10,000
    items that is 400 MB, where the float64 product with its temporaries took 1.6 GB.
    The result is symmetric; both triangles are filled.
    """
    from scipy.linalg.blas import ssyrk

    n = seen.shape[1]
    gram = np.zeros((n, n), dtype=np.float32, order="F")
    for rows in _blocks(seen.shape[0], n, budget=2**21):  # a dense block of at most 8 MB next to the result
        block = seen[rows].toarray().astype(np.float32, copy=False)
        gram = ssyrk(1.0, block, beta=1.0, c=gram, trans=1, lower=0, overwrite_c=1)  # upper triangle
    _mirror_upper(gram)
    if l2:
        gram[np.diag_indices(n)] += np.float32(l2)
    return gram


def _mirror_upper(matrix: np.ndarray) -> None:
    """Copy the upper triangle of a square array onto its lower triangle, in place, in blocks."""
    n = matrix.shape[0]
    for cols in _blocks(n, n, budget=2**22):  # numpy copies the overlapping transposed source: 16 MB at most
        # rows of this block below the diagonal take the transposed upper entries
        start, stop = cols.start, cols.stop
        matrix[start:stop, :start] = matrix[:start, start:stop].T
        upper = np.triu(matrix[start:stop, start:stop])
        matrix[start:stop, start:stop] = upper + np.triu(upper, 1).T


def ease_weights(gram: np.ndarray) -> np.ndarray:
    """EASE's weights ``B = I - P / diag(P)``, ``P = gram^-1``, zero diagonal, computed in place.

    ``gram`` is a symmetric positive definite float32 matrix, Fortran-ordered, such as
    :func:`item_gram`'s ``X^T X + l2 I`` (plus any extra term, e.g. side information).
    It is overwritten: the inverse is taken by a Cholesky factorisation in its own memory,
    so the whole computation needs one items x items matrix. Pass a copy to keep it.

    >>> gram = np.asfortranarray(np.array([[2.0, 1.0], [1.0, 2.0]], dtype=np.float32))
    >>> ease_weights(gram).round(2).tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    from scipy.linalg.lapack import spotrf, spotri

    if not isinstance(gram, np.ndarray) or gram.ndim != 2 or gram.shape[0] != gram.shape[1]:
        raise ValueError(f"gram must be a square 2-d array, got {getattr(gram, 'shape', type(gram).__name__)}")
    if gram.dtype != np.float32 or not gram.flags.f_contiguous:
        gram = np.asfortranarray(gram, dtype=np.float32)
    factor, info = spotrf(gram, lower=0, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE's Gram matrix is not positive definite (LAPACK info {info})")
    inverse, info = spotri(factor, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE's inverse failed (LAPACK info {info})")
    del gram, factor
    _mirror_upper(inverse)
    b = inverse.T  # P is symmetric: its transpose is the same matrix, C-ordered, without a copy
    b /= -np.diag(b).copy()[None, :]
    np.fill_diagonal(b, 0.0)
    return b


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck, WWW 2019): a closed-form item-item model.

    ``B = I - P / diag(P)`` with ``P = (X^T X + l2 I)^-1`` and a zero diagonal, so an item
    is never explained by itself; score = ``X @ B``. The inverse is taken in float32 by a
    Cholesky factorisation in the Gram matrix's own memory, so fitting needs one items x
    items matrix (400 MB at 10,000 items, 55 MB at ML-1M's 3,706).

    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
    >>> EASE(l2=1.0).fit(r).recommend([3], k=1).tolist()
    [[20]]
    """

    def __init__(self, l2: float = 500.0):
        self.l2 = l2

    def validate_params(self):
        check_number("l2", self.l2, low=0, low_inclusive=False)

    def fit(self, ratings, users=None, items=None):
        self.prepare(ratings, users, items)
        try:
            self.weights_ = ease_weights(item_gram(self.seen_, l2=self.l2))
        except np.linalg.LinAlgError as error:
            raise np.linalg.LinAlgError(f"{error}; raise l2 (now {self.l2})") from None
        return self

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return np.asarray(self.seen_[rows] @ self.weights_)


def _one_blas_thread():
    """Run BLAS on one thread inside a fit.

    The products and solves here are small (ALS solves thousands of tiny systems): a
    second BLAS thread gains little on the course's 2-core machines, and on a busy machine
    the threads lose several times their work waiting for each other. threadpoolctl comes
    with scikit-learn.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def _ridge_rows(pattern: sp.csr_matrix, targets: sp.csr_matrix, design: np.ndarray,
                reg_per_row: np.ndarray, shared_gram: np.ndarray | None = None) -> np.ndarray:
    """Solve one ridge regression per row of ``pattern``, all at once.

    Row ``u`` regresses ``targets[u, j]`` on ``design[j]`` over the columns ``j`` it has in
    ``pattern``: ``(sum_j d_j d_j^T + shared_gram + reg_u I) x_u = sum_j t_uj d_j``. The
    per-row Gram matrices come from one sparse product with the flattened outer products.
    """
    n, d = pattern.shape[0], design.shape[1]
    outer = (design[:, :, None] * design[:, None, :]).reshape(len(design), d * d)
    gram = np.asarray(pattern @ outer).reshape(n, d, d)
    if shared_gram is not None:
        gram += shared_gram
    gram += reg_per_row[:, None, None] * np.eye(d)
    rhs = np.asarray(targets @ design)
    return np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]


class ImplicitALS(Recommender):
    """Matrix factorisation of implicit feedback by alternating least squares (iALS).

    Hu, Koren, Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (ICDM 2008),
    with the frequency-scaled regularisation of Rendle et al., "Revisiting the Performance of
    iALS on Item Recommendation Benchmarks" (RecSys 2022). Every user-item pair is a target:
    1 for an interaction (weight 1), 0 for every other pair (weight ``unobserved_weight``).
    Minimises

    ``sum_obs (1 - p_u.q_i)^2 + w0 * sum_unobs (p_u.q_i)^2 + reg * sum_u (n_u + w0 * n_items) |p_u|^2
    + reg * sum_i (n_i + w0 * n_users) |q_i|^2``

    exactly for all users (then all items) in turn; the sum over the unobserved pairs costs
    nothing extra because it is ``w0 * Q^T Q`` minus the observed part.

    Parameters
    ----------
    n_factors : int
        Length of the user and item vectors.
    reg : float
        L2 penalty per interaction (scaled by each user's and item's count, see above).
    unobserved_weight : float
        ``w0``: how much a missing interaction counts as a 0, in (0, 1].
    n_epochs : int
        Alternating sweeps (users, then items).
    seed : int
        Seeds the initial factors.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
    >>> ImplicitALS(n_factors=2, reg=0.01).fit(r).recommend([3], k=1).tolist()
    [[20]]
    """

    def __init__(self, n_factors: int = 32, reg: float = 0.02, unobserved_weight: float = 0.2,
                 n_epochs: int = 8, seed: int = 42):
        self.n_factors, self.reg, self.unobserved_weight = n_factors, reg, unobserved_weight
        self.n_epochs, self.seed = n_epochs, seed

    def validate_params(self):
        positive_int("n_factors", self.n_factors)
        check_number("reg", self.reg, low=0, low_inclusive=False)
        check_number("unobserved_weight", self.unobserved_weight, low=0, high=1, low_inclusive=False)
        positive_int("n_epochs", self.n_epochs)
        check_seed("seed", self.seed)

    def fit(self, ratings, users=None, items=None):
        self.prepare(ratings, users, items)
        x = self.seen_.astype(np.float64).tocsr()
        xt = x.T.tocsr()
        rng = np.random.default_rng(self.seed)
        k, w0 = self.n_factors, self.unobserved_weight
        scale = 0.1 / np.sqrt(k)
        p = rng.normal(0.0, scale, (x.shape[0], k))
        q = rng.normal(0.0, scale, (x.shape[1], k))
        with _one_blas_thread():
            for _ in range(self.n_epochs):
                p = self._half(x, q)
                q = self._half(xt, p)
        self.user_factors_, self.item_factors_ = p.astype(np.float32), q.astype(np.float32)
        return self

    def _half(self, x: sp.csr_matrix, fixed: np.ndarray) -> np.ndarray:
        w0 = self.unobserved_weight
        counts = np.diff(x.indptr)
        reg = self.reg * (counts + w0 * len(fixed))
        # observed pairs weigh 1 = w0 (counted in the shared Gram) + (1 - w0) (per row)
        return _ridge_rows((1.0 - w0) * x, x, fixed, reg, shared_gram=w0 * fixed.T @ fixed)

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return self.user_factors_[rows] @ self.item_factors_.T

    def fold_in(self, seen) -> np.ndarray:
        """User vectors for interaction rows the model was not fitted on, item vectors held fixed.

        One half-step of ALS, the same solve ``fit`` makes for its own users: use it to score
        users who were left out of training (``fold_in(rows) @ item_factors_.T``) without
        refitting. ``seen`` is a users x items 0/1 matrix (sparse or dense) over the fitted
        item vocabulary, e.g. ``interaction_matrix(history, users, model.items_)``.

        >>> import pandas as pd
        >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
        >>> model = ImplicitALS(n_factors=2, reg=0.01).fit(r)
        >>> new_user = sp.csr_matrix([[1.0, 0.0]])  # has seen item 10 only
        >>> int(np.argmax(model.fold_in(new_user) @ model.item_factors_.T))
        0
        >>> model.fold_in(sp.csr_matrix([[1.0, 0.0, 1.0]]))
        Traceback (most recent call last):
        ...
        ValueError: seen must have one column per fitted item (2), got 3 columns
        """
        self.check_fitted()
        matrix = sp.csr_matrix(seen, dtype=np.float64)
        if matrix.shape[1] != len(self.item_factors_):
            raise ValueError(f"seen must have one column per fitted item ({len(self.item_factors_)}), "
                             f"got {matrix.shape[1]} columns")
        if matrix.nnz and (matrix.data < 0).any():
            raise ValueError("seen must hold non-negative interaction weights (0/1)")
        with _one_blas_thread():
            return self._half(matrix, self.item_factors_.astype(np.float64)).astype(np.float32)


class ScoreBlend(Recommender):
    """A weighted sum of several recommenders' scores, each standardised per user.

    Each member's scores are turned into z-scores across the items of each user (mean 0,
    standard deviation 1), so members on different scales mix fairly; the blend is
    ``sum_m weight_m * z_m``. Choose the weights on a validation split.

    Parameters
    ----------
    members : list of (Recommender, float)
        The models and their weights. :meth:`fit` fits clones of them (``members_``) and
        leaves the given ones untouched.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
    >>> blend = ScoreBlend([(EASE(1.0), 0.5), (PopularityRecommender(), 0.5)]).fit(r)
    >>> blend.recommend([3], k=1).tolist()
    [[20]]
    """

    def __init__(self, members):
        self.members = members

    def validate_params(self):
        if not isinstance(self.members, (list, tuple)):
            raise TypeError(f"members must be a list of (Recommender, weight) pairs, got {type(self.members).__name__}")
        if not self.members:
            raise ValueError("members must hold at least one (Recommender, weight) pair, got none")
        for position, member in enumerate(self.members):
            if not (isinstance(member, tuple) and len(member) == 2 and isinstance(member[0], Recommender)):
                raise TypeError(f"each of members must be a (Recommender, weight) pair, got {member!r}")
            check_number(f"the weight of members[{position}]", member[1])
        if sum(weight for _, weight in self.members) <= 0:
            raise ValueError(f"members need a positive total weight, got weights {[w for _, w in self.members]}")

    def fit(self, ratings, users=None, items=None):
        self.prepare(ratings, users, items)
        # fitted copies: the caller's models are left as they were given
        self.members_ = [(clone(model), weight) for model, weight in self.members]
        for model, _ in self.members_:
            model.fit(ratings, self.users_, self.items_)
        return self

    def score(self, user_ids):
        self.check_fitted()
        total = None
        for model, weight in self.members_:
            z = np.array(model.score(user_ids), dtype=np.float32)  # a copy, standardised in place
            z -= z.mean(axis=1, keepdims=True)
            z /= z.std(axis=1, keepdims=True) + 1e-12
            z *= weight
            if total is None:
                total = z
            else:
                total += z
        return total


# --------------------------------------------------------------------------- rating prediction

class _RatingModel(Recommender):
    """Shared by rating predictors: ``predict`` for pairs, ``score`` for whole rows."""

    def _prepare_ratings(self, ratings, users, items) -> sp.csr_matrix:
        check_frame(ratings, (USER, ITEM, RATING), numeric=(RATING,))
        if not np.isfinite(ratings[RATING].to_numpy(np.float64)).all():
            raise ValueError("ratings has non-finite values in the rating column")
        r = self.prepare(ratings, users, items, value=RATING).tocsr().astype(np.float64)  # float32 would round r - mu
        self.global_mean_ = float(r.data.mean())  # over the deduplicated ratings
        return r

    def _pairs(self, user_ids, item_ids):
        self.check_fitted()
        user_ids, item_ids = np.atleast_1d(np.asarray(user_ids)), np.atleast_1d(np.asarray(item_ids))
        if user_ids.shape != item_ids.shape or user_ids.ndim != 1:
            raise ValueError(f"user_ids and item_ids must be 1-D and of the same length, "
                             f"got shapes {user_ids.shape} and {item_ids.shape}")
        return (self.users_.positions(user_ids, unknown="mask"),
                self.items_.positions(item_ids, unknown="mask"))


def _bias_sweeps(r: sp.csr_matrix, mu: float, reg_user: float, reg_item: float, n_epochs: int):
    """Regularised user and item biases by alternating exact updates (items first)."""
    rows = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
    cols = r.indices
    n_user, n_item = np.bincount(rows, minlength=r.shape[0]), np.bincount(cols, minlength=r.shape[1])
    b_user, b_item = np.zeros(r.shape[0]), np.zeros(r.shape[1])
    for _ in range(n_epochs):  # a user or item without ratings keeps a bias of 0
        b_item = np.divide(np.bincount(cols, r.data - mu - b_user[rows], r.shape[1]), reg_item + n_item,
                           out=np.zeros(r.shape[1]), where=reg_item + n_item > 0)
        b_user = np.divide(np.bincount(rows, r.data - mu - b_item[cols], r.shape[0]), reg_user + n_user,
                           out=np.zeros(r.shape[0]), where=reg_user + n_user > 0)
    return b_user, b_item


class BiasBaseline(_RatingModel):
    """``r_hat(u, i) = mu + b_u + b_i``: the global mean plus regularised user and item biases.

    The biases minimise ``sum (r - mu - b_u - b_i)^2 + reg_user sum b_u^2 + reg_item sum b_i^2``
    by alternating exact updates, item biases first (Koren, "Factor in the Neighbors",
    TKDD 2010; Surprise's ``BaselineOnly`` with ALS). ``reg`` shrinks the bias of a user or
    item with few ratings towards 0.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 20, 10], "rating": [5.0, 3.0, 4.0]})
    >>> model = BiasBaseline(reg_user=0, reg_item=0, n_epochs=1).fit(r)
    >>> model.item_bias_.tolist(), model.user_bias_.tolist()  # mean 4; item 20 is 1 below it
    ([0.5, -1.0], [0.25, -0.5])
    >>> model.predict([2], [20]).tolist()  # 4 - 0.5 - 1
    [2.5]
    """

    def __init__(self, reg_user: float = 15.0, reg_item: float = 10.0, n_epochs: int = 10):
        self.reg_user, self.reg_item, self.n_epochs = reg_user, reg_item, n_epochs

    def validate_params(self):
        check_number("reg_user", self.reg_user, low=0)
        check_number("reg_item", self.reg_item, low=0)
        positive_int("n_epochs", self.n_epochs)

    def fit(self, ratings, users=None, items=None):
        r = self._prepare_ratings(ratings, users, items)
        self.user_bias_, self.item_bias_ = _bias_sweeps(r, self.global_mean_, self.reg_user,
                                                        self.reg_item, self.n_epochs)
        return self

    def predict(self, user_ids, item_ids) -> np.ndarray:
        """Predicted ratings for paired users and items."""
        u, i = self._pairs(user_ids, item_ids)
        return (self.global_mean_ + np.where(u >= 0, self.user_bias_[u], 0.0)
                + np.where(i >= 0, self.item_bias_[i], 0.0))

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return self.global_mean_ + self.user_bias_[rows, None] + self.item_bias_[None, :]


class _BiasedFactorModel(_RatingModel):
    """``r_hat = mu + b_u + b_i + p_u . q_i`` from fitted ``global_mean_``, ``user_bias_``,
    ``item_bias_``, ``user_factors_`` and ``item_factors_``: prediction and scoring shared by
    the biased matrix factorisations, whatever fits them (ALS or SGD)."""

    def predict(self, user_ids, item_ids) -> np.ndarray:
        """Predicted ratings for paired users and items (unknown ones get the biases they have)."""
        u, i = self._pairs(user_ids, item_ids)
        known = (u >= 0) & (i >= 0)
        dot = np.where(known, np.einsum("ij,ij->i", self.user_factors_[u], self.item_factors_[i]), 0.0)
        return (self.global_mean_ + np.where(u >= 0, self.user_bias_[u], 0.0)
                + np.where(i >= 0, self.item_bias_[i], 0.0) + dot)

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        return (self.global_mean_ + self.user_bias_[rows, None] + self.item_bias_[None, :]
                + self.user_factors_[rows] @ self.item_factors_.T)


class BiasedMF(_BiasedFactorModel):
    """Biased matrix factorisation for rating prediction, trained by alternating least squares.

    ``r_hat(u, i) = mu + b_u + b_i + p_u . q_i``, with L2 penalty ``reg`` on biases and
    factors. Each ALS sweep solves every user's (then every item's) ridge problem exactly;
    the biases ride along as an extra factor paired with a constant 1 on the other side.
    ``score`` returns predicted ratings, which also rank items (poorly: see notebook 05).

    Parameters
    ----------
    n_factors : int
        Length of the user and item vectors.
    reg : float
        L2 penalty on each user's (item's) factors and bias, summed over their ratings.
    n_epochs : int
        ALS sweeps.
    seed : int
        Seeds the initial factors.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [10, 20, 10, 20],
    ...                   "rating": [5.0, 3.0, 4.0, 2.0]})
    >>> BiasedMF(n_factors=1, reg=0.01).fit(r).predict([1, 2], [20, 10]).round(1).tolist()
    [3.0, 4.0]
    """

    def __init__(self, n_factors: int = 20, reg: float = 10.0, n_epochs: int = 15, seed: int = 42):
        self.n_factors, self.reg, self.n_epochs, self.seed = n_factors, reg, n_epochs, seed

    def validate_params(self):
        positive_int("n_factors", self.n_factors)
        check_number("reg", self.reg, low=0, low_inclusive=False)
        positive_int("n_epochs", self.n_epochs)
        check_seed("seed", self.seed)

    def fit(self, ratings, users=None, items=None):
        r = self._prepare_ratings(ratings, users, items)
        rt = r.T.tocsr()
        rng = np.random.default_rng(self.seed)
        n_users, n_items = r.shape
        k = self.n_factors
        # augmented factors: [p_u, b_u, 1] . [q_i, 1, b_i] = p.q + b_u + b_i
        p = np.hstack([rng.normal(0, 0.1, (n_users, k)), np.zeros((n_users, 1)), np.ones((n_users, 1))])
        q = np.hstack([rng.normal(0, 0.1, (n_items, k)), np.ones((n_items, 1)), np.zeros((n_items, 1))])
        p[np.diff(r.indptr) == 0, :k] = 0.0  # users and items without ratings: biases only
        q[np.diff(rt.indptr) == 0, :k] = 0.0
        rows = np.repeat(np.arange(n_users), np.diff(r.indptr))
        self.loss_ = []
        with _one_blas_thread():
            for _ in range(self.n_epochs):
                _als_half(r, p, q, self.global_mean_, self.reg, fixed_col=k + 1)  # users: last column is 1
                _als_half(rt, q, p, self.global_mean_, self.reg, fixed_col=k)  # items: column k is 1
                err = r.data - self.global_mean_ - np.einsum("ij,ij->i", p[rows], q[r.indices])
                self.loss_.append(float(np.sqrt(np.mean(err ** 2))))
        self.user_factors_, self.user_bias_ = p[:, :k].copy(), p[:, k].copy()
        self.item_factors_, self.item_bias_ = q[:, :k].copy(), q[:, k + 1].copy()
        return self


def _als_half(r: sp.csr_matrix, solve: np.ndarray, fixed: np.ndarray, mu: float, reg: float,
              fixed_col: int) -> None:
    """Update the rows of ``solve`` by ridge regression on ``fixed``, in place.

    Column ``fixed_col`` of ``solve`` is a constant 1 (it pairs with the other side's bias)
    and is not updated; rows without ratings keep their values.
    """
    free = np.delete(np.arange(solve.shape[1]), fixed_col)
    pattern = r.copy()
    pattern.data[:] = 1.0
    targets = r.copy()
    targets.data = r.data - mu - fixed[r.indices, fixed_col]  # the other side's bias is fixed
    has = np.diff(r.indptr) > 0
    solved = _ridge_rows(pattern[has], targets[has], fixed[:, free], np.full(int(has.sum()), float(reg)))
    solve[np.ix_(has, free)] = solved


class FunkSVD(_BiasedFactorModel):
    """Biased matrix factorisation trained by stochastic gradient descent (Funk-SVD).

    The model of :class:`BiasedMF`, ``r_hat = mu + b_u + b_i + p_u . q_i``, fitted the way
    Simon Funk did for the Netflix Prize: step along the gradient of one rating's squared
    error plus ``reg`` times the squared parameters it touches. Here the steps are taken on
    shuffled mini-batches of ``batch_size`` ratings at a time (NumPy's ``np.add.at``
    accumulates a batch's updates), which is much faster in Python and, with small batches,
    behaves like one rating at a time.

    Parameters
    ----------
    n_factors : int
        Length of the user and item vectors.
    learning_rate : float
        Step size.
    reg : float
        L2 penalty per rating (on biases and factors).
    n_epochs : int
        Passes over the ratings.
    batch_size : int
        Ratings per update.
    seed : int
        Seeds the initial factors and the shuffles.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [10, 20, 10, 20],
    ...                   "rating": [5.0, 3.0, 4.0, 2.0]})
    >>> model = FunkSVD(n_factors=2, learning_rate=0.05, reg=0.0, n_epochs=300, batch_size=1).fit(r)
    >>> model.predict([1, 2], [20, 10]).round(1).tolist()
    [3.0, 4.0]
    """

    def __init__(self, n_factors: int = 20, learning_rate: float = 0.01, reg: float = 0.08,
                 n_epochs: int = 30, batch_size: int = 256, seed: int = 42):
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
        r = self._prepare_ratings(ratings, users, items).tocoo()
        u, i, y = r.row, r.col, r.data.astype(np.float64)
        rng = np.random.default_rng(self.seed)
        k, lr, reg, mu = self.n_factors, self.learning_rate, self.reg, self.global_mean_
        p, q = rng.normal(0, 0.1, (r.shape[0], k)), rng.normal(0, 0.1, (r.shape[1], k))
        p[np.bincount(u, minlength=r.shape[0]) == 0] = 0.0  # users and items without ratings: biases only
        q[np.bincount(i, minlength=r.shape[1]) == 0] = 0.0
        b_user, b_item = np.zeros(r.shape[0]), np.zeros(r.shape[1])
        self.loss_ = []
        flat_p, flat_q, columns = p.reshape(-1), q.reshape(-1), np.arange(k)  # 1-D np.add.at is much faster
        for _ in range(self.n_epochs):
            order = rng.permutation(len(y))
            for start in range(0, len(y), self.batch_size):
                batch = order[start:start + self.batch_size]
                bu, bi = u[batch], i[batch]
                pu, qi = p[bu], q[bi]
                err = y[batch] - mu - b_user[bu] - b_item[bi] - np.einsum("ij,ij->i", pu, qi)
                np.add.at(b_user, bu, lr * (err - reg * b_user[bu]))
                np.add.at(b_item, bi, lr * (err - reg * b_item[bi]))
                np.add.at(flat_p, (bu[:, None] * k + columns).ravel(), (lr * (err[:, None] * qi - reg * pu)).ravel())
                np.add.at(flat_q, (bi[:, None] * k + columns).ravel(), (lr * (err[:, None] * pu - reg * qi)).ravel())
            err = y - mu - b_user[u] - b_item[i] - np.einsum("ij,ij->i", p[u], q[i])
            self.loss_.append(float(np.sqrt(np.mean(err ** 2))))
        self.user_factors_, self.item_factors_ = p, q
        self.user_bias_, self.item_bias_ = b_user, b_item
        return self



class ItemKNNBaseline(_RatingModel):
    """Item-based k-nearest neighbours on top of the bias baseline (Koren, TKDD 2010).

    ``r_hat(u, i) = b_ui + sum_j s_ij (r_uj - b_uj) / sum_j s_ij`` over the ``n_neighbors``
    items ``j`` rated by ``u`` that are most similar to ``i`` (positive similarities only),
    where ``b_ui = mu + b_u + b_i`` comes from :class:`BiasBaseline`. The similarity is the
    Pearson correlation of the two items' residuals ``r - b`` over their common users,
    shrunk by ``(n - 1) / (n - 1 + shrink)`` for ``n`` common users, as in Surprise's
    ``KNNBaseline`` with ``pearson_baseline``.

    Only positive similarities can weigh in a prediction, so only they are kept:
    ``similarity_`` is a sparse items x items matrix, built a block of items at a time. Its
    memory grows with the number of positively correlated pairs, not with ``n_items ** 2``
    (at ml-latest-small's 10,000 items about 5% of the pairs: 40 MB instead of a 400 MB dense
    matrix and the 1.2 GB its dense construction took).

    Parameters
    ----------
    n_neighbors : int
        Neighbours per prediction.
    shrink : float
        Shrinkage of similarities supported by few common users.
    reg_user, reg_item, n_epochs : see :class:`BiasBaseline`.

    Attributes
    ----------
    baseline_ : BiasBaseline
        The fitted bias baseline ``b_ui``.
    residuals_ : scipy.sparse.csr_matrix
        ``r_ui - b_ui`` for every training rating (users x items).
    similarity_ : scipy.sparse.csr_matrix
        The shrunk Pearson similarities that are positive (float32, items x items, symmetric,
        zero diagonal); every other pair is absent (similarity 0 or below).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3, 4], "item_id": [10, 20, 10, 20, 10, 20, 10],
    ...                   "rating": [5.0, 5.0, 1.0, 1.0, 4.0, 4.0, 1.0]})
    >>> model = ItemKNNBaseline(shrink=0, reg_user=0, reg_item=0).fit(r)
    >>> bool(model.predict([4], [20])[0] < model.predict([1], [20])[0])
    True
    """

    def __init__(self, n_neighbors: int = 40, shrink: float = 100.0, reg_user: float = 15.0,
                 reg_item: float = 10.0, n_epochs: int = 10):
        self.n_neighbors, self.shrink = n_neighbors, shrink
        self.reg_user, self.reg_item, self.n_epochs = reg_user, reg_item, n_epochs

    def validate_params(self):
        positive_int("n_neighbors", self.n_neighbors)
        check_number("shrink", self.shrink, low=0)
        BiasBaseline(self.reg_user, self.reg_item, self.n_epochs).validate_params()

    def fit(self, ratings, users=None, items=None):
        r = self._prepare_ratings(ratings, users, items)
        self.baseline_ = BiasBaseline(self.reg_user, self.reg_item, self.n_epochs).fit(
            ratings, self.users_, self.items_)
        rows = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
        residual = r.copy()
        residual.data = (r.data - self.global_mean_ - self.baseline_.user_bias_[rows]
                         - self.baseline_.item_bias_[r.indices])
        self.residuals_ = residual.tocsr()
        self.similarity_ = self._positive_similarity(residual)
        return self

    def _positive_similarity(self, residual: sp.csr_matrix) -> sp.csr_matrix:
        """The shrunk Pearson similarities above 0, computed a block of items at a time.

        Dense float32 products (far faster than sparse ones with dense results) of the users x
        items residuals, their squares and the rating pattern; each block of rows of the
        items x items result is reduced to its positive entries before the next one is built,
        so the memory is three users x items matrices and four blocks.
        """
        res = residual.astype(np.float32).toarray()  # float32 before densifying: no float64 users x items copy
        pattern = self.seen_.astype(np.float32, copy=False).toarray()
        squares = res * res
        n = res.shape[1]
        parts = []
        with _one_blas_thread():
            for cols in _blocks(n, n, budget=2**22):
                dot = res[:, cols].T @ res  # [i, j]: sum over common users of res_ui res_uj
                # sum of res_ui^2 over the users who rated j, times the same with i and j swapped
                denominator = squares[:, cols].T @ pattern
                denominator *= pattern[:, cols].T @ squares
                np.sqrt(denominator, out=denominator)
                sim = np.divide(dot, denominator, out=np.zeros_like(dot), where=denominator > 0)
                del dot, denominator
                common = pattern[:, cols].T @ pattern  # common users n; the shrinkage (n - 1) / (n - 1 + shrink)
                common -= 1.0
                np.maximum(common, 0.0, out=common)
                sim *= common
                common += self.shrink + 1e-12
                np.divide(sim, common, out=sim, where=common > 0)
                del common
                sim[np.arange(sim.shape[0]), np.arange(cols.start, cols.stop)] = 0.0  # the diagonal
                sim[sim < 0] = 0.0
                parts.append(sp.csr_matrix(sim))
                del sim
        similarity = sp.vstack(parts, format="csr")
        del parts  # the blocks go before any conversion
        return similarity.astype(np.float32, copy=False)

    def _neighbourhood_term(self, row: int, item_cols: np.ndarray) -> np.ndarray:
        """The weighted residual of user ``row``'s nearest rated neighbours of each item."""
        start, end = self.residuals_.indptr[row], self.residuals_.indptr[row + 1]
        rated, res = self.residuals_.indices[start:end], self.residuals_.data[start:end]
        term = np.zeros(len(item_cols))
        if rated.size == 0 or len(item_cols) == 0:
            return term
        # the positive similarities of each item to the items the user rated (a sparse block);
        # similarity_ is symmetric, so the block is taken by rows (fast in CSR) and transposed
        block = self.similarity_[rated]
        if len(item_cols) != block.shape[1] or np.any(item_cols != np.arange(block.shape[1])):
            block = block[:, item_cols]
        sim = block.T.tocsr()
        sim.sort_indices()
        if sim.nnz == 0:
            return term
        counts = np.diff(sim.indptr)
        owner = np.repeat(np.arange(sim.shape[0]), counts)
        weight = sim.data.astype(np.float64)
        keep = np.arange(sim.nnz)
        if counts.max() > self.n_neighbors:
            # each item's n_neighbors most similar rated items: one stable sort by (row, -similarity),
            # so equally similar neighbours are taken in item order
            order = np.argsort(owner * (2.0 + weight.max()) - weight, kind="stable")
            rank = np.arange(sim.nnz) - sim.indptr[owner[order]]
            keep = order[rank < self.n_neighbors]
        total = np.bincount(owner[keep], weight[keep], minlength=sim.shape[0])
        weighted = np.bincount(owner[keep], weight[keep] * res[sim.indices[keep]], minlength=sim.shape[0])
        np.divide(weighted, total, out=term, where=total > 0)
        return term

    def predict(self, user_ids, item_ids) -> np.ndarray:
        """Predicted ratings for paired users and items."""
        u, i = self._pairs(user_ids, item_ids)
        prediction = (self.global_mean_ + np.where(u >= 0, self.baseline_.user_bias_[u], 0.0)
                      + np.where(i >= 0, self.baseline_.item_bias_[i], 0.0))
        known = np.flatnonzero((u >= 0) & (i >= 0))
        order = known[np.argsort(u[known], kind="stable")]
        boundaries = np.flatnonzero(np.diff(u[order])) + 1
        for group in np.split(order, boundaries):
            if group.size:
                prediction[group] += self._neighbourhood_term(u[group[0]], i[group])
        return prediction

    def score(self, user_ids):
        rows = self.user_positions(user_ids)
        all_items = np.arange(len(self.items_))
        base = self.global_mean_ + self.baseline_.user_bias_[rows, None] + self.baseline_.item_bias_[None, :]
        return base + np.vstack([self._neighbourhood_term(row, all_items) for row in rows])


class RatingBlend(_RatingModel):
    """A linear blend of rating models, its weights fitted on a validation split of the training data.

    ``fit`` holds out ``validation_size`` of the ratings (``random_split`` with ``seed``),
    fits every member on the rest, finds the least-squares weights (with an intercept) that
    map the members' validation predictions to the validation ratings, then refits every
    member on all the ratings. The blend never sees the test set.

    Parameters
    ----------
    models : list of rating models
        Models with ``fit`` and ``predict``; ``fit`` fits clones of them (``models_``) and leaves
        the given ones untouched.
    validation_size : float
        Share of the ratings held out to fit the weights.
    seed : int
        Seeds the validation split.

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> r = pd.DataFrame({"user_id": rng.integers(0, 30, 600), "item_id": rng.integers(0, 20, 600)})
    >>> r = r.drop_duplicates().assign(rating=lambda d: 1.0 + (d.user_id % 5))
    >>> blend = RatingBlend([BiasBaseline(0, 0), BiasedMF(2, 1.0)]).fit(r)
    >>> blend.weights_.shape
    (2,)
    """

    def __init__(self, models, validation_size: float = 0.1, seed: int = 42):
        self.models, self.validation_size, self.seed = models, validation_size, seed

    def validate_params(self):
        if not isinstance(self.models, (list, tuple)):
            raise TypeError(f"models must be a list of rating models, got {type(self.models).__name__}")
        if not self.models:
            raise ValueError("models must hold at least one rating model, got none")
        for model in self.models:
            if not (hasattr(model, "fit") and hasattr(model, "predict")):
                raise TypeError(f"each of models needs fit() and predict(), got {type(model).__name__}")
        fraction("validation_size", self.validation_size)
        check_seed("seed", self.seed)

    def fit(self, ratings, users=None, items=None):
        self._prepare_ratings(ratings, users, items)
        ratings = deduplicate_interactions(ratings)  # so validation never holds a superseded rating
        fit_part, validation = random_split(ratings, self.validation_size, seed=self.seed)
        # fitted copies: the caller's models are left as they were given
        self.models_ = [clone(model) for model in self.models]
        predictions = np.column_stack([
            model.fit(fit_part, self.users_, self.items_).predict(validation[USER], validation[ITEM])
            for model in self.models_])
        design = np.column_stack([np.ones(len(validation)), predictions])
        coef = np.linalg.lstsq(design, validation[RATING].to_numpy(np.float64), rcond=None)[0]
        self.intercept_, self.weights_ = float(coef[0]), coef[1:]
        for model in self.models_:
            model.fit(ratings, self.users_, self.items_)
        return self

    def predict(self, user_ids, item_ids) -> np.ndarray:
        """Predicted ratings for paired users and items."""
        self._pairs(user_ids, item_ids)
        return self.intercept_ + sum(w * m.predict(user_ids, item_ids) for m, w in zip(self.models_, self.weights_))

    def score(self, user_ids):
        self.check_fitted()
        return self.intercept_ + sum(w * m.score(user_ids) for m, w in zip(self.models_, self.weights_))
