"""Online experiments on simulated users: A/B tests with a power analysis and CUPED, team-draft
interleaving, how many users each needs, and the pitfalls of both.

Taught in ``notebooks/10_reinforcement_learning.ipynb``, section 5, on the users and like
probabilities of that notebook's user simulator (:mod:`rec_utils.rl.simulator`), whose ground
truth is the synthetic data's ``truth`` or :func:`~rec_utils.rl.simulator.preferences_from_mf`.

An online controlled experiment (A/B test, A/B 测试) splits users at random between the
current ranker (control, 对照组) and a new one (treatment, 实验组) and compares a metric;
its statistical power (统计功效) says how many users it needs. Interleaving (交错实验) shows
every user one list merged from both rankers and asks which ranker's items they click.
Pitfalls: peeking (偷看, checking the p-value every day), the novelty effect (新奇效应) and
network effects (网络效应) between users.

The simulated users (:class:`UserPopulation`)
----------------------------------------------
* **Profiles.** Each simulated user copies a *profile*: a user of the preference model, drawn
  uniformly with replacement, so an experiment can have more users than the data.
* **Visits.** One visit a day: ``n_pre_days`` days of a pre-period in which everyone sees the
  control ranker (what CUPED learns from), then ``n_days`` experiment days.
* **Lists.** Each ranker's top-k list of each profile is computed once (``recommend``, so items
  the user rated in training never appear) and shown on every visit: the lists are stationary.
* **Clicks** follow the position-based model: the user examines rank ``r`` (1-based) with
  probability ``r ** -position_bias`` (the form of Joachims, Swaminathan, Schnabel, WSDM 2017;
  1, 1/2, 1/3, ... at the default ``position_bias=1``) and clicks an examined item with its
  like probability, independently across ranks:
  ``P(click at r) = r ** -position_bias * like[u, item_r]``.
* **Metric.** Clicks per visit, per user. Its expected value under each ranker is known
  exactly from the like probabilities (:meth:`UserPopulation.expected_clicks`), so the true
  difference between two rankers is known (:meth:`UserPopulation.true_effect`).

A/B tests
---------
:func:`ab_sample_size` (users per arm for a minimum detectable effect), :func:`ab_power`,
:func:`welch_test` (difference in means, Welch's t interval and p-value), :func:`cuped`
(Deng, Xu, Kohavi, Walker, WSDM 2013: ``Y - theta (X - mean X)`` with
``theta = cov(Y, X) / var(X)`` on the pooled users and ``X`` the pre-period metric; the
variance falls by ``corr(X, Y) ** 2``) and :func:`analyse_ab` (both together).

Interleaving
------------
:func:`team_draft` merges two rankers' lists (Radlinski, Kurup, Joachims, CIKM 2008): in each
round a fair coin says which team picks first, and each team picks its highest-ranked item not
yet in the merged list; :func:`interleaving_credit` credits each click to the team that
contributed the item; each user prefers the ranker with more credit over their visits, and
:func:`sign_test` tests the preference (Chapelle, Joachims, Radlinski, Yue, ACM TOIS 2012).

How many users, and the pitfalls
--------------------------------
:func:`compare_ab_interleaving` measures, over repeated simulated experiments, how often each
method reaches the correct decision at each number of users and how many users each needs;
:func:`peeking_aa` measures the false-positive rate of stopping at the first p < alpha;
``run_ab(novelty=...)`` simulates a novelty effect and ``run_ab(herding=...)`` interference
between users (:func:`network_effect`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    check_array, check_bool, check_number, check_seed, fraction, non_negative_int, positive_int,
)

__all__ = [
    "ABExperiment", "InterleavingExperiment", "UserPopulation", "ab_power", "ab_sample_size", "analyse_ab",
    "compare_ab_interleaving", "cuped", "examination_probabilities", "interleaving_credit", "network_effect",
    "peeking_aa", "sign_test", "team_draft", "welch_test",
]

MAX_INTERLEAVED_K = 12
"""The longest list :class:`UserPopulation` interleaves: it enumerates the ``2 ** ceil(k / 2)``
coin sequences of team draft per profile (64 at k = 12)."""


# --------------------------------------------------------------------------- A/B statistics

def _z(alpha: float, power: float) -> tuple[float, float]:
    return float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))


def ab_sample_size(baseline_mean, baseline_variance, minimum_effect, relative: bool = True, alpha: float = 0.05,
                   power: float = 0.8, variance_reduction: float = 0.0) -> dict:
    """Users per arm an A/B test needs to detect ``minimum_effect`` with probability ``power``.

    Two-sided test at level ``alpha``, equal arms, the metric's variance the same in both:
    ``n = (z_(1 - alpha/2) + z_power) ** 2 * 2 * variance * (1 - variance_reduction) / effect ** 2``,
    rounded up (the normal approximation; the far tail is ignored, as is usual).

    Parameters
    ----------
    baseline_mean : float
        The metric's mean under control (e.g. clicks per visit in the pre-period).
    baseline_variance : float
        Its variance across users.
    minimum_effect : float
        The smallest difference worth detecting: a share of ``baseline_mean`` when
        ``relative`` (0.02 = a 2% lift), else in the metric's units.
    variance_reduction : float
        The share of variance a covariate removes (CUPED: ``corr(X, Y) ** 2``), in [0, 1).

    Returns
    -------
    dict
        ``n_per_arm``, ``n_total``, ``effect`` (absolute), ``relative_effect``,
        ``z_alpha``, ``z_power``.

    Examples
    --------
    The textbook case, an effect of a tenth of a standard deviation: 1,570 users per arm.

    >>> ab_sample_size(1.0, 1.0, 0.1)["n_per_arm"]
    1570
    >>> ab_sample_size(1.0, 1.0, 0.1, variance_reduction=0.5)["n_per_arm"]  # CUPED halving the variance
    785
    """
    check_number("baseline_mean", baseline_mean)
    check_number("baseline_variance", baseline_variance, low=0, low_inclusive=False)
    check_number("minimum_effect", minimum_effect)
    check_bool("relative", relative)
    fraction("alpha", alpha)
    fraction("power", power)
    fraction("variance_reduction", variance_reduction, include_zero=True)
    effect = float(minimum_effect * baseline_mean) if relative else float(minimum_effect)
    if effect == 0:
        raise ValueError(f"minimum_effect must give a non-zero difference, got {minimum_effect!r}"
                         + (f" of a baseline mean {baseline_mean!r}" if relative else ""))
    z_alpha, z_power = _z(alpha, power)
    n = (z_alpha + z_power) ** 2 * 2 * baseline_variance * (1 - variance_reduction) / effect ** 2
    n_per_arm = int(np.ceil(n - 1e-9))
    return {"n_per_arm": n_per_arm, "n_total": 2 * n_per_arm, "effect": effect,
            "relative_effect": effect / baseline_mean if baseline_mean != 0 else float("nan"),
            "z_alpha": z_alpha, "z_power": z_power}


def ab_power(n_per_arm, variance, effect, alpha: float = 0.05) -> float:
    """Probability that a two-sided test at ``alpha`` with ``n_per_arm`` users per arm detects ``effect``.

    ``Phi(|effect| / se - z) + Phi(-|effect| / se - z)`` with ``se = sqrt(2 variance / n_per_arm)``
    (both tails counted).

    >>> round(ab_power(1570, 1.0, 0.1), 3)
    0.8
    """
    n = positive_int("n_per_arm", n_per_arm)
    check_number("variance", variance, low=0, low_inclusive=False)
    check_number("effect", effect)
    fraction("alpha", alpha)
    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(effect) / np.sqrt(2 * variance / n)
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def _welch(mean1, var1, n1, mean0, var0, n0):
    """Welch's difference, standard error, degrees of freedom, t and two-sided p (arrays broadcast)."""
    a, b = np.asarray(var1, float) / n1, np.asarray(var0, float) / n0
    diff = np.asarray(mean1, float) - np.asarray(mean0, float)
    se = np.sqrt(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a ** 2 / (n1 - 1) + b ** 2 / (n0 - 1))
        t = diff / se
        p = 2 * stats.t.sf(np.abs(t), df)
    degenerate = se == 0  # no variance in either arm: the difference is exact
    p = np.where(degenerate, np.where(diff == 0, 1.0, 0.0), p)
    return diff, se, df, t, p


def _sample(name: str, values) -> np.ndarray:
    array = check_array(name, values, ndim=1)
    if array.size < 2:
        raise ValueError(f"{name} needs at least 2 users, got {array.size}")
    return array


def welch_test(treatment, control, confidence: float = 0.95) -> dict:
    """Difference of means ``treatment - control`` with Welch's t interval and two-sided p-value.

    Welch's test does not assume equal variances: ``se = sqrt(s1^2/n1 + s0^2/n0)`` and the
    Welch-Satterthwaite degrees of freedom. The same numbers as
    ``scipy.stats.ttest_ind(treatment, control, equal_var=False)``.

    Returns
    -------
    dict
        ``difference``, ``low``, ``high``, ``se``, ``df``, ``t``, ``p_value``,
        ``relative`` (difference / control mean), ``mean_treatment``, ``mean_control``,
        ``n_treatment``, ``n_control``.

    Examples
    --------
    Means 3.5 and 2, variances 5/3 and 2/3: ``se = sqrt(5/12 + 2/12) = 0.764``, ``t = 1.96``
    on 5.07 degrees of freedom.

    >>> r = welch_test([2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 2.0])
    >>> round(r["difference"], 2), round(r["se"], 3), round(r["t"], 2), round(r["df"], 2), round(r["p_value"], 3)
    (1.5, 0.764, 1.96, 5.07, 0.106)
    """
    fraction("confidence", confidence)
    y1, y0 = _sample("treatment", treatment), _sample("control", control)
    diff, se, df, t, p = _welch(y1.mean(), y1.var(ddof=1), len(y1), y0.mean(), y0.var(ddof=1), len(y0))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * se) if se > 0 else 0.0
    diff = float(diff)
    return {"difference": diff, "low": diff - half, "high": diff + half, "se": float(se), "df": float(df),
            "t": float(t) if se > 0 else float("nan"), "p_value": float(p),
            "relative": diff / float(y0.mean()) if y0.mean() != 0 else float("nan"),
            "mean_treatment": float(y1.mean()), "mean_control": float(y0.mean()),
            "n_treatment": int(len(y1)), "n_control": int(len(y0))}


def cuped(metric, covariate) -> dict:
    """CUPED: the metric adjusted by a pre-period covariate (Deng, Xu, Kohavi, Walker, WSDM 2013).

    ``adjusted = Y - theta (X - mean X)`` with ``theta = cov(Y, X) / var(X)`` computed on the
    users given (pass both arms together: theta is pooled, so it does not depend on the
    assignment and the difference of means stays unbiased). The adjusted metric has the same
    mean and ``1 - corr(X, Y) ** 2`` of the variance; ``variance_reduction`` is that share,
    measured.

    Returns
    -------
    dict
        ``adjusted`` (array), ``theta``, ``correlation``, ``variance_reduction``.

    Examples
    --------
    ``cov(Y, X) = 5/3`` and ``var(X) = 2/3``, so theta = 2.5; ``var(Y) = 14/3``, so
    ``corr ** 2 = (5/3) ** 2 / (2/3 * 14/3) = 25/28``:

    >>> r = cuped([3.0, 5.0, 4.0, 8.0], [1.0, 2.0, 2.0, 3.0])
    >>> round(r["theta"], 3), round(r["variance_reduction"], 3), round(25 / 28, 3)
    (2.5, 0.893, 0.893)
    """
    y = _sample("metric", metric)
    x = check_array("covariate", covariate, ndim=1)
    if x.shape != y.shape:
        raise ValueError(f"covariate must have one value per user like metric ({len(y)}), got {len(x)}")
    var_x = x.var(ddof=1)
    if var_x == 0:
        raise ValueError("covariate is constant: it cannot explain any variance of the metric")
    theta = float(np.cov(y, x, ddof=1)[0, 1] / var_x)
    adjusted = y - theta * (x - x.mean())
    var_y = y.var(ddof=1)
    correlation = float(np.corrcoef(y, x)[0, 1]) if var_y > 0 else 0.0
    reduction = float(1 - adjusted.var(ddof=1) / var_y) if var_y > 0 else 0.0
    return {"adjusted": adjusted, "theta": theta, "correlation": correlation, "variance_reduction": reduction}


def analyse_ab(metric, treated, covariate=None, confidence: float = 0.95) -> dict:
    """An A/B test's analysis: Welch's test of treatment against control, with CUPED if a covariate is given.

    Parameters
    ----------
    metric : array (n_users,)
        The metric of each user over the experiment (e.g. clicks per visit).
    treated : array (n_users,) of bool
        True for the users in the treatment arm.
    covariate : array (n_users,), optional
        The same metric in the pre-period; when given, the metric is adjusted by :func:`cuped`
        (theta pooled over both arms) before the test.

    Returns
    -------
    dict
        The keys of :func:`welch_test`, plus with a covariate ``theta``,
        ``variance_reduction`` (pooled) and ``se_unadjusted`` (the test's standard error
        without CUPED).

    Examples
    --------
    Users who clicked more before the test click more during it; CUPED removes that part of
    the spread, so the same difference has a smaller standard error:

    >>> pre = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    >>> during = [1.1, 2.0, 2.9, 1.6, 2.4, 3.5]
    >>> treated = [False, False, False, True, True, True]
    >>> plain, adjusted = analyse_ab(during, treated), analyse_ab(during, treated, covariate=pre)
    >>> round(plain["difference"], 3), round(adjusted["difference"], 3)
    (0.5, 0.5)
    >>> round(plain["se"], 3), round(adjusted["se"], 3)  # sqrt(0.81 / 3 + 0.91 / 3) without CUPED
    (0.757, 0.054)
    """
    y = _sample("metric", metric)
    arm = np.asarray(treated)
    if arm.dtype != np.bool_:
        raise TypeError(f"treated must be an array of True/False (one per user), got dtype {arm.dtype}")
    if arm.shape != y.shape:
        raise ValueError(f"treated must have one value per user like metric ({len(y)}), got shape {arm.shape}")
    if min(arm.sum(), (~arm).sum()) < 2:
        raise ValueError(f"each arm needs at least 2 users, got {int(arm.sum())} treated and {int((~arm).sum())} control")
    if covariate is None:
        return welch_test(y[arm], y[~arm], confidence)
    adjusted = cuped(y, covariate)
    result = welch_test(adjusted["adjusted"][arm], adjusted["adjusted"][~arm], confidence)
    plain = welch_test(y[arm], y[~arm], confidence)
    result.update(theta=adjusted["theta"], variance_reduction=adjusted["variance_reduction"],
                  se_unadjusted=plain["se"])
    return result


# --------------------------------------------------------------------------- interleaving

def _lists(name: str, value) -> np.ndarray:
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer item ids, got dtype {array.dtype}")
    if array.ndim not in (1, 2) or array.shape[-1] == 0:
        raise ValueError(f"{name} must be a list (k,) or lists (n, k) of item ids, got shape {array.shape}")
    rows = np.sort(array.reshape(-1, array.shape[-1]), axis=1)
    if (rows[:, 1:] == rows[:, :-1]).any():
        raise ValueError(f"{name} holds the same item twice in a list; each list must hold distinct items")
    return array


def team_draft(a, b, coins=None, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Merge two rankings by team draft (Radlinski, Kurup, Joachims, CIKM 2008).

    The merged list is built in rounds. At the start of each round a fair coin says which team
    picks first; each team then adds its highest-ranked item that is not yet in the merged
    list. So the teams' sizes never differ by more than one, each team's picks keep their order
    in that team's ranking, and neither ranker is favoured by position on average.

    Parameters
    ----------
    a, b : array (k,) or (n, k) of int
        Item ids, best first: one list, or one list per row; each list holds distinct items.
    coins : array of bool, optional
        ``(ceil(k / 2),)`` or ``(n, ceil(k / 2))``: True where team A picks first in that round.
        Drawn with ``seed`` when not given.
    seed : int, optional
        Seed of the coins.

    Returns
    -------
    merged : array like ``a``
        The interleaved list(s) of length k.
    from_a : array of bool like ``a``
        True where team A contributed the item.

    Examples
    --------
    A picks 1; B picks 2; then B wins the coin and picks 5 (2 is taken); A's next is 3.

    >>> merged, from_a = team_draft([1, 2, 3, 4], [2, 5, 1, 6], coins=[True, False])
    >>> merged.tolist(), from_a.tolist()
    ([1, 2, 5, 3], [True, False, False, True])
    """
    a, b = _lists("a", a), _lists("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape (lists of the same length), got {a.shape} and {b.shape}")
    check_seed("seed", seed)
    single = a.ndim == 1
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    n, k = a2.shape
    n_rounds = (k + 1) // 2
    if coins is None:
        coin = np.random.default_rng(seed).random((n, n_rounds)) < 0.5
    else:
        coin = np.asarray(coins)
        if coin.dtype != np.bool_:
            raise TypeError(f"coins must be an array of True/False, got dtype {coin.dtype}")
        wanted = (n_rounds,) if single else (n, n_rounds)
        if coin.shape != wanted:
            raise ValueError(f"coins must have shape {wanted} (one coin per round of two picks), got {coin.shape}")
        coin = np.atleast_2d(coin)
    merged = np.empty_like(a2)
    from_a = np.empty((n, k), dtype=bool)
    used_a, used_b = np.zeros((n, k), bool), np.zeros((n, k), bool)
    rows = np.arange(n)
    for step in range(k):
        # The team behind picks; when level (even steps) the round's coin decides.
        a_turn = coin[:, step // 2] if step % 2 == 0 else ~coin[:, step // 2]
        # Fewer than k items are merged, so each list still has an unused item.
        item = np.where(a_turn, a2[rows, np.argmax(~used_a, axis=1)], b2[rows, np.argmax(~used_b, axis=1)])
        merged[:, step], from_a[:, step] = item, a_turn
        used_a |= a2 == item[:, None]
        used_b |= b2 == item[:, None]
    return (merged[0], from_a[0]) if single else (merged, from_a)


def interleaving_credit(clicks, from_a) -> tuple[np.ndarray, np.ndarray]:
    """Clicks credited to each team: ``(credit_a, credit_b)``, summed over the last axis.

    A click counts for the team that contributed the clicked item to the merged list
    (``from_a`` from :func:`team_draft`).

    Two visits (rows): clicks on ranks 1, 3, 4 and then on rank 4 only.

    >>> credit_a, credit_b = interleaving_credit([[True, False, True, True], [False, False, False, True]],
    ...                                          [[True, False, False, True], [True, False, True, False]])
    >>> credit_a.tolist(), credit_b.tolist()
    ([2, 0], [1, 1])
    """
    clicked = np.asarray(clicks)
    if clicked.dtype != np.bool_:
        clicked = check_array("clicks", clicked, dtype=None)
        if not np.isin(clicked, (0, 1)).all():
            raise ValueError("clicks must be 0/1 or True/False for each position")
        clicked = clicked.astype(bool)
    team = np.asarray(from_a)
    if team.dtype != np.bool_:
        raise TypeError(f"from_a must be an array of True/False, got dtype {team.dtype}")
    if team.shape != clicked.shape:
        raise ValueError(f"clicks and from_a must have the same shape, got {clicked.shape} and {team.shape}")
    return (clicked & team).sum(axis=-1), (clicked & ~team).sum(axis=-1)


def _sign_p(wins, losses):
    """Two-sided exact binomial (sign test) p-value of wins against losses, vectorised."""
    wins, losses = np.asarray(wins), np.asarray(losses)
    n = wins + losses
    p = 2 * stats.binom.cdf(np.minimum(wins, losses), n, 0.5)
    return np.where(n == 0, 1.0, np.minimum(p, 1.0))


def sign_test(preferences, confidence: float = 0.95) -> dict:
    """Test whether users prefer ranker A: the sign test of per-user preferences.

    Parameters
    ----------
    preferences : array of -1, 0, 1
        One per user: 1 when the user's clicks credited A more than B, -1 for B, 0 for a tie.

    Returns
    -------
    dict
        ``wins``, ``losses``, ``ties``, ``n``; ``share`` = wins / (wins + losses) with its
        Clopper-Pearson interval ``low``, ``high``; ``delta`` = (wins + ties / 2) / n - 1/2
        (Chapelle et al.'s Delta_AB, > 0 when A is preferred); ``p_value`` of the two-sided
        exact binomial test of ``share = 1/2`` (ties dropped, as in a sign test).

    Examples
    --------
    >>> r = sign_test([1] * 15 + [-1] * 5 + [0] * 10)
    >>> r["wins"], r["losses"], round(r["delta"], 3), round(r["p_value"], 4)
    (15, 5, 0.167, 0.0414)
    """
    fraction("confidence", confidence)
    d = check_array("preferences", preferences, ndim=1, dtype=None)
    if not np.isin(d, (-1, 0, 1)).all():
        raise ValueError("preferences must hold -1 (B preferred), 0 (tie) or 1 (A preferred) per user")
    wins, losses = int((d == 1).sum()), int((d == -1).sum())
    ties = int(d.size - wins - losses)
    if wins + losses:
        test = stats.binomtest(wins, wins + losses, 0.5)
        interval = test.proportion_ci(confidence_level=confidence, method="exact")
        share, low, high, p = wins / (wins + losses), float(interval.low), float(interval.high), float(test.pvalue)
    else:
        share, low, high, p = float("nan"), float("nan"), float("nan"), 1.0
    return {"wins": wins, "losses": losses, "ties": ties, "n": int(d.size), "share": share, "low": low,
            "high": high, "delta": (wins + ties / 2) / d.size - 0.5, "p_value": p}


# --------------------------------------------------------------------------- the simulated users

def examination_probabilities(k: int, position_bias: float = 1.0) -> np.ndarray:
    """Probability that a user examines each of ranks 1..k: ``r ** -position_bias``.

    ``position_bias=0`` examines every rank; larger values look at the top only.

    >>> examination_probabilities(4).round(3).tolist()
    [1.0, 0.5, 0.333, 0.25]
    """
    k = positive_int("k", k)
    check_number("position_bias", position_bias, low=0)
    return np.arange(1, k + 1, dtype=np.float64) ** -float(position_bias)


def _poisson_binomial_days(p: np.ndarray, n_days: int) -> np.ndarray:
    """Per row, the distribution of the total clicks of ``n_days`` visits (columns: 0..n_days * k)."""
    support = np.arange(n_days + 1)
    pmf = np.ones((len(p), 1))
    for r in range(p.shape[1]):
        step = stats.binom.pmf(support[None, :], n_days, p[:, r:r + 1])  # clicks at rank r over the days
        out = np.zeros((len(p), pmf.shape[1] + n_days))
        for j in range(n_days + 1):
            out[:, j:j + pmf.shape[1]] += pmf * step[:, j:j + 1]
        pmf = out
    return pmf


def _self_convolve(pmf: np.ndarray, times: int) -> np.ndarray:
    """Per row, the distribution of the sum of ``times`` independent draws of ``pmf``."""
    out = pmf
    for _ in range(times - 1):
        grown = np.zeros((len(pmf), out.shape[1] + pmf.shape[1] - 1))
        for j in range(pmf.shape[1]):
            grown[:, j:j + out.shape[1]] += out * pmf[:, j:j + 1]
        out = grown
    return out


class _Sampler:
    """Draws values from one discrete distribution per profile (rows of ``pmf``) by the alias method.

    Columns that no profile reaches with probability above 1e-15 are dropped first. The alias
    tables are built for all rows at once by Robin Hood pairing (Marsaglia, Tsang, Wang, J. Stat.
    Softw. 2004): the column with the least mass left gives its deficit to the one with the most.
    A draw is then one uniform and two look-ups, whatever the number of values.
    """

    def __init__(self, pmf: np.ndarray, values: np.ndarray):
        keep = np.flatnonzero(pmf.max(axis=0) > 1e-15)
        pmf = pmf[:, keep[0]:keep[-1] + 1]
        self.values = values[keep[0]:keep[-1] + 1]
        self.pmf = pmf / pmf.sum(axis=1, keepdims=True)
        n, width = self.pmf.shape
        rows = np.arange(n)
        mass = self.pmf * width
        prob, alias = np.ones((n, width)), np.tile(np.arange(width), (n, 1))
        active = np.ones((n, width), dtype=bool)
        for _ in range(width - 1):
            poor = np.argmin(np.where(active, mass, np.inf), axis=1)
            rich = np.argmax(np.where(active, mass, -np.inf), axis=1)
            prob[rows, poor], alias[rows, poor] = mass[rows, poor], rich
            mass[rows, rich] -= 1 - mass[rows, poor]
            active[rows, poor] = False
        self.width = width
        self.prob, self.alias = np.clip(prob, 0, 1).ravel(), (alias + (rows * width)[:, None]).ravel()

    def draw(self, profiles: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(profiles.shape) * self.width
        column = u.astype(np.int64)
        cell = profiles * self.width + column
        chosen = np.where(u - column < self.prob[cell], cell, self.alias[cell])
        return self.values[chosen % self.width]


def _ids(name: str, values, n: int) -> np.ndarray:
    if values is None:
        return np.arange(1, n + 1)
    ids = np.asarray(values)
    if ids.ndim != 1 or len(ids) != n:
        raise ValueError(f"{name} must hold {n} ids (one per row of the preferences), got shape {ids.shape}")
    if len(np.unique(ids)) != n:
        raise ValueError(f"{name} holds the same id twice")
    return ids


class UserPopulation:
    """Simulated users who see the rankers' top-k lists and click: the ground of online experiments.

    See the module's documentation for the click model. Each simulated user copies a profile
    (a row of ``preferences``) drawn uniformly; every number that is called *true* or
    *expected* is exact, averaged over the profiles.

    Parameters
    ----------
    preferences : PreferenceModel or array (n_profiles, n_items)
        The like probabilities: a preference model (the synthetic data's ``truth``, or
        :func:`~rec_utils.rl.simulator.preferences_from_mf` on real data), which addresses
        users and items as ``1..n`` in the order of ``user_ids`` and ``item_ids``, or the
        like probabilities themselves.
    rankers : dict of str -> fitted recommender or array
        Each ranker by name: a fitted :class:`~rec_utils.models.Recommender` (its
        ``recommend(user_ids, k)`` is called once) or its lists as an array
        ``(n_profiles, >= k)`` of item ids, best first.
    user_ids : array (n_profiles,), optional
        The ids the rankers know the profiles by, in the order of the preferences' rows
        (default ``1..n_profiles``; on a data set, ``np.sort(data.users.user_id)``).
    item_ids : array (n_items,), optional
        The ids of the preferences' columns (default ``1..n_items``; on a data set,
        ``np.sort(data.items.item_id)``).
    k : int
        Length of the lists users see.
    position_bias : float
        Rank ``r`` is examined with probability ``r ** -position_bias`` (>= 0).
    threshold : float, optional
        The rating from which an item counts as liked, for a preference model (default: the
        model's own, 4 stars); use ``data.rating_scale.like_threshold``.

    Attributes
    ----------
    examination : array (k,)
        Examination probability of each rank.
    lists : dict of str -> array (n_profiles, k)
        Each ranker's lists, as column positions of the preferences.
    list_likes : dict of str -> array (n_profiles, k)
        The like probability of each listed item.

    Examples
    --------
    Two users, three items; ranker "a" puts the liked item first, "b" last:

    >>> like = [[0.9, 0.1, 0.1], [0.8, 0.2, 0.0]]
    >>> population = UserPopulation(like, {"a": [[1, 2], [1, 2]], "b": [[2, 1], [3, 1]]}, k=2)
    >>> population.expected_clicks("a").round(2).tolist()  # 0.9 + 0.1 / 2, 0.8 + 0.2 / 2
    [0.95, 0.9]
    >>> population.expected_clicks("b").round(2).tolist()  # 0.1 + 0.9 / 2, 0.0 + 0.8 / 2
    [0.55, 0.4]
    >>> round(population.true_effect("a", "b"), 3)  # a - b, averaged over the users
    0.45
    >>> result = population.run_ab("b", "a", n_users=2000, n_days=7, seed=0).analyse()
    >>> bool(result["low"] < 0.45 < result["high"])
    True
    """

    def __init__(self, preferences, rankers: dict, user_ids=None, item_ids=None, k: int = 10,
                 position_bias: float = 1.0, threshold: float | None = None):
        self.k = positive_int("k", k)
        self.examination = examination_probabilities(self.k, position_bias)
        self.position_bias = float(position_bias)
        if hasattr(preferences, "like_probability"):
            for attribute in ("n_users", "n_items"):
                if not hasattr(preferences, attribute):
                    raise TypeError(f"preferences must be a PreferenceModel (with n_users, n_items and "
                                    f"like_probability) or an array of like probabilities; it has no {attribute}")
            self.preferences, self._matrix = preferences, None
            n_profiles, n_items = int(preferences.n_users), int(preferences.n_items)
            self.threshold = None if threshold is None else float(check_number("threshold", threshold))
        else:
            matrix = check_array("preferences", preferences, ndim=2)
            if not (matrix.min() >= 0 and matrix.max() <= 1):
                raise ValueError("preferences must hold like probabilities in [0, 1]")
            if threshold is not None:
                raise ValueError("threshold applies to a preference model; the array already holds like probabilities")
            self.preferences, self._matrix, self.threshold = None, matrix, None
            n_profiles, n_items = matrix.shape
        self.n_profiles, self.n_items = n_profiles, n_items
        self.user_ids = _ids("user_ids", user_ids, n_profiles)
        self.item_ids = _ids("item_ids", item_ids, n_items)
        if not isinstance(rankers, dict):
            raise TypeError(f"rankers must be a dict of name -> fitted recommender or array of lists, "
                            f"got {type(rankers).__name__}")
        if not rankers:
            raise ValueError("rankers is empty: give at least one ranker")
        self.lists, self.list_likes = {}, {}
        for name, ranker in rankers.items():
            if not isinstance(name, str):
                raise TypeError(f"ranker names must be strings, got {name!r}")
            positions = self._positions(name, self._recommend(name, ranker))
            self.lists[name] = positions
            self.list_likes[name] = self._like_of(np.arange(n_profiles), positions)
        self._interleaved: dict = {}

    def __repr__(self) -> str:
        return (f"UserPopulation({self.n_profiles} profiles x {self.n_items} items, k={self.k}, "
                f"position_bias={self.position_bias:g}, rankers={list(self.lists)})")

    # ----- construction helpers
    def _recommend(self, name: str, ranker) -> np.ndarray:
        if hasattr(ranker, "recommend"):
            batches = [ranker.recommend(self.user_ids[start:start + 2048], self.k)
                       for start in range(0, self.n_profiles, 2048)]
            return np.concatenate(batches)
        lists = np.asarray(ranker)
        if lists.ndim != 2 or lists.shape[0] != self.n_profiles or lists.shape[1] < self.k:
            raise ValueError(f"ranker {name!r} must be a fitted recommender or an array (n_profiles={self.n_profiles}, "
                             f">= k={self.k}) of item ids, got shape {lists.shape}")
        return lists[:, :self.k]

    def _positions(self, name: str, lists: np.ndarray) -> np.ndarray:
        order = np.argsort(self.item_ids, kind="stable")
        sorted_ids = self.item_ids[order]
        try:
            at = np.minimum(np.searchsorted(sorted_ids, lists), len(sorted_ids) - 1)
        except TypeError:
            raise TypeError(f"ranker {name!r} returned item ids of another type than item_ids") from None
        known = sorted_ids[at] == lists
        if not known.all():
            short = int((~known).any(axis=1).sum())
            raise ValueError(f"ranker {name!r} gave {short} user(s) fewer than k={self.k} known items (padding, or ids "
                             f"not in item_ids, e.g. {lists[~known][:3].tolist()}); lower k or check the ids")
        positions = order[at]
        _lists(f"ranker {name!r}", positions)  # distinct items in each list
        return positions

    def _like_of(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Like probabilities of profile ``rows`` for item ``columns`` (rows x k), float64."""
        if self._matrix is not None:
            return self._matrix[rows[:, None], columns].astype(np.float64)
        keywords = {} if self.threshold is None else {"threshold": self.threshold}
        out = np.empty(columns.shape)
        for start in range(0, len(rows), 4096):
            part = slice(start, start + 4096)
            out[part] = self.preferences.like_probability((rows[part] + 1)[:, None], columns[part] + 1, **keywords)
        return out

    def _ranker(self, name: str, what: str = "ranker") -> str:
        if name not in self.lists:
            raise ValueError(f"{what} must be one of the population's rankers {list(self.lists)}, got {name!r}")
        return name

    def _draw_profiles(self, n_users, rng) -> np.ndarray:
        return rng.integers(0, self.n_profiles, positive_int("n_users", n_users))

    # ----- exact expectations
    def expected_clicks(self, ranker: str, lift: float = 0.0) -> np.ndarray:
        """Expected clicks per visit of each profile under ``ranker`` (with like probabilities x (1 + lift), capped at 1)."""
        self._ranker(ranker)
        check_number("lift", lift, low=-1)
        return np.minimum(1.0, self.list_likes[ranker] * (1 + lift)) @ self.examination

    def true_effect(self, treatment: str, control: str) -> float:
        """The exact difference in clicks per visit, ``treatment - control``, over the profiles."""
        self._ranker(treatment, "treatment")
        self._ranker(control, "control")
        return float(np.mean(self.expected_clicks(treatment) - self.expected_clicks(control)))

    def expected_daily_effect(self, treatment: str, control: str, n_days: int, novelty: float = 0.0,
                              novelty_decay: float = 0.7) -> np.ndarray:
        """The exact effect on each of the first ``n_days`` experiment days, with a novelty effect.

        On experiment day ``d`` (0-based) the treatment's like probabilities are multiplied by
        ``1 + novelty * novelty_decay ** d`` (capped at 1), as in :meth:`run_ab`; the effect
        tends to :meth:`true_effect`. A test that lasts ``n`` days estimates the mean of the
        first ``n`` values.
        """
        n_days = positive_int("n_days", n_days)
        _check_novelty(novelty, novelty_decay)
        control_clicks = self.expected_clicks(self._ranker(control, "control"))
        return np.array([np.mean(self.expected_clicks(self._ranker(treatment, "treatment"),
                                                      novelty * novelty_decay ** d) - control_clicks)
                         for d in range(n_days)])

    # ----- interleaving, enumerated
    def interleaved(self, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
        """Every team-draft merge of ``a`` and ``b`` for every profile: like probabilities and teams.

        Returns ``(like, from_a)``, both ``(n_profiles, 2 ** ceil(k / 2), k)``: merge ``j``
        uses the coins given by the bits of ``j`` (bit ``i`` set: A picks first in round
        ``i``), so drawing ``j`` uniformly is drawing fair coins.
        """
        key = (self._ranker(a, "a"), self._ranker(b, "b"))
        if key not in self._interleaved:
            if self.k > MAX_INTERLEAVED_K:
                raise ValueError(f"interleaving enumerates the 2 ** ceil(k / 2) coin sequences of team draft, "
                                 f"so it needs k <= {MAX_INTERLEAVED_K}; this population has k={self.k}")
            n_rounds = (self.k + 1) // 2
            patterns = 2 ** n_rounds
            coins = ((np.arange(patterns)[:, None] >> np.arange(n_rounds)[None, :]) & 1).astype(bool)
            rows = np.repeat(np.arange(self.n_profiles), patterns)
            merged, from_a = team_draft(self.lists[a][rows], self.lists[b][rows],
                                        coins=np.tile(coins, (self.n_profiles, 1)))
            like = self._like_of(rows, merged).reshape(self.n_profiles, patterns, self.k)
            self._interleaved[key] = (like, from_a.reshape(self.n_profiles, patterns, self.k))
        return self._interleaved[key]

    def expected_credit(self, a: str, b: str) -> float:
        """The exact expected ``credit_a - credit_b`` of one interleaved visit, over the profiles."""
        like, from_a = self.interleaved(a, b)
        return float(np.mean((like * np.where(from_a, 1.0, -1.0)) @ self.examination))

    # ----- simulation
    def run_ab(self, control: str, treatment: str, n_users: int, n_days: int = 14, n_pre_days: int = 14,
               share_treated: float = 0.5, novelty: float = 0.0, novelty_decay: float = 0.7,
               herding: float = 0.0, seed: int | None = 0) -> ABExperiment:
        """Simulate an A/B test: a pre-period on ``control``, then ``n_days`` days in two arms.

        Parameters
        ----------
        control, treatment : str
            Names of two of the population's rankers (the same name twice is an A/A test).
        n_users : int
            Simulated users, each copying a profile drawn uniformly with replacement.
        n_days, n_pre_days : int
            Visits (one a day) in the experiment and in the pre-period before it (0: no
            pre-period, so no CUPED).
        share_treated : float
            Share of the users assigned to treatment, at random (exactly ``round(share * n)``);
            0 or 1 simulate a world where everyone gets one ranker.
        novelty : float
            A novelty effect: on experiment day ``d`` the treatment's like probabilities are
            multiplied by ``1 + novelty * novelty_decay ** d`` (capped at 1). Negative values
            (> -1) are change aversion.
        novelty_decay : float
            Daily decay of the novelty effect, in [0, 1).
        herding : float
            Interference between users (>= 0): each day, an item's click probability is
            multiplied by ``1 + herding * s`` where ``s`` is the share of all users (both arms)
            who clicked it the day before. Users then influence each other, which breaks the
            assumption behind user-level randomisation.
        seed : int, optional
            Seeds the profiles, the assignment and the clicks.

        Returns
        -------
        ABExperiment
        """
        self._ranker(control, "control")
        self._ranker(treatment, "treatment")
        n_days = positive_int("n_days", n_days)
        n_pre_days = non_negative_int("n_pre_days", n_pre_days)
        fraction("share_treated", share_treated, include_zero=True, include_one=True)
        _check_novelty(novelty, novelty_decay)
        check_number("herding", herding, low=0)
        rng = np.random.default_rng(check_seed("seed", seed))
        profiles = self._draw_profiles(n_users, rng)
        n = len(profiles)
        treated = np.zeros(n, dtype=bool)
        treated[rng.permutation(n)[:int(round(share_treated * n))]] = True
        like_c, items_c = self.list_likes[control][profiles], self.lists[control][profiles]
        like_t = np.where(treated[:, None], self.list_likes[treatment][profiles], like_c)
        items_t = np.where(treated[:, None], self.lists[treatment][profiles], items_c)
        clicks = np.zeros((n, n_pre_days + n_days), dtype=np.int16)
        share = np.zeros(self.n_items)  # who clicked each item yesterday
        for day in range(n_pre_days + n_days):
            experiment_day = day - n_pre_days
            like, items = (like_c, items_c) if experiment_day < 0 else (like_t, items_t)
            if experiment_day >= 0 and novelty != 0:
                boosted = np.minimum(1.0, like * (1 + novelty * novelty_decay ** experiment_day))
                like = np.where(treated[:, None], boosted, like)
            p = self.examination * like
            if herding:
                p = p * (1 + herding * share[items])
            clicked = rng.random(p.shape) < np.minimum(p, 1.0)
            clicks[:, day] = clicked.sum(axis=1)
            if herding:
                share = np.bincount(items[clicked], minlength=self.n_items) / n
        return ABExperiment(profiles=profiles, treated=treated, pre_clicks=clicks[:, :n_pre_days],
                            clicks=clicks[:, n_pre_days:])

    def run_interleaving(self, a: str, b: str, n_users: int, n_days: int = 14,
                         seed: int | None = 0) -> InterleavingExperiment:
        """Simulate an interleaving experiment: every visit shows a fresh team-draft merge of ``a`` and ``b``.

        Every user sees the interleaved list on each of ``n_days`` visits (new coins each
        visit) and clicks by the same click model as in :meth:`run_ab`; each click credits the
        team that contributed the item.

        Returns
        -------
        InterleavingExperiment
        """
        like, from_a = self.interleaved(a, b)
        n_days = positive_int("n_days", n_days)
        rng = np.random.default_rng(check_seed("seed", seed))
        profiles = self._draw_profiles(n_users, rng)
        n, patterns = len(profiles), like.shape[1]
        credit_a = np.zeros((n, n_days), dtype=np.int16)
        credit_b = np.zeros((n, n_days), dtype=np.int16)
        for day in range(n_days):
            merge = rng.integers(0, patterns, n)
            clicked = rng.random((n, self.k)) < self.examination * like[profiles, merge]
            team = from_a[profiles, merge]
            credit_a[:, day] = (clicked & team).sum(axis=1)
            credit_b[:, day] = (clicked & ~team).sum(axis=1)
        return InterleavingExperiment(profiles=profiles, credit_a=credit_a, credit_b=credit_b)

    # ----- exact distributions, for many repeated experiments
    def _clicks_sampler(self, ranker: str, n_days: int) -> _Sampler:
        """Draws a user's clicks per visit over ``n_days`` visits under ``ranker``, from its exact distribution."""
        n_days = positive_int("n_days", n_days)
        pmf = _poisson_binomial_days(self.examination * self.list_likes[self._ranker(ranker)], n_days)
        return _Sampler(pmf, np.arange(pmf.shape[1]) / n_days)

    def _preference_sampler(self, a: str, b: str, n_days: int) -> _Sampler:
        """Draws a user's preference (1: a, -1: b, 0: tie) over ``n_days`` interleaved visits, exactly."""
        n_days = positive_int("n_days", n_days)
        pmf = self.credit_difference_pmf(a, b, n_days)
        half = (pmf.shape[1] - 1) // 2
        return _Sampler(pmf, np.sign(np.arange(-half, half + 1)).astype(np.int8))

    def credit_difference_pmf(self, a: str, b: str, n_days: int) -> np.ndarray:
        """Per profile, the exact distribution of ``credit_a - credit_b`` summed over ``n_days`` visits.

        Columns hold the differences ``-n_days * k .. n_days * k``.
        """
        like, from_a = self.interleaved(a, b)
        n_days = positive_int("n_days", n_days)
        q = (self.examination * like).reshape(-1, self.k)
        sign = from_a.reshape(-1, self.k)
        k = self.k
        pmf = np.zeros((len(q), 2 * k + 1))
        pmf[:, k] = 1.0
        for r in range(k):  # a click at rank r moves the difference one step towards its team
            up, down = np.roll(pmf, 1, axis=1), np.roll(pmf, -1, axis=1)
            moved = np.where(sign[:, r:r + 1], up, down)
            pmf = pmf * (1 - q[:, r:r + 1]) + moved * q[:, r:r + 1]
        visit = pmf.reshape(self.n_profiles, -1, 2 * k + 1).mean(axis=1)  # fair coins: merges equally likely
        return _self_convolve(visit, n_days)


def _check_novelty(novelty, novelty_decay) -> None:
    check_number("novelty", novelty, low=-1, low_inclusive=False)
    check_number("novelty_decay", novelty_decay, low=0, high=1, high_inclusive=False)


# --------------------------------------------------------------------------- experiment results

def _days(days, n_days: int) -> int:
    return n_days if days is None else check_number("days", days, low=1, high=n_days, integer=True)


@dataclass
class ABExperiment:
    """The clicks of a simulated A/B test (from :meth:`UserPopulation.run_ab`).

    Attributes
    ----------
    profiles : array (n_users,)
        The profile each user copies.
    treated : array (n_users,) of bool
    pre_clicks : array (n_users, n_pre_days)
        Clicks on each pre-period visit (everyone on control).
    clicks : array (n_users, n_days)
        Clicks on each experiment visit.
    """

    profiles: np.ndarray
    treated: np.ndarray
    pre_clicks: np.ndarray
    clicks: np.ndarray

    @property
    def n_days(self) -> int:
        return self.clicks.shape[1]

    def metric(self, days: int | None = None) -> np.ndarray:
        """Each user's clicks per visit over the first ``days`` experiment days (default: all)."""
        return self.clicks[:, :_days(days, self.n_days)].mean(axis=1)

    def covariate(self) -> np.ndarray:
        """Each user's clicks per visit in the pre-period: CUPED's covariate."""
        if self.pre_clicks.shape[1] == 0:
            raise ValueError("this experiment has no pre-period (n_pre_days=0), so no covariate for CUPED")
        return self.pre_clicks.mean(axis=1)

    def analyse(self, days: int | None = None, cuped: bool = False, confidence: float = 0.95) -> dict:
        """:func:`analyse_ab` of clicks per visit over the first ``days`` days, with CUPED if asked."""
        check_bool("cuped", cuped)
        return analyse_ab(self.metric(days), self.treated, self.covariate() if cuped else None, confidence)

    def daily_effect(self, confidence: float = 0.95) -> pd.DataFrame:
        """Each experiment day's difference in clicks per visit (treatment - control), with Welch's interval.

        Returns a frame indexed by ``day`` (1-based) with ``difference, low, high, p_value``.
        """
        fraction("confidence", confidence)
        t, c = self.clicks[self.treated], self.clicks[~self.treated]
        if min(len(t), len(c)) < 2:
            raise ValueError("daily_effect needs at least 2 users in each arm")
        diff, se, df, _, p = _welch(t.mean(0), t.var(0, ddof=1), len(t), c.mean(0), c.var(0, ddof=1), len(c))
        half = stats.t.ppf(0.5 + confidence / 2, df) * se
        return pd.DataFrame({"difference": diff, "low": diff - half, "high": diff + half, "p_value": p},
                            index=pd.RangeIndex(1, self.n_days + 1, name="day"))


@dataclass
class InterleavingExperiment:
    """The credits of a simulated interleaving experiment (from :meth:`UserPopulation.run_interleaving`).

    Attributes
    ----------
    profiles : array (n_users,)
    credit_a, credit_b : array (n_users, n_days)
        Clicks credited to each team on each visit.
    """

    profiles: np.ndarray
    credit_a: np.ndarray
    credit_b: np.ndarray

    @property
    def n_days(self) -> int:
        return self.credit_a.shape[1]

    def preferences(self, days: int | None = None) -> np.ndarray:
        """Each user's preference over the first ``days`` visits: 1 (A had more credit), -1 (B), 0 (tie)."""
        days = _days(days, self.n_days)
        difference = self.credit_a[:, :days].sum(axis=1, dtype=np.int64) - self.credit_b[:, :days].sum(axis=1)
        return np.sign(difference).astype(np.int8)

    def analyse(self, days: int | None = None, confidence: float = 0.95) -> dict:
        """:func:`sign_test` of the users' preferences over the first ``days`` visits."""
        return sign_test(self.preferences(days), confidence)


# --------------------------------------------------------------------------- repeated experiments

def _wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def _crossing(grid: np.ndarray, power: np.ndarray, target: float) -> np.ndarray:
    """Per row of ``power`` (..., grid), the number of users where the (isotonic) curve first reaches ``target``.

    Linear interpolation in log(users) between the grid points around the crossing; NaN when
    the curve starts above the target or never reaches it.
    """
    from scipy.optimize import isotonic_regression

    rows = np.atleast_2d(power)
    out = np.full(len(rows), np.nan)
    log_grid = np.log(grid)
    for i, row in enumerate(rows):
        fitted = isotonic_regression(row).x
        above = np.flatnonzero(fitted >= target)
        if len(above) == 0 or above[0] == 0:
            continue
        j = above[0]
        share = (target - fitted[j - 1]) / (fitted[j] - fitted[j - 1])
        out[i] = np.exp(log_grid[j - 1] + share * (log_grid[j] - log_grid[j - 1]))
    return out


def _moments(sampler: _Sampler) -> tuple[np.ndarray, np.ndarray]:
    """Per-profile mean and variance of a sampler's distribution."""
    mean = sampler.pmf @ sampler.values
    return mean, sampler.pmf @ sampler.values.astype(float) ** 2 - mean ** 2


def _arm_comparison(treated: dict, n_treated, control: dict, n_control, cuped: bool):
    """Welch's difference and p-value from each arm's running sums (``y, yy, x, xx, xy``), CUPED if asked.

    With CUPED, theta comes from both arms pooled, and each arm's adjusted mean and variance
    follow from its sums: ``mean(y) - theta (mean(x) - pooled mean(x))`` and
    ``var(y) - 2 theta cov(x, y) + theta ** 2 var(x)``.
    """
    theta, x_mean = 0.0, 0.0
    if cuped:
        n = n_treated + n_control
        sx, sy = treated["x"] + control["x"], treated["y"] + control["y"]
        var_x = treated["xx"] + control["xx"] - sx ** 2 / n
        cov = treated["xy"] + control["xy"] - sx * sy / n
        theta = np.divide(cov, var_x, out=np.zeros_like(cov), where=var_x > 0)
        x_mean = sx / n
    moments = []
    for s, n in ((treated, n_treated), (control, n_control)):
        mean = s["y"] / n - theta * (s["x"] / n - x_mean)
        var = (s["yy"] - s["y"] ** 2 / n - 2 * theta * (s["xy"] - s["x"] * s["y"] / n)
               + theta ** 2 * (s["xx"] - s["x"] ** 2 / n)) / (n - 1)
        moments += [mean, np.maximum(var, 0.0), n]
    diff, _, _, _, p = _welch(*moments)
    return diff, p


def compare_ab_interleaving(population: UserPopulation, control: str, treatment: str, n_repeats: int = 300,
                            n_days: int = 14, n_pre_days: int = 14, alpha: float = 0.05, power: float = 0.8,
                            grid=None, confidence: float = 0.95, n_boot: int = 1000, seed: int | None = 0) -> dict:
    """How many users an A/B test, an A/B test with CUPED and interleaving need to pick the better ranker.

    Each repeated experiment draws users (profiles uniformly, ``n_days`` visits each) and
    decides at each number of users of ``grid``:

    * **A/B**: half the users on each ranker (alternately, in the order drawn), Welch's test of
      clicks per visit at level ``alpha``;
    * **A/B + CUPED**: the same users and clicks, adjusted by their clicks per visit over
      ``n_pre_days`` pre-period visits on ``control`` (theta pooled);
    * **interleaving**: every user sees team-draft merges of ``treatment`` (team A) and
      ``control``; the sign test of the users' preferences at level ``alpha``.

    A decision is *correct* when the test is significant and picks the ranker that is truly
    better (the sign of :meth:`UserPopulation.true_effect`). Each method's power is the share of
    correct decisions; the users it needs for ``power`` are read where its power curve (made
    monotone by isotonic regression) crosses ``power``, interpolating in log(users); their
    interval and the ratio's come from a bootstrap over the repeated experiments.

    A user's clicks over the period are drawn from their exact distribution (a Poisson-binomial
    per ranker and profile; for interleaving, the distribution of the credit difference over
    the visits, mixing the equally likely team-draft merges), which is what
    :meth:`UserPopulation.run_ab` and :meth:`~UserPopulation.run_interleaving` simulate visit by
    visit, only faster. Larger experiments reuse the users of smaller ones within a repetition
    (users are independent, so each number of users is a valid experiment).

    Parameters
    ----------
    population : UserPopulation
    control, treatment : str
        Two of the population's rankers.
    n_repeats : int
        Simulated experiments per method.
    n_days, n_pre_days : int
        Visits per user in the experiment and the pre-period (0: no CUPED).
    alpha, power : float
        The tests' level and the target power.
    grid : array of int, optional
        Numbers of users (in total, both arms together for A/B) to decide at. Default: 16
        values spread geometrically around the normal-approximation predictions.
    confidence : float
        Of every interval.
    n_boot : int
        Bootstrap replicates for the intervals of the users needed and of their ratios.
    seed : int, optional

    Returns
    -------
    dict
        ``true_effect`` (exact clicks per visit, treatment - control), ``relative_effect``,
        ``expected_credit`` (exact treatment - control credit per interleaved visit),
        ``preference`` (exact P(prefer treatment) - P(prefer control) per user),
        ``directions_agree``; ``power`` (DataFrame: per number of users, each method's share of
        correct decisions with its Wilson interval, and of wrong-direction ones);
        ``users_needed`` (DataFrame per method: ``users`` measured, ``low``, ``high``, and
        ``predicted`` by the normal approximation from exact moments); ``ratios`` (DataFrame:
        users A/B needs / users interleaving needs, with CUPED too); ``settings``.
    """
    if not isinstance(population, UserPopulation):
        raise TypeError(f"population must be a UserPopulation, got {type(population).__name__}")
    population._ranker(control, "control")
    population._ranker(treatment, "treatment")
    if control == treatment:
        raise ValueError("control and treatment are the same ranker: there is no better one to find")
    n_repeats = check_number("n_repeats", n_repeats, low=2, integer=True)
    n_days = positive_int("n_days", n_days)
    n_pre_days = non_negative_int("n_pre_days", n_pre_days)
    fraction("alpha", alpha)
    fraction("power", power)
    fraction("confidence", confidence)
    n_boot = positive_int("n_boot", n_boot)
    rng = np.random.default_rng(check_seed("seed", seed))

    effect = population.true_effect(treatment, control)
    if effect == 0:
        raise ValueError(f"{treatment!r} and {control!r} have exactly the same expected clicks: nothing to detect")
    direction = np.sign(effect)
    y_c, y_t = population._clicks_sampler(control, n_days), population._clicks_sampler(treatment, n_days)
    x_c = population._clicks_sampler(control, n_pre_days) if n_pre_days else None
    prefer = population._preference_sampler(treatment, control, n_days)

    # Predictions (normal approximation, exact moments over the profiles): they place the grid.
    z_alpha, z_power = _z(alpha, power)
    mean_c, var_c = _moments(y_c)
    mean_t, var_t = _moments(y_t)
    total_var_c = var_c.mean() + mean_c.var()
    total_var_t = var_t.mean() + mean_t.var()
    predicted = {"A/B": 2 * (z_alpha + z_power) ** 2 * (total_var_c + total_var_t) / effect ** 2}
    if x_c is not None:
        mean_x, var_x = _moments(x_c)
        total_var_x = var_x.mean() + mean_x.var()
        cov_c, cov_t = np.cov(mean_x, mean_c, ddof=0)[0, 1], np.cov(mean_x, mean_t, ddof=0)[0, 1]
        theta = (cov_c + cov_t) / 2 / total_var_x
        adjusted = [v - 2 * theta * cv + theta ** 2 * total_var_x for v, cv in ((total_var_c, cov_c),
                                                                              (total_var_t, cov_t))]
        predicted["A/B + CUPED"] = 2 * (z_alpha + z_power) ** 2 * sum(adjusted) / effect ** 2
    p_loss = float((prefer.pmf * (prefer.values < 0)).sum(axis=1).mean())
    p_win = float((prefer.pmf * (prefer.values > 0)).sum(axis=1).mean())
    preference = p_win - p_loss
    predicted["interleaving"] = (((z_alpha * np.sqrt(p_win + p_loss) + z_power * np.sqrt(
        p_win + p_loss - preference ** 2)) / preference) ** 2 if preference != 0 else np.inf)

    if grid is None:
        finite = [v for v in predicted.values() if np.isfinite(v)]
        grid = np.geomspace(max(4.0, min(finite) / 4), max(finite) * 2.5, 16)
    grid = np.unique(np.round(check_array("grid", grid, ndim=1)).astype(np.int64))
    if grid.min() < 4:
        raise ValueError(f"grid must hold numbers of users >= 4 (two per arm), got {grid.min()}")
    n_max = int(grid.max())
    methods = list(predicted)
    correct = {m: np.zeros((n_repeats, len(grid)), bool) for m in methods}
    wrong = {m: np.zeros((n_repeats, len(grid)), bool) for m in methods}
    # Users alternate between the arms in the order drawn (control first), so every prefix of a
    # repetition is a balanced experiment; running sums give each prefix's moments at once.
    n_control, n_treated = (grid + 1) // 2, grid // 2
    chunk = max(1, min(n_repeats, 2_000_000 // n_max))
    for start in range(0, n_repeats, chunk):
        rows = slice(start, min(start + chunk, n_repeats))
        profiles = rng.integers(0, population.n_profiles, (rows.stop - rows.start, n_max))
        sums = []
        for arm_profiles, sampler, n_arm in ((profiles[:, 0::2], y_c, n_control), (profiles[:, 1::2], y_t, n_treated)):
            y = sampler.draw(arm_profiles, rng)
            x = x_c.draw(arm_profiles, rng) if x_c is not None else np.zeros_like(y)
            sums.append({name: np.cumsum(v, axis=1)[:, n_arm - 1]
                         for name, v in (("y", y), ("yy", y * y), ("x", x), ("xx", x * x), ("xy", x * y))})
        ab = {"A/B": _arm_comparison(sums[1], n_treated, sums[0], n_control, cuped=False)}
        if x_c is not None:
            ab["A/B + CUPED"] = _arm_comparison(sums[1], n_treated, sums[0], n_control, cuped=True)
        for name, (diff, p) in ab.items():
            correct[name][rows] = (p < alpha) & (np.sign(diff) == direction)
            wrong[name][rows] = (p < alpha) & (np.sign(diff) == -direction)
        pref = prefer.draw(rng.integers(0, population.n_profiles, profiles.shape), rng)
        wins, losses = np.cumsum(pref == 1, axis=1)[:, grid - 1], np.cumsum(pref == -1, axis=1)[:, grid - 1]
        p = _sign_p(wins, losses)
        correct["interleaving"][rows] = (p < alpha) & (np.sign(wins - losses) == direction)
        wrong["interleaving"][rows] = (p < alpha) & (np.sign(wins - losses) == -direction)

    table = {}
    for m in methods:
        hits = correct[m].sum(axis=0)
        bounds = np.array([_wilson(h, n_repeats, confidence) for h in hits])
        table[(m, "power")] = hits / n_repeats
        table[(m, "low")], table[(m, "high")] = bounds[:, 0], bounds[:, 1]
        table[(m, "wrong")] = wrong[m].mean(axis=0)
    power_table = pd.DataFrame(table, index=pd.Index(grid, name="users"))

    # Users needed, and a bootstrap over the repeated experiments (the A/B methods share theirs).
    weights_ab = rng.multinomial(n_repeats, np.full(n_repeats, 1 / n_repeats), size=n_boot) / n_repeats
    weights_il = rng.multinomial(n_repeats, np.full(n_repeats, 1 / n_repeats), size=n_boot) / n_repeats
    needed, boot = {}, {}
    for m in methods:
        weights = weights_il if m == "interleaving" else weights_ab
        needed[m] = float(_crossing(grid, correct[m].mean(axis=0), power)[0])
        boot[m] = _crossing(grid, weights @ correct[m], power)
    tail = (1 - confidence) / 2

    def interval(values):
        finite = values[np.isfinite(values)]
        if len(finite) < 0.9 * len(values):  # the grid misses the crossing too often
            return float("nan"), float("nan")
        return tuple(float(v) for v in np.quantile(finite, [tail, 1 - tail]))

    users_needed = pd.DataFrame(
        [{"method": m, "users": needed[m], "low": interval(boot[m])[0], "high": interval(boot[m])[1],
          "predicted": float(predicted[m])} for m in methods]).set_index("method")
    ratios = []
    for m in methods:
        if m == "interleaving":
            continue
        values = boot[m] / boot["interleaving"]
        low, high = interval(values)
        ratios.append({"ratio": f"{m} / interleaving", "value": needed[m] / needed["interleaving"], "low": low,
                       "high": high, "predicted": float(predicted[m] / predicted["interleaving"])})
    expected_credit = population.expected_credit(treatment, control)
    return {"true_effect": effect, "relative_effect": effect / float(population.expected_clicks(control).mean()),
            "expected_credit": expected_credit, "preference": preference,
            "directions_agree": bool(np.sign(expected_credit) == direction and np.sign(preference) == direction),
            "power": power_table, "users_needed": users_needed,
            "ratios": pd.DataFrame(ratios).set_index("ratio"),
            "settings": {"control": control, "treatment": treatment, "n_repeats": n_repeats, "n_days": n_days,
                         "n_pre_days": n_pre_days, "alpha": alpha, "power": power, "k": population.k,
                         "position_bias": population.position_bias, "n_boot": n_boot, "seed": seed}}


def peeking_aa(population: UserPopulation, ranker: str, n_users: int = 2000, n_days: int = 14,
               n_repeats: int = 200, alpha: float = 0.05, confidence: float = 0.95, seed: int | None = 0) -> dict:
    """The false-positive rate of peeking: A/A tests checked every day, stopped at the first p < alpha.

    Each repetition simulates an A/A test (``ranker`` in both arms, so any "significant"
    difference is a false positive) and computes Welch's p-value of clicks per visit on every
    day, over the visits so far. A fixed-horizon analysis looks once, after ``n_days`` days;
    peeking declares a winner on the first day with p < alpha.

    Returns
    -------
    dict
        ``rates``: DataFrame with rows ``fixed horizon`` and ``peeking every day`` and columns
        ``false_positive_rate, low, high`` (Wilson interval); ``first_significant_day``: a
        Series counting the repetitions by the day peeking stopped them; ``settings``.

    Examples
    --------
    >>> population = UserPopulation([[0.5, 0.3], [0.2, 0.6]], {"a": [[1, 2], [2, 1]]}, k=2)
    >>> r = peeking_aa(population, "a", n_users=200, n_days=5, n_repeats=100)
    >>> list(r["rates"].index)
    ['fixed horizon', 'peeking every day']
    """
    if not isinstance(population, UserPopulation):
        raise TypeError(f"population must be a UserPopulation, got {type(population).__name__}")
    population._ranker(ranker)
    n_days = positive_int("n_days", n_days)
    n_repeats = check_number("n_repeats", n_repeats, low=2, integer=True)
    fraction("alpha", alpha)
    fraction("confidence", confidence)
    rng = np.random.default_rng(check_seed("seed", seed))
    first = np.full(n_repeats, -1)
    final = np.zeros(n_repeats, bool)
    visits = np.arange(1, n_days + 1)
    for i in range(n_repeats):
        run = population.run_ab(ranker, ranker, n_users, n_days=n_days, n_pre_days=0,
                                seed=int(rng.integers(2 ** 32)))
        so_far = np.cumsum(run.clicks, axis=1) / visits  # clicks per visit up to each day
        t, c = so_far[run.treated], so_far[~run.treated]
        _, _, _, _, p = _welch(t.mean(0), t.var(0, ddof=1), len(t), c.mean(0), c.var(0, ddof=1), len(c))
        significant = np.flatnonzero(p < alpha)
        first[i] = significant[0] + 1 if len(significant) else -1
        final[i] = p[-1] < alpha
    peeked = first > 0
    rows = []
    for name, hits in (("fixed horizon", final), ("peeking every day", peeked)):
        low, high = _wilson(hits.sum(), n_repeats, confidence)
        rows.append({"analysis": name, "false_positive_rate": float(hits.mean()), "low": low, "high": high})
    days = pd.Series(np.bincount(first[peeked], minlength=n_days + 1)[1:], index=pd.RangeIndex(1, n_days + 1,
                                                                                                  name="day"))
    return {"rates": pd.DataFrame(rows).set_index("analysis"), "first_significant_day": days,
            "settings": {"ranker": ranker, "n_users": n_users, "n_days": n_days, "n_repeats": n_repeats,
                         "alpha": alpha, "seed": seed}}


def network_effect(population: UserPopulation, control: str, treatment: str, herding: float, n_users: int = 10_000,
                   n_days: int = 14, n_pre_days: int = 7, confidence: float = 0.95, seed: int | None = 0) -> dict:
    """What interference between users does to an A/B test: its estimate against the global effect.

    With ``herding > 0`` a user's click probability on an item grows with the share of *all*
    users who clicked it the day before (:meth:`UserPopulation.run_ab`), so a user's outcome
    depends on what the other users were shown: the stable unit treatment value assumption
    (SUTVA) behind user-level randomisation fails. The quantity a launch decision needs is the
    *global* effect, everyone on treatment against everyone on control; this simulates both
    worlds (``n_users`` users each) and a 50/50 A/B test among ``n_users`` users.

    Returns
    -------
    dict
        ``ab`` (:func:`welch_test` of the A/B test), ``global`` (:func:`welch_test` of the
        all-treatment world against the all-control world), ``bias`` (A/B difference minus
        global difference), ``without_interference`` (the exact effect when ``herding=0``).
    """
    if not isinstance(population, UserPopulation):
        raise TypeError(f"population must be a UserPopulation, got {type(population).__name__}")
    check_number("herding", herding, low=0)
    rng = np.random.default_rng(check_seed("seed", seed))
    seeds = rng.integers(2 ** 32, size=3)
    common = dict(n_users=n_users, n_days=n_days, n_pre_days=n_pre_days, herding=herding)
    ab = population.run_ab(control, treatment, share_treated=0.5, seed=int(seeds[0]), **common).analyse(
        confidence=confidence)
    everyone = population.run_ab(control, treatment, share_treated=1.0, seed=int(seeds[1]), **common).metric()
    no_one = population.run_ab(control, treatment, share_treated=0.0, seed=int(seeds[2]), **common).metric()
    world = welch_test(everyone, no_one, confidence)
    return {"ab": ab, "global": world, "bias": ab["difference"] - world["difference"],
            "without_interference": population.true_effect(treatment, control),
            "settings": {"control": control, "treatment": treatment, "herding": herding, **common, "seed": seed}}
