"""Bandit policies and the regret loop of notebook 10."""

import numpy as np
import pytest

from rec_utils.rl.bandits import UCB1, EpsilonGreedy, LinUCB, OraclePolicy, RandomPolicy, ThompsonSampling, loglog_slope, run_bandit

P = np.array([[0.1, 0.2, 0.8], [0.15, 0.25, 0.7]])  # arm 2 is clearly best for both users


def users(n=3000, seed=0):
    return np.random.default_rng(seed).integers(0, 2, n)


@pytest.mark.parametrize("make", [lambda: EpsilonGreedy(3, 0.1, seed=5), lambda: UCB1(3, seed=5),
                                  lambda: ThompsonSampling(3, seed=5), lambda: RandomPolicy(3, seed=5)])
def test_seeded_determinism(make):
    a, b = run_bandit(make(), P, users(), seed=1), run_bandit(make(), P, users(), seed=1)
    np.testing.assert_array_equal(a["arms"], b["arms"])
    np.testing.assert_array_equal(a["rewards"], b["rewards"])


def test_linucb_determinism():
    contexts = np.eye(2)
    runs = [run_bandit(LinUCB(3, 2, alpha=1.0, seed=4), P, users(), contexts=contexts, seed=2) for _ in range(2)]
    np.testing.assert_array_equal(runs[0]["arms"], runs[1]["arms"])


def test_oracle_regret_is_zero():
    out = run_bandit(OraclePolicy(3), P, users(), contexts=P)
    assert out["regret"].sum() == 0.0
    assert (out["arms"] == 2).all()


@pytest.mark.parametrize("make", [lambda: EpsilonGreedy(3, 0.05, seed=0), lambda: UCB1(3), lambda: ThompsonSampling(3)])
def test_finds_the_clearly_best_arm(make):
    out = run_bandit(make(), P, users(), seed=0)
    assert np.mean(out["arms"][-1000:] == 2) > 0.9
    assert out["regret"][-1000:].mean() < out["regret"][:100].mean()


def test_linucb_personalises():
    p = np.array([[0.9, 0.1], [0.1, 0.9]])  # each user has a different best arm
    out = run_bandit(LinUCB(2, 2, alpha=0.5), p, users(), contexts=np.eye(2), seed=0)
    assert out["regret"][-1000:].mean() < 0.05
    context_free = run_bandit(UCB1(2), p, users(), seed=0)
    assert out["rewards"].mean() > context_free["rewards"].mean() + 0.2


def test_regret_is_sublinear_for_ucb_not_for_random():
    u = users(20_000)
    ucb = np.cumsum(run_bandit(UCB1(3), P, u, seed=0)["regret_vs_best_arm"])
    rnd = np.cumsum(run_bandit(RandomPolicy(3), P, u, seed=0)["regret_vs_best_arm"])
    assert loglog_slope(ucb) < 0.8 and loglog_slope(rnd) > 0.95


def test_regret_vs_best_arm_is_zero_for_the_best_fixed_arm():
    class Always2:
        def select(self, context=None):
            return 2

        def update(self, arm, reward, context=None):
            pass

    assert run_bandit(Always2(), P, users(), seed=0)["regret_vs_best_arm"].sum() == 0.0


@pytest.mark.parametrize("make, error, message", [
    (lambda: EpsilonGreedy(1), ValueError, "n_arms"), (lambda: EpsilonGreedy(2.5), TypeError, "n_arms"),
    (lambda: EpsilonGreedy(3, 1.5), ValueError, "epsilon"),
    (lambda: ThompsonSampling(3, prior_alpha=0), ValueError, "prior_alpha"), (lambda: LinUCB(3, 0), ValueError, "n_features"),
    (lambda: LinUCB(3, 2, alpha=-1), ValueError, "alpha"), (lambda: OraclePolicy(True), TypeError, "n_arms"),
])
def test_constructor_validation(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_update_and_select_validation():
    with pytest.raises(ValueError, match="arm must be an integer >= 0 and <= 2"):
        UCB1(3).update(3, 1.0)
    with pytest.raises(TypeError, match="arm must be an integer"):
        UCB1(3).update(1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        UCB1(3).update(0, np.nan)
    with pytest.raises(ValueError, match="0 or 1"):
        ThompsonSampling(3).update(0, 0.5)
    with pytest.raises(TypeError, match="context"):
        LinUCB(3, 2).select(None)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        LinUCB(3, 2).select([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="true click probabilities"):
        OraclePolicy(3).select([0.1, 0.2])


def test_run_bandit_validation():
    with pytest.raises(ValueError, match="probabilities"):
        run_bandit(UCB1(2), [[0.5, 1.5]], [0])
    with pytest.raises(ValueError, match="users must lie in"):
        run_bandit(UCB1(3), P, [0, 2])
    with pytest.raises(TypeError, match="users must hold integer positions"):
        run_bandit(UCB1(3), P, [0.0])
    with pytest.raises(ValueError, match="one row per user"):
        run_bandit(LinUCB(3, 2), P, [0], contexts=np.eye(3))


def test_loglog_slope():
    t = np.arange(1, 5001)
    assert loglog_slope(np.log(t) + 1) < 0.3
    with pytest.raises(ValueError, match="at least 10 rounds"):
        loglog_slope([1.0, 2.0])
    with pytest.raises(ValueError, match="zero"):
        loglog_slope(np.zeros(100))
    with pytest.raises(ValueError, match="start"):
        loglog_slope(t, start=1.0)
