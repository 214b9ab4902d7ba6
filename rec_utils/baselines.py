"""Baseline recommenders with one interface, and the top-k evaluation they share.

Taught in notebooks 04 (EASE), 05 (popularity, item-kNN, biased matrix factorisation) and
used as the yardstick of every later model.

Every recommender follows scikit-learn's conventions:

* hyper-parameters are constructor arguments;
* ``fit(ratings, users=None, items=None)`` learns from an interactions frame and returns
  ``self``; pass ``items=IdIndex(all_item_ids)`` so items absent from training can still be
  scored (as zero) and evaluated;
* learned state ends in ``_``: ``users_``, ``items_`` (:class:`~rec_utils.split.IdIndex`),
  ``seen_`` (the users x items training matrix);
* ``score(user_ids)`` returns a users x items array (larger is better);
* ``recommend(user_ids, k=10)`` returns the ids of the top-k unseen items, best first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .constants import ITEM, RATING, USER
from .metrics import exclude_seen, ranking_metrics, top_k
from .split import IdIndex, check_interactions, interaction_matrix

__all__ = ["Recommender", "PopularityRecommender", "ItemKNN", "EASE", "BiasedMF",
           "evaluate_top_k", "relevance_matrix"]


class Recommender:
    """Base class: bookkeeping shared by every baseline (id indexes, seen items, top-k)."""

    def _prepare(self, ratings: pd.DataFrame, users: IdIndex | None, items: IdIndex | None,
                 value: str | None = None) -> sp.csr_matrix:
        check_interactions(ratings)
        self.users_ = users if users is not None else IdIndex(ratings[USER])
        self.items_ = items if items is not None else IdIndex(ratings[ITEM])
        self.seen_ = interaction_matrix(ratings, self.users_, self.items_)
        self.seen_.data[:] = 1.0
        return interaction_matrix(ratings, self.users_, self.items_, value=value)

    def _check_fitted(self) -> None:
        if not hasattr(self, "items_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(ratings) first")

    def _rows(self, user_ids) -> np.ndarray:
        self._check_fitted()
        return self.users_.positions(np.atleast_1d(np.asarray(user_ids)))

    def score(self, user_ids) -> np.ndarray:
        """Scores of every item (columns follow ``items_.ids``) for each user."""
        raise NotImplementedError

    def recommend(self, user_ids, k: int = 10, exclude_train: bool = True) -> np.ndarray:
        """Item ids of each user's top-k, best first (training items excluded by default)."""
        scores = self.score(user_ids)
        if exclude_train:
            scores = exclude_seen(scores, self.seen_[self._rows(user_ids)])
        return self.items_.ids[top_k(scores, k)]


class PopularityRecommender(Recommender):
    """Recommends the items with the most training interactions, to everyone.

    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 20, 10, 30], "rating": 4.0})
    >>> PopularityRecommender().fit(r).recommend([3], k=2).tolist()
    [[10, 20]]
    """

    def fit(self, ratings, users=None, items=None):
        self._prepare(ratings, users, items)
        self.popularity_ = np.asarray(self.seen_.sum(axis=0)).ravel()
        return self

    def score(self, user_ids):
        rows = self._rows(user_ids)
        return np.tile(self.popularity_.astype(np.float32), (len(rows), 1))


class ItemKNN(Recommender):
    """Item-based collaborative filtering: score = sum of similarities to the user's items.

    Cosine similarity between item columns of the binary interaction matrix, shrunk by
    ``shrink`` (similarity = dot / (norms + shrink)), keeping each item's ``n_neighbors``
    most similar items.
    """

    def __init__(self, n_neighbors: int = 100, shrink: float = 10.0):
        if n_neighbors < 1:
            raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}")
        if shrink < 0:
            raise ValueError(f"shrink must be non-negative, got {shrink}")
        self.n_neighbors = n_neighbors
        self.shrink = shrink

    def fit(self, ratings, users=None, items=None):
        self._prepare(ratings, users, items)
        x = self.seen_.astype(np.float32)
        co = (x.T @ x).toarray()
        norms = np.sqrt(np.diag(co))
        sim = co / (np.outer(norms, norms) + self.shrink + 1e-9)
        np.fill_diagonal(sim, 0.0)
        if self.n_neighbors < sim.shape[0] - 1:
            cutoff = -np.partition(-sim, self.n_neighbors - 1, axis=0)[self.n_neighbors - 1]
            sim[sim < cutoff[None, :]] = 0.0
        self.similarity_ = sim.astype(np.float32)
        return self

    def score(self, user_ids):
        rows = self._rows(user_ids)
        return np.asarray(self.seen_[rows] @ self.similarity_)


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck, WWW 2019): a closed-form item-item model.

    ``B = I - P / diag(P)`` with ``P = (X^T X + l2 I)^-1`` and a zero diagonal, so an item
    is never explained by itself; score = ``X @ B``.
    """

    def __init__(self, l2: float = 500.0):
        if l2 <= 0:
            raise ValueError(f"l2 must be positive, got {l2}")
        self.l2 = l2

    def fit(self, ratings, users=None, items=None):
        self._prepare(ratings, users, items)
        x = self.seen_.astype(np.float64)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        self.weights_ = b.astype(np.float32)
        return self

    def score(self, user_ids):
        rows = self._rows(user_ids)
        return np.asarray(self.seen_[rows] @ self.weights_)


class BiasedMF(Recommender):
    """Biased matrix factorisation for rating prediction, trained by alternating least squares.

    ``r_hat(u, i) = mu + b_u + b_i + p_u . q_i``, with L2 penalty ``reg`` on biases and
    factors. Each ALS sweep solves every user's (then every item's) ridge problem exactly.
    ``score`` returns predicted ratings, which also rank items (poorly: see notebook 05).
    """

    def __init__(self, n_factors: int = 20, reg: float = 10.0, n_epochs: int = 15, seed: int = 42):
        if n_factors < 1 or n_epochs < 1 or reg < 0:
            raise ValueError(f"need n_factors >= 1, n_epochs >= 1, reg >= 0; got {n_factors}, {n_epochs}, {reg}")
        self.n_factors, self.reg, self.n_epochs, self.seed = n_factors, reg, n_epochs, seed

    def fit(self, ratings, users=None, items=None):
        check_interactions(ratings, (USER, ITEM, RATING))
        r = self._prepare(ratings, users, items, value=RATING).tocsr()
        rt = r.T.tocsr()
        rng = np.random.default_rng(self.seed)
        n_users, n_items = r.shape
        k = self.n_factors
        self.global_mean_ = float(ratings[RATING].mean())
        # augmented factors: [p_u, b_u, 1] . [q_i, 1, b_i] = p.q + b_u + b_i
        p = np.hstack([rng.normal(0, 0.1, (n_users, k)), np.zeros((n_users, 1)), np.ones((n_users, 1))])
        q = np.hstack([rng.normal(0, 0.1, (n_items, k)), np.ones((n_items, 1)), np.zeros((n_items, 1))])
        self.loss_ = []
        for _ in range(self.n_epochs):
            _als_half(r, p, q, self.global_mean_, self.reg, fixed_col=k + 1)  # users: last column is 1
            _als_half(rt, q, p, self.global_mean_, self.reg, fixed_col=k)  # items: column k is 1
            err = r.data - self.global_mean_ - np.einsum(
                "ij,ij->i", p[np.repeat(np.arange(n_users), np.diff(r.indptr))], q[r.indices])
            self.loss_.append(float(np.sqrt(np.mean(err ** 2))))
        self.user_factors_, self.item_factors_ = p, q
        return self

    def predict(self, user_ids, item_ids) -> np.ndarray:
        """Predicted ratings for paired users and items (unknown ones get the biases they have)."""
        self._check_fitted()
        u = self.users_.positions(np.asarray(user_ids), unknown="mask")
        i = self.items_.positions(np.asarray(item_ids), unknown="mask")
        pu = np.where((u >= 0)[:, None], self.user_factors_[u], [0] * (self.n_factors + 1) + [1])
        qi = np.where((i >= 0)[:, None], self.item_factors_[i], [0] * self.n_factors + [1, 0])
        return self.global_mean_ + np.einsum("ij,ij->i", pu, qi)

    def score(self, user_ids):
        rows = self._rows(user_ids)
        return self.global_mean_ + self.user_factors_[rows] @ self.item_factors_.T


def _als_half(r: sp.csr_matrix, solve: np.ndarray, fixed: np.ndarray, mu: float, reg: float,
              fixed_col: int) -> None:
    """Update the rows of ``solve`` by ridge regression on ``fixed``, in place.

    Column ``fixed_col`` of ``solve`` is a constant 1 (it pairs with the other side's bias)
    and is not updated.
    """
    d = solve.shape[1]
    free = np.array([j for j in range(d) if j != fixed_col])
    eye = reg * np.eye(len(free))
    for row in range(r.shape[0]):
        start, end = r.indptr[row], r.indptr[row + 1]
        if start == end:
            continue
        cols = r.indices[start:end]
        f = fixed[cols]
        target = r.data[start:end] - mu - f[:, fixed_col]  # the other side's bias is fixed
        a = f[:, free]
        solve[row, free] = np.linalg.solve(a.T @ a + eye, a.T @ target)


def relevance_matrix(test: pd.DataFrame, users: IdIndex, items: IdIndex, user_ids=None) -> sp.csr_matrix:
    """Binary users x items matrix of held-out interactions (every test row is relevant)."""
    check_interactions(test, what="test")
    unknown = ~np.isin(test[ITEM].to_numpy(), items.ids)
    if unknown.any():
        raise ValueError(f"{unknown.sum()} test interactions have items the model cannot score; "
                         "fit it with items=IdIndex(<all item ids>)")
    rows = IdIndex(user_ids) if user_ids is not None else IdIndex(test[USER])
    matrix = interaction_matrix(test, rows, items)
    matrix.data[:] = 1.0
    return matrix


def evaluate_top_k(model: Recommender, train: pd.DataFrame, test: pd.DataFrame, k: int = 10,
                   batch_size: int = 1024) -> dict:
    """Top-k over unseen items for every test user; all test items relevant.

    The protocol of the course's leaderboard (and of Microsoft Recommenders' ML-100K
    benchmark): training items are excluded from the ranking, and each metric is averaged
    over users who have at least one test item.
    """
    model._check_fitted()
    test_users = np.unique(test[USER].to_numpy())
    y_true = relevance_matrix(test, model.users_, model.items_, test_users)
    per_user = {name: [] for name in ("precision", "recall", "ndcg", "map")}
    for start in range(0, len(test_users), batch_size):  # batches keep the score matrix small
        users = test_users[start:start + batch_size]
        scores = exclude_seen(model.score(users), model.seen_[model._rows(users)])
        batch = ranking_metrics(y_true[start:start + batch_size], scores, k,
                                metrics=tuple(per_user), average=False)
        for name, values in batch.items():
            per_user[name].append(values)
    return {f"{name}@{k}": float(np.nanmean(np.concatenate(v))) for name, v in per_user.items()}
