"""Online experiments (rec_utils.rl.experiments): power analysis, Welch, CUPED, team-draft
interleaving, the simulated users, and the repeated-experiment comparison."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rec_utils.data import IdIndex
from rec_utils.data.synthetic import generate_movielens_like
from rec_utils.models import EASE, BiasedMF, PopularityRecommender
from rec_utils.rl.experiments import (
    ABExperiment, InterleavingExperiment, UserPopulation, ab_power, ab_sample_size, analyse_ab,
    compare_ab_interleaving, cuped, examination_probabilities, interleaving_credit, network_effect, peeking_aa,
    sign_test, team_draft, welch_test,
)
from rec_utils.rl.simulator import preferences_from_mf


@pytest.fixture(scope="module")
def population():
    """Forty profiles over thirty items, some keener than others; ranker "good" lists each profile's
    best items, "fair" its fifth to fourteenth best, "random" a random ten."""
    rng = np.random.default_rng(0)
    like = np.clip(rng.uniform(0.2, 1.8, (40, 1)) * rng.beta(2, 3, size=(40, 30)), 0, 1)
    order = np.argsort(-like, axis=1) + 1  # item ids 1..30, best first
    random = np.array([rng.permutation(30)[:10] + 1 for _ in range(40)])
    return UserPopulation(like, {"good": order[:, :10], "fair": order[:, 4:14], "random": random}, k=10)


# --------------------------------------------------------------------------- power analysis

def test_sample_size_matches_the_textbook_formula():
    # n = 2 (z_0.975 + z_0.8)^2 sigma^2 / delta^2 = 2 * 2.8016^2 / 0.01 = 1569.8 -> 1570 per arm
    assert 2 * (1.959964 + 0.841621) ** 2 / 0.1 ** 2 == pytest.approx(1569.8, abs=0.1)
    r = ab_sample_size(1.0, 1.0, 0.1)
    assert r["n_per_arm"] == 1570 and r["n_total"] == 3140
    assert r["z_alpha"] == pytest.approx(1.959964, abs=1e-6) and r["z_power"] == pytest.approx(0.841621, abs=1e-6)
    # a 5% lift of a mean of 2 is the same absolute effect; variance 4 needs four times the users
    assert ab_sample_size(2.0, 1.0, 0.05)["n_per_arm"] == 1570
    assert ab_sample_size(2.0, 4.0, 0.1, relative=False)["n_per_arm"] == int(np.ceil(4 * 1569.78))
    # Kohavi's rule of thumb, n = 16 sigma^2 / delta^2, is this formula rounded up
    assert ab_sample_size(10.0, 9.0, 0.3, relative=False)["n_per_arm"] == pytest.approx(16 * 9 / 0.09, rel=0.02)


def test_sample_size_gives_the_power_it_promises():
    for variance, effect in [(1.0, 0.1), (0.3, 0.02), (5.0, 1.0)]:
        n = ab_sample_size(1.0, variance, effect, relative=False)["n_per_arm"]
        assert ab_power(n, variance, effect) >= 0.8 > ab_power(n - 1, variance, effect) - 1e-4
    assert ab_power(10, 1.0, 0.0) == pytest.approx(0.05)  # no effect: the level


def test_cuped_variance_reduction_shrinks_the_sample_size():
    plain = ab_sample_size(1.0, 2.0, 0.1)["n_per_arm"]
    assert ab_sample_size(1.0, 2.0, 0.1, variance_reduction=0.75)["n_per_arm"] == pytest.approx(plain / 4, abs=1)


@pytest.mark.parametrize("kwargs, error", [
    (dict(baseline_variance=0.0), ValueError), (dict(minimum_effect=0.0), ValueError),
    (dict(alpha=1.5), ValueError), (dict(power="high"), TypeError), (dict(variance_reduction=1.0), ValueError),
    (dict(relative=1), TypeError), (dict(baseline_mean=np.nan), ValueError),
])
def test_sample_size_checks_its_inputs(kwargs, error):
    args = dict(baseline_mean=1.0, baseline_variance=1.0, minimum_effect=0.1) | kwargs
    with pytest.raises(error):
        ab_sample_size(**args)


# --------------------------------------------------------------------------- Welch and CUPED

def test_welch_matches_scipy():
    rng = np.random.default_rng(1)
    treatment, control = rng.normal(1.2, 2.0, 57), rng.normal(1.0, 0.7, 90)
    r = welch_test(treatment, control, confidence=0.9)
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    interval = ref.confidence_interval(confidence_level=0.9)
    assert r["difference"] == pytest.approx(treatment.mean() - control.mean())
    assert r["t"] == pytest.approx(ref.statistic) and r["p_value"] == pytest.approx(ref.pvalue)
    assert r["df"] == pytest.approx(ref.df)
    assert (r["low"], r["high"]) == pytest.approx((interval.low, interval.high))
    assert r["relative"] == pytest.approx(r["difference"] / control.mean())


def test_welch_without_any_variance_is_exact():
    assert welch_test([1.0, 1.0], [1.0, 1.0])["p_value"] == 1.0
    r = welch_test([2.0, 2.0], [1.0, 1.0])
    assert r["p_value"] == 0.0 and r["low"] == r["high"] == 1.0


def test_cuped_reduces_the_variance_by_the_squared_correlation():
    rng = np.random.default_rng(2)
    x = rng.normal(size=20_000)
    y = x + rng.normal(size=20_000)  # corr^2 = 1/2, theta = 1
    r = cuped(y, x)
    assert r["theta"] == pytest.approx(1.0, abs=0.03)
    assert r["variance_reduction"] == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2, rel=1e-9)  # exact in sample
    assert r["variance_reduction"] == pytest.approx(0.5, abs=0.02)
    assert r["adjusted"].mean() == pytest.approx(y.mean())
    exact = cuped(2 * x + 3, x)  # a covariate that explains everything
    assert exact["theta"] == pytest.approx(2.0) and exact["variance_reduction"] == pytest.approx(1.0)


def test_cuped_in_an_ab_test_keeps_the_effect_and_shrinks_the_interval():
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.gamma(2.0, 1.0, n)  # pre-period clicks
    treated = rng.permutation(n) < n // 2
    y = 0.8 * x + rng.normal(0, 0.5, n) + 0.1 * treated
    plain, adjusted = analyse_ab(y, treated), analyse_ab(y, treated, covariate=x)
    theta = adjusted["theta"]
    assert adjusted["difference"] == pytest.approx(
        plain["difference"] - theta * (x[treated].mean() - x[~treated].mean()))
    assert adjusted["se"] < 0.5 * plain["se"] and adjusted["se_unadjusted"] == plain["se"]
    assert adjusted["low"] < 0.1 < adjusted["high"]


def test_ab_analysis_checks_its_inputs():
    with pytest.raises(TypeError, match="treated"):
        analyse_ab([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1])
    with pytest.raises(ValueError, match="each arm"):
        analyse_ab([1.0, 2.0, 3.0, 4.0], [True, False, False, False])
    with pytest.raises(ValueError, match="one value per user"):
        analyse_ab([1.0, 2.0, 3.0, 4.0], [True, False, True, False], covariate=[1.0, 2.0])
    with pytest.raises(ValueError, match="constant"):
        cuped([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        welch_test([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(TypeError):
        welch_test("abc", [1.0, 2.0])


# --------------------------------------------------------------------------- team draft

def _random_lists(rng, n, k, n_items):
    a = np.array([rng.permutation(n_items)[:k] for _ in range(n)])
    b = np.array([rng.permutation(n_items)[:k] for _ in range(n)])
    b[::3] = a[::3][:, rng.permutation(k)]  # some pairs rank the same items differently
    return a, b


def test_team_draft_properties():
    rng = np.random.default_rng(4)
    for k in (1, 2, 5, 10):
        a, b = _random_lists(rng, 300, k, 2 * k + 3)
        merged, from_a = team_draft(a, b, seed=0)
        assert merged.shape == a.shape and from_a.dtype == bool
        for row in range(len(a)):
            m, team = merged[row], from_a[row]
            assert len(set(m)) == k  # no duplicates
            # each team's picks keep their order in that team's ranking
            for picks, ranking in ((m[team], a[row]), (m[~team], b[row])):
                ranks = [list(ranking).index(item) for item in picks]
                assert ranks == sorted(ranks)
            # every pick is the team's best item not yet merged
            for step in range(k):
                ranking = a[row] if team[step] else b[row]
                best = next(item for item in ranking if item not in m[:step])
                assert m[step] == best
            # the teams stay level: after every round they differ by at most one
            balance = np.cumsum(np.where(team, 1, -1))
            assert np.abs(balance).max() <= 1 and (balance[1::2] == 0).all()


def test_team_draft_coins_are_seeded_and_fair():
    rng = np.random.default_rng(5)
    a, b = _random_lists(rng, 4000, 6, 20)
    first = team_draft(a, b, seed=7)
    np.testing.assert_array_equal(first[0], team_draft(a, b, seed=7)[0])
    assert not np.array_equal(first[1], team_draft(a, b, seed=8)[1])
    assert first[1][:, 0].mean() == pytest.approx(0.5, abs=0.03)  # A picks first half of the time
    assert first[1].mean() == pytest.approx(0.5)  # and each team fills half of each list of 6


def test_team_draft_by_hand_and_with_identical_lists():
    merged, from_a = team_draft([1, 2, 3, 4], [2, 5, 1, 6], coins=[True, False])
    assert merged.tolist() == [1, 2, 5, 3] and from_a.tolist() == [True, False, False, True]
    merged, from_a = team_draft([1, 2, 3, 4], [2, 5, 1, 6], coins=[False, True])
    assert merged.tolist() == [2, 1, 3, 5] and from_a.tolist() == [False, True, True, False]
    merged, from_a = team_draft([[3, 1, 2]], [[3, 1, 2]], coins=[[True, True]])  # odd k: the last round has one pick
    assert merged.tolist() == [[3, 1, 2]] and from_a.tolist() == [[True, False, True]]


def test_interleaving_credit_by_hand():
    merged, from_a = team_draft([1, 2, 3, 4], [2, 5, 1, 6], coins=[True, False])  # [1, 2, 5, 3], A B B A
    clicks = np.isin(merged, [2, 3])  # the user clicks items 2 (B's pick) and 3 (A's pick)
    credit_a, credit_b = interleaving_credit(clicks, from_a)
    assert (int(credit_a), int(credit_b)) == (1, 1)
    credit_a, credit_b = interleaving_credit([[1, 0, 1, 0], [0, 1, 1, 0]], np.array([from_a, from_a]))
    assert credit_a.tolist() == [1, 0] and credit_b.tolist() == [1, 2]


def test_team_draft_checks_its_inputs():
    with pytest.raises(ValueError, match="same item twice"):
        team_draft([1, 1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="same shape"):
        team_draft([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="integer"):
        team_draft([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="coins"):
        team_draft([1, 2, 3], [3, 2, 1], coins=[True])
    with pytest.raises(TypeError, match="coins"):
        team_draft([1, 2], [2, 1], coins=[1])
    with pytest.raises(ValueError, match="0/1"):
        interleaving_credit([2, 0], [True, False])


def test_sign_test_matches_scipy_and_chapelle_delta():
    preferences = np.array([1] * 30 + [-1] * 18 + [0] * 12)
    r = sign_test(preferences, confidence=0.9)
    ref = stats.binomtest(30, 48, 0.5)
    assert r["p_value"] == pytest.approx(ref.pvalue)
    assert (r["low"], r["high"]) == pytest.approx(tuple(ref.proportion_ci(0.9, method="exact")))
    assert r["delta"] == pytest.approx((30 + 6) / 60 - 0.5) and r["share"] == pytest.approx(30 / 48)
    assert sign_test([0, 0, 0])["p_value"] == 1.0
    with pytest.raises(ValueError):
        sign_test([2, 0])


def test_the_vectorised_sign_test_is_the_exact_binomial_test():
    from rec_utils.rl.experiments import _sign_p  # the module's own helper, tested here

    for wins, losses in [(0, 0), (3, 0), (10, 10), (30, 18), (7, 25), (500, 440)]:
        expected = 1.0 if wins + losses == 0 else stats.binomtest(wins, wins + losses).pvalue
        assert float(_sign_p(wins, losses)) == pytest.approx(expected, rel=1e-9)


# --------------------------------------------------------------------------- the simulated users

def test_examination_probabilities():
    np.testing.assert_allclose(examination_probabilities(3, 2.0), [1, 1 / 4, 1 / 9])
    assert (examination_probabilities(5, 0.0) == 1).all()
    with pytest.raises(ValueError):
        examination_probabilities(3, -1.0)


def test_expected_clicks_and_true_effect_are_exact(population):
    expected = population.expected_clicks("good")
    like, lists = population._matrix, population.lists["good"]
    by_hand = (np.take_along_axis(like, lists, axis=1) / np.arange(1, 11)).sum(axis=1)
    np.testing.assert_allclose(expected, by_hand)
    assert population.true_effect("good", "random") == pytest.approx(
        expected.mean() - population.expected_clicks("random").mean())
    assert population.true_effect("good", "fair") > 0


def test_ab_simulation_has_the_expected_means_and_is_seeded(population):
    run = population.run_ab("random", "good", n_users=6000, n_days=10, n_pre_days=5, seed=1)
    assert isinstance(run, ABExperiment) and run.clicks.shape == (6000, 10) and run.pre_clicks.shape == (6000, 5)
    assert run.treated.sum() == 3000
    for arm, ranker in ((run.treated, "good"), (~run.treated, "random")):
        expected = population.expected_clicks(ranker)[run.profiles[arm]].mean()
        assert run.metric()[arm].mean() == pytest.approx(expected, abs=0.03)
    # the pre-period is on control for everyone
    assert run.covariate().mean() == pytest.approx(population.expected_clicks("random")[run.profiles].mean(), abs=0.03)
    result = run.analyse(cuped=True)
    assert result["low"] < population.true_effect("good", "random") < result["high"]
    assert result["variance_reduction"] > 0.1
    again = population.run_ab("random", "good", n_users=6000, n_days=10, n_pre_days=5, seed=1)
    np.testing.assert_array_equal(run.clicks, again.clicks)


def test_aa_tests_have_the_stated_false_positive_rate(population):
    p = np.array([population.run_ab("fair", "fair", n_users=200, n_days=4, n_pre_days=0, seed=s).analyse()["p_value"]
                  for s in range(400)])
    assert (p < 0.05).mean() == pytest.approx(0.05, abs=0.03)  # 3 standard errors of 400 tests
    assert (p < 0.2).mean() == pytest.approx(0.2, abs=0.06)


def test_interleaving_aa_has_no_more_false_positives_than_stated(population):
    # the same ranker on both sides: every click goes to a team by a fair coin
    p = np.array([population.run_interleaving("fair", "fair", n_users=100, n_days=3, seed=s).analyse()["p_value"]
                  for s in range(300)])
    assert (p < 0.05).mean() <= 0.05 + 0.035  # the sign test is exact, so at most alpha (up to noise)


def test_interleaving_simulation_matches_its_exact_distribution(population):
    run = population.run_interleaving("good", "fair", n_users=8000, n_days=3, seed=2)
    assert isinstance(run, InterleavingExperiment) and run.credit_a.shape == (8000, 3)
    difference = (run.credit_a - run.credit_b).mean()
    assert difference == pytest.approx(population.expected_credit("good", "fair"), abs=0.02)
    pmf = population.credit_difference_pmf("good", "fair", n_days=3)  # per profile, over -30..30
    assert pmf.shape == (40, 61) and np.allclose(pmf.sum(axis=1), 1)
    support = np.arange(-30, 31)
    assert (pmf @ support).mean() == pytest.approx(3 * population.expected_credit("good", "fair"))
    preference = run.preferences()
    p_win = pmf[run.profiles][:, support > 0].sum(axis=1).mean()
    assert (preference == 1).mean() == pytest.approx(p_win, abs=0.02)
    assert run.analyse()["p_value"] < 1e-6 and run.analyse()["wins"] > run.analyse()["losses"]


def test_the_fast_samplers_draw_the_exact_distributions(population):
    rng = np.random.default_rng(3)
    profiles = rng.integers(0, 40, 200_000)
    clicks = population._clicks_sampler("good", 6).draw(profiles, rng)
    assert clicks.mean() == pytest.approx(population.expected_clicks("good")[profiles].mean(), abs=0.005)
    slow = population.run_ab("good", "good", n_users=20_000, n_days=6, n_pre_days=0, seed=4).metric()
    assert clicks.var() == pytest.approx(slow.var(), rel=0.05)
    prefer = population._preference_sampler("good", "random", 4).draw(profiles, rng)
    run = population.run_interleaving("good", "random", n_users=20_000, n_days=4, seed=5).preferences()
    for value in (-1, 0, 1):
        assert (prefer == value).mean() == pytest.approx((run == value).mean(), abs=0.012)


def test_novelty_effect_fades_to_the_true_effect(population):
    curve = population.expected_daily_effect("good", "fair", n_days=10, novelty=0.5, novelty_decay=0.5)
    true = population.true_effect("good", "fair")
    assert (np.diff(curve) < 0).all() and curve[0] > true and curve[-1] == pytest.approx(true, abs=0.01)
    run = population.run_ab("fair", "good", n_users=20_000, n_days=10, n_pre_days=0, novelty=0.5,
                            novelty_decay=0.5, seed=6)
    daily = run.daily_effect()
    assert list(daily.columns) == ["difference", "low", "high", "p_value"] and len(daily) == 10
    assert daily["difference"].iloc[0] > daily["difference"].iloc[-1]
    short = run.analyse(days=2)
    assert short["low"] > true  # a two-day test overstates the effect
    assert short["difference"] == pytest.approx(curve[:2].mean(), abs=0.05)


def test_herding_lets_users_influence_each_other(population):
    quiet = population.run_ab("fair", "good", n_users=500, n_days=3, n_pre_days=2, seed=7)
    np.testing.assert_array_equal(
        quiet.clicks, population.run_ab("fair", "good", n_users=500, n_days=3, n_pre_days=2, herding=0.0, seed=7).clicks)
    crowd = population.run_ab("fair", "good", n_users=500, n_days=3, n_pre_days=2, herding=3.0, seed=7)
    assert crowd.clicks.mean() > quiet.clicks.mean()  # yesterday's clicks draw more clicks
    world = population.run_ab("fair", "good", n_users=300, share_treated=1.0, seed=0)
    assert world.treated.all()


def test_network_effect_has_no_bias_without_interference(population):
    r = network_effect(population, "random", "good", herding=0.0, n_users=4000, n_days=4, n_pre_days=1, seed=0)
    assert abs(r["bias"]) < 4 * np.hypot(r["ab"]["se"], r["global"]["se"])
    assert r["global"]["low"] < r["without_interference"] < r["global"]["high"]


def test_peeking_inflates_the_false_positive_rate(population):
    r = peeking_aa(population, "fair", n_users=200, n_days=8, n_repeats=120, seed=0)
    rates = r["rates"]["false_positive_rate"]
    assert rates["peeking every day"] >= rates["fixed horizon"]  # peeking also stops on the last day
    assert rates["peeking every day"] > 0.08 and rates["fixed horizon"] < 0.12
    assert r["first_significant_day"].sum() == round(rates["peeking every day"] * 120)


def test_compare_finds_the_better_ranker_with_fewer_users_for_interleaving(population):
    r = compare_ab_interleaving(population, "fair", "good", n_repeats=80, n_days=5, n_pre_days=5, n_boot=200, seed=0)
    assert r["true_effect"] > 0 and r["directions_agree"]
    power = r["power"]
    assert set(power.columns.get_level_values(0)) == {"A/B", "A/B + CUPED", "interleaving"}
    for method in ("A/B", "interleaving"):
        assert power[(method, "power")].iloc[-1] > 0.9 and power[(method, "power")].iloc[0] < 0.6
        assert (power[(method, "wrong")] < 0.05).all()
    needed = r["users_needed"]
    assert ((needed["low"] <= needed["users"]) & (needed["users"] <= needed["high"])).all()
    # the measured numbers land near the normal approximation's predictions
    assert (needed["users"] / needed["predicted"]).between(0.6, 1.6).all()
    assert set(r["ratios"].index) == {"A/B / interleaving", "A/B + CUPED / interleaving"}


def test_compare_on_the_same_seed_is_reproducible(population):
    first = compare_ab_interleaving(population, "fair", "good", n_repeats=20, n_days=2, n_pre_days=0, n_boot=20,
                                    grid=[8, 32, 128], seed=3)
    second = compare_ab_interleaving(population, "fair", "good", n_repeats=20, n_days=2, n_pre_days=0, n_boot=20,
                                     grid=[8, 32, 128], seed=3)
    pd.testing.assert_frame_equal(first["power"], second["power"])
    assert list(first["power"].index) == [8, 32, 128] and "A/B + CUPED" not in first["users_needed"].index


# --------------------------------------------------------------------------- with the package's recommenders

def test_population_from_fitted_recommenders_and_a_preference_model():
    data = generate_movielens_like(n_users=60, n_items=120, mean_ratings_per_user=30, seed=1)
    users, items = IdIndex(data.users["user_id"]), IdIndex(data.items["item_id"])
    rankers = {"popularity": PopularityRecommender().fit(data.ratings, users=users, items=items),
               "ease": EASE(l2=50.0).fit(data.ratings, users=users, items=items)}
    population = UserPopulation(data.truth, rankers, user_ids=users.ids, item_ids=items.ids, k=5,
                                threshold=data.rating_scale.like_threshold)
    assert population.lists["ease"].shape == (60, 5)
    seen = rankers["ease"].seen_.toarray().astype(bool)
    assert not np.take_along_axis(seen, population.lists["ease"], axis=1).any()  # never a rated item
    like = data.truth.like_probability(users.ids[:, None], population.lists["ease"] + 1)
    np.testing.assert_allclose(population.list_likes["ease"], like)
    assert np.isfinite(population.true_effect("ease", "popularity"))
    mf = BiasedMF(n_factors=4, n_epochs=3).fit(data.ratings, users=users, items=items)
    from_mf = UserPopulation(preferences_from_mf(mf, noise=0.9, scale=data.rating_scale), rankers, k=5)
    assert from_mf.n_profiles == 60 and "UserPopulation(60 profiles" in repr(from_mf)


def test_population_checks_its_inputs(population):
    like = np.full((3, 4), 0.5)
    lists = np.array([[1, 2], [2, 3], [3, 4]])
    with pytest.raises(TypeError, match="dict"):
        UserPopulation(like, [lists], k=2)
    with pytest.raises(ValueError, match="empty"):
        UserPopulation(like, {}, k=2)
    with pytest.raises(ValueError, match="fewer than k"):
        UserPopulation(like, {"a": np.array([[1, 2], [2, -1], [3, 4]])}, k=2)  # padded list
    with pytest.raises(ValueError, match="same item twice"):
        UserPopulation(like, {"a": np.array([[1, 1], [2, 3], [3, 4]])}, k=2)
    with pytest.raises(ValueError, match=r"\(n_profiles=3"):
        UserPopulation(like, {"a": lists[:2]}, k=2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        UserPopulation(like * 3, {"a": lists}, k=2)
    with pytest.raises(ValueError, match="threshold"):
        UserPopulation(like, {"a": lists}, k=2, threshold=4)
    with pytest.raises(ValueError, match="user_ids"):
        UserPopulation(like, {"a": lists}, k=2, user_ids=[1, 2])
    with pytest.raises(ValueError, match="one of the population's rankers"):
        population.run_ab("good", "nope", n_users=10)
    with pytest.raises(ValueError, match="n_users"):
        population.run_ab("good", "fair", n_users=0)
    with pytest.raises(ValueError, match="novelty_decay"):
        population.run_ab("good", "fair", n_users=10, novelty_decay=1.0)
    with pytest.raises(ValueError, match="herding"):
        population.run_ab("good", "fair", n_users=10, herding=-1.0)
    with pytest.raises(TypeError, match="seed"):
        population.run_ab("good", "fair", n_users=10, seed=1.5)
    with pytest.raises(ValueError, match="no pre-period"):
        population.run_ab("good", "fair", n_users=10, n_pre_days=0).analyse(cuped=True)
    with pytest.raises(ValueError, match="days"):
        population.run_ab("good", "fair", n_users=10, n_days=3).metric(days=4)
    with pytest.raises(ValueError, match="same ranker"):
        compare_ab_interleaving(population, "good", "good")
    with pytest.raises(TypeError, match="UserPopulation"):
        peeking_aa("population", "good")
    long_lists = UserPopulation(np.full((2, 30), 0.5), {"a": np.tile(np.arange(1, 15), (2, 1)),
                                                         "b": np.tile(np.arange(15, 29), (2, 1))}, k=14)
    with pytest.raises(ValueError, match="k <= 12"):
        long_lists.run_interleaving("a", "b", n_users=5)
