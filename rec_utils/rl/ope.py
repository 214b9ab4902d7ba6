"""Off-policy evaluation (离策略评估): a new policy's value estimated from another policy's logs.

Taught in ``notebooks/10_reinforcement_learning.ipynb``.

A log holds, for each round ``i``, the action ``a_i`` the logging policy ``mu`` took, its
propensity ``mu(a_i | x_i)`` and the reward ``r_i``. The target policy ``pi`` is given as
its action probabilities ``pi(. | x_i)`` in each logged context (an ``(n, n_actions)``
array). With importance weights ``w_i = pi(a_i | x_i) / mu(a_i | x_i)``:

* inverse propensity scoring (IPS, 逆倾向评分): ``mean(w r)`` — unbiased when ``mu > 0``
  wherever ``pi > 0``;
* self-normalised IPS (SNIPS): ``sum(w r) / sum(w)`` — slightly biased, lower variance;
* doubly robust (DR, 双重稳健): ``mean(sum_a pi(a|x) q(x, a) + w (r - q(x, a_i)))`` with a
  reward model ``q`` — unbiased like IPS whatever ``q`` is, and low-variance when ``q`` is good.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_positions

__all__ = ["importance_weights", "ips", "snips", "doubly_robust"]


def _validate(rewards, actions, propensities, target_probabilities):
    """The logged rounds as arrays, checked: what every estimator here needs."""
    rewards = check_array("rewards", rewards, ndim=1)
    n = len(rewards)
    target = check_array("target_probabilities", target_probabilities, ndim=2)
    if target.shape[0] != n:
        raise ValueError(f"target_probabilities must have shape ({n}, n_actions), got {target.shape}")
    actions = check_positions("actions", actions, target.shape[1])
    propensities = check_array("propensities", propensities, finite=False)
    for name, array in {"actions": actions, "propensities": propensities}.items():
        if array.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},) like rewards, got {array.shape}")
    if not ((propensities > 0) & (propensities <= 1)).all():  # NaN fails too
        bad = propensities[~((propensities > 0) & (propensities <= 1))][:3].tolist()
        raise ValueError(f"propensities must lie in (0, 1] (a zero propensity makes IPS undefined), got e.g. {bad}")
    if target.min() < 0 or not np.allclose(target.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("each row of target_probabilities must be a probability distribution over actions")
    return rewards, actions, propensities, target


def importance_weights(actions, propensities, target_probabilities) -> np.ndarray:
    """``pi(a_i | x_i) / mu(a_i | x_i)`` for each logged round.

    Examples
    --------
    >>> importance_weights([0, 1], [0.5, 0.25], [[1.0, 0.0], [0.5, 0.5]]).tolist()
    [2.0, 2.0]
    """
    _, actions, propensities, target = _validate(np.zeros(len(np.asarray(actions))), actions, propensities,
                                                 target_probabilities)
    return target[np.arange(len(actions)), actions] / propensities


def ips(rewards, actions, propensities, target_probabilities) -> float:
    """Inverse propensity scoring estimate of the target policy's mean reward.

    Examples
    --------
    >>> ips([1.0, 0.0], [0, 1], [0.5, 0.5], [[1.0, 0.0], [1.0, 0.0]])
    1.0
    """
    rewards, actions, propensities, target = _validate(rewards, actions, propensities, target_probabilities)
    return float(np.mean(importance_weights(actions, propensities, target) * rewards))


def snips(rewards, actions, propensities, target_probabilities) -> float:
    """Self-normalised IPS: the importance-weighted average reward (0 if no weight is positive).

    Examples
    --------
    >>> snips([1.0, 0.0, 1.0], [0, 1, 0], [0.5, 0.5, 0.5], [[1.0, 0.0]] * 3)
    1.0
    """
    rewards, actions, propensities, target = _validate(rewards, actions, propensities, target_probabilities)
    weights = importance_weights(actions, propensities, target)
    total = weights.sum()
    return float((weights * rewards).sum() / total) if total > 0 else 0.0


def doubly_robust(rewards, actions, propensities, target_probabilities, reward_estimates) -> float:
    """Doubly robust estimate: the reward model's prediction, corrected by IPS on its residuals.

    ``reward_estimates`` is ``q(x_i, a)`` for every logged context and every action, shape
    ``(n, n_actions)``.

    Examples
    --------
    >>> doubly_robust([1.0, 0.0], [0, 1], [0.5, 0.5], [[1.0, 0.0], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]])
    1.0
    """
    rewards, actions, propensities, target = _validate(rewards, actions, propensities, target_probabilities)
    q = check_array("reward_estimates", reward_estimates)
    if q.shape != target.shape:
        raise ValueError(f"reward_estimates must have shape {target.shape} like target_probabilities, got {q.shape}")
    rows = np.arange(len(rewards))
    weights = target[rows, actions] / propensities
    direct = (target * q).sum(axis=1)
    return float(np.mean(direct + weights * (rewards - q[rows, actions])))
