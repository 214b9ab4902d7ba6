import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras  # noqa: E402

from rec_utils.models.ncf import build_gmf, build_mf, build_mlp, build_neumf, load_pretrained, negative_sampling_batches, sample_negatives, score_candidates  # noqa: E402


def _pairs(model, users, items):
    return np.asarray(model.predict_on_batch({"user": np.asarray(users, np.int32),
                                              "item": np.asarray(items, np.int32)})).ravel()


# --------------------------------------------------------------------------- builders

def test_models_take_user_and_item_positions_and_output_one_probability_per_pair():
    for model in (build_mf(6, 9, 3, seed=0), build_gmf(6, 9, 3, seed=0), build_mlp(6, 9, (8, 4), seed=0),
                  build_neumf(6, 9, 3, (8, 4), seed=0)):
        out = _pairs(model, [0, 5, 2], [8, 0, 4])
        assert out.shape == (3,) and ((out > 0) & (out < 1)).all(), model.name
        assert model.output.shape == (None, 1)
        assert {t.name for t in model.inputs} == {"user", "item"}


def test_parameter_counts_follow_the_architecture():
    n_users, n_items, f = 7, 11, 4
    assert build_mf(n_users, n_items, f).count_params() == (n_users + n_items) * (f + 1)
    assert build_gmf(n_users, n_items, f).count_params() == (n_users + n_items) * f + f + 1
    mlp_params = (n_users + n_items) * 8 + (16 * 8 + 8) + (8 * 4 + 4)
    assert build_mlp(n_users, n_items, (16, 8, 4)).count_params() == mlp_params + 4 + 1
    neumf = build_neumf(n_users, n_items, f, (16, 8, 4))
    assert neumf.count_params() == (n_users + n_items) * f + mlp_params + (f + 4) + 1


def test_neumf_layer_names_match_gmf_and_mlp():
    gmf, mlp, neumf = build_gmf(5, 6, 3), build_mlp(5, 6, (8, 4)), build_neumf(5, 6, 3, (8, 4))
    names = {layer.name for layer in neumf.layers}
    assert {layer.name for layer in gmf.layers} | {layer.name for layer in mlp.layers} <= names | {"neumf_concat"}
    assert "neumf_concat" in names


def test_builders_are_deterministic_with_a_seed():
    for build in (lambda s: build_gmf(8, 10, 4, seed=s), lambda s: build_neumf(8, 10, 4, (8, 4), seed=s)):
        a, b, c = build(3), build(3), build(4)
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)
        assert not all(np.array_equal(wa, wc) for wa, wc in zip(a.get_weights(), c.get_weights()))


@pytest.mark.parametrize("build, kwargs, error, message", [
    (build_gmf, {"n_users": 0, "n_items": 5}, ValueError, "n_users"),
    (build_gmf, {"n_users": 5, "n_items": 2.5}, TypeError, "n_items"),
    (build_gmf, {"n_users": 5, "n_items": 5, "n_factors": 0}, ValueError, "n_factors"),
    (build_mf, {"n_users": 5, "n_items": 5, "l2": -1.0}, ValueError, "l2"),
    (build_mf, {"n_users": 5, "n_items": 5, "l2": "0.1"}, TypeError, "l2"),
    (build_mf, {"n_users": 5, "n_items": 5, "seed": -3}, ValueError, "seed"),
    (build_mlp, {"n_users": 5, "n_items": 5, "layers": ()}, ValueError, "layers"),
    (build_mlp, {"n_users": 5, "n_items": 5, "layers": (7, 4)}, ValueError, "even"),
    (build_mlp, {"n_users": 5, "n_items": 5, "layers": (8, 0)}, ValueError, "layers"),
    (build_neumf, {"n_users": 5, "n_items": 5, "mlp_layers": 8}, TypeError, "layers"),
    (build_neumf, {"n_users": True, "n_items": 5}, TypeError, "n_users"),
])
def test_builders_reject_bad_arguments(build, kwargs, error, message):
    with pytest.raises(error, match=message):
        build(**kwargs)


def test_load_pretrained_makes_neumf_mix_the_two_logits():
    gmf, mlp = build_gmf(6, 9, 3, seed=1), build_mlp(6, 9, (8, 4), seed=2)
    for model in (gmf, mlp):  # non-trivial prediction layers
        kernel, bias = model.get_layer("prediction").get_weights()
        model.get_layer("prediction").set_weights([kernel + 0.5, bias + 0.3])
    neumf = load_pretrained(build_neumf(6, 9, 3, (8, 4), seed=3), gmf, mlp, alpha=0.25)
    users, items = np.arange(6), np.arange(6) + 2

    def logit(p):
        return np.log(p / (1 - p))

    expected = 0.25 * logit(_pairs(gmf, users, items)) + 0.75 * logit(_pairs(mlp, users, items))
    np.testing.assert_allclose(logit(_pairs(neumf, users, items)), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="alpha"):
        load_pretrained(neumf, gmf, mlp, alpha=1.5)
    with pytest.raises(TypeError, match="alpha"):
        load_pretrained(neumf, gmf, mlp, alpha="half")
    with pytest.raises(ValueError):
        load_pretrained(build_neumf(6, 9, 4, (8, 4)), gmf, mlp)


# --------------------------------------------------------------------------- negative sampling

def test_negatives_are_never_a_positive_of_their_user():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 400), rng.integers(0, 12, 400)  # dense: many rejections
    u, i, y = sample_negatives(users, items, n_items=12, n_negatives=5, seed=1)
    assert len(u) == len(i) == len(y) == 400 * 6 and y.sum() == 400
    positives = set(zip(users.tolist(), items.tolist()))
    negatives = list(zip(u[y == 0].tolist(), i[y == 0].tolist()))
    assert not any(pair in positives for pair in negatives)
    assert u.dtype == i.dtype == np.int32 and y.dtype == np.float32
    np.testing.assert_array_equal(u[400:], np.repeat(users, 5))


def test_negative_sampling_is_seeded_and_roughly_uniform():
    users, items = np.zeros(1, int), np.zeros(1, int)
    a = sample_negatives(users, items, n_items=5, n_negatives=4000, seed=7)[1]
    b = sample_negatives(users, items, n_items=5, n_negatives=4000, seed=7)[1]
    np.testing.assert_array_equal(a, b)
    counts = np.bincount(a[1:], minlength=5)
    assert counts[0] == 0 and (np.abs(counts[1:] - 1000) < 150).all()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"user_positions": [0, 1], "item_positions": [0], "n_items": 3}, ValueError, "same length"),
    ({"user_positions": [0, 1], "item_positions": [0, 3], "n_items": 3}, ValueError, r"item_positions must lie in 0..2"),
    ({"user_positions": [0, -1], "item_positions": [0, 1], "n_items": 3}, ValueError, "user_positions must lie in"),
    ({"user_positions": [0.5], "item_positions": [0], "n_items": 3}, TypeError, "user_positions must hold integer"),
    ({"user_positions": [], "item_positions": [], "n_items": 3}, ValueError, "user_positions is empty"),
    ({"user_positions": [0], "item_positions": [0], "n_items": 3, "n_negatives": 0}, ValueError, "n_negatives"),
    ({"user_positions": [0, 0], "item_positions": [0, 1], "n_items": 2}, ValueError, "all 2 items"),
])
def test_sample_negatives_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        sample_negatives(**kwargs)


def test_batches_resample_negatives_every_epoch_but_keep_the_positives():
    batches = negative_sampling_batches(np.arange(20) % 4, np.arange(20), n_items=50, n_negatives=2,
                                        batch_size=16, seed=0)
    assert len(batches) == 4  # 60 pairs

    def epoch():
        parts = [batches[k] for k in range(len(batches))]
        users = np.concatenate([p[0]["user"] for p in parts])
        items = np.concatenate([p[0]["item"] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        return users, items, labels

    first = epoch()
    batches.on_epoch_end()
    second = epoch()
    assert first[2].sum() == second[2].sum() == 20
    positives = lambda e: sorted(zip(e[0][e[2] == 1].tolist(), e[1][e[2] == 1].tolist()))  # noqa: E731
    assert positives(first) == positives(second)
    assert not np.array_equal(first[1], second[1])
    with pytest.raises(ValueError, match="batch_size"):
        negative_sampling_batches([0], [0], n_items=3, batch_size=0)



def _one_epoch(batches):
    parts = [batches[k] for k in range(len(batches))]
    return tuple(np.concatenate([p[0][name] for p in parts]) for name in ("user", "item")) + \
        (np.concatenate([p[1] for p in parts]),)


def test_an_epoch_budget_samples_fresh_positives_and_still_avoids_every_positive():
    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 10, 300), rng.integers(0, 15, 300)  # dense: many rejections
    all_positives = set(zip(users.tolist(), items.tolist()))
    batches = negative_sampling_batches(users, items, n_items=15, n_negatives=3, batch_size=32, seed=0,
                                        positives_per_epoch=50)
    assert batches.positives_per_epoch_ == 50 and len(batches) == -(-50 * 4 // 32)
    first = _one_epoch(batches)
    batches.on_epoch_end()
    second = _one_epoch(batches)
    for u, i, y in (first, second):
        assert y.sum() == 50 and len(y) == 200
        assert set(zip(u[y == 1].tolist(), i[y == 1].tolist())) <= all_positives
        assert not set(zip(u[y == 0].tolist(), i[y == 0].tolist())) & all_positives
    sample = lambda e: sorted(zip(e[0][e[2] == 1].tolist(), e[1][e[2] == 1].tolist()))  # noqa: E731
    assert sample(first) != sample(second)  # each epoch draws its own sample of positives


def test_a_budget_at_least_the_data_changes_nothing():
    users, items = np.arange(40) % 7, np.arange(40) % 11
    plain = _one_epoch(negative_sampling_batches(users, items, n_items=12, batch_size=16, seed=5))
    for budget in (40, 1000):
        budgeted = negative_sampling_batches(users, items, n_items=12, batch_size=16, seed=5, positives_per_epoch=budget)
        assert budgeted.positives_per_epoch_ == 40
        for a, b in zip(plain, _one_epoch(budgeted)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("budget", [0, -5, 2.5, True])
def test_a_bad_epoch_budget_is_refused(budget):
    with pytest.raises((ValueError, TypeError), match="positives_per_epoch"):
        negative_sampling_batches([0, 1], [0, 1], n_items=3, positives_per_epoch=budget)


# --------------------------------------------------------------------------- scoring and learning

def test_score_candidates_matches_pairwise_predictions_for_shared_and_per_user_candidates():
    model = build_neumf(7, 12, 3, (8, 4), seed=0)
    users = np.array([0, 3, 6])
    shared = score_candidates(model, users, np.arange(12), batch_size=10)  # several batches
    assert shared.shape == (3, 12) and shared.dtype == np.float32
    np.testing.assert_allclose(shared[1], _pairs(model, np.full(12, 3), np.arange(12)), rtol=1e-5)
    per_user = np.array([[1, 2], [5, 0], [11, 11]])
    scored = score_candidates(model, users, per_user)
    np.testing.assert_allclose(scored, np.take_along_axis(shared, per_user, axis=1), rtol=1e-5)
    with pytest.raises(ValueError, match="one row per user"):
        score_candidates(model, users, per_user[:2])
    with pytest.raises(ValueError, match="user_positions must be 1-dimensional"):
        score_candidates(model, np.array([[0]]), np.arange(3))
    with pytest.raises(TypeError, match="item_positions must hold integer"):
        score_candidates(model, users, np.arange(3.0))


def test_training_a_few_steps_learns_an_obvious_pattern():
    # users 0-9 like items 0-4, users 10-19 like items 5-9; each user has seen three of their five
    users = np.repeat(np.arange(20), 3)
    items = np.array([(u // 10) * 5 + k for u in range(20) for k in (u % 5, (u + 1) % 5, (u + 2) % 5)])
    model = build_gmf(20, 10, 4, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    batches = negative_sampling_batches(users, items, n_items=10, n_negatives=2, batch_size=64, seed=0)
    history = model.fit(batches, epochs=15, verbose=0).history
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    scores = score_candidates(model, np.arange(20), np.arange(10))
    own = np.where((np.arange(20) // 10)[:, None] == (np.arange(10) // 5)[None, :], scores, np.nan)
    other = np.where(np.isnan(own), scores, np.nan)
    assert (np.nanmean(own, axis=1) > np.nanmean(other, axis=1)).all()
