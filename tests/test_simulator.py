"""The user simulator of notebook 09: a well-behaved, seeded gymnasium environment."""

import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

from rec_utils._checks import NotFittedError
from rec_utils.models.classical import EASE, BiasedMF
from rec_utils.rl.simulator import Catalogue, RecommendationEnv, build_catalogue, preferences_from_mf
from rec_utils.data.synthetic import generate_movielens_like


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
