"""LightGCN (rec_utils.models.graph): the propagation against dense NumPy, the gradient against
TensorFlow's automatic differentiation, the sampler, and the recommender on small synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from rec_utils.data import IdIndex, generate_movielens_like, interaction_matrix, stratified_split
from rec_utils.models import LightGCN
from rec_utils.models.graph import bpr_graph_gradient, normalized_adjacency, propagate, sample_user_triples


@pytest.fixture(scope="module")
def ratings():
    return generate_movielens_like(n_users=30, n_items=40, mean_ratings_per_user=20, seed=0).ratings


@pytest.fixture(scope="module")
def seen(ratings):
    return interaction_matrix(ratings, IdIndex(ratings["user_id"]), IdIndex(ratings["item_id"]))


def dense_adjacency(seen) -> np.ndarray:
    """D^-1/2 A D^-1/2 written with dense matrices, as in the paper's equation."""
    r = (seen.toarray() > 0).astype(np.float64)
    n_users, n_items = r.shape
    a = np.zeros((n_users + n_items, n_users + n_items))
    a[:n_users, n_users:], a[n_users:, :n_users] = r, r.T
    degree = a.sum(axis=1)
    scale = np.where(degree > 0, 1 / np.sqrt(np.where(degree > 0, degree, 1)), 0.0)
    return scale[:, None] * a * scale[None, :]


def test_normalized_adjacency_matches_the_dense_formula(seen):
    a = normalized_adjacency(seen)
    assert sp.issparse(a) and a.dtype == np.float32 and a.shape == (sum(seen.shape),) * 2
    np.testing.assert_allclose(a.toarray(), dense_adjacency(seen), rtol=1e-6, atol=1e-7)
    assert (a != a.T).nnz == 0


def test_normalized_adjacency_ignores_values_and_keeps_isolated_nodes_empty():
    r = sp.csr_matrix(np.array([[5.0, 0.0, 0.0], [2.0, 3.0, 0.0]]))  # item 2 has no edge
    a = normalized_adjacency(r)
    np.testing.assert_allclose(a.toarray(), dense_adjacency(r), rtol=1e-6)
    assert a[4].nnz == 0
    with pytest.raises(TypeError, match="sparse"):
        normalized_adjacency(np.eye(2))


@pytest.mark.parametrize("n_layers", [0, 1, 3])
def test_propagate_is_the_mean_of_the_layer_embeddings(seen, n_layers):
    a = dense_adjacency(seen)
    e0 = np.random.default_rng(1).normal(size=(a.shape[0], 5))
    layers, layer = [e0], e0
    for _ in range(n_layers):
        layer = a @ layer
        layers.append(layer)
    expected = np.mean(layers, axis=0)  # alpha_k = 1 / (K + 1)
    np.testing.assert_allclose(propagate(normalized_adjacency(seen), e0, n_layers), expected, rtol=1e-4, atol=1e-6)


def test_propagate_refuses_bad_input(seen):
    a = normalized_adjacency(seen)
    with pytest.raises(ValueError, match="n_nodes"):
        propagate(a, np.zeros((3, 2)), 1)
    with pytest.raises(ValueError, match="n_layers"):
        propagate(a, np.zeros((a.shape[0], 2)), -1)
    with pytest.raises(TypeError, match="n_layers"):
        propagate(a, np.zeros((a.shape[0], 2)), 1.5)
    with pytest.raises(TypeError, match="sparse"):
        propagate(a.toarray(), np.zeros((a.shape[0], 2)), 1)


def test_the_gradient_matches_automatic_differentiation(seen):
    tf = pytest.importorskip("tensorflow")
    a = normalized_adjacency(seen)
    n_users = seen.shape[0]
    rng = np.random.default_rng(2)
    ego = rng.normal(0, 0.3, (a.shape[0], 4)).astype(np.float32)
    u, i, j = sample_user_triples(seen, 16, rng)
    u[1], i[1] = u[0], i[0]  # a repeated user and item: gradients must add up
    loss, gradient = bpr_graph_gradient(a, ego, n_users, 2, u, i, j, reg=0.1)

    dense = tf.constant(a.toarray())
    variable = tf.Variable(ego)
    with tf.GradientTape() as tape:
        final = (variable + dense @ variable + dense @ (dense @ variable)) / 3.0
        e_u, e_i, e_j = tf.gather(final, u), tf.gather(final, i + n_users), tf.gather(final, j + n_users)
        bpr = tf.reduce_mean(tf.nn.softplus(-tf.reduce_sum(e_u * (e_i - e_j), axis=1)))
        rows = tf.gather(variable, np.r_[u, i + n_users, j + n_users])
        expected = bpr + 0.1 * 0.5 * tf.reduce_sum(rows ** 2) / len(u)
    np.testing.assert_allclose(loss, float(expected), rtol=1e-5)
    np.testing.assert_allclose(gradient, tape.gradient(expected, variable).numpy(), rtol=1e-4, atol=1e-6)


def test_sample_user_triples_draws_users_uniformly_and_valid_negatives(seen):
    u, i, j = sample_user_triples(seen, 30_000, np.random.default_rng(0))
    dense = seen.toarray()
    assert (dense[u, i] > 0).all() and (dense[u, j] == 0).all()
    counts = np.bincount(u, minlength=seen.shape[0])
    assert counts.min() > 0.8 * counts.mean() and counts.max() < 1.2 * counts.mean()  # light users as often as heavy
    again = sample_user_triples(seen, 30_000, np.random.default_rng(0))
    assert all(np.array_equal(x, y) for x, y in zip((u, i, j), again))


def test_sample_user_triples_skips_users_without_a_negative_and_refuses_bad_input():
    full = sp.csr_matrix(np.array([[1, 1], [1, 0]], dtype=np.float32))  # user 0 has seen every item
    u, _, j = sample_user_triples(full, 50, np.random.default_rng(0))
    assert set(u.tolist()) == {1} and set(j.tolist()) == {1}
    with pytest.raises(ValueError, match="negative"):
        sample_user_triples(sp.csr_matrix(np.ones((2, 2))), 5, np.random.default_rng(0))
    with pytest.raises(TypeError, match="sparse"):
        sample_user_triples(np.ones((2, 2)), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_triples"):
        sample_user_triples(full, 0, np.random.default_rng(0))


def test_lightgcn_scores_with_the_propagated_embeddings(ratings):
    model = LightGCN(n_factors=8, n_layers=2, n_epochs=2, batch_size=128, seed=0).fit(ratings)
    final = propagate(model.adjacency_, model.embeddings_, 2)
    n_users = len(model.users_)
    users = model.users_.ids[:5]
    np.testing.assert_allclose(model.score(users), final[:5] @ final[n_users:].T, rtol=1e-5)
    assert model.embeddings_.shape == (n_users + len(model.items_), 8)
    assert len(model.history_["loss"]) == 2 and "val_ndcg@10" not in model.history_


def test_lightgcn_without_layers_is_plain_matrix_factorisation(ratings):
    model = LightGCN(n_factors=4, n_layers=0, n_epochs=1, seed=0).fit(ratings)
    n_users = len(model.users_)
    np.testing.assert_allclose(model.user_factors_, model.embeddings_[:n_users])
    np.testing.assert_allclose(model.item_factors_, model.embeddings_[n_users:])


def test_lightgcn_learns_and_records_a_validation_curve(ratings):
    train, validation = stratified_split(ratings, 0.25, seed=0)
    items = IdIndex(ratings["item_id"])
    model = LightGCN(n_factors=16, n_layers=2, n_epochs=15, batch_size=64, learning_rate=0.01, seed=0)
    model.fit(train, items=items, validation=validation)
    curve = model.history_["val_ndcg@10"]
    assert len(curve) == 15 and model.history_["loss"][-1] < model.history_["loss"][0]
    untrained = LightGCN(n_factors=16, n_layers=2, n_epochs=1, learning_rate=1e-6, seed=0).fit(
        train, items=items, validation=validation)
    assert max(curve[-3:]) > untrained.history_["val_ndcg@10"][0]
    assert model.fit_seconds_ > 0


def test_lightgcn_samplers_differ_and_both_train(ratings):
    by_user = LightGCN(n_factors=4, n_epochs=2, seed=0).fit(ratings)
    by_interaction = LightGCN(n_factors=4, n_epochs=2, sampling="interaction", seed=0).fit(ratings)
    assert not np.allclose(by_user.embeddings_, by_interaction.embeddings_)


def test_lightgcn_shows_a_progress_bar_when_verbose(ratings, capsys):
    LightGCN(n_factors=4, n_epochs=2, seed=0, verbose=1).fit(ratings)
    assert "LightGCN" in capsys.readouterr().out


@pytest.mark.parametrize("parameter, value, error", [
    ("n_layers", -1, ValueError), ("n_layers", 2.0, TypeError), ("learning_rate", 0.0, ValueError),
    ("sampling", "popular", ValueError), ("reg", "0.1", TypeError), ("verbose", 2, ValueError),
])
def test_lightgcn_refuses_bad_settings(ratings, parameter, value, error):
    with pytest.raises(error, match=parameter):
        LightGCN(**{parameter: value}).fit(ratings)


def test_lightgcn_refuses_a_bad_validation_frame(ratings):
    with pytest.raises(TypeError, match="validation"):
        LightGCN(n_epochs=1).fit(ratings, validation=[(1, 2)])
    with pytest.raises(ValueError, match="validation"):
        LightGCN(n_epochs=1).fit(ratings, validation=pd.DataFrame({"user_id": [1]}))


def test_lightgcn_stops_early_and_keeps_its_best_epoch(ratings):
    train, validation = stratified_split(ratings, 0.25, seed=0)
    items = IdIndex(ratings["item_id"])
    settings = dict(n_factors=8, n_layers=1, n_epochs=25, batch_size=64, learning_rate=0.05, seed=0)
    full = LightGCN(**settings).fit(train, items=items, validation=validation)
    curve = full.history_["val_ndcg@10"]
    assert full.best_epoch_ == int(np.argmax(curve)) + 1  # recorded even without patience
    stopped = LightGCN(patience=2, **settings).fit(train, items=items, validation=validation)
    best = stopped.best_epoch_
    assert stopped.history_["val_ndcg@10"] == curve[:len(stopped.history_["val_ndcg@10"])]  # same run, cut short
    assert len(stopped.history_["val_ndcg@10"]) == min(best + 2, 25) and best == int(np.argmax(curve[:best + 2])) + 1
    kept = LightGCN(patience=2, **{**settings, "n_epochs": best}).fit(train, items=items)  # the same first epochs
    np.testing.assert_allclose(stopped.embeddings_, kept.embeddings_)  # the best epoch's embeddings, not the last
    assert LightGCN(patience=2, **settings).fit(train, items=items).best_epoch_ is None  # no validation: no stopping


@pytest.mark.parametrize("value, error", [(0, ValueError), (1.5, TypeError), ("3", TypeError)])
def test_lightgcn_refuses_a_bad_patience(ratings, value, error):
    with pytest.raises(error, match="patience"):
        LightGCN(n_epochs=1, patience=value).fit(ratings)
