import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tensorflow")

from rec_utils._checks import NotFittedError  # noqa: E402
from rec_utils.models.autoencoders import MultDAE, build_mult_dae, multinomial_log_loss, user_batches  # noqa: E402
from rec_utils.evaluation import evaluate_model  # noqa: E402
from rec_utils.data import IdIndex, stratified_split  # noqa: E402
from rec_utils.data.synthetic import generate_movielens_like  # noqa: E402


@pytest.fixture(scope="module")
def ratings():
    return generate_movielens_like(n_users=60, n_items=80, mean_ratings_per_user=20, seed=5).ratings


def test_multinomial_log_loss_is_the_negative_log_likelihood_of_the_items():
    targets = np.array([[1, 0, 1], [0, 1, 0]], dtype="float32")
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]], dtype="float32")
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(targets * log_softmax).sum(axis=1)
    np.testing.assert_allclose(np.asarray(multinomial_log_loss(targets, logits)), expected, rtol=1e-6)


def test_build_mult_dae_names_its_layers_and_is_seeded():
    model = build_mult_dae(30, hidden=5, dropout=0.3, seed=1)
    assert [layer.name for layer in model.layers] == ["items_seen", "normalise", "noise", "encoder", "decoder"]
    assert model.output.shape == (None, 30)
    assert model.get_layer("encoder").kernel.shape == (30, 5)
    again = build_mult_dae(30, hidden=5, dropout=0.3, seed=1)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n_items": 1}, ValueError, "n_items"), ({"n_items": 10, "hidden": 0}, ValueError, "hidden"),
    ({"n_items": 10, "hidden": 2.0}, TypeError, "hidden"),
    ({"n_items": 10, "dropout": 1.0}, ValueError, "dropout"), ({"n_items": 10, "l2": -1.0}, ValueError, "l2"),
    ({"n_items": "10"}, TypeError, "n_items"),
])
def test_build_mult_dae_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        build_mult_dae(**kwargs)


@pytest.mark.parametrize("kwargs, error", [
    ({"epochs": 0}, ValueError), ({"batch_size": 0}, ValueError), ({"learning_rate": 0.0}, ValueError),
    ({"patience": 0}, ValueError), ({"hidden": 8.0}, TypeError), ({"dropout": 1.0}, ValueError),
    ({"seed": 1.5}, TypeError), ({"verbose": 3}, ValueError),
])
def test_mult_dae_rejects_bad_training_settings_at_fit(kwargs, error, ratings):
    model = MultDAE(**kwargs)  # stored as given: the error comes from fit
    (name, value), = kwargs.items()
    assert model.get_params()[name] is value
    with pytest.raises(error, match=name):
        model.fit(ratings)


def test_mult_dae_scores_every_item_and_recommends_unseen_ones(ratings):
    items = IdIndex(np.arange(1, 101))  # 20 items nobody rated: still scorable
    model = MultDAE(hidden=8, epochs=3, batch_size=16).fit(ratings, items=items)
    assert len(model.history_["loss"]) == 3 and model.best_epoch_ == 3
    users = np.unique(ratings["user_id"])[:5]
    scores = model.score(users)
    assert scores.shape == (5, 100) and scores.dtype == np.float32 and np.isfinite(scores).all()
    recommended = model.recommend(users, k=10)
    seen = set(zip(ratings["user_id"], ratings["item_id"]))
    assert not any((u, i) in seen for u, row in zip(users, recommended) for i in row)


def test_mult_dae_is_reproducible(ratings):
    first = MultDAE(hidden=8, epochs=2, batch_size=16, seed=3).fit(ratings).score([1, 2])
    second = MultDAE(hidden=8, epochs=2, batch_size=16, seed=3).fit(ratings).score([1, 2])
    np.testing.assert_array_equal(first, second)


def test_mult_dae_stops_early_on_validation_and_beats_chance(ratings):
    train, valid = stratified_split(ratings, 0.25, seed=0)
    users, items = IdIndex(ratings["user_id"]), IdIndex(ratings["item_id"])
    model = MultDAE(hidden=16, epochs=200, batch_size=16, learning_rate=5e-3, patience=3)
    model.fit(train, users, items, validation=valid)
    losses = model.history_["val_loss"]
    assert len(losses) < 200, "early stopping should end training"
    assert model.best_epoch_ == int(np.argmin(losses)) + 1
    assert losses[model.best_epoch_ - 1] < losses[0]
    assert evaluate_model(model, valid)["ndcg@10"] > 0


def test_mult_dae_needs_fitting_and_known_validation_users(ratings):
    with pytest.raises(NotFittedError, match="not fitted"):
        MultDAE().score([1])
    stranger = pd.DataFrame({"user_id": [10_000], "item_id": [1]})
    with pytest.raises(ValueError, match="not in the index"):
        MultDAE(epochs=1).fit(ratings, validation=stranger)


def test_user_batches_cover_every_user_once_per_epoch_in_a_seeded_order():
    import scipy.sparse as sp

    inputs = sp.csr_matrix(np.arange(14, dtype="float32").reshape(7, 2))
    batches = user_batches(inputs, inputs * 2, batch_size=3, seed=0)
    assert len(batches) == 3
    first_epoch = np.vstack([batches[i][0] for i in range(len(batches))])
    assert first_epoch.dtype == np.float32
    np.testing.assert_array_equal(np.sort(first_epoch[:, 0]), np.arange(0, 14, 2))
    np.testing.assert_array_equal(batches[0][1], 2 * batches[0][0])
    batches.on_epoch_end()
    second_epoch = np.vstack([batches[i][0] for i in range(len(batches))])
    assert not np.array_equal(first_epoch, second_epoch)
    again = user_batches(inputs, inputs, batch_size=3, seed=0)
    np.testing.assert_array_equal(again[0][0], first_epoch[:3])
    in_order = user_batches(inputs, inputs, batch_size=3)
    np.testing.assert_array_equal(in_order[0][0], inputs[:3].toarray())
    with pytest.raises(ValueError, match="same users"):
        user_batches(inputs, inputs[:3])
