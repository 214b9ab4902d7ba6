"""Evaluation protocols: how a recommender's scores become the numbers on a leaderboard.

Two protocols, one spelling of results (``"<metric>@<k>"`` with the metric names of
:data:`~rec_utils.evaluation.metrics.RANKING_METRICS`: ``"ndcg@10"``, ``"hit_rate@10"``, ...):

* **full ranking** — every item the user did not interact with in training is a candidate,
  and every held-out item is relevant: :func:`evaluate_model` for a fitted recommender,
  :func:`evaluate_scores` for a score matrix you computed yourself (a Keras model's output,
  a blend). With one held-out item per user (leave-last-out, :func:`~rec_utils.data.leave_last_k_out`)
  the same functions give HR@k and NDCG@k of next-item prediction;
* **sampled candidates** — the held-out item among ``n`` sampled negatives (the protocol
  of NCF and SASRec): :func:`candidate_scores` gathers the scores, :func:`evaluate_candidates`
  ranks them. Sampled metrics can reorder models (Krichene & Rendle, KDD 2020): the course
  reports full ranking first.

Scores are computed ``batch_size`` users at a time, so memory stays at a block of users x
items whatever the number of users. ``per_user=True`` returns one row per test user, which
:mod:`rec_utils.evaluation.compare` turns into confidence intervals and paired comparisons.

Taught in ``notebooks/05_supervised_learning_and_evaluation.ipynb``. Any object with
``score(user_ids)``, ``users_``, ``items_`` and ``seen_`` can be evaluated: this module does
not import the models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._checks import check_array, check_fitted, check_frame, check_seed, positive_int
from ..data.interactions import IdIndex, interaction_matrix
from ..data.schema import ITEM, USER
from .metrics import RANKING_METRICS, exclude_seen, ranking_metrics

__all__ = ["TOP_K_METRICS", "NEXT_ITEM_METRICS", "relevance_matrix", "evaluate_model", "evaluate_scores",
           "candidate_scores", "evaluate_candidates", "result_key"]

TOP_K_METRICS = ("precision", "recall", "ndcg", "map")
"""The leaderboard's metrics (all held-out items relevant)."""
NEXT_ITEM_METRICS = ("hit_rate", "ndcg")
"""Next-item prediction's metrics (one held-out item per user): HR@k and NDCG@k."""


def result_key(metric: str, k: int) -> str:
    """The one spelling of a result: ``result_key("ndcg", 10) == "ndcg@10"``."""
    if metric not in RANKING_METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {RANKING_METRICS}")
    return f"{metric}@{positive_int('k', k)}"


def relevance_matrix(test: pd.DataFrame, users: IdIndex, items: IdIndex, user_ids=None) -> sp.csr_matrix:
    """Binary matrix of held-out interactions: one row per user of ``user_ids`` (default: the
    test users, sorted), one column per item of ``items``; every test row is relevant."""
    check_frame(test, (USER, ITEM), "test")
    unknown = ~np.isin(test[ITEM].to_numpy(), items.ids)
    if unknown.any():
        raise ValueError(f"{unknown.sum()} test interactions have items the model cannot score "
                         f"(e.g. {np.unique(test[ITEM].to_numpy()[unknown])[:3].tolist()}); fit it with "
                         f"items=IdIndex(<all item ids>)")
    rows = IdIndex(user_ids) if user_ids is not None else IdIndex(test[USER])
    matrix = interaction_matrix(test, rows, items)
    matrix.data[:] = 1.0
    return matrix


def _collect(per_batch: dict[str, list], test_users: np.ndarray, k: int, per_user: bool):
    frame = pd.DataFrame({result_key(name, k): np.concatenate(values) for name, values in per_batch.items()},
                         index=pd.Index(test_users, name=USER))
    return frame if per_user else {column: float(frame[column].mean()) for column in frame.columns}


def _check_metrics(metrics) -> tuple[str, ...]:
    if isinstance(metrics, str):
        raise TypeError(f"metrics must be a tuple of metric names, got the string {metrics!r}; "
                        f"write ({metrics!r},)")
    metrics = tuple(metrics)
    unknown = [m for m in metrics if m not in RANKING_METRICS]
    if not metrics or unknown:
        raise ValueError(f"metrics must name some of {RANKING_METRICS}, got {metrics}")
    return metrics


def evaluate_scores(scores, test: pd.DataFrame, users: IdIndex, items: IdIndex, exclude=None, k: int = 10,
                    metrics=TOP_K_METRICS, per_user: bool = False, batch_size: int = 256):
    """Full-ranking metrics of a score matrix, or of a function that scores users.

    Parameters
    ----------
    scores : array (len(users) x len(items)) or callable
        Scores whose rows follow ``users`` and columns ``items``; or ``scores(user_ids)``
        returning those users' rows (called a batch at a time, so a big model never
        scores everyone at once).
    test : DataFrame
        Held-out ``user_id, item_id`` rows: every one is relevant.
    users, items : IdIndex
        The rows and columns of the scores.
    exclude : sparse or dense matrix (len(users) x len(items)), optional
        Items not to rank for each user, typically the training interactions
        (``interaction_matrix(train, users, items)``). The leaderboard protocol always
        excludes them; without ``exclude`` every item is ranked.
    k : int
        Length of the top-k list.
    metrics : tuple of str
        Among ``precision, recall, ndcg, map, hit_rate, mrr``.
    per_user : bool
        Return a DataFrame with one row per test user instead of the means.

    Returns
    -------
    dict or pandas.DataFrame
        ``{"ndcg@10": ..., ...}`` (means over the test users), or the per-user frame.

    Examples
    --------
    >>> users, items = IdIndex([1, 2]), IdIndex([10, 20, 30])
    >>> test = pd.DataFrame({"user_id": [1, 2], "item_id": [30, 20]})
    >>> evaluate_scores(np.array([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0]]), test, users, items,
    ...                 exclude=np.array([[1, 0, 0], [0, 0, 0]]), k=1, metrics=("hit_rate",))
    {'hit_rate@1': 0.5}
    """
    k = positive_int("k", k)
    batch_size = positive_int("batch_size", batch_size)
    metrics = _check_metrics(metrics)
    if not (isinstance(users, IdIndex) and isinstance(items, IdIndex)):
        raise TypeError("users and items must be IdIndex objects (the rows and columns of the scores)")
    test_users = np.unique(check_frame(test, (USER, ITEM), "test")[USER].to_numpy())
    rows = users.positions(test_users, unknown="mask")
    if (rows < 0).any():
        raise ValueError(f"{int((rows < 0).sum())} test user(s) have no row in the scores, e.g. "
                         f"{test_users[rows < 0][:3].tolist()}; users must index every test user")
    relevant = relevance_matrix(test, users, items, test_users)
    if not callable(scores):
        scores = np.asarray(scores)
        if scores.shape != (len(users), len(items)):
            raise ValueError(f"scores must be len(users) x len(items) = {(len(users), len(items))}, got {scores.shape}")
    if exclude is not None:
        exclude = exclude.tocsr() if sp.issparse(exclude) else np.asarray(exclude)
        if exclude.shape != (len(users), len(items)):
            raise ValueError(f"exclude must be len(users) x len(items) = {(len(users), len(items))}, got {exclude.shape}")
    per_batch = {name: [] for name in metrics}
    for start in range(0, len(test_users), batch_size):  # a block of users at a time keeps memory small
        block = slice(start, start + batch_size)
        batch = scores(test_users[block]) if callable(scores) else scores[rows[block]]
        batch = check_array("scores", batch, ndim=2, finite=False)
        if exclude is not None:
            batch = exclude_seen(batch, exclude[rows[block]])
        found = ranking_metrics(relevant[block], batch, k, metrics=metrics, average=False, empty="zero")
        for name in metrics:
            per_batch[name].append(found[name])
    return _collect(per_batch, test_users, k, per_user)


def evaluate_model(model, test: pd.DataFrame, k: int = 10, metrics=TOP_K_METRICS, per_user: bool = False,
                   exclude_train: bool = True, batch_size: int = 256):
    """Full-ranking metrics of a fitted recommender over the items each test user has not seen.

    The protocol of the course's leaderboard (and of Microsoft Recommenders' ML-100K
    benchmark): the model's training items (``model.seen_``) are excluded from the
    ranking, every test item is relevant, and metrics are averaged over the test users.
    Fit the model with ``items=IdIndex(<all item ids>)`` so every test item can be scored.

    >>> from rec_utils.models import PopularityRecommender
    >>> train = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 20, 10, 10]})
    >>> test = pd.DataFrame({"user_id": [2, 3], "item_id": [20, 30]})
    >>> model = PopularityRecommender().fit(train, items=IdIndex([10, 20, 30]))
    >>> evaluate_model(model, test, k=1, metrics=("hit_rate",))
    {'hit_rate@1': 0.5}
    """
    for attribute in ("users_", "items_", "seen_"):
        check_fitted(model, attribute)
    if not callable(getattr(model, "score", None)):
        raise TypeError(f"model must have a score(user_ids) method, got {type(model).__name__}")
    return evaluate_scores(model.score, test, model.users_, model.items_,
                           exclude=model.seen_ if exclude_train else None, k=k, metrics=metrics,
                           per_user=per_user, batch_size=batch_size)


def candidate_scores(scores, test: pd.DataFrame, candidates, users: IdIndex | None = None,
                     items: IdIndex | None = None, batch_size: int = 256) -> np.ndarray:
    """The scores of each test row's candidates (``sample_candidates``' output: column 0 the positive).

    ``scores`` is a fitted recommender (its ``users_`` and ``items_`` are the default
    ``users`` and ``items``), a function of user ids returning rows whose columns follow
    ``items``, or a users x items matrix whose rows follow ``users`` and columns ``items``.
    A recommender or a function is called ``batch_size`` test rows at a time, so only a block
    of users x items scores exists at once. The result has the shape of ``candidates``: feed
    it to :func:`evaluate_candidates`.

    >>> users, items = IdIndex([1, 2]), IdIndex([10, 20, 30])
    >>> test = pd.DataFrame({"user_id": [2], "item_id": [30]})
    >>> candidate_scores(np.array([[0.0, 0.1, 0.2], [0.5, 0.6, 0.7]]), test, [[30, 10]], users, items).tolist()
    [[0.7, 0.5]]
    """
    check_frame(test, (USER, ITEM), "test")
    candidates = np.asarray(candidates)
    batch_size = positive_int("batch_size", batch_size)
    if candidates.ndim != 2 or len(candidates) != len(test) or candidates.shape[1] < 2:
        raise ValueError(f"candidates must be len(test) x n_candidates (>= 2) = ({len(test)}, n), "
                         f"got shape {candidates.shape}")
    is_model = callable(getattr(scores, "score", None))
    if is_model and (users is None or items is None):  # the model's own indexes
        check_fitted(scores, "items_")
        users = scores.users_ if users is None else users
        items = scores.items_ if items is None else items
    if not isinstance(items, IdIndex) or not (is_model or callable(scores) or isinstance(users, IdIndex)):
        raise TypeError("items (and, for a score matrix, users) must be IdIndex objects: the columns "
                        "(and rows) of the scores")
    user_ids = test[USER].to_numpy()
    if is_model:
        score_rows = scores.score
    elif callable(scores):
        score_rows = scores
    else:
        matrix = check_array("scores", scores, ndim=2, finite=False)
        if matrix.shape != (len(users), len(items)):
            raise ValueError(f"scores must be len(users) x len(items) = {(len(users), len(items))}, "
                             f"got {matrix.shape}")

        def score_rows(ids):
            return matrix[users.positions(ids)]
    columns = items.positions(candidates)
    blocks = []
    for start in range(0, len(user_ids), batch_size):  # a block of users at a time keeps memory small
        block = slice(start, start + batch_size)
        full = check_array("scores", score_rows(user_ids[block]), ndim=2, finite=False)
        if full.shape != (len(user_ids[block]), len(items)):
            raise ValueError(f"the scores of {len(user_ids[block])} test users must be "
                             f"{len(user_ids[block])} x len(items) = {(len(user_ids[block]), len(items))}, "
                             f"got {full.shape}")
        blocks.append(np.take_along_axis(full, columns[block], axis=1))
    if not blocks:
        return np.zeros(candidates.shape, np.float64)
    return np.concatenate(blocks)


def evaluate_candidates(scores, k: int = 10, metrics=NEXT_ITEM_METRICS, per_user: bool = False, seed: int = 0):
    """Metrics of the held-out item ranked among its sampled candidates (column 0 is the positive).

    Ties are broken at random (the columns are shuffled with ``seed`` before ranking):
    ranking by position would hand every tie to the positive in column 0.

    >>> evaluate_candidates([[0.9, 0.5, 0.1], [0.2, 0.8, 0.1]], k=1)
    {'hit_rate@1': 0.5, 'ndcg@1': 0.5}
    """
    k = positive_int("k", k)
    metrics = _check_metrics(metrics)
    check_seed("seed", seed)
    scores = check_array("scores", scores, ndim=2, finite=False)
    if scores.shape[1] < 2:
        raise ValueError(f"scores must have at least 2 candidates per row, got shape {scores.shape}")
    truth = np.zeros_like(scores)
    truth[:, 0] = 1.0
    shuffle = np.random.default_rng(seed).permuted(np.tile(np.arange(scores.shape[1]), (len(scores), 1)), axis=1)
    found = ranking_metrics(np.take_along_axis(truth, shuffle, axis=1), np.take_along_axis(scores, shuffle, axis=1),
                            k, metrics=metrics, average=False)
    frame = pd.DataFrame({result_key(name, k): found[name] for name in metrics})
    return frame if per_user else {column: float(frame[column].mean()) for column in frame.columns}
