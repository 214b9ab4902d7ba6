import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from rec_utils._checks import NotFittedError

from rec_utils.models.classical import PopularityRecommender
from rec_utils.evaluation import evaluate_model
from rec_utils.models.bpr import BPR, bpr_sgd_step, sample_triples
from rec_utils.data import IdIndex, stratified_split


def _planted(n_users=60, n_items=40, seed=0):
    """Two taste groups: users of group g interact with 60% of the items of group g, 5% of the others."""
    rng = np.random.default_rng(seed)
    group_user, group_item = np.arange(n_users) % 2, np.arange(n_items) % 2
    same = group_user[:, None] == group_item[None, :]
    hit = rng.random((n_users, n_items)) < np.where(same, 0.6, 0.05)
    users, items = np.nonzero(hit)
    return pd.DataFrame({"user_id": users + 1, "item_id": items + 1, "rating": 5.0})


# --------------------------------------------------------------------------- sampling

def test_triples_pair_an_interaction_with_a_non_interaction():
    dense = (np.random.default_rng(1).random((30, 20)) < 0.3).astype(np.float32)
    dense[0] = np.r_[np.ones(19), 0.0]  # a user with a single free item still gets valid negatives
    seen = sp.csr_matrix(dense)
    users, positives, negatives = sample_triples(seen, 5000, np.random.default_rng(2))
    dense = seen.toarray()
    assert (dense[users, positives] == 1).all()
    assert (dense[users, negatives] == 0).all()
    assert set(np.unique(users)) <= set(np.flatnonzero(dense.sum(axis=1)))


def test_triples_are_reproducible_with_a_seeded_generator():
    seen = sp.csr_matrix(np.eye(5, dtype=np.float32))
    a = sample_triples(seen, 50, np.random.default_rng(7))
    b = sample_triples(seen, 50, np.random.default_rng(7))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("seen, n, error, message", [
    (np.eye(3), 5, TypeError, "sparse"),
    (sp.csr_matrix((3, 3), dtype=np.float32), 5, ValueError, "no interactions"),
    (sp.csr_matrix(np.ones((2, 3), dtype=np.float32)), 5, ValueError, "every item"),
    (sp.csr_matrix(np.eye(3, dtype=np.float32)), 0, ValueError, "n_triples"),
    (sp.csr_matrix(np.eye(3, dtype=np.float32)), 2.0, TypeError, "n_triples"),
])
def test_triples_reject_bad_input(seen, n, error, message):
    with pytest.raises(error, match=message):
        sample_triples(seen, n, np.random.default_rng(0))


# --------------------------------------------------------------------------- the SGD step

def test_one_step_follows_the_update_rule():
    rng = np.random.default_rng(3)
    p, q, b = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    p0, q0, b0 = p.copy(), q.copy(), b.copy()
    lr, reg = 0.1, 0.05
    likelihood = bpr_sgd_step(p, q, b, np.array([1]), np.array([2]), np.array([0]), lr, reg)
    x = p0[1] @ (q0[2] - q0[0]) + b0[2] - b0[0]
    g = 1 / (1 + np.exp(x))
    np.testing.assert_allclose(likelihood, np.log(1 / (1 + np.exp(-x))))
    np.testing.assert_allclose(p[1], p0[1] + lr * (g * (q0[2] - q0[0]) - reg * p0[1]))
    np.testing.assert_allclose(q[2], q0[2] + lr * (g * p0[1] - reg * q0[2]))
    np.testing.assert_allclose(q[0], q0[0] + lr * (-g * p0[1] - reg * q0[0]))
    np.testing.assert_allclose(b[[2, 0]], [b0[2] + lr * (g - reg * b0[2]), b0[0] + lr * (-g - reg * b0[0])])
    np.testing.assert_array_equal(p[0], p0[0])  # untouched rows stay put
    np.testing.assert_array_equal(q[[1, 3]], q0[[1, 3]])


def test_repeated_rows_add_their_updates():
    p, q, b = np.full((1, 2), 0.1), np.array([[0.2, 0.0], [0.0, 0.2]]), np.zeros(2)
    twice = [a.copy() for a in (p, q, b)]
    bpr_sgd_step(*twice, np.array([0, 0]), np.array([0, 0]), np.array([1, 1]), 0.1, 0.0)
    once = [a.copy() for a in (p, q, b)]
    bpr_sgd_step(*once, np.array([0]), np.array([0]), np.array([1]), 0.2, 0.0)
    for a, c in zip(twice, once):
        np.testing.assert_allclose(a, c)


# --------------------------------------------------------------------------- the recommender

def test_bpr_beats_popularity_and_random_on_planted_tastes():
    ratings = _planted()
    train, test = stratified_split(ratings, 0.3, seed=0)
    items = IdIndex(ratings["item_id"])
    bpr = BPR(n_factors=8, learning_rate=0.05, reg=0.01, n_epochs=40, batch_size=64, seed=0).fit(train, items=items)
    found = evaluate_model(bpr, test, k=5)["ndcg@5"]
    popular = evaluate_model(PopularityRecommender().fit(train, items=items), test, k=5)["ndcg@5"]
    assert found > popular + 0.1
    curve = bpr.history_["log_likelihood"]
    assert len(curve) == 40 and curve[-1] > curve[0]


def test_bpr_is_deterministic_with_a_seed():
    ratings = _planted(20, 12)
    a = BPR(n_factors=4, n_epochs=3, seed=5).fit(ratings).score([1, 2])
    b = BPR(n_factors=4, n_epochs=3, seed=5).fit(ratings).score([1, 2])
    c = BPR(n_factors=4, n_epochs=3, seed=6).fit(ratings).score([1, 2])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (2, 12) and a.dtype == np.float32


@pytest.mark.parametrize("kwargs, error", [
    ({"n_factors": 0}, ValueError), ({"n_factors": 2.5}, TypeError), ({"learning_rate": 0}, ValueError),
    ({"reg": -1.0}, ValueError), ({"n_epochs": True}, TypeError), ({"batch_size": 0}, ValueError),
    ({"seed": "a"}, TypeError), ({"seed": -1}, ValueError),
])
def test_bpr_rejects_bad_hyper_parameters_at_fit(kwargs, error):
    model = BPR(**kwargs)  # stored as given
    (name, value), = kwargs.items()
    assert model.get_params()[name] is value
    with pytest.raises(error, match=name):
        model.fit(_planted(10, 8))


def test_bpr_clones_and_must_be_fitted_before_scoring():
    with pytest.raises(NotFittedError, match="not fitted"):
        BPR().score([1])
    model = BPR(n_factors=3, n_epochs=2, seed=1)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    np.testing.assert_array_equal(copy.fit(_planted(10, 8)).score([1]), model.fit(_planted(10, 8)).score([1]))
