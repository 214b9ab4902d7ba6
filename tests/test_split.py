import numpy as np
import pandas as pd
import pytest

from rec_utils.data import IdIndex, interaction_matrix, leave_last_k_out, random_split, sample_candidates, stratified_split, temporal_split
from rec_utils.data.synthetic import generate_movielens_like


@pytest.fixture(scope="module")
def ratings():
    return generate_movielens_like(n_users=120, n_items=300, mean_ratings_per_user=40, seed=3).ratings


def _keys(frame):
    return set(zip(frame["user_id"], frame["item_id"]))


@pytest.mark.parametrize("split", [random_split, stratified_split, temporal_split])
def test_splits_partition_the_rows_and_are_seeded(ratings, split):
    train, test = split(ratings)
    assert len(train) + len(test) == len(ratings)
    assert not _keys(train) & _keys(test)
    assert _keys(train) | _keys(test) == _keys(ratings)
    again = split(ratings)
    pd.testing.assert_frame_equal(test, again[1])


def test_random_split_size_and_seed(ratings):
    _, test = random_split(ratings, test_size=0.2, seed=1)
    assert len(test) == round(0.2 * len(ratings))
    assert not random_split(ratings, 0.2, seed=2)[1].equals(test)


def test_stratified_split_is_per_user(ratings):
    train, test = stratified_split(ratings, test_size=0.25, seed=42)
    sizes = ratings.groupby("user_id").size()
    test_sizes = test.groupby("user_id").size().reindex(sizes.index, fill_value=0)
    assert (test_sizes == np.minimum(np.round(sizes * 0.25), sizes - 1)).all()
    assert set(train["user_id"]) == set(ratings["user_id"])


def test_temporal_split_puts_the_future_in_test(ratings):
    train, test = temporal_split(ratings, test_size=0.3)
    assert train["timestamp"].max() <= test["timestamp"].min()
    _, warm = temporal_split(ratings, test_size=0.3, drop_cold=True)
    assert warm["user_id"].isin(train["user_id"]).all() and warm["item_id"].isin(train["item_id"]).all()


def test_leave_last_k_out(ratings):
    train, test = leave_last_k_out(ratings, k=2)
    assert (test.groupby("user_id").size() == 2).all()
    last_train = train.groupby("user_id")["timestamp"].max()
    first_test = test.groupby("user_id")["timestamp"].min()
    assert (last_train.reindex(first_test.index) <= first_test).all()


def test_leave_last_out_keeps_short_histories_in_train():
    tiny = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 3], "rating": 4.0, "timestamp": [1, 2, 3]})
    train, test = leave_last_k_out(tiny, k=1)
    assert test[["user_id", "item_id"]].values.tolist() == [[1, 2]]
    assert 2 in set(train["user_id"])


def test_candidates_hold_the_positive_and_unseen_negatives(ratings):
    train, test = leave_last_k_out(ratings)
    items = np.arange(1, 301)
    cands = sample_candidates(test, ratings, items, n_negatives=50, seed=0)
    assert cands.shape == (len(test), 51)
    assert (cands[:, 0] == test["item_id"].to_numpy()).all()
    seen = ratings.groupby("user_id")["item_id"].apply(set)
    for user, row in zip(test["user_id"], cands):
        assert len(set(row)) == 51 and not set(row[1:]) & seen[user]
    assert (sample_candidates(test, ratings, items, 50, seed=0) == cands).all()


def test_candidates_refuse_impossible_requests():
    tiny = pd.DataFrame({"user_id": [1, 1], "item_id": [1, 2], "rating": 4.0, "timestamp": [1, 2]})
    with pytest.raises(ValueError, match="fewer than n_negatives"):
        sample_candidates(tiny.tail(1), tiny, [1, 2, 3], n_negatives=2)


def test_bad_input_is_explained(ratings):
    with pytest.raises(ValueError, match="lacks column"):
        random_split(ratings.drop(columns="item_id"))
    with pytest.raises(ValueError, match="test_size must be a number > 0 and < 1"):
        stratified_split(ratings, test_size=1.5)
    with pytest.raises(TypeError, match="test_size must be a number"):
        random_split(ratings, test_size="25%")
    with pytest.raises(ValueError, match="empty"):
        temporal_split(ratings.iloc[:0])
    with pytest.raises(TypeError, match="DataFrame"):
        random_split(ratings.to_numpy())
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        leave_last_k_out(ratings, k=0)
    with pytest.raises(TypeError, match="min_train must be an integer"):
        leave_last_k_out(ratings, min_train=1.5)


def test_id_index_and_matrix():
    frame = pd.DataFrame({"user_id": [10, 20, 10], "item_id": [7, 7, 9], "rating": [4.0, 2.0, 5.0], "timestamp": 0})
    users, items = IdIndex(frame["user_id"]), IdIndex([7, 8, 9])
    matrix = interaction_matrix(frame, users, items, value="rating")
    assert matrix.toarray().tolist() == [[4, 0, 5], [2, 0, 0]]
    assert items.positions([9, 4], unknown="mask").tolist() == [2, -1]
    with pytest.raises(ValueError, match="not in the index"):
        items.positions([4])
