"""How sure is a leaderboard? Confidence intervals and paired comparisons over test users.

A leaderboard's mean NDCG@10 is an average over a few hundred users; another split would
give other numbers. Two models scored on the *same* users are best compared user by user
(paired): the per-user differences cancel what the users have in common, so the interval of
a difference is much narrower than the two separate intervals suggest.

* :func:`mean_ci` — a mean and its confidence interval;
* :func:`paired_difference` — mean of ``a - b`` over the users both were scored on, with its
  interval, standard error and a verdict;
* :func:`leaderboard` — models in rows, each with its interval and its paired difference
  from a reference model (by default the best one): "better", "worse" or "tie" at the
  chosen confidence;
* :func:`bootstrap_metric` — a classification metric that is not a mean of per-user values
  (ROC-AUC, and log loss alike), with a bootstrap interval over users and a paired
  difference from a reference model.

Intervals come from the normal approximation (mean ± z · standard error; fine for the
hundreds of users of a leaderboard) or from a seeded bootstrap over users.

Taught in ``notebooks/05_supervised_learning_and_evaluation.ipynb``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from .._checks import check_array, check_choice, check_seed, fraction, positive_int

__all__ = ["mean_ci", "paired_difference", "leaderboard", "bootstrap_metric"]

_METHODS = ("normal", "bootstrap")


def _interval(values: np.ndarray, confidence: float, method: str, n_boot: int, seed: int) -> tuple[float, float, float]:
    mean = float(values.mean())
    se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
    if method == "normal":
        z = float(norm.ppf(0.5 + confidence / 2))
        return mean - z * se, mean + z * se, se
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 256):  # resample users, a block of replicates at a time
        stop = min(start + 256, n_boot)
        means[start:stop] = values[rng.integers(0, len(values), (stop - start, len(values)))].mean(axis=1)
    low, high = np.quantile(means, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return float(low), float(high), se


def _values(name: str, values) -> np.ndarray:
    array = check_array(name, values, ndim=1, finite=False)
    array = array[~np.isnan(array)]
    if array.size < 2:
        raise ValueError(f"{name} needs at least 2 users with a value, got {array.size}")
    return array


def _check_settings(confidence, method, n_boot, seed) -> None:
    fraction("confidence", confidence)
    check_choice("method", method, _METHODS)
    positive_int("n_boot", n_boot)
    check_seed("seed", seed)


def mean_ci(values, confidence: float = 0.95, method: str = "normal", n_boot: int = 2000, seed: int = 0) -> dict:
    """Mean of per-user values (NaN skipped) with its confidence interval and standard error.

    ``method="normal"``: mean ± z · se with ``se = std(ddof=1) / sqrt(n)``;
    ``method="bootstrap"``: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2``
    quantiles of the means of ``n_boot`` resamples of the users (drawn with ``seed``).

    Returns
    -------
    dict
        ``{"mean", "low", "high", "se", "n"}`` (``n``: the values that were not NaN).

    >>> r = mean_ci([0.0, 1.0] * 50)
    >>> round(r["mean"], 2), round(r["low"], 3), round(r["high"], 3)
    (0.5, 0.402, 0.598)
    """
    _check_settings(confidence, method, n_boot, seed)
    array = _values("values", values)
    low, high, se = _interval(array, confidence, method, n_boot, seed)
    return {"mean": float(array.mean()), "low": low, "high": high, "se": se, "n": int(array.size)}


def paired_difference(a, b, confidence: float = 0.95, method: str = "normal", n_boot: int = 2000,
                      seed: int = 0) -> dict:
    """Mean of ``a - b`` over the users both have, with its interval: is ``a`` really better?

    ``a`` and ``b`` are per-user values: pandas Series indexed by user (aligned on the
    users they share) or arrays of the same length (aligned by position). The verdict is
    ``"better"`` when the whole interval is above 0, ``"worse"`` when below, else ``"tie"``.

    >>> a = pd.Series([0.5, 0.6, 0.7, 0.8], index=[1, 2, 3, 4])
    >>> b = pd.Series([0.4, 0.5, 0.6, 0.75], index=[1, 2, 3, 4])
    >>> r = paired_difference(a, b)
    >>> round(r["difference"], 4), r["verdict"]
    (0.0875, 'better')
    """
    _check_settings(confidence, method, n_boot, seed)
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        joined = pd.concat({"a": a, "b": b}, axis=1, join="inner").dropna()
        if joined.empty:
            raise ValueError("a and b share no user with a value in both")
        diff = (joined["a"] - joined["b"]).to_numpy(np.float64)
    else:
        left, right = check_array("a", a, ndim=1, finite=False), check_array("b", b, ndim=1, finite=False)
        if left.shape != right.shape:
            raise ValueError(f"a and b must have one value per user each, got lengths {len(left)} and {len(right)}")
        diff = left - right
    diff = _values("a - b", diff)
    low, high, se = _interval(diff, confidence, method, n_boot, seed)
    verdict = "better" if low > 0 else "worse" if high < 0 else "tie"
    mean = float(diff.mean())
    z = mean / se if se > 0 else (float(np.copysign(np.inf, mean)) if mean != 0 else float("nan"))
    return {"difference": mean, "low": low, "high": high, "se": se, "z": z, "n": int(diff.size), "verdict": verdict}


def leaderboard(per_user: dict, metric: str, reference: str | None = None, confidence: float = 0.95,
                method: str = "normal", n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A leaderboard with uncertainty: each model's mean, its interval, and its paired difference
    from ``reference`` (default: the model with the best mean) with that difference's interval.

    Parameters
    ----------
    per_user : dict
        Model name -> per-user results: a DataFrame from ``evaluate_*(..., per_user=True)``
        (the ``metric`` column is used) or a Series indexed by user.
    metric : str
        The column to compare, e.g. ``"ndcg@10"``.

    Returns
    -------
    pandas.DataFrame
        Sorted best first, with columns ``mean, low, high, vs <reference>, diff low, diff high,
        verdict`` ("reference", "better", "worse" or "tie").
    """
    if not isinstance(per_user, dict):
        raise TypeError(f"per_user must be a dict of model name -> per-user results, got {type(per_user).__name__}")
    if not per_user:
        raise ValueError("per_user is empty: pass at least one model's per-user results")
    _check_settings(confidence, method, n_boot, seed)
    series = {}
    for name, values in per_user.items():
        if isinstance(values, pd.DataFrame):
            if metric not in values.columns:
                raise ValueError(f"{name!r} has no column {metric!r}; it has {list(values.columns)}")
            values = values[metric]
        if not isinstance(values, pd.Series):
            raise TypeError(f"{name!r}: per-user results must be a DataFrame or a Series indexed by user")
        series[name] = values.astype(np.float64)
    means = {name: float(values.mean()) for name, values in series.items()}
    reference = reference if reference is not None else max(means, key=means.get)
    if reference not in series:
        raise ValueError(f"reference {reference!r} is not among the models {list(series)}")
    rows = []
    for name, values in series.items():
        ci = mean_ci(values.to_numpy(), confidence, method, n_boot, seed)
        row = {"model": name, "mean": ci["mean"], "low": ci["low"], "high": ci["high"]}
        if name == reference:
            row.update({f"vs {reference}": 0.0, "diff low": 0.0, "diff high": 0.0, "verdict": "reference"})
        else:
            diff = paired_difference(values, series[reference], confidence, method, n_boot, seed)
            row.update({f"vs {reference}": diff["difference"], "diff low": diff["low"], "diff high": diff["high"],
                        "verdict": diff["verdict"]})
        rows.append(row)
    return pd.DataFrame(rows).set_index("model").sort_values("mean", ascending=False, kind="stable")


# --------------------------------------------------------------------------- metrics that are not means

_BOOTSTRAP_METRICS = {"auc": True, "log_loss": False}  # name -> larger is better


def _weighted_auc(truth: np.ndarray, order: np.ndarray, starts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC of each row of ``weights`` (replicates x rows): ties count one half."""
    w = weights[:, order]
    positive = truth[order]
    pos_w, neg_w = w * positive, w * (1.0 - positive)
    pos_block = np.add.reduceat(pos_w, starts, axis=1)
    neg_block = np.add.reduceat(neg_w, starts, axis=1)
    neg_below = np.cumsum(neg_block, axis=1) - neg_block  # negatives with a strictly lower score
    total_pos, total_neg = pos_w.sum(axis=1), neg_w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos_block * (neg_below + 0.5 * neg_block)).sum(axis=1) / (total_pos * total_neg)


def _weighted_log_loss(losses: np.ndarray, weights: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ losses) / weights.sum(axis=1)


def bootstrap_metric(y_true, y_score, metric: str = "auc", groups=None, reference=None, confidence: float = 0.95,
                     n_boot: int = 1000, seed: int = 0) -> dict:
    """A classification metric that is not a mean of per-user values (AUC), with a bootstrap interval.

    :func:`mean_ci` needs one value per user; ROC-AUC compares every positive with every
    negative, so its uncertainty comes from resampling instead: ``n_boot`` times, draw the
    ``groups`` (users, with replacement — a user's rows stay together, as they are not
    independent) or, without ``groups``, the rows, and recompute the metric on the drawn
    rows (as weights, without copying). With ``reference`` (another model's scores on the
    same rows) every replicate also scores it, so the interval of the *difference* is paired.

    Parameters
    ----------
    y_true : array of 0/1
        Labels (a like or not).
    y_score : array of float
        Scores (probabilities for ``"log_loss"``).
    metric : {"auc", "log_loss"}
        ROC-AUC (larger is better) or the mean binary cross-entropy (smaller is better;
        probabilities clipped to ``[1e-15, 1 - 1e-15]``).
    groups : array, optional
        The group (user) of each row; the bootstrap resamples groups.
    reference : array of float, optional
        The scores of a model to compare with, on the same rows.
    confidence, n_boot, seed :
        Interval level, number of replicates, seed of the resampling.

    Returns
    -------
    dict
        ``value`` (the metric on all rows), ``low``, ``high`` (percentile interval), ``se``
        (standard deviation of the replicates), ``n`` (rows), ``n_groups``; with ``reference``
        also ``reference_value``, ``difference`` (value - reference_value), ``difference_low``,
        ``difference_high`` and ``verdict``: "better" or "worse" when the whole interval of the
        difference says so (for log loss, lower is better), else "tie".

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1] * 25)
    >>> score = np.array([0.1, 0.4, 0.35, 0.8] * 25)
    >>> r = bootstrap_metric(y, score, "auc", groups=np.repeat(np.arange(25), 4), n_boot=200)
    >>> r["value"], r["low"] <= 0.75 <= r["high"]
    (0.75, True)
    """
    truth = check_array("y_true", y_true, ndim=1)
    scores = check_array("y_score", y_score, ndim=1)
    if scores.shape != truth.shape:
        raise ValueError(f"y_true and y_score must have one value per row each, got {truth.size} and {scores.size}")
    if not np.isin(truth, (0, 1)).all():
        raise ValueError(f"y_true must hold 0/1 labels, got values {np.unique(truth)[:5].tolist()}")
    check_choice("metric", metric, tuple(_BOOTSTRAP_METRICS))
    _check_settings(confidence, "bootstrap", n_boot, seed)
    candidates = {"value": scores}
    if reference is not None:
        candidates["reference_value"] = check_array("reference", reference, ndim=1)
        if candidates["reference_value"].shape != truth.shape:
            raise ValueError(f"reference must score the same {truth.size} rows, got {candidates['reference_value'].size}")
    if groups is None:
        codes, n_groups = np.arange(truth.size), truth.size
    else:
        groups = np.asarray(groups)
        if groups.shape != truth.shape:
            raise ValueError(f"groups must name the group of each of the {truth.size} rows, got shape {groups.shape}")
        codes = np.unique(groups, return_inverse=True)[1].ravel()
        n_groups = int(codes.max()) + 1
    if metric == "auc":
        if truth.min() == truth.max():
            raise ValueError("auc needs both positive and negative labels in y_true")
        prepared = {}
        for name, values in candidates.items():
            order = np.argsort(values, kind="mergesort")
            ordered = values[order]
            prepared[name] = (order, np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]))

        def compute(name, weights):
            return _weighted_auc(truth, *prepared[name], weights)
    else:
        losses = {}
        for name, values in candidates.items():
            if (values < 0).any() or (values > 1).any():
                raise ValueError(f"log_loss needs probabilities in [0, 1]; {'y_score' if name == 'value' else 'reference'} "
                                 f"has values from {values.min()} to {values.max()}")
            p = np.clip(values, 1e-15, 1 - 1e-15)
            losses[name] = -np.where(truth == 1, np.log(p), np.log1p(-p))

        def compute(name, weights):
            return _weighted_log_loss(losses[name], weights)

    full = {name: float(compute(name, np.ones((1, truth.size)))[0]) for name in candidates}
    rng = np.random.default_rng(seed)
    replicates = {name: [] for name in candidates}
    # replicates x rows weights stay small: 500,000 cells is 4 MB per float64 temporary, and the AUC
    # makes about eight of them (a notebook with TensorFlow loaded has about 100 MB to spare)
    block = max(1, min(n_boot, 500_000 // max(truth.size, 1)))
    for start in range(0, n_boot, block):
        draws = rng.integers(0, n_groups, (min(block, n_boot - start), n_groups))
        counts = np.stack([np.bincount(row, minlength=n_groups) for row in draws]).astype(np.float64)
        weights = counts[:, codes]
        for name in candidates:
            replicates[name].append(compute(name, weights))
    values = {name: np.concatenate(parts) for name, parts in replicates.items()}
    lower, upper = 0.5 - confidence / 2, 0.5 + confidence / 2
    kept = np.isfinite(values["value"])  # a replicate without both classes has no AUC
    low, high = np.quantile(values["value"][kept], [lower, upper])
    result = {"value": full["value"], "low": float(low), "high": float(high),
              "se": float(values["value"][kept].std(ddof=1)), "n": int(truth.size), "n_groups": n_groups}
    if reference is not None:
        difference = values["value"] - values["reference_value"]
        difference = difference[np.isfinite(difference)]
        d_low, d_high = np.quantile(difference, [lower, upper])
        larger_is_better = _BOOTSTRAP_METRICS[metric]
        better, worse = (d_low > 0, d_high < 0) if larger_is_better else (d_high < 0, d_low > 0)
        result.update({"reference_value": full["reference_value"],
                       "difference": full["value"] - full["reference_value"],
                       "difference_low": float(d_low), "difference_high": float(d_high),
                       "verdict": "better" if better else "worse" if worse else "tie"})
    return result
