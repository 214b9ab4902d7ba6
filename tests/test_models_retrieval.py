"""Two-tower retrieval (rec_utils.models.retrieval): the side features, the sampling probabilities,
the in-batch logits with and without the log-Q correction (NumPy and TensorFlow paths against a
hand computation), and the recommender on small synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rec_utils.data import IdIndex, generate_movielens_like, stratified_split
from rec_utils.models.retrieval import (
    TwoTower, encode_side_features, in_batch_logits, latest_items, sampling_log_probability,
)


@pytest.fixture(scope="module")
def data():
    return generate_movielens_like(n_users=30, n_items=40, mean_ratings_per_user=20, seed=0)


@pytest.fixture(scope="module")
def fitted(data):
    users = data.users.set_index("user_id")[["age", "gender", "occupation"]]
    return TwoTower(embedding_dim=8, hidden=(16,), history_len=5, n_epochs=3, batch_size=64, seed=0).fit(
        data.ratings, user_features=users, item_features=data.genre_matrix())


# --------------------------------------------------------------------------- features

def test_encode_side_features_scales_numbers_and_one_hot_encodes_categories():
    table = pd.DataFrame({"age": [20.0, np.nan, 40.0], "job": ["a", "b", "a"], "flag": [1, 1, 1]}, index=[5, 6, 7])
    encoded = encode_side_features(table, [7, 5, 6, 99])
    # age: the missing value becomes the median (30), then mean 30 and standard deviation sqrt(200/3)
    sd = np.sqrt(200 / 3)
    np.testing.assert_allclose(encoded[:, 0], [10 / sd, -10 / sd, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(encoded[:, 1:3], [[1, 0], [1, 0], [0, 1], [0, 0]])  # job=a, job=b
    np.testing.assert_array_equal(encoded[:, 3], [0, 0, 0, 0])  # a constant column carries nothing
    assert encoded.dtype == np.float32


def test_encode_side_features_refuses_bad_tables():
    with pytest.raises(TypeError, match="DataFrame"):
        encode_side_features([[1, 2]], [1])
    with pytest.raises(ValueError, match="duplicate"):
        encode_side_features(pd.DataFrame({"a": [1, 2]}, index=[1, 1]), [1])
    with pytest.raises(ValueError, match="empty"):
        encode_side_features(pd.DataFrame(index=[1, 2]), [1])


def test_sampling_log_probability_is_the_frequency_in_the_stream():
    log_q = sampling_log_probability(np.array([2, 0, 2, 2, 1, 2]), n_items=4)
    np.testing.assert_allclose(np.exp(log_q), [1 / 6, 1 / 6, 4 / 6, 1 / 7], rtol=1e-6)
    with pytest.raises(ValueError, match="0..3"):
        sampling_log_probability(np.array([4]), n_items=4)
    with pytest.raises(ValueError, match="integer positions"):
        sampling_log_probability(np.array([0.5]), n_items=4)


def test_latest_items_keeps_the_most_recent_and_works_without_timestamps():
    r = pd.DataFrame({"user_id": [1, 1, 1, 1, 2], "item_id": [10, 20, 30, 10, 30],
                      "timestamp": [5, 1, 3, 0, 2]})  # (1, 10) twice: the later row counts
    users, items = IdIndex([1, 2, 3]), IdIndex([10, 20, 30])
    np.testing.assert_array_equal(latest_items(r, users, items, 2), [[3, 1], [0, 3], [0, 0]])
    np.testing.assert_array_equal(latest_items(r.drop(columns="timestamp"), users, items, 3), [[1, 2, 3], [0, 0, 3],
                                                                                               [0, 0, 0]])


# --------------------------------------------------------------------------- logits

def test_log_q_subtracts_the_log_sampling_probability_from_the_uncorrected_logits():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    positions = np.array([0, 1, 2, 3, 4])
    log_q = np.log(rng.uniform(0.01, 0.5, 5))
    plain = in_batch_logits(u, v, positions, temperature=0.5)
    np.testing.assert_allclose(plain, u @ v.T / 0.5)
    corrected = in_batch_logits(u, v, positions, log_q=log_q, temperature=0.5)
    np.testing.assert_allclose(corrected, plain - log_q[None, :])
    # a popular item (large q) loses more as a negative: the correction favours it as a positive
    softmax = np.exp(corrected - corrected.max(axis=1, keepdims=True))
    assert softmax.shape == (5, 5)


def test_accidental_hits_are_masked_off_the_diagonal_only():
    u = v = np.eye(3)
    logits = in_batch_logits(u, v, [4, 9, 4])
    assert logits[0, 2] == logits[2, 0] == -1e9
    assert logits[0, 0] == logits[2, 2] == 1.0 and logits[0, 1] == 0.0
    kept = in_batch_logits(u, v, [4, 9, 4], remove_accidental_hits=False)
    np.testing.assert_array_equal(kept, np.eye(3))


def test_the_tensorflow_path_gives_the_numpy_logits():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    u, v = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(6, 4)).astype(np.float32)
    positions = np.array([3, 1, 3, 0, 2, 1], dtype=np.int32)
    log_q = np.log(rng.uniform(0.05, 0.5, 6)).astype(np.float32)
    expected = in_batch_logits(u, v, positions, log_q, temperature=0.2)
    found = in_batch_logits(tf.constant(u), tf.constant(v), tf.constant(positions), tf.constant(log_q), 0.2)
    np.testing.assert_allclose(found.numpy(), expected, rtol=1e-5, atol=1e-4)


# --------------------------------------------------------------------------- the model

def test_two_tower_exposes_vectors_that_score_by_dot_product(data, fitted):
    assert fitted.user_vectors_.shape == (len(fitted.users_), 8)
    assert fitted.item_vectors_.shape == (len(fitted.items_), 8)
    np.testing.assert_allclose(np.linalg.norm(fitted.item_vectors_, axis=1), 1.0, rtol=1e-5)  # normalised
    users = fitted.users_.ids[:4]
    np.testing.assert_allclose(fitted.score(users), fitted.user_embeddings(users) @ fitted.item_vectors_.T, rtol=1e-6)
    assert fitted.user_features_.shape[1] > 3 and fitted.item_features_.shape[1] == data.genre_matrix().shape[1]
    assert len(fitted.history_["loss"]) == 3 and np.isfinite(fitted.history_["loss"]).all()


def test_a_training_example_never_sees_its_own_item_in_the_history(fitted):
    user = 0
    tokens = fitted.histories_[user][fitted.histories_[user] > 0]
    target = tokens[-1] - 1
    other = (target + 1) % len(fitted.items_)
    user_inputs, item_inputs = fitted._inputs(np.array([user, user]), np.array([target, other]))
    assert target + 1 not in user_inputs["history"][0] and target + 1 in user_inputs["history"][1]
    np.testing.assert_array_equal(item_inputs["item"], [target, other])


def test_two_tower_works_with_ids_only(data):
    model = TwoTower(embedding_dim=4, history_len=0, n_epochs=2, batch_size=32, seed=0).fit(data.ratings)
    assert model.user_features_.shape[1] == model.item_features_.shape[1] == model.histories_.shape[1] == 0
    assert set(model.user_tower_.input) == {"user"} and set(model.item_tower_.input) == {"item"}
    assert model.score(model.users_.ids[:2]).shape == (2, len(model.items_))


def test_the_log_q_switch_changes_training_and_nothing_else(data):
    settings = dict(embedding_dim=4, history_len=0, n_epochs=2, batch_size=32, seed=0)
    with_q = TwoTower(logq_correction=True, **settings).fit(data.ratings)
    without_q = TwoTower(logq_correction=False, **settings).fit(data.ratings)
    np.testing.assert_array_equal(with_q.log_q_, without_q.log_q_)
    assert not np.allclose(with_q.item_vectors_, without_q.item_vectors_)


def test_two_tower_learns_and_records_a_validation_curve(data):
    train, validation = stratified_split(data.ratings, 0.25, seed=0)
    model = TwoTower(embedding_dim=8, history_len=5, n_epochs=6, batch_size=64, learning_rate=0.02, seed=0)
    model.fit(train, items=IdIndex(data.ratings["item_id"]), validation=validation)
    assert len(model.history_["val_recall@100"]) == 6
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_two_tower_shows_a_progress_bar_when_verbose(data, capsys):
    TwoTower(embedding_dim=4, history_len=0, n_epochs=1, batch_size=64, seed=0, verbose=1).fit(data.ratings)
    assert "TwoTower" in capsys.readouterr().out


@pytest.mark.parametrize("parameter, value, error", [
    ("hidden", 16, TypeError), ("hidden", (16, 0), ValueError), ("temperature", 0.0, ValueError),
    ("batch_size", 1, ValueError), ("logq_correction", "yes", TypeError), ("history_len", -1, ValueError),
])
def test_two_tower_refuses_bad_settings(data, parameter, value, error):
    with pytest.raises(error, match=parameter):
        TwoTower(**{parameter: value}).fit(data.ratings)


def test_two_tower_refuses_bad_side_information(data):
    with pytest.raises(TypeError, match="table"):
        TwoTower(n_epochs=1).fit(data.ratings, item_features=np.ones((3, 2)))
    with pytest.raises(TypeError, match="validation"):
        TwoTower(n_epochs=1).fit(data.ratings, validation=[1, 2])
