import numpy as np
import pandas as pd
import pytest

from rec_utils.data.synthetic import generate_movielens_like

ML100K_SHARES = [0.0611, 0.1137, 0.2715, 0.3417, 0.2120]


@pytest.fixture(scope="module")
def data():
    return generate_movielens_like(seed=0)


def test_same_seed_same_data_other_seed_other_data():
    a = generate_movielens_like(n_users=60, n_items=100, mean_ratings_per_user=30, seed=7)
    b = generate_movielens_like(n_users=60, n_items=100, mean_ratings_per_user=30, seed=7)
    c = generate_movielens_like(n_users=60, n_items=100, mean_ratings_per_user=30, seed=8)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    assert not a.ratings.equals(c.ratings)


def test_shape_of_ml100k(data):
    r = data.ratings
    assert list(r.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert data.n_users == 943 and len(data.items) == 1682 and data.n_items > 1500
    assert 90_000 <= len(r) <= 110_000
    assert r.groupby("user_id").size().min() >= 20
    assert not r.duplicated(["user_id", "item_id"]).any()
    shares = r["rating"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, ML100K_SHARES, atol=0.01)


def test_long_tail_and_activity_skew(data):
    per_item = data.ratings.groupby("item_id").size().sort_values(ascending=False)
    top_tenth = per_item.iloc[: len(per_item) // 10].sum() / per_item.sum()
    assert top_tenth > 0.3  # ML-100K: about 0.33
    per_user = data.ratings.groupby("user_id").size()
    assert per_user.max() > 5 * per_user.median()


def test_timestamps_span_months_and_come_in_sessions(data):
    t = data.ratings.sort_values(["user_id", "timestamp"])
    assert (t["timestamp"].max() - t["timestamp"].min()) > 150 * 86400
    gaps = t.groupby("user_id")["timestamp"].diff().dropna()
    assert (gaps < 600).mean() > 0.5 and (gaps > 86400).any()


def test_demographics_correlate_with_taste(data):
    frame = data.ratings.merge(data.users, on="user_id").merge(data.items, on="item_id")
    romance = frame[frame["genres"].str.contains("Romance")]
    share_f = (romance["gender"] == "F").mean()
    share_all = (frame["gender"] == "F").mean()
    assert share_f > share_all + 0.03


def test_truth_explains_the_ratings(data):
    truth, r = data.truth, data.ratings
    expected = truth.expected_rating(r["user_id"], r["item_id"])
    assert np.corrcoef(expected, r["rating"])[0, 1] > 0.5
    probs = truth.rating_probabilities([1, 2], [3, 4])
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0)
    like = truth.like_probability([1], [3])
    assert 0 <= like[0] <= 1
    assert truth.score_matrix([1, 2]).shape == (2, 1682)
    with pytest.raises(ValueError, match="user ids must lie in"):
        truth.latent([0], [1])


def test_bad_sizes():
    with pytest.raises(ValueError, match="n_users must be an integer >= 2"):
        generate_movielens_like(n_users=1)
    with pytest.raises(TypeError, match="n_items must be an integer"):
        generate_movielens_like(n_items=100.0)
    with pytest.raises(ValueError, match="mean_ratings_per_user must be a number >= 20 and <= 30"):
        generate_movielens_like(n_users=10, n_items=30, mean_ratings_per_user=50)
    with pytest.raises(ValueError, match="ratings_like must be one of"):
        generate_movielens_like(n_users=10, n_items=30, mean_ratings_per_user=25, ratings_like="imdb")
