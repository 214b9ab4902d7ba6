"""Baseline recommenders: hand-checkable examples, the shared interface and its errors."""

import numpy as np
import pandas as pd
import scipy.sparse as sp
import pytest
from sklearn.base import clone

from rec_utils._checks import NotFittedError

from rec_utils.models.classical import EASE, BiasBaseline, BiasedMF, FunkSVD, ImplicitALS, ItemKNN, ItemKNNBaseline, PopularityRecommender, RatingBlend, ScoreBlend
from rec_utils.evaluation import evaluate_model, relevance_matrix
from rec_utils.data import IdIndex

# Four users, five items. Item 10 is the most popular (3 users), then 20 (2), 30 and 40 (1 each).
TOY = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 3, 3, 4],
                    "item_id": [10, 20, 30, 10, 20, 10, 40, 50],
                    "rating": [5.0, 4.0, 1.0, 4.0, 5.0, 2.0, 3.0, 4.0]})


def rank1_ratings(n_users=30, n_items=20, seed=0):
    """Every cell of a complete rating matrix ``1 + 4 * a_u * b_i`` with a, b in (0, 1)."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.2, 1.0, n_users), rng.uniform(0.2, 1.0, n_items)
    u, i = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    return pd.DataFrame({"user_id": u.ravel(), "item_id": i.ravel(),
                         "rating": (1 + 4 * np.outer(a, b)).ravel()})


def additive_ratings(n_users=12, n_items=9, seed=1):
    """A complete matrix that is exactly ``mu + a_u + b_i``."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_items)
    u, i = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    return pd.DataFrame({"user_id": u.ravel(), "item_id": i.ravel(), "rating": (3.0 + a[:, None] + b[None, :]).ravel()})


RANKERS = [PopularityRecommender, lambda: ItemKNN(2, 0.0), lambda: EASE(1.0),
           lambda: ImplicitALS(n_factors=2, n_epochs=3),
           lambda: ScoreBlend([(EASE(1.0), 0.5), (PopularityRecommender(), 0.5)])]
RATERS = [BiasBaseline, lambda: BiasedMF(2, 1.0, 5), lambda: FunkSVD(2, n_epochs=3),
          lambda: ItemKNNBaseline(2, 0.0), lambda: RatingBlend([BiasBaseline(), BiasedMF(2, 1.0, 3)], 0.25)]


# --------------------------------------------------------------------------- hand-checkable examples

def test_popularity_orders_by_count():
    model = PopularityRecommender().fit(TOY)
    np.testing.assert_array_equal(model.popularity_, [3, 2, 1, 1, 1])
    # user 4 has seen item 50 only: 10, 20, then 30 before 40 (ties broken by position)
    assert model.recommend([4], k=4).tolist() == [[10, 20, 30, 40]]
    assert model.recommend([1], k=2).tolist() == [[40, 50]]


def test_item_knn_keeps_n_neighbors_per_item():
    rng = np.random.default_rng(0)
    r = pd.DataFrame({"user_id": rng.integers(0, 40, 400), "item_id": rng.integers(0, 25, 400)}).drop_duplicates()
    full = ItemKNN(n_neighbors=100, shrink=0.0).fit(r).similarity_.toarray()
    for n in (1, 3, 10):
        sim = ItemKNN(n_neighbors=n, shrink=0.0).fit(r).similarity_
        assert sp.issparse(sim) and sim.dtype == np.float32 and sim.nnz <= sim.shape[1] * (n + 3)
        sim = sim.toarray()
        assert np.all(np.diag(sim) == 0)
        for j in range(sim.shape[1]):
            kept = np.sort(sim[:, j][sim[:, j] > 0])[::-1]
            top = np.sort(full[:, j])[::-1][:n]
            np.testing.assert_allclose(kept[:n], top[top > 0])  # the n most similar items ...
            if len(kept) > n:
                assert np.all(kept[n:] == kept[n - 1])  # ... plus only those tied with the n-th
        assert ((sim > 0).sum(axis=0) == n).any()


def test_item_knn_cosine_by_hand():
    # items 10 and 20 share users 1 and 2; item 10 has 3 users, item 20 has 2 -> cos = 2 / sqrt(6)
    sim = ItemKNN(n_neighbors=4, shrink=0.0).fit(TOY).similarity_
    assert sim[0, 1] == pytest.approx(2 / np.sqrt(6), rel=1e-6)
    assert sim[1, 0] == pytest.approx(2 / np.sqrt(6), rel=1e-6)
    shrunk = ItemKNN(n_neighbors=4, shrink=1.0).fit(TOY).similarity_
    assert shrunk[0, 1] == pytest.approx(2 / (np.sqrt(6) + 1), rel=1e-6)


def test_ease_zero_diagonal_and_closed_form():
    model = EASE(l2=2.0).fit(TOY)
    x = model.seen_.toarray()
    p = np.linalg.inv(x.T @ x + 2.0 * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(model.weights_, b, atol=1e-6)
    assert np.all(np.diag(model.weights_) == 0)
    np.testing.assert_allclose(model.score([1, 2]), x[:2] @ b, atol=1e-6)


def test_implicit_als_satisfies_its_normal_equations():
    rng = np.random.default_rng(3)
    r = pd.DataFrame({"user_id": rng.integers(0, 30, 200), "item_id": rng.integers(0, 15, 200)}).drop_duplicates()
    model = ImplicitALS(n_factors=3, reg=0.05, unobserved_weight=0.3, n_epochs=4, seed=0).fit(r)
    x = model.seen_.toarray()
    p, q = model.user_factors_.astype(float), model.item_factors_.astype(float)
    w0, k = 0.3, 3
    # the last half-step solved the items exactly given the users
    for i in range(x.shape[1]):
        watched = p[x[:, i] > 0]
        a = w0 * p.T @ p + (1 - w0) * watched.T @ watched + 0.05 * (len(watched) + w0 * len(p)) * np.eye(k)
        np.testing.assert_allclose(a @ q[i], watched.sum(axis=0), atol=1e-4)
    np.testing.assert_allclose(model.score(r["user_id"].unique()[:3]), p[model.user_positions(r["user_id"].unique()[:3])] @ q.T,
                               atol=1e-6)


def test_bias_baseline_recovers_additive_ratings():
    r = additive_ratings()
    model = BiasBaseline(reg_user=0.0, reg_item=0.0, n_epochs=50).fit(r)
    np.testing.assert_allclose(model.predict(r["user_id"], r["item_id"]), r["rating"], atol=1e-6)


def test_bias_baseline_regularisation_shrinks():
    weak = BiasBaseline(reg_user=0.0, reg_item=0.0).fit(TOY)
    strong = BiasBaseline(reg_user=100.0, reg_item=100.0).fit(TOY)
    assert np.abs(strong.item_bias_).max() < np.abs(weak.item_bias_).max()
    assert np.abs(strong.item_bias_).max() < 0.1


@pytest.mark.parametrize("make", [lambda: BiasedMF(n_factors=2, reg=0.01, n_epochs=30),
                                  lambda: FunkSVD(n_factors=2, learning_rate=0.02, reg=0.0, n_epochs=300,
                                                  batch_size=8)],
                         ids=["als", "sgd"])
def test_matrix_factorisation_fits_a_rank_one_matrix(make):
    r = rank1_ratings()
    model = make().fit(r)
    error = model.predict(r["user_id"], r["item_id"]) - r["rating"]
    assert np.sqrt(np.mean(error ** 2)) < 0.05
    assert model.loss_[-1] <= model.loss_[0]
    np.testing.assert_allclose(model.score([0])[0], model.predict(np.zeros(20, int), np.arange(20)), atol=1e-9)


def test_biased_mf_unknown_ids_fall_back_to_biases():
    model = BiasedMF(n_factors=2, reg=1.0).fit(TOY)
    item = model.items_.positions([20])[0]
    expected = model.global_mean_ + model.item_bias_[item]  # b_i, no user bias, no factors
    assert model.predict([99], [20])[0] == pytest.approx(expected)
    assert model.predict([99], [999])[0] == pytest.approx(model.global_mean_)


def test_item_knn_baseline_prediction_by_hand():
    rng = np.random.default_rng(5)
    r = pd.DataFrame({"user_id": rng.integers(0, 25, 300), "item_id": rng.integers(0, 12, 300)}).drop_duplicates()
    r["rating"] = rng.integers(1, 6, len(r)).astype(float)
    model = ItemKNNBaseline(n_neighbors=3, shrink=5.0).fit(r)
    user, item = r["user_id"].iloc[0], 11
    row, col = model.users_.positions([user])[0], model.items_.positions([item])[0]
    rated, deviation = model.residuals_[row].indices, model.residuals_[row].data
    keep = rated != col
    rated, deviation = rated[keep], deviation[keep]
    sim = model.similarity_[col].toarray().ravel()[rated].astype(float)  # absent pairs: similarity 0 or below
    nearest = np.argsort(-sim, kind="stable")[:3]
    w = np.maximum(sim[nearest], 0)
    baseline = model.global_mean_ + model.baseline_.user_bias_[row] + model.baseline_.item_bias_[col]
    expected = baseline + (w @ deviation[nearest] / w.sum() if w.sum() > 0 else 0.0)
    # the user's own rating of `item` (if any) is a neighbour of similarity 0: it never counts
    assert model.predict([user], [item])[0] == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(model.score([user])[0, col], expected, rtol=1e-6)


def test_item_knn_baseline_similarity_is_shrunk_correlation():
    r = additive_ratings(8, 4)
    r["rating"] += np.random.default_rng(0).normal(0, 0.3, len(r))
    model = ItemKNNBaseline(shrink=0.0, reg_user=0.0, reg_item=0.0).fit(r)
    res = model.residuals_.toarray()
    corr = (res.T @ res) / np.sqrt(np.outer((res ** 2).sum(axis=0), (res ** 2).sum(axis=0)))
    np.fill_diagonal(corr, 0.0)
    assert (corr > 0).any() and (corr < 0).any()
    # only positive similarities are kept (the others never weigh in a prediction)
    np.testing.assert_allclose(model.similarity_.toarray(), np.maximum(corr, 0.0), rtol=1e-5, atol=1e-7)
    shrunk = ItemKNNBaseline(shrink=7.0, reg_user=0.0, reg_item=0.0).fit(r)
    np.testing.assert_allclose(shrunk.similarity_.toarray(), np.maximum(corr, 0.0) * 7 / (7 + 7),  # 8 common users
                               rtol=1e-5, atol=1e-7)


def _dense_item_knn_baseline(model, user_ids, item_ids):
    """The textbook item-kNN with baselines, in plain NumPy: dense similarities, one pair at a time.

    Equally similar neighbours are taken in item order (a stable sort), the rule the model states.
    """
    res = model.residuals_.toarray()
    rated = model.seen_.toarray() > 0
    dot = res.T @ res
    squares = (res ** 2).T @ rated
    denominator = np.sqrt(squares * squares.T)
    sim = np.divide(dot, denominator, out=np.zeros_like(dot), where=denominator > 0)
    common = rated.T.astype(float) @ rated
    sim *= np.maximum(common - 1, 0) / (np.maximum(common - 1, 0) + model.shrink + 1e-12)
    np.fill_diagonal(sim, 0.0)
    out = []
    for user, item in zip(user_ids, item_ids):
        row, col = model.users_.positions([user])[0], model.items_.positions([item])[0]
        mine = np.flatnonzero(rated[row])
        nearest = mine[np.argsort(-sim[col, mine], kind="stable")[:model.n_neighbors]]
        w = np.maximum(sim[col, nearest], 0.0)
        base = model.global_mean_ + model.baseline_.user_bias_[row] + model.baseline_.item_bias_[col]
        out.append(base + (w @ res[row, nearest] / w.sum() if w.sum() > 0 else 0.0))
    return np.array(out), sim


@pytest.mark.parametrize("n_neighbors, shrink", [(3, 5.0), (40, 100.0), (1, 0.0)])
def test_item_knn_baseline_equals_the_dense_textbook_version(n_neighbors, shrink):
    from rec_utils.data import load_synthetic

    ratings = load_synthetic("synthetic", quick=True, seed=3).ratings
    model = ItemKNNBaseline(n_neighbors=n_neighbors, shrink=shrink).fit(ratings)
    pairs = ratings.sample(300, random_state=0)
    users = np.r_[pairs["user_id"].to_numpy(), np.repeat(ratings["user_id"].iloc[0], 40)]
    items = np.r_[pairs["item_id"].to_numpy(), model.items_.ids[:40]]  # seen and unseen items
    expected, dense = _dense_item_knn_baseline(model, users, items)
    np.testing.assert_allclose(model.predict(users, items), expected, rtol=1e-6, atol=1e-6)
    # only the positive similarities are stored, as float32, symmetric, with a zero diagonal
    similarity = model.similarity_
    assert sp.issparse(similarity) and similarity.dtype == np.float32 and (similarity.data > 0).all()
    np.testing.assert_allclose(similarity.toarray(), np.maximum(dense, 0.0), atol=1e-6)
    assert abs(similarity - similarity.T).max() < 1e-6 and not similarity.diagonal().any()
    user = ratings["user_id"].iloc[0]
    np.testing.assert_allclose(model.score([user])[0], model.predict(np.repeat(user, len(model.items_)),
                                                                     model.items_.ids), rtol=1e-12)


def test_item_knn_baseline_blocks_do_not_change_the_similarity(monkeypatch):
    from rec_utils.data import load_synthetic
    from rec_utils.models import classical

    ratings = load_synthetic("synthetic", quick=True, seed=4).ratings
    whole = ItemKNNBaseline().fit(ratings)
    monkeypatch.setattr(classical, "_blocks", lambda n, width, budget=0: [slice(s, min(s + 7, n)) for s in range(0, n, 7)])
    blocked = ItemKNNBaseline().fit(ratings)
    assert abs(whole.similarity_ - blocked.similarity_).max() < 1e-7
    pairs = ratings.sample(200, random_state=1)
    np.testing.assert_allclose(blocked.predict(pairs["user_id"], pairs["item_id"]),
                               whole.predict(pairs["user_id"], pairs["item_id"]), rtol=1e-6)


def test_item_knn_baseline_keeps_items_without_ratings_scorable():
    r = TOY.copy()
    model = ItemKNNBaseline(n_neighbors=2).fit(r, items=IdIndex([10, 20, 30, 40, 50, 60]))
    assert model.similarity_.shape == (6, 6) and model.similarity_[:, 5].nnz == 0
    scores = model.score([1, 2])
    assert scores.shape == (2, 6) and np.isfinite(scores).all()
    np.testing.assert_allclose(scores[:, 5], model.predict([1, 2], [60, 60]))  # the baseline alone


def test_rating_blend_weights_by_hand():
    r = additive_ratings(20, 15)
    blend = RatingBlend([BiasBaseline(0.0, 0.0, 50)], validation_size=0.2, seed=0).fit(r)
    assert blend.weights_[0] == pytest.approx(1.0, abs=1e-6)
    assert blend.intercept_ == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_allclose(blend.predict(r["user_id"], r["item_id"]), r["rating"], atol=1e-5)
    members = [BiasBaseline(), BiasedMF(2, 1.0, 3)]
    blend = RatingBlend(members).fit(rank1_ratings())
    assert blend.weights_.shape == (2,)
    # the blend fits clones; the models it was given stay unfitted
    assert not any(hasattr(m, "items_") for m in members) and blend.models == members
    assert all(hasattr(m, "items_") and m is not given for m, given in zip(blend.models_, members))
    np.testing.assert_allclose(blend.score([0])[0], blend.predict(np.zeros(20, int), np.arange(20)), atol=1e-9)


def test_score_blend_is_weighted_z_scores():
    blend = ScoreBlend([(EASE(1.0), 2.0), (PopularityRecommender(), 1.0)]).fit(TOY)
    assert not hasattr(blend.members[0][0], "weights_")  # the given members stay unfitted ...
    (ease, _), (popularity, _) = blend.members_  # ... the blend fits clones of them
    assert ease.get_params() == {"l2": 1.0} and ease is not blend.members[0][0]

    def z(s):
        return (s - s.mean(axis=1, keepdims=True)) / s.std(axis=1, keepdims=True)

    np.testing.assert_allclose(blend.score([1, 3]), 2 * z(ease.score([1, 3])) + z(popularity.score([1, 3])), atol=1e-5)


# --------------------------------------------------------------------------- the shared interface

@pytest.mark.parametrize("make", RANKERS + RATERS)
def test_recommend_excludes_seen_items(make):
    items = IdIndex([10, 20, 30, 40, 50, 60])  # 60 was never rated: still recommendable
    model = make().fit(TOY, items=items)
    recommended = model.recommend([1, 2, 3, 4], k=3)
    assert recommended.shape == (4, 3)
    for user, row in zip([1, 2, 3, 4], recommended):
        seen = set(TOY.loc[TOY["user_id"] == user, "item_id"])
        assert not seen & set(row.tolist())
        assert len(set(row.tolist())) == 3
    assert model.score([1]).shape == (1, 6)
    assert set(model.recommend([4], k=5, exclude_train=False)[0]) <= set(items.ids)


@pytest.mark.parametrize("make", RANKERS + RATERS)
def test_unfitted_model_raises_not_fitted_error(make):
    with pytest.raises(NotFittedError, match="not fitted"):
        make().score([1])
    with pytest.raises(NotFittedError, match="not fitted"):
        make().recommend([1])


@pytest.mark.parametrize("make", RATERS)
def test_unfitted_rating_model_cannot_predict(make):
    with pytest.raises(NotFittedError, match="not fitted"):
        make().predict([1], [10])


@pytest.mark.parametrize("model_class, kwargs, error", [
    (ItemKNN, {"n_neighbors": 0}, ValueError), (ItemKNN, {"shrink": -1.0}, ValueError),
    (ItemKNN, {"n_neighbors": 2.5}, TypeError), (EASE, {"l2": 0.0}, ValueError), (EASE, {"l2": -1}, ValueError),
    (EASE, {"l2": float("nan")}, ValueError), (EASE, {"l2": "500"}, TypeError),
    (ImplicitALS, {"n_factors": 0}, ValueError), (ImplicitALS, {"reg": 0.0}, ValueError),
    (ImplicitALS, {"unobserved_weight": 0.0}, ValueError), (ImplicitALS, {"unobserved_weight": 1.5}, ValueError),
    (ImplicitALS, {"n_epochs": 0}, ValueError), (ImplicitALS, {"seed": -1}, ValueError),
    (BiasBaseline, {"reg_user": -1.0}, ValueError), (BiasBaseline, {"n_epochs": 0}, ValueError),
    (BiasedMF, {"n_factors": 0}, ValueError), (BiasedMF, {"reg": 0.0}, ValueError),
    (BiasedMF, {"n_epochs": 0}, ValueError), (BiasedMF, {"seed": 1.5}, TypeError),
    (FunkSVD, {"learning_rate": 0.0}, ValueError), (FunkSVD, {"reg": -0.1}, ValueError),
    (FunkSVD, {"batch_size": 0}, ValueError), (FunkSVD, {"n_factors": True}, TypeError),
    (ItemKNNBaseline, {"n_neighbors": 0}, ValueError), (ItemKNNBaseline, {"shrink": -1.0}, ValueError),
    (ItemKNNBaseline, {"reg_item": -1.0}, ValueError),
    (ScoreBlend, {"members": []}, ValueError), (ScoreBlend, {"members": [(EASE(), -1.0)]}, ValueError),
    (ScoreBlend, {"members": [(EASE(), 0.0)]}, ValueError), (ScoreBlend, {"members": [("EASE", 1.0)]}, TypeError),
    (ScoreBlend, {"members": EASE()}, TypeError),
    (RatingBlend, {"models": []}, ValueError), (RatingBlend, {"models": [EASE()]}, TypeError),
    (RatingBlend, {"models": [BiasBaseline()], "validation_size": 1.0}, ValueError),
])
def test_bad_hyper_parameters_are_stored_and_refused_by_fit(model_class, kwargs, error):
    model = model_class(**kwargs)  # the constructor stores what it is given, untouched
    for name, value in kwargs.items():
        assert getattr(model, name) is value and model.get_params()[name] is value
    with pytest.raises(error, match=list(kwargs)[-1]):  # the message names the bad argument
        model.fit(TOY)
    assert not hasattr(model, "seen_")  # refused before anything was learned


@pytest.mark.parametrize("make", RANKERS + RATERS)
def test_set_params_and_clone_round_trip(make):
    model = make()
    params = model.get_params(deep=False)
    copy = clone(model)
    assert type(copy) is type(model) and copy.get_params(deep=False).keys() == params.keys()
    assert copy.fit(TOY) is copy and not hasattr(model, "seen_")


@pytest.mark.parametrize("make", RANKERS + RATERS)
def test_bad_input_raises_type_or_value_error(make):
    with pytest.raises(TypeError, match="DataFrame"):
        make().fit(TOY.to_numpy())
    with pytest.raises(ValueError, match="lacks column"):
        make().fit(TOY.drop(columns="item_id"))
    with pytest.raises(ValueError, match="empty"):
        make().fit(TOY.iloc[:0])


@pytest.mark.parametrize("make", RATERS)
def test_rating_models_need_finite_ratings(make):
    with pytest.raises(ValueError, match="rating"):
        make().fit(TOY.drop(columns="rating"))
    with pytest.raises(ValueError, match="numeric"):
        make().fit(TOY.assign(rating=TOY["rating"].astype(str)))
    with pytest.raises(ValueError):
        make().fit(TOY.assign(rating=np.where(TOY["user_id"] == 1, np.nan, TOY["rating"])))


def test_predict_needs_paired_ids():
    model = BiasBaseline().fit(TOY)
    with pytest.raises(ValueError, match="same length"):
        model.predict([1, 2], [10])


def test_unknown_user_cannot_be_scored():
    with pytest.raises(ValueError, match="not in the index"):
        EASE(1.0).fit(TOY).score([99])


# --------------------------------------------------------------------------- evaluation

def test_evaluate_model_by_hand():
    train = TOY
    # user 2 gets 30 (rank 1), 40, 50; user 4 gets 10 (rank 1), 20 (rank 2), 30
    test = pd.DataFrame({"user_id": [2, 2, 4], "item_id": [40, 30, 20]})
    got = evaluate_model(PopularityRecommender().fit(train), test, k=3)
    # user 2: hits at ranks 1 (30) and 2 (40) of 2 relevant; user 4: hit at rank 2 of 1 relevant
    d = 1 / np.log2(np.arange(2, 5))
    expected = {"precision@3": (2 / 3 + 1 / 3) / 2, "recall@3": (1 + 1) / 2,
                "ndcg@3": ((d[0] + d[1]) / (d[0] + d[1]) + d[1] / d[0]) / 2,
                "map@3": ((1 + 1) / 2 + (1 / 2) / 1) / 2}
    assert got == pytest.approx(expected)


def test_evaluate_model_batches_do_not_change_the_result():
    rng = np.random.default_rng(2)
    r = pd.DataFrame({"user_id": rng.integers(0, 50, 600), "item_id": rng.integers(0, 30, 600)}).drop_duplicates()
    train, test = r.iloc[:400], r.iloc[400:]
    test = test[test["user_id"].isin(train["user_id"]) & ~test.set_index(["user_id", "item_id"]).index.isin(
        train.set_index(["user_id", "item_id"]).index)]
    model = EASE(5.0).fit(train, items=IdIndex(r["item_id"]))
    assert evaluate_model(model, test, batch_size=7) == pytest.approx(evaluate_model(model, test))


def test_relevance_matrix_needs_scorable_items():
    with pytest.raises(ValueError, match="cannot score"):
        relevance_matrix(pd.DataFrame({"user_id": [1], "item_id": [99]}), IdIndex([1]), IdIndex([10, 20]))
    matrix = relevance_matrix(pd.DataFrame({"user_id": [1, 1], "item_id": [20, 20]}), IdIndex([1]), IdIndex([10, 20]))
    np.testing.assert_array_equal(matrix.toarray(), [[0, 1]])


# ---------------------------------------------------------------- duplicate (user, item) rows

from rec_utils.models.classical import BiasBaseline, BiasedMF, FunkSVD, ItemKNNBaseline, RatingBlend  # noqa: E402
from rec_utils.data import deduplicate_interactions, random_split, stratified_split  # noqa: E402


def _with_a_rerating(seed=0):
    """A small log in which user 1 rated item 1 with 5 and, later, with 1."""
    rng = np.random.default_rng(seed)
    rows = [(u, i, float(rng.integers(1, 6)), 1000 + 10 * u + i) for u in range(1, 16) for i in range(1, 9)
            if (u, i) != (1, 1)]
    rows += [(1, 1, 5.0, 10), (1, 1, 1.0, 20)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


@pytest.mark.parametrize("make", [
    lambda: BiasBaseline(reg_user=0.0, reg_item=0.0),
    lambda: BiasedMF(n_factors=2, reg=0.1),
    lambda: FunkSVD(n_factors=2, n_epochs=5),
    lambda: ItemKNNBaseline(n_neighbors=3),
    lambda: RatingBlend([BiasBaseline(), BiasedMF(n_factors=2)]),
], ids=["BiasBaseline", "BiasedMF", "FunkSVD", "ItemKNNBaseline", "RatingBlend"])
def test_rating_models_keep_the_latest_rating_of_a_duplicate_pair(make):
    log = _with_a_rerating()
    deduplicated = deduplicate_interactions(log)
    assert len(deduplicated) == len(log) - 1 and deduplicated.query("user_id == 1 and item_id == 1")["rating"].item() == 1.0
    with_duplicates = make().fit(log)
    without = make().fit(deduplicated)
    assert with_duplicates.global_mean_ == pytest.approx(without.global_mean_)
    users, items = log["user_id"].unique(), np.arange(1, 9)
    np.testing.assert_allclose(with_duplicates.predict(np.repeat(users, 8), np.tile(items, len(users))),
                               without.predict(np.repeat(users, 8), np.tile(items, len(users))), atol=1e-9)
    assert with_duplicates.predict([1], [1])[0] < 5.5  # never the sum of 5 and 1


def test_a_rating_matrix_refuses_duplicates_instead_of_summing_them():
    from rec_utils.data import IdIndex, interaction_matrix

    log = _with_a_rerating()
    with pytest.raises(ValueError, match="duplicate.*deduplicate_interactions"):
        interaction_matrix(log, IdIndex(log["user_id"]), IdIndex(log["item_id"]), value="rating")
    counts = interaction_matrix(log, IdIndex(log["user_id"]), IdIndex(log["item_id"]))
    assert counts.max() == 2  # without a value, cells count the rows of their pair


def test_deduplication_without_timestamps_keeps_the_last_row():
    log = _with_a_rerating().drop(columns="timestamp")
    assert deduplicate_interactions(log).query("user_id == 1 and item_id == 1")["rating"].item() == 1.0


@pytest.mark.parametrize("split", [stratified_split, random_split])
def test_splits_never_put_one_pair_on_both_sides(split):
    log = pd.concat([_with_a_rerating(seed) for seed in range(3)], ignore_index=True)  # many repeated pairs
    for seed in range(5):
        train, test = split(log, 0.3, seed=seed)
        assert len(train) + len(test) == len(log)
        both = train.merge(test, on=["user_id", "item_id"])
        assert both.empty, f"pairs on both sides: {both[['user_id', 'item_id']].drop_duplicates().values.tolist()}"


def test_the_pair_split_is_unchanged_on_data_without_duplicates():
    """The leaderboard split (per-user 75/25, seed 42) of unique pairs is the row split it always was."""
    from rec_utils.data.synthetic import generate_movielens_like

    ratings = generate_movielens_like(n_users=40, n_items=60, mean_ratings_per_user=25).ratings
    train, test = stratified_split(ratings, 0.25, seed=42)
    rng = np.random.default_rng(42)
    users = ratings["user_id"].to_numpy()
    order = np.lexsort((rng.random(len(ratings)), users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    is_test = np.zeros(len(ratings), bool)
    is_test[order] = rank < np.repeat(np.minimum(np.round(sizes * 0.25).astype(int), sizes - 1), sizes)
    pd.testing.assert_frame_equal(test, ratings[is_test].reset_index(drop=True))


def test_item_gram_matches_the_dense_product_and_ease_the_textbook_inverse():
    from rec_utils.models.classical import item_gram

    rng = np.random.default_rng(3)
    x = sp.random(70, 40, density=0.2, random_state=3, format="csr", dtype=np.float32)
    x.data[:] = 1.0
    dense = x.toarray().astype(np.float64)
    np.testing.assert_allclose(item_gram(x, l2=2.0), dense.T @ dense + 2.0 * np.eye(40), rtol=1e-6)
    r = pd.DataFrame({"user_id": rng.integers(0, 60, 500), "item_id": rng.integers(0, 30, 500)}).drop_duplicates()
    model = EASE(l2=5.0).fit(r)
    x = model.seen_.toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + 5.0 * np.eye(x.shape[1]))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.weights_, expected, atol=2e-5)
    assert model.weights_.dtype == np.float32 and model.weights_.flags.c_contiguous


def test_item_gram_is_the_same_when_built_in_many_blocks():
    """Wide catalogues build the Gram matrix from several user blocks and mirror it in several
    column blocks (small blocks keep the temporaries next to the items x items result small)."""
    from rec_utils.models.classical import _blocks, item_gram

    n_users, n_items = 1500, 3000
    assert len(_blocks(n_users, n_items, budget=2**21)) > 1 and len(_blocks(n_items, n_items, budget=2**22)) > 1
    x = sp.random(n_users, n_items, density=0.01, random_state=5, format="csr", dtype=np.float32)
    x.data[:] = 1.0
    gram = item_gram(x, l2=1.5)
    expected = (x.T @ x).toarray() + 1.5 * np.eye(n_items, dtype=np.float32)
    np.testing.assert_allclose(gram, expected, rtol=1e-6)
    np.testing.assert_array_equal(gram, gram.T)


def test_ease_weights_takes_any_gram_matrix_and_checks_it():
    from rec_utils.models.classical import ease_weights, item_gram

    x = sp.random(80, 30, density=0.2, random_state=5, format="csr", dtype=np.float32)
    x.data[:] = 1.0
    side = np.random.default_rng(5).random((30, 4)).astype(np.float32)
    gram = item_gram(x, l2=3.0)
    gram += np.float32(4.0) * (side @ side.T)  # an extra term, as the hybrid EASE of notebook 14 adds
    dense = x.toarray().astype(np.float64)
    p = np.linalg.inv(dense.T @ dense + 3.0 * np.eye(30) + 4.0 * side.astype(np.float64) @ side.T.astype(np.float64))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(ease_weights(gram), expected, atol=2e-5)
    with pytest.raises(ValueError, match="square"):
        ease_weights(np.ones((3, 4), np.float32))
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        ease_weights(-np.eye(3, dtype=np.float32))


def test_ials_fold_in_matches_its_own_users_at_convergence_and_scores_new_ones():
    rng = np.random.default_rng(0)
    ratings = pd.DataFrame({"user_id": rng.integers(0, 40, 600), "item_id": rng.integers(0, 30, 600)}).drop_duplicates()
    model = ImplicitALS(n_factors=4, reg=0.05, n_epochs=60).fit(ratings)
    folded = model.fold_in(model.seen_)
    np.testing.assert_allclose(folded, model.user_factors_, atol=2e-3)  # a fixed point of the alternation
    assert folded.dtype == np.float32
    empty = model.fold_in(sp.csr_matrix((2, model.seen_.shape[1])))
    np.testing.assert_allclose(empty, 0.0)  # no history, no preference
    with pytest.raises(ValueError, match="one column per fitted item"):
        model.fold_in(np.ones((1, model.seen_.shape[1] + 1)))
    with pytest.raises(ValueError, match="non-negative"):
        model.fold_in(-np.ones((1, model.seen_.shape[1])))
