"""Off-policy estimators of notebook 10: unbiased where the theory says, strict about propensities."""

import itertools

import numpy as np
import pytest

from rec_utils.rl.ope import doubly_robust, importance_weights, ips, snips

# A tiny bandit: one context, three actions.
MU = np.array([0.5, 0.3, 0.2])  # logging policy
PI = np.array([0.1, 0.2, 0.7])  # target policy
P_CLICK = np.array([0.3, 0.6, 0.9])
TRUE_VALUE = float(PI @ P_CLICK)


def exact_expectation(estimator, **extra):
    """E[estimator] over a one-round log, by enumerating every (action, reward) outcome."""
    total = 0.0
    for action, reward in itertools.product(range(3), (0.0, 1.0)):
        probability = MU[action] * (P_CLICK[action] if reward else 1 - P_CLICK[action])
        value = estimator([reward], [action], [MU[action]], PI[None, :], **extra)
        total += probability * value
    return total


def test_ips_is_exactly_unbiased():
    assert exact_expectation(ips) == pytest.approx(TRUE_VALUE, abs=1e-12)


def test_doubly_robust_is_unbiased_with_a_wrong_reward_model():
    wrong_model = np.array([[0.9, 0.1, 0.2]])
    assert exact_expectation(doubly_robust, reward_estimates=wrong_model) == pytest.approx(TRUE_VALUE, abs=1e-12)


def test_doubly_robust_with_the_true_model_is_unbiased():
    assert exact_expectation(doubly_robust, reward_estimates=P_CLICK[None, :]) == pytest.approx(TRUE_VALUE, abs=1e-12)


def test_snips_is_consistent():
    rng = np.random.default_rng(0)
    n = 200_000
    actions = rng.choice(3, size=n, p=MU)
    rewards = (rng.random(n) < P_CLICK[actions]).astype(float)
    target = np.broadcast_to(PI, (n, 3))
    assert snips(rewards, actions, MU[actions], target) == pytest.approx(TRUE_VALUE, abs=0.01)
    assert ips(rewards, actions, MU[actions], target) == pytest.approx(TRUE_VALUE, abs=0.01)


def test_on_policy_logs_give_the_plain_mean():
    rewards = np.array([1.0, 0.0, 1.0, 1.0])
    actions = np.array([0, 1, 2, 0])
    target = np.broadcast_to(MU, (4, 3))
    assert ips(rewards, actions, MU[actions], target) == pytest.approx(rewards.mean())
    assert snips(rewards, actions, MU[actions], target) == pytest.approx(rewards.mean())
    np.testing.assert_allclose(importance_weights(actions, MU[actions], target), 1.0)


@pytest.mark.parametrize("estimator", [ips, snips])
@pytest.mark.parametrize("propensities, message", [
    ([0.0, 0.5], "zero propensity"), ([-0.1, 0.5], r"\(0, 1\]"), ([0.5, 1.2], r"\(0, 1\]"),
    ([0.5], r"shape \(2,\)"), ([0.5, np.nan], r"\(0, 1\]"),
])
def test_propensity_validation(estimator, propensities, message):
    with pytest.raises(ValueError, match=message):
        estimator([1.0, 0.0], [0, 1], propensities, [[0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"rewards": []}, ValueError, "rewards is empty"), ({"actions": [0, 2]}, ValueError, r"actions must lie in 0..1"),
    ({"actions": [0.0, 1.0]}, TypeError, "actions must hold integer positions"),
    ({"actions": [0]}, ValueError, r"actions must have shape \(2,\)"),
    ({"target": [[0.5, 0.5]]}, ValueError, "target_probabilities must have shape"),
    ({"target": [[0.5, 0.6], [0.5, 0.5]]}, ValueError, "probability distribution"),
    ({"rewards": [1.0, np.inf]}, ValueError, "rewards contains NaN or infinite values"),
    ({"rewards": ["a", "b"]}, TypeError, "rewards must be an array of numbers"),
])
def test_input_validation(kwargs, error, message):
    arguments = {"rewards": [1.0, 0.0], "actions": [0, 1], "propensities": [0.5, 0.5],
                 "target": [[0.5, 0.5], [0.5, 0.5]], **kwargs}
    with pytest.raises(error, match=message):
        ips(arguments["rewards"], arguments["actions"], arguments["propensities"], arguments["target"])


def test_reward_estimates_validation():
    with pytest.raises(ValueError, match="reward_estimates must have shape"):
        doubly_robust([1.0], [0], [0.5], [[0.5, 0.5]], [[0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="reward_estimates contains NaN or infinite values"):
        doubly_robust([1.0], [0], [0.5], [[0.5, 0.5]], [[np.nan, 0.5]])
