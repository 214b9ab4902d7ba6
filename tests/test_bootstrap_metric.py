"""rec_utils.evaluation.bootstrap_metric: AUC and log loss with bootstrap intervals over users,
checked against scikit-learn's weighted metrics and against a plain resampling loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from rec_utils.evaluation import bootstrap_metric
from rec_utils.evaluation.compare import _weighted_auc
from rec_utils.evaluation.metrics import log_loss, roc_auc


@pytest.fixture(scope="module")
def classification():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), rng.integers(3, 12, 60))
    user_effect = rng.normal(0, 1, 60)[groups]
    y = (rng.random(groups.size) < 1 / (1 + np.exp(-user_effect))).astype(int)
    good = 1 / (1 + np.exp(-(user_effect + rng.normal(0, 1, groups.size))))
    poor = 1 / (1 + np.exp(-rng.normal(0, 1, groups.size)))
    return y, np.round(good, 2), poor, groups  # rounding makes ties


def test_the_value_is_the_metric_on_all_rows(classification):
    y, good, _, groups = classification
    assert bootstrap_metric(y, good, "auc", groups, n_boot=50)["value"] == pytest.approx(roc_auc(y, good), abs=1e-12)
    assert bootstrap_metric(y, good, "log_loss", groups, n_boot=50)["value"] == pytest.approx(log_loss(y, good))


def test_weighted_auc_matches_scikit_learn_with_sample_weights(classification):
    y, good, _, _ = classification
    weights = np.random.default_rng(1).integers(0, 4, (3, y.size)).astype(float)
    order = np.argsort(good, kind="mergesort")
    ordered = good[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    expected = [roc_auc_score(y, good, sample_weight=w) for w in weights]
    np.testing.assert_allclose(_weighted_auc(y.astype(float), order, starts, weights), expected, rtol=1e-10)


def test_replicates_equal_a_plain_loop_over_resampled_users(classification):
    y, good, _, groups = classification
    found = bootstrap_metric(y, good, "log_loss", groups, n_boot=40, seed=3)
    rng = np.random.default_rng(3)
    users = np.unique(groups)
    values = []
    for _ in range(40):
        drawn = rng.integers(0, users.size, users.size)
        rows = np.concatenate([np.flatnonzero(groups == users[g]) for g in drawn])
        values.append(sk_log_loss(y[rows], good[rows], labels=[0, 1]))
    low, high = np.quantile(values, [0.025, 0.975])
    assert found["low"] == pytest.approx(low) and found["high"] == pytest.approx(high)
    assert found["se"] == pytest.approx(np.std(values, ddof=1))


def test_resampling_users_gives_wider_intervals_than_rows_when_rows_of_a_user_agree(classification):
    y, good, _, groups = classification
    by_user = bootstrap_metric(y, good, "auc", groups, n_boot=300)
    by_row = bootstrap_metric(y, good, "auc", n_boot=300)
    assert by_user["n_groups"] == 60 and by_row["n_groups"] == y.size
    assert by_user["high"] - by_user["low"] > by_row["high"] - by_row["low"]
    assert by_user["low"] < by_user["value"] < by_user["high"]


def test_a_paired_difference_and_its_verdict(classification):
    y, good, poor, groups = classification
    auc = bootstrap_metric(y, good, "auc", groups, reference=poor, n_boot=300)
    assert auc["difference"] == pytest.approx(roc_auc(y, good) - roc_auc(y, poor))
    assert auc["difference_low"] > 0 and auc["verdict"] == "better"
    loss = bootstrap_metric(y, poor, "log_loss", groups, reference=good, n_boot=300)
    assert loss["difference"] > 0 and loss["verdict"] == "worse"  # higher log loss is worse
    same = bootstrap_metric(y, good, "auc", groups, reference=good, n_boot=50)
    assert same["difference"] == 0 and same["verdict"] == "tie"


def test_bad_input_is_refused(classification):
    y, good, _, groups = classification
    with pytest.raises(ValueError, match="metric"):
        bootstrap_metric(y, good, "rmse")
    with pytest.raises(ValueError, match="0/1"):
        bootstrap_metric(y * 2, good)
    with pytest.raises(ValueError, match="one value per row"):
        bootstrap_metric(y, good[:-1])
    with pytest.raises(ValueError, match="groups"):
        bootstrap_metric(y, good, groups=groups[:-1])
    with pytest.raises(ValueError, match="probabilities"):
        bootstrap_metric(y, good * 3, "log_loss")
    with pytest.raises(ValueError, match="both positive and negative"):
        bootstrap_metric(np.ones(4), np.arange(4.0))
    with pytest.raises(TypeError, match="n_boot"):
        bootstrap_metric(y, good, n_boot=10.5)


def test_the_bootstrap_keeps_its_temporaries_small():
    """A notebook calls it with TensorFlow loaded and ~100 MB to spare: 20,000 rows, a reference model."""
    import tracemalloc

    rng = np.random.default_rng(0)
    y = (rng.random(20_000) < 0.5).astype(int)
    groups = rng.integers(0, 300, 20_000)
    tracemalloc.start()
    try:
        bootstrap_metric(y, rng.random(20_000), "auc", groups=groups, reference=rng.random(20_000), n_boot=200)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60 * 2**20, f"peak {peak / 2**20:.0f} MB"
