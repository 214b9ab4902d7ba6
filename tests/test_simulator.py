"""The user simulator of notebook 10: a well-behaved, seeded gymnasium environment."""

import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

from rec_utils._checks import NotFittedError
from rec_utils.data import Dataset, RatingScale, load_synthetic
from rec_utils.data.synthetic import generate_movielens_like
from rec_utils.models.classical import EASE, BiasedMF, FunkSVD, ImplicitALS, PopularityRecommender
from rec_utils.rl.simulator import (
    Catalogue, FittedPreferences, RecommendationEnv, build_catalogue, catalogue_min_ratings, preferences_from_mf,
)


@pytest.fixture
def catalogue():
    rng = np.random.default_rng(0)
    genres = np.zeros((6, 3))
    genres[np.arange(6), np.arange(6) % 3] = 1
    genres[0, 1] = 1  # item 0 has two genres
    return Catalogue(like=rng.random((4, 6)), appeal=np.linspace(0.05, 0.95, 6), item_genres=genres,
                     user_features=rng.normal(size=(4, 3)))


def rollout(env, seed, actions=None):
    obs, _ = env.reset(seed=seed)
    trace, done, t = [obs], False, 0
    while not done:
        action = actions[t % len(actions)] if actions else t % env.action_space.n
        obs, reward, terminated, truncated, info = env.step(action)
        trace += [obs, reward, terminated, truncated]
        done, t = terminated or truncated, t + 1
    return trace


def test_check_env_passes(catalogue):
    check_env(RecommendationEnv(catalogue), skip_render_check=True)


def test_spaces(catalogue):
    env = RecommendationEnv(catalogue, horizon=7)
    assert env.action_space.n == 6
    assert env.observation_space.shape == (6 + 3 + 2,)
    assert env.observation_space.dtype == np.float32
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs) and 0 <= info["user"] < 4
    np.testing.assert_allclose(obs[:6], catalogue.like[info["user"]])
    for _ in range(7):
        obs, *_ = env.step(0)
        assert env.observation_space.contains(obs)


def test_seeded_determinism(catalogue):
    env_a, env_b = RecommendationEnv(catalogue), RecommendationEnv(catalogue)
    for a, b in zip(rollout(env_a, 3), rollout(env_b, 3)):
        np.testing.assert_array_equal(a, b)
    lengths = {len(rollout(env_a, seed)) for seed in range(20)}
    assert len(lengths) > 1, "different seeds should give different sessions"


def test_terminates_or_truncates_at_the_horizon(catalogue):
    env = RecommendationEnv(catalogue, horizon=5, leave_base=0.0, leave_slope=0.0)
    trace = rollout(env, 0)
    assert len(trace) == 1 + 4 * 5 and trace[-1] is True and trace[-2] is False  # truncated, not terminated
    leaving = RecommendationEnv(catalogue, horizon=50, leave_base=1.0)
    trace = rollout(leaving, 0)
    assert len(trace) == 1 + 4 and trace[-2] is True and trace[-1] is False  # left after one step


def test_dissatisfaction_raises_the_leave_probability(catalogue):
    disliked = Catalogue(like=np.zeros((1, 2)), appeal=[1.0, 1.0], item_genres=[[1], [1]])
    env = RecommendationEnv(disliked, appeal_weight=1.0, boredom=0.0, leave_base=0.0, leave_slope=0.1, horizon=3)
    env.reset(seed=0)
    leave = [env.step(0)[4]["leave_probability"] for _ in range(2)]
    assert 0 < leave[0] < leave[1]  # every click is disliked: dissatisfaction keeps growing


def test_boredom_lowers_appetite_and_fades(catalogue):
    env = RecommendationEnv(catalogue, leave_base=0.0, leave_slope=0.0)
    env.reset(seed=0)
    fresh = env.click_probabilities()
    env.step(3)  # genre 0
    after = env.click_probabilities()
    assert after[3] < fresh[3] and after[0] < fresh[0]  # same item, and item 0 shares genre 0
    np.testing.assert_allclose(after[[1, 2, 4, 5]], fresh[[1, 2, 4, 5]])  # other genres untouched
    for _ in range(30):
        env.step(1)  # genre 1 only: genre 0 recovers (novelty)
    assert env.click_probabilities()[3] == pytest.approx(fresh[3], rel=1e-4)


def test_reset_options_and_initial_table(catalogue):
    env = RecommendationEnv(catalogue)
    env.reset(seed=0, options={"user": 2})
    assert env.user == 2
    np.testing.assert_allclose(env.click_probabilities(), env.initial_click_probabilities()[2])
    with pytest.raises(ValueError, match="user must be an integer >= 0 and <= 3, got 9"):
        env.reset(options={"user": 9})
    with pytest.raises(TypeError, match="user must be an integer"):
        env.reset(options={"user": "2"})


@pytest.mark.parametrize("kwargs, error, message", [
    ({"horizon": 0}, ValueError, "horizon"), ({"horizon": 2.5}, TypeError, "horizon"),
    ({"appeal_weight": 1.5}, ValueError, "appeal_weight"), ({"fatigue_decay": 1.0}, ValueError, "fatigue_decay"),
    ({"boredom": -1}, ValueError, "boredom"), ({"boredom": None}, TypeError, "boredom"),
    ({"users": [7]}, ValueError, "users must lie in"), ({"users": []}, ValueError, "users is empty"),
])
def test_env_validation(catalogue, kwargs, error, message):
    with pytest.raises(error, match=message):
        RecommendationEnv(catalogue, **kwargs)


def test_step_validation(catalogue):
    env = RecommendationEnv(catalogue)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an item position"):
        env.step(6)
    with pytest.raises(TypeError, match="Catalogue"):
        RecommendationEnv({"like": [[0.5, 0.5]]})


@pytest.mark.parametrize("kwargs, error, message", [
    ({"like": [[0.5, 1.5]]}, ValueError, "probabilities"), ({"like": [0.5, 0.5]}, ValueError, "like must be 2-dimensional"),
    ({"like": [[0.5, np.nan]]}, ValueError, "like contains NaN"), ({"like": [["a", "b"]]}, TypeError, "like"),
    ({"appeal": [0.5]}, ValueError, "appeal"), ({"item_genres": [[1], [0]]}, ValueError, "at least one genre"),
    ({"item_genres": [[1]]}, ValueError, "one row per item"),
    ({"user_features": [[1.0], [2.0]]}, ValueError, "one row per user"),
])
def test_catalogue_validation(kwargs, error, message):
    arguments = {"like": [[0.5, 0.5]], "appeal": [0.2, 0.8], "item_genres": [[1], [1]], **kwargs}
    with pytest.raises(error, match=message):
        Catalogue(**arguments)


def test_build_catalogue_from_synthetic_truth():
    data = generate_movielens_like(n_users=60, n_items=120, mean_ratings_per_user=30, seed=1)
    cat = build_catalogue(data, data.truth, n_items=8, min_ratings=5)
    assert cat.like.shape == (60, 8) and cat.user_features.shape[0] == 60
    assert sorted(cat.appeal.tolist()) == pytest.approx((np.arange(8) + 0.5) / 8)
    counts = data.ratings["item_id"].value_counts()
    assert (counts.reindex(cat.item_ids).to_numpy() >= 5).all()
    np.testing.assert_allclose(cat.like[:, 0], data.truth.like_probability(np.arange(1, 61), cat.item_ids[0]), rtol=1e-5)
    with pytest.raises(ValueError, match="need 500"):
        build_catalogue(data, data.truth, n_items=500)


def test_preferences_from_mf():
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [1, 2, 1, 2, 1], "rating": [5.0, 1.0, 4.0, 2.0, 5.0]})
    model = BiasedMF(n_factors=2, reg=0.1).fit(ratings)
    truth = preferences_from_mf(model, noise=0.5)
    np.testing.assert_allclose(truth.latent([1, 2], [2, 1]), model.predict([1, 2], [2, 1]), rtol=1e-5)
    with pytest.raises(NotFittedError, match="BiasedMF is not fitted yet"):
        preferences_from_mf(BiasedMF())
    with pytest.raises(TypeError, match="EASE has no user_factors_"):
        preferences_from_mf(EASE(l2=1.0).fit(ratings))
    with pytest.raises(ValueError, match="noise"):
        preferences_from_mf(model, noise=0)
    with pytest.raises(TypeError, match="RatingScale"):
        preferences_from_mf(model, scale=(1, 5))
    assert preferences_from_mf(model).noise == pytest.approx(model.loss_[-1])  # default: the training RMSE


def test_preferences_from_mf_addresses_ids_through_the_model_index():
    """Ids with gaps (as in ml-latest-small) and half stars: codes follow the model's indexes."""
    ratings = pd.DataFrame({"user_id": [10, 10, 30, 30, 50, 50], "item_id": [7, 900, 7, 900, 7, 55],
                            "rating": [5.0, 0.5, 4.5, 1.0, 4.0, 2.5]})
    scale = RatingScale.infer(ratings["rating"])
    model = FunkSVD(n_factors=2, n_epochs=30, learning_rate=0.05).fit(ratings)
    truth = preferences_from_mf(model, scale=scale)
    assert isinstance(truth, FittedPreferences) and len(truth.levels) == 10
    np.testing.assert_array_equal(truth.user_codes([50, 10]), [3, 1])
    np.testing.assert_array_equal(truth.item_codes([900, 7]), [3, 1])
    np.testing.assert_allclose(truth.latent(truth.user_codes([30]), truth.item_codes([900])), model.predict([30], [900]),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="not in the index"):
        truth.item_codes([8])


def test_preferences_from_implicit_feedback():
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3], "item_id": [1, 2, 1, 2, 1, 3], "rating": 1.0})
    model = ImplicitALS(n_factors=2, reg=0.01).fit(ratings)
    truth = preferences_from_mf(model, scale=RatingScale.implicit_feedback())
    np.testing.assert_array_equal(truth.levels, [0.0, 1.0])
    seen = model.seen_.tocoo()
    residual = 1 - (model.user_factors_[seen.row] * model.item_factors_[seen.col]).sum(axis=1)
    assert truth.noise == pytest.approx(np.sqrt(np.mean(residual ** 2)), rel=1e-5)
    like = truth.like_probability(truth.user_codes([1, 1]), truth.item_codes([1, 3]), 1.0)
    assert ((like >= 0) & (like <= 1)).all() and like[0] > like[1]  # the item they chose beats one they did not
    with pytest.raises(TypeError, match="ImplicitALS"):
        preferences_from_mf(PopularityRecommender().fit(ratings), scale=RatingScale.implicit_feedback())
    with pytest.raises(TypeError, match="biased matrix factorisation"):
        preferences_from_mf(model)  # a rating scale needs biases


def test_catalogue_min_ratings_rule():
    # 150 items rated 50 times, 250 items rated 5 times, by 2,000 users: 2% of the users is 40 ratings
    counts = np.r_[np.full(150, 50), np.full(250, 5)]
    items = np.repeat(np.arange(1, 401), counts)
    ratings = pd.DataFrame({"user_id": np.arange(len(items)) % 2000 + 1, "item_id": items})
    assert catalogue_min_ratings(ratings, n_items=20) == 40  # 100 items needed, 150 reach 40
    assert catalogue_min_ratings(ratings.assign(user_id=ratings["user_id"] % 500 + 1), n_items=20) == 20  # floor of 20
    assert catalogue_min_ratings(ratings, n_items=40) == 5  # 200 needed: the bar drops to the 200th item's count
    with pytest.raises(ValueError):
        catalogue_min_ratings(ratings.iloc[:0])


def test_build_catalogue_on_catalogue_heavy_data_without_demographics():
    data = load_synthetic("synthetic-latest-small", quick=True)
    assert data.users is None
    cat = build_catalogue(data, data.truth, n_items=10, seed=0)
    assert cat.n_users == data.n_users and cat.n_items == 10
    rule = catalogue_min_ratings(data.ratings, 10)
    assert (data.ratings["item_id"].value_counts().reindex(cat.item_ids).to_numpy() >= rule).all()
    users = np.unique(data.ratings["user_id"])
    threshold = data.rating_scale.like_threshold
    np.testing.assert_allclose(cat.like[:, 3], data.truth.like_probability(users, cat.item_ids[3], threshold),
                               rtol=1e-5)


def test_build_catalogue_from_a_fitted_model_without_genres_or_users_table():
    data = load_synthetic("synthetic", quick=True)
    no_side = Dataset(name="plain", ratings=data.ratings.drop(columns="timestamp"),
                      items=data.items.assign(genres=""), users=None, source="test")
    model = BiasedMF(n_factors=4, n_epochs=3).fit(no_side.ratings)
    cat = build_catalogue(no_side, preferences_from_mf(model, scale=no_side.rating_scale), n_items=6, seed=1)
    np.testing.assert_array_equal(cat.item_genres, np.eye(6))  # each item its own "genre"
    assert cat.genre_names == tuple(f"item {i}" for i in cat.item_ids)
    assert cat.user_features.shape == (no_side.n_users, 4 + 2)
    check_env(RecommendationEnv(cat), skip_render_check=True)


def test_build_catalogue_on_implicit_feedback():
    data = load_synthetic("synthetic", quick=True)
    clicks = data.ratings[data.ratings["rating"] >= 4].assign(rating=1.0)
    implicit = Dataset(name="clicks", ratings=clicks, items=data.items, users=None, source="test")
    assert implicit.rating_scale.implicit
    model = ImplicitALS(n_factors=4).fit(clicks)
    cat = build_catalogue(implicit, preferences_from_mf(model, scale=implicit.rating_scale), n_items=5)
    assert cat.like.shape == (clicks["user_id"].nunique(), 5) and 0 < cat.like.mean() < 1


def test_the_logged_view_shows_the_recommenders_predictions_not_the_truth():
    catalogue = Catalogue(like=[[0.9, 0.1], [0.2, 0.8]], appeal=[0.5, 0.5], item_genres=[[1, 0], [0, 1]])
    predicted = np.array([[0.6, 0.3], [0.4, 0.5]], np.float32)
    oracle = RecommendationEnv(catalogue)
    logged = RecommendationEnv(catalogue, observed_like=predicted, leave_base=0.0, leave_slope=0.0)
    assert oracle.oracle_view and not logged.oracle_view
    check_env(logged, skip_render_check=True)
    observation, info = logged.reset(seed=0, options={"user": 1})
    np.testing.assert_allclose(observation[:2], predicted[1])
    estimated, shown = 0.0, 0
    for step in range(6):
        observation, reward, _, _, _ = logged.step(shown)
        estimated = 0.8 * estimated + ((1 - predicted[1, shown]) if reward else logged.ignore_cost)
        assert observation[-2] == pytest.approx(estimated, abs=1e-6)  # the system's estimate, not the truth
        shown = 1 - shown
    oracle.reset(seed=0, options={"user": 1})
    np.testing.assert_allclose(oracle.step(0)[0][:2], catalogue.like[1])
    logged.reset(seed=1, options={"user": 0})
    logged.step(0)
    estimated = logged.click_probabilities(like=predicted[0])
    truth = logged.click_probabilities()
    assert not np.allclose(estimated, truth)  # the same state, read with the predictions instead of the truth
    np.testing.assert_allclose(estimated / truth, (0.3 * predicted[0] + 0.7 * 0.5) / (0.3 * catalogue.like[0] + 0.7 * 0.5),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="one probability per item"):
        logged.click_probabilities(like=[0.5])
    with pytest.raises(ValueError, match="shape"):
        RecommendationEnv(catalogue, observed_like=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        RecommendationEnv(catalogue, observed_like=np.full((2, 2), 1.5))
