"""Evaluation metrics: rating, classification, ranking at k, and beyond accuracy.

Taught in ``notebooks/05_supervised_learning_and_evaluation.ipynb``; used everywhere.

Ranking metrics share one call convention, like scikit-learn's ``ndcg_score``::

    metric(y_true, y_score, k)

``y_true`` is a users x items array (dense or SciPy sparse) of relevance: 1 for a held-out
relevant item, 0 otherwise (graded gains are allowed for NDCG). ``y_score`` has the same
shape; larger is better, and ``-inf`` removes an item from the ranking (use
:func:`exclude_seen` for the training items). The same convention serves candidate
sets: pass ``(n_users, n_candidates)`` arrays instead.

Users with no relevant item cannot be scored. The rule, set by ``empty=``:
``"skip"`` (default) leaves them out of the mean, ``"zero"`` counts them as 0 and
``"raise"`` raises a ``ValueError``. If no user has a relevant item, every rule raises.

Everything is vectorised over users: one ``argpartition`` finds all top-k lists.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import check_array, check_number, check_positions, positive_int

__all__ = [
    "rmse", "mae", "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss",
    "top_k", "exclude_seen", "precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k",
    "hit_rate_at_k", "mrr_at_k", "ranking_metrics", "RANKING_METRICS",
    "catalog_coverage", "intra_list_diversity", "novelty", "personalization",
]


# --------------------------------------------------------------------------- validation

def _vector(values, name: str) -> np.ndarray:
    """``values`` as a finite, non-empty 1-D float array (a column vector is flattened)."""
    array = check_array(name, values)
    if array.ndim > 1 and set(array.shape[1:]) == {1}:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {array.shape}")
    return array


def _pair(y_true, y_pred, names=("y_true", "y_pred")):
    a, b = _vector(y_true, names[0]), _vector(y_pred, names[1])
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same length, got {a.size} and {b.size}")
    return a, b


def _labels(y, name="y_true") -> np.ndarray:
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must hold binary labels 0/1, got values {np.unique(y)[:6].tolist()}")
    return y.astype(bool)


# --------------------------------------------------------------------------- rating

def rmse(y_true, y_pred) -> float:
    """Root mean squared error of rating predictions.

    >>> rmse([4, 3], [3, 3])
    0.7071067811865476
    """
    a, b = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error of rating predictions.

    >>> mae([4, 3], [3, 3.5])
    0.75
    """
    a, b = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))


# --------------------------------------------------------------------------- classification

def accuracy(y_true, y_pred) -> float:
    """Share of correct 0/1 predictions."""
    a, b = _pair(y_true, y_pred)
    return float(np.mean(_labels(a) == _labels(b, "y_pred")))


def _confusion(y_true, y_pred):
    a, b = _pair(y_true, y_pred)
    a, b = _labels(a), _labels(b, "y_pred")
    return np.sum(a & b), np.sum(~a & b), np.sum(a & ~b)


def precision(y_true, y_pred) -> float:
    """TP / (TP + FP); 0.0 when nothing is predicted positive."""
    tp, fp, _ = _confusion(y_true, y_pred)
    return float(tp / (tp + fp)) if tp + fp else 0.0


def recall(y_true, y_pred) -> float:
    """TP / (TP + FN); 0.0 when there is no positive."""
    tp, _, fn = _confusion(y_true, y_pred)
    return float(tp / (tp + fn)) if tp + fn else 0.0


def f1(y_true, y_pred) -> float:
    """Harmonic mean of precision and recall; 0.0 when both are 0."""
    tp, fp, fn = _confusion(y_true, y_pred)
    return float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative.

    Ties count one half. Needs both classes in ``y_true``.

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    a, s = _pair(y_true, y_score, ("y_true", "y_score"))
    positive = _labels(a)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc needs both positive and negative labels in y_true")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # average ranks over ties (1-based)
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(y_true, y_prob, eps: float = 1e-15) -> float:
    """Mean binary cross-entropy; probabilities are clipped to ``[eps, 1 - eps]``."""
    a, p = _pair(y_true, y_prob, ("y_true", "y_prob"))
    a = _labels(a)
    if (p < 0).any() or (p > 1).any():
        raise ValueError("y_prob must hold probabilities in [0, 1]")
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(np.where(a, np.log(p), np.log1p(-p))))


# --------------------------------------------------------------------------- ranking

RANKING_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "mrr")
_EMPTY_RULES = ("skip", "zero", "raise")


def _floats(values) -> np.ndarray:
    """A float array without copying float32/float64 input (a 6,040 x 3,706 copy is 180 MB)."""
    array = np.asarray(values)
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)


def _matrices(y_true, y_score, k):
    positive_int("k", k)
    score = _floats(y_score.toarray() if sp.issparse(y_score) else y_score)
    truth = _floats(y_true.toarray() if sp.issparse(y_true) else y_true)
    if score.ndim != 2 or truth.ndim != 2:
        raise ValueError(f"y_true and y_score must be 2-D (users x items), got shapes "
                         f"{truth.shape} and {score.shape}")
    if truth.shape != score.shape:
        raise ValueError(f"y_true and y_score must have the same shape, got {truth.shape} and {score.shape}")
    if np.isnan(score).any():
        raise ValueError("y_score contains NaN; use -inf to exclude an item from the ranking")
    if np.isnan(truth).any() or (truth < 0).any():
        raise ValueError("y_true must hold non-negative relevance values without NaN")
    if k > score.shape[1]:
        raise ValueError(f"k={k} exceeds the number of items ({score.shape[1]})")
    return truth, score


def top_k(y_score, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` highest scores, best first.

    Ties are broken by position (the lower column index first), so results are
    deterministic.
    """
    score = _floats(y_score)
    if score.ndim != 2:
        raise ValueError(f"y_score must be 2-D, got shape {score.shape}")
    k = check_number("k", k, low=1, high=score.shape[1], integer=True)
    if np.isnan(score).any():
        raise ValueError("y_score contains NaN; use -inf to exclude an item from the ranking")
    part = np.argpartition(-score, k - 1, axis=1)[:, :k] if k < score.shape[1] else \
        np.tile(np.arange(score.shape[1]), (score.shape[0], 1))
    values = np.take_along_axis(score, part, axis=1)
    idx = np.take_along_axis(part, np.lexsort((part, -values), axis=1), axis=1)
    # argpartition picks arbitrarily among items tied with the k-th score; redo those rows
    kth = values.min(axis=1, keepdims=True)
    spill = (score == kth).sum(axis=1) > (values == kth).sum(axis=1)
    if spill.any():
        idx[spill] = np.argsort(-score[spill], axis=1, kind="stable")[:, :k]
    return idx


def exclude_seen(y_score, seen) -> np.ndarray:
    """A copy of ``y_score`` with ``-inf`` wherever ``seen`` (users x items) is non-zero."""
    score = np.array(y_score, dtype=np.float64)
    mask = seen.toarray() if sp.issparse(seen) else np.asarray(seen)
    if mask.shape != score.shape:
        raise ValueError(f"seen must have the shape of y_score {score.shape}, got {mask.shape}")
    score[mask != 0] = -np.inf
    return score


def _per_user(truth: np.ndarray, score: np.ndarray, k: int, wanted) -> dict[str, np.ndarray]:
    idx = top_k(score, k)
    gains = np.take_along_axis(truth, idx, axis=1)  # (n_users, k)
    # an item scored -inf was excluded (exclude_seen): when fewer than k items remain it can
    # still fill a place of the top-k, but it was never recommended and is never a hit
    gains = np.where(np.take_along_axis(score, idx, axis=1) == -np.inf, 0.0, gains)
    hit = gains > 0
    n_relevant = (truth > 0).sum(axis=1)
    ranks = np.arange(1, k + 1)
    out = {}
    if "precision" in wanted:
        out["precision"] = hit.sum(axis=1) / k
    if "recall" in wanted:
        out["recall"] = hit.sum(axis=1) / np.maximum(n_relevant, 1)
    if "ndcg" in wanted:
        discount = 1.0 / np.log2(ranks + 1)
        dcg = (gains * discount).sum(axis=1)
        if ((truth == 0) | (truth == 1)).all():  # binary: the ideal list is all hits
            idcg = np.cumsum(discount)[np.minimum(n_relevant, k) - 1] * (n_relevant > 0)
        else:
            best = -np.partition(-truth, k - 1, axis=1)[:, :k] if k < truth.shape[1] else truth
            ideal = -np.sort(-best, axis=1)
            idcg = (ideal * discount[: ideal.shape[1]]).sum(axis=1)
        out["ndcg"] = np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)
    if "map" in wanted:
        precision_at = np.cumsum(hit, axis=1) / ranks
        out["map"] = (precision_at * hit).sum(axis=1) / np.maximum(np.minimum(n_relevant, k), 1)
    if "hit_rate" in wanted:
        out["hit_rate"] = hit.any(axis=1).astype(np.float64)
    if "mrr" in wanted:
        first = np.argmax(hit, axis=1)
        out["mrr"] = np.where(hit.any(axis=1), 1.0 / (first + 1), 0.0)
    out["_has_relevant"] = n_relevant > 0
    return out


def _reduce(values: np.ndarray, has_relevant: np.ndarray, empty: str, average: bool):
    if empty not in _EMPTY_RULES:
        raise ValueError(f"empty must be one of {_EMPTY_RULES}, got {empty!r}")
    if not has_relevant.any():
        raise ValueError("no user has a relevant item in y_true; nothing can be scored")
    if empty == "raise" and not has_relevant.all():
        raise ValueError(f"{(~has_relevant).sum()} user(s) have no relevant item in y_true "
                         "(pass empty='skip' to leave them out, or empty='zero')")
    if empty == "skip":
        values = np.where(has_relevant, values, np.nan)
        return float(np.nanmean(values)) if average else values
    values = np.where(has_relevant, values, 0.0)
    return float(values.mean()) if average else values


def ranking_metrics(y_true, y_score, k: int = 10, metrics=RANKING_METRICS, empty: str = "skip",
                    average: bool = True) -> dict:
    """Several ranking metrics at ``k`` from one top-k computation.

    Returns a dict ``{"precision": ..., "recall": ..., "ndcg": ..., "map": ...,
    "hit_rate": ..., "mrr": ...}`` (means over users, or per-user arrays when
    ``average=False``, with NaN for skipped users).

    >>> y_true = [[1, 0, 1, 0]]
    >>> y_score = [[0.9, 0.8, 0.1, 0.0]]
    >>> {m: round(v, 4) for m, v in ranking_metrics(y_true, y_score, k=2).items()}
    {'precision': 0.5, 'recall': 0.5, 'ndcg': 0.6131, 'map': 0.5, 'hit_rate': 1.0, 'mrr': 1.0}
    """
    unknown = set(metrics) - set(RANKING_METRICS)
    if unknown:
        raise ValueError(f"unknown metric(s) {sorted(unknown)}; choose from {RANKING_METRICS}")
    truth, score = _matrices(y_true, y_score, k)
    per_user = _per_user(truth, score, k, set(metrics))
    has_relevant = per_user.pop("_has_relevant")
    return {m: _reduce(per_user[m], has_relevant, empty, average) for m in metrics}


def _single(name):
    def metric(y_true, y_score, k: int = 10, empty: str = "skip", average: bool = True):
        return ranking_metrics(y_true, y_score, k, (name,), empty, average)[name]
    return metric


precision_at_k = _single("precision")
precision_at_k.__name__ = "precision_at_k"
precision_at_k.__doc__ = "Share of the top-k that is relevant (hits / k), averaged over users."
recall_at_k = _single("recall")
recall_at_k.__name__ = "recall_at_k"
recall_at_k.__doc__ = "Share of each user's relevant items found in the top-k (hits / relevant)."
ndcg_at_k = _single("ndcg")
ndcg_at_k.__name__ = "ndcg_at_k"
ndcg_at_k.__doc__ = ("Normalised discounted cumulative gain: sum of gain / log2(rank + 1) over the top-k, "
                     "divided by the best possible; linear gains, so binary relevance gives the usual NDCG.")
map_at_k = _single("map")
map_at_k.__name__ = "map_at_k"
map_at_k.__doc__ = ("Mean average precision: sum of precision@r at each hit rank r <= k, "
                    "divided by min(k, number of relevant items).")
hit_rate_at_k = _single("hit_rate")
hit_rate_at_k.__name__ = "hit_rate_at_k"
hit_rate_at_k.__doc__ = "Share of users with at least one relevant item in the top-k (HR@k)."
mrr_at_k = _single("mrr")
mrr_at_k.__name__ = "mrr_at_k"
mrr_at_k.__doc__ = "Mean reciprocal rank of the first relevant item in the top-k (0 when there is none)."


# --------------------------------------------------------------------------- beyond accuracy

def _recommendations(recommended, n_items=None) -> np.ndarray:
    """``recommended`` as a non-empty users x k array of item positions (integers in 0..n_items-1)."""
    return check_positions("recommended", recommended, n_items, ndim=2)


def catalog_coverage(recommended, n_items: int) -> float:
    """Share of the catalogue that appears in at least one user's list.

    >>> catalog_coverage([[0, 1], [1, 2]], n_items=10)
    0.3
    """
    n_items = positive_int("n_items", n_items)
    rec = _recommendations(recommended, n_items)
    return float(np.unique(rec).size / n_items)


def intra_list_diversity(recommended, item_features) -> float:
    """Mean over users of 1 - average pairwise cosine similarity within their list.

    ``item_features`` is an (n_items, d) array, e.g. genre flags. Items with an all-zero
    feature row count as dissimilar to everything.
    """
    features = check_array("item_features", item_features.toarray() if sp.issparse(item_features) else item_features,
                           ndim=2)  # n_items x d
    rec = _recommendations(recommended, features.shape[0])
    k = rec.shape[1]
    if k < 2:
        raise ValueError("intra_list_diversity needs lists of at least 2 items")
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
    summed = unit[rec].sum(axis=1)  # (n_users, d)
    self_sim = (np.linalg.norm(unit[rec], axis=2) ** 2).sum(axis=1)
    pair_sim = ((summed ** 2).sum(axis=1) - self_sim) / (k * (k - 1))
    return float(np.mean(1.0 - pair_sim))


def novelty(recommended, item_popularity) -> float:
    """Mean self-information -log2(p) of recommended items, where ``p`` is the share of
    users who interacted with the item in training. Higher means less popular picks.
    """
    pop = _vector(item_popularity, "item_popularity")
    rec = _recommendations(recommended, pop.size)
    p = pop[rec]
    if (p <= 0).any() or (pop > 1).any():
        raise ValueError("item_popularity must be shares in (0, 1] for every recommended item; "
                         "smooth zero counts, e.g. (count + 1) / (n_users + 1)")
    return float(np.mean(-np.log2(p)))


def personalization(recommended) -> float:
    """1 - mean overlap between two users' lists (as a share of k), over all user pairs.

    1 means no two users share an item; 0 means everyone gets the same list. Computed
    from item counts, so it is linear in the number of users.

    >>> personalization([[0, 1], [0, 1]])
    0.0
    """
    rec = _recommendations(recommended)
    n, k = rec.shape
    if n < 2:
        raise ValueError("personalization needs at least 2 users")
    ordered = np.sort(rec, axis=1)
    if (ordered[:, 1:] == ordered[:, :-1]).any():
        raise ValueError("each user's list must hold k distinct items")
    counts = np.bincount(rec.ravel()).astype(np.float64)
    mean_overlap = (np.sum(counts ** 2) - n * k) / (n * (n - 1))
    return float(1.0 - mean_overlap / k)
