"""Multi-armed and contextual bandits, and a loop that measures their regret.

Taught in ``notebooks/10_reinforcement_learning.ipynb``.

Every policy has the same two methods: ``select(context=None) -> arm`` and
``update(arm, reward, context=None)``. Context-free policies ignore the context.
:func:`run_bandit` plays a policy against a table of click probabilities (one row per
user, one column per arm) and returns its rewards and its regret (遗憾) per round.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_number, check_positions, positive_int

__all__ = ["EpsilonGreedy", "UCB1", "ThompsonSampling", "LinUCB", "RandomPolicy", "OraclePolicy",
           "run_bandit", "loglog_slope"]


def _random_argmax(values: np.ndarray, rng: np.random.Generator) -> int:
    """Index of the largest value, ties broken at random (so no arm is favoured by its index)."""
    best = np.flatnonzero(values == values.max())
    return int(best[0] if len(best) == 1 else rng.choice(best))


class _Bandit:
    def __init__(self, n_arms, seed=0):
        self.n_arms = check_number("n_arms", n_arms, low=2, integer=True)
        self.rng = np.random.default_rng(seed)
        self.counts = np.zeros(self.n_arms)
        self.reward_sums = np.zeros(self.n_arms)

    def update(self, arm, reward, context=None):
        check_number("arm", arm, low=0, high=self.n_arms - 1, integer=True)
        check_number("reward", reward)
        self.counts[arm] += 1
        self.reward_sums[arm] += reward

    @property
    def means(self) -> np.ndarray:
        """Average observed reward of each arm (0 for arms never pulled)."""
        return np.divide(self.reward_sums, self.counts, out=np.zeros(self.n_arms), where=self.counts > 0)


class RandomPolicy(_Bandit):
    """Pulls an arm uniformly at random: the floor every policy must beat."""

    def select(self, context=None) -> int:
        return int(self.rng.integers(self.n_arms))


class OraclePolicy:
    """Knows the click probabilities and pulls the best arm for each user: zero regret.

    ``select`` takes the row of true click probabilities as its context.
    """

    def __init__(self, n_arms):
        self.n_arms = check_number("n_arms", n_arms, low=2, integer=True)

    def select(self, context=None) -> int:
        context = check_array("context (the true click probabilities)", context, ndim=1)
        if len(context) != self.n_arms:
            raise ValueError(f"the oracle needs the {self.n_arms} true click probabilities as context, "
                             f"got {len(context)}")
        return int(np.argmax(context))

    def update(self, arm, reward, context=None):
        return None


class EpsilonGreedy(_Bandit):
    """Explore a random arm with probability ``epsilon``, else exploit the best mean so far.

    Examples
    --------
    >>> policy = EpsilonGreedy(n_arms=3, epsilon=0.0, seed=0)
    >>> policy.update(2, 1.0)
    >>> policy.select()
    2
    """

    def __init__(self, n_arms, epsilon: float = 0.1, seed=0):
        super().__init__(n_arms, seed)
        self.epsilon = float(check_number("epsilon", epsilon, low=0, high=1))

    def select(self, context=None) -> int:
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_arms))
        return _random_argmax(self.means, self.rng)


class UCB1(_Bandit):
    """Upper confidence bound (Auer, Cesa-Bianchi & Fischer 2002): ``mean + sqrt(2 ln t / n)``.

    Each arm is pulled once first.

    Examples
    --------
    >>> policy = UCB1(n_arms=2)
    >>> policy.select()
    0
    >>> policy.update(0, 1.0)
    >>> policy.select()  # arm 1 has not been tried yet
    1
    """

    def select(self, context=None) -> int:
        untried = np.flatnonzero(self.counts == 0)
        if len(untried):
            return int(untried[0])
        t = self.counts.sum()
        return _random_argmax(self.means + np.sqrt(2.0 * np.log(t) / self.counts), self.rng)


class ThompsonSampling(_Bandit):
    """Beta-Bernoulli Thompson sampling: draw each arm's click rate from its posterior, pull the best.

    Rewards must be 0 or 1; the prior is ``Beta(prior_alpha, prior_beta)``.

    Examples
    --------
    >>> policy = ThompsonSampling(n_arms=2, seed=0)
    >>> for _ in range(50):
    ...     policy.update(1, 1.0)
    ...     policy.update(0, 0.0)
    >>> policy.select()
    1
    """

    def __init__(self, n_arms, prior_alpha: float = 1.0, prior_beta: float = 1.0, seed=0):
        super().__init__(n_arms, seed)
        self.prior_alpha = check_number("prior_alpha", prior_alpha, low=0, low_inclusive=False)
        self.prior_beta = check_number("prior_beta", prior_beta, low=0, low_inclusive=False)

    def update(self, arm, reward, context=None):
        if reward not in (0, 1):
            raise ValueError(f"Beta-Bernoulli Thompson sampling needs rewards of 0 or 1, got {reward}")
        super().update(arm, reward)

    def select(self, context=None) -> int:
        alpha = self.prior_alpha + self.reward_sums
        beta = self.prior_beta + self.counts - self.reward_sums
        return _random_argmax(self.rng.beta(alpha, beta), self.rng)


class LinUCB:
    """LinUCB with disjoint linear models (Li, Chu, Langford & Schapire, WWW 2010, Algorithm 1).

    Each arm ``a`` keeps ridge-regression statistics ``A_a = I + sum x x^T`` and
    ``b_a = sum r x`` of the contexts it was pulled in; it scores a context ``x`` by
    ``theta_a . x + alpha * sqrt(x^T A_a^-1 x)`` with ``theta_a = A_a^-1 b_a``. ``A_a^-1``
    is kept up to date with the Sherman-Morrison formula.

    Examples
    --------
    >>> policy = LinUCB(n_arms=2, n_features=2, alpha=0.0)
    >>> for _ in range(20):
    ...     policy.update(0, 1.0, [1.0, 0.0])
    ...     policy.update(1, 1.0, [0.0, 1.0])
    >>> policy.select([1.0, 0.0]), policy.select([0.0, 1.0])
    (0, 1)
    """

    def __init__(self, n_arms, n_features, alpha: float = 1.0, seed=0):
        self.n_arms = check_number("n_arms", n_arms, low=2, integer=True)
        self.n_features = positive_int("n_features", n_features)
        self.alpha = float(check_number("alpha", alpha, low=0))
        self.rng = np.random.default_rng(seed)
        self.A_inv = np.repeat(np.eye(self.n_features)[None], self.n_arms, axis=0)
        self.b = np.zeros((self.n_arms, self.n_features))

    def _context(self, context) -> np.ndarray:
        if context is None:
            raise TypeError("LinUCB needs a context vector, got None")
        x = check_array("context", context)
        if x.shape != (self.n_features,):
            raise ValueError(f"context must have shape ({self.n_features},), got {x.shape}")
        return x

    def scores(self, context) -> np.ndarray:
        """Upper confidence bound of every arm for one context."""
        x = self._context(context)
        a_inv_x = self.A_inv @ x  # (n_arms, d)
        theta = np.einsum("kij,kj->ki", self.A_inv, self.b)
        return theta @ x + self.alpha * np.sqrt(np.maximum(a_inv_x @ x, 0.0))

    def select(self, context=None) -> int:
        return _random_argmax(self.scores(context), self.rng)

    def update(self, arm, reward, context=None):
        x = self._context(context)
        check_number("arm", arm, low=0, high=self.n_arms - 1, integer=True)
        check_number("reward", reward)
        a_inv_x = self.A_inv[arm] @ x
        self.A_inv[arm] -= np.outer(a_inv_x, a_inv_x) / (1.0 + x @ a_inv_x)
        self.b[arm] += reward * x


def run_bandit(policy, click_probabilities, users, contexts=None, seed=0) -> dict:
    """Play ``policy`` for ``len(users)`` rounds; user ``users[t]`` arrives in round ``t``.

    Parameters
    ----------
    policy
        Anything with ``select(context)`` and ``update(arm, reward, context)``.
    click_probabilities : array (n_users, n_arms)
        True P(click) of each arm for each user; rewards are Bernoulli draws from it.
    users : array of int
        The user (row) of each round.
    contexts : array (n_users, d), optional
        What the policy sees of each user (default: nothing). Pass the click
        probabilities themselves to play the oracle.
    seed : int
        Seeds the reward draws.

    Returns
    -------
    dict
        ``arms``, ``rewards`` and ``regret`` per round: ``regret`` is the expected regret
        against the per-user oracle (``max_a p[u, a] - p[u, arm]``), ``regret_vs_best_arm``
        against the single arm that is best on average over ``users``.

    Examples
    --------
    >>> p = np.array([[0.1, 0.9], [0.2, 0.8]])
    >>> out = run_bandit(OraclePolicy(2), p, users=[0, 1, 0], contexts=p)
    >>> out["arms"].tolist(), float(out["regret"].sum())
    ([1, 1, 1], 0.0)
    """
    p = check_array("click_probabilities", click_probabilities, ndim=2)
    if not (p.min() >= 0 and p.max() <= 1):
        raise ValueError(f"click_probabilities must be probabilities in [0, 1], got values from {p.min()} to {p.max()}")
    users = check_positions("users", users, p.shape[0])
    if contexts is not None:
        contexts = check_array("contexts", contexts, ndim=2)
        if len(contexts) != p.shape[0]:
            raise ValueError(f"contexts must have one row per user ({p.shape[0]}), got {len(contexts)}")
    rng = np.random.default_rng(seed)
    draws = rng.random(len(users))
    arms = np.empty(len(users), dtype=np.int64)
    rewards = np.empty(len(users))
    for t, user in enumerate(users):
        x = None if contexts is None else contexts[user]
        arm = policy.select(x)
        reward = float(draws[t] < p[user, arm])
        policy.update(arm, reward, x)
        arms[t], rewards[t] = arm, reward
    mean_p = p[users].mean(axis=0)
    return {"arms": arms, "rewards": rewards, "regret": p[users].max(axis=1) - p[users, arms],
            "regret_vs_best_arm": mean_p.max() - mean_p[arms]}


def loglog_slope(cumulative_regret, start: float = 0.1) -> float:
    """Slope of log(cumulative regret) against log(round), fitted on the last ``1 - start`` of rounds.

    Linear regret has slope 1; ``sqrt(T)`` regret has slope 0.5; ``log T`` regret has a
    slope that falls towards 0.

    Examples
    --------
    >>> t = np.arange(1, 10_001)
    >>> round(loglog_slope(np.sqrt(t)), 3), round(loglog_slope(0.3 * t), 3)
    (0.5, 1.0)
    """
    regret = check_array("cumulative_regret", cumulative_regret, ndim=1)
    if len(regret) < 10:
        raise ValueError(f"cumulative_regret needs a curve of at least 10 rounds, got {len(regret)}")
    check_number("start", start, low=0, high=1, high_inclusive=False)
    rounds = np.arange(1, len(regret) + 1)
    keep = (rounds > start * len(regret)) & (regret > 0)
    if keep.sum() < 2:
        raise ValueError("the regret curve is zero: no slope to fit")
    return float(np.polyfit(np.log(rounds[keep]), np.log(regret[keep]), 1)[0])
