import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from rec_utils._checks import NotFittedError  # noqa: E402
from rec_utils.models.gan import CFGAN, build_cfgan_discriminator, build_cfgan_generator, build_toy_discriminator, build_toy_generator, cfgan_masks, cfgan_train_steps, discriminator_loss, generator_loss, mode_coverage, ring_centres, ring_of_gaussians, sliced_wasserstein  # noqa: E402


def _planted(n_users=40, n_items=30, seed=0):
    rng = np.random.default_rng(seed)
    same = (np.arange(n_users) % 2)[:, None] == (np.arange(n_items) % 2)[None, :]
    users, items = np.nonzero(rng.random((n_users, n_items)) < np.where(same, 0.5, 0.05))
    return pd.DataFrame({"user_id": users + 1, "item_id": items + 1, "rating": 5.0})


# --------------------------------------------------------------------------- toy data and judges

def test_ring_of_gaussians_is_seeded_and_on_the_ring():
    a, b = ring_of_gaussians(500, seed=3), ring_of_gaussians(500, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (500, 2) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1).mean(), 2.0, atol=0.01)
    centres = ring_centres(8, 2.0)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0, rtol=1e-6)
    assert mode_coverage(a, centres, 0.05)["modes_covered"] == 8


@pytest.mark.parametrize("call, message", [
    (lambda: ring_of_gaussians(0), "n must"), (lambda: ring_of_gaussians(5, std=0), "std"),
    (lambda: ring_centres(0), "n_modes"), (lambda: ring_centres(4, radius=-1.0), "radius"),
])
def test_ring_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_sliced_wasserstein_is_zero_for_the_same_cloud_and_grows_with_a_shift():
    a = ring_of_gaussians(400, seed=0)
    assert sliced_wasserstein(a, a[::-1]) == 0.0
    near, far = sliced_wasserstein(a, a + 0.1), sliced_wasserstein(a, a + 1.0)
    assert 0 < near < far
    np.testing.assert_allclose(sliced_wasserstein(a, a + 1.0), sliced_wasserstein(a + 1.0, a))
    # on a line the distance of a shift is the shift: the mean |cos| of random directions times |shift|
    one_d = np.random.default_rng(1).normal(size=(300, 1))
    np.testing.assert_allclose(sliced_wasserstein(one_d, one_d + 0.7), 0.7, rtol=1e-9)


def test_sliced_wasserstein_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        sliced_wasserstein(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="a must be 2-dimensional"):
        sliced_wasserstein(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="a contains NaN or infinite values"):
        sliced_wasserstein(np.full((2, 2), np.nan), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="b is empty"):
        sliced_wasserstein(np.zeros((2, 2)), np.zeros((0, 2)))
    with pytest.raises(TypeError, match="a must be an array of numbers"):
        sliced_wasserstein([["x", "y"]], np.zeros((1, 2)))


def test_mode_coverage_sees_a_collapse():
    centres = ring_centres(8, 2.0)
    collapsed = centres[[0]] + np.random.default_rng(0).normal(0, 0.05, (1000, 2))
    found = mode_coverage(collapsed, centres, 0.05)
    assert found["modes_covered"] == 1 and found["high_quality_share"] > 0.95
    assert sum(found["points_per_mode"]) <= 1000
    with pytest.raises(ValueError, match="dimension"):
        mode_coverage(np.zeros((5, 3)), centres, 0.05)
    with pytest.raises(ValueError, match="std"):
        mode_coverage(collapsed, centres, 0.0)


# --------------------------------------------------------------------------- toy players and losses

def test_toy_players_have_the_documented_shapes_and_are_seeded():
    generator, discriminator = build_toy_generator(4, 16, 2, seed=1), build_toy_discriminator(2, 16, 2, seed=1)
    assert generator.output.shape == (None, 2) and discriminator.output.shape == (None, 1)
    assert generator.count_params() == (4 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2)
    again = build_toy_generator(4, 16, 2, seed=1)
    for a, b in zip(generator.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="noise_dim"):
        build_toy_generator(0)
    with pytest.raises(ValueError, match="depth"):
        build_toy_discriminator(2, 8, 0)


def test_losses_match_their_formulas_and_gradients():
    logits = np.array([-4.0, -1.0, 0.0, 2.0], dtype=np.float32)
    d = 1 / (1 + np.exp(-logits.astype(np.float64)))
    np.testing.assert_allclose(float(discriminator_loss(logits, logits)), np.mean(-np.log(d)) + np.mean(-np.log(1 - d)), rtol=1e-5)
    np.testing.assert_allclose(float(generator_loss(logits)), np.mean(-np.log(d)), rtol=1e-5)
    np.testing.assert_allclose(float(generator_loss(logits, saturating=True)), np.mean(np.log(1 - d)), rtol=1e-5)
    variable = tf.Variable(logits)
    for saturating, expected in ((True, d), (False, 1 - d)):
        with tf.GradientTape() as tape:
            loss = generator_loss(variable, saturating=saturating) * len(logits)
        np.testing.assert_allclose(np.abs(tape.gradient(loss, variable).numpy()), expected, rtol=1e-4)
    with pytest.raises(TypeError, match="saturating"):
        generator_loss(logits, saturating="yes")


# --------------------------------------------------------------------------- CFGAN pieces

def test_cfgan_networks_have_the_documented_shapes_and_are_seeded():
    generator = build_cfgan_generator(12, (6,), seed=0)
    discriminator = build_cfgan_discriminator(12, (5,), seed=0)
    out = np.asarray(generator(np.eye(12, dtype=np.float32)[:3]))
    assert out.shape == (3, 12) and ((out > 0) & (out < 1)).all()
    logit = discriminator({"purchase_vector": out, "history": np.eye(12, dtype=np.float32)[:3]})
    assert tuple(logit.shape) == (3, 1)
    assert discriminator.count_params() == (24 * 5 + 5) + (5 + 1)
    for a, b in zip(generator.get_weights(), build_cfgan_generator(12, (6,), seed=0).get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call, error, message", [
    (lambda: build_cfgan_generator(0), ValueError, "n_items"), (lambda: build_cfgan_generator(5, ()), ValueError, "hidden"),
    (lambda: build_cfgan_discriminator(5, (4, 0)), ValueError, "hidden"),
    (lambda: build_cfgan_discriminator(2.5), TypeError, "n_items"),
    (lambda: build_cfgan_generator(5, 8), TypeError, "hidden"),
    (lambda: build_cfgan_generator(5, (8,), seed=-1), ValueError, "seed"),
])
def test_cfgan_builders_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_masks_sample_only_non_purchased_items_at_the_asked_rate():
    history = (np.random.default_rng(0).random((200, 50)) < 0.2).astype(np.float32)
    zr, pm = cfgan_masks(history, 0.7, 0.3, np.random.default_rng(1))
    assert not (zr * history).any() and not (pm * history).any()
    unseen = history == 0
    np.testing.assert_allclose(zr[unseen].mean(), 0.7, atol=0.02)
    np.testing.assert_allclose(pm[unseen].mean(), 0.3, atol=0.02)
    with pytest.raises(ValueError, match="zr_ratio"):
        cfgan_masks(history, 1.5, 0.3, np.random.default_rng(1))
    with pytest.raises(ValueError, match="history must be 2-dimensional"):
        cfgan_masks(history[0], 0.5, 0.3, np.random.default_rng(1))


def test_train_steps_move_both_networks():
    generator, discriminator = build_cfgan_generator(10, (4,), seed=0), build_cfgan_discriminator(10, (4,), seed=1)
    before = [w.copy() for w in generator.get_weights() + discriminator.get_weights()]
    d_step, g_step = cfgan_train_steps(generator, discriminator, keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    history = np.eye(10, dtype=np.float32)[:4]
    masks = cfgan_masks(history, 0.5, 0.5, np.random.default_rng(0))
    loss, accuracy = d_step(history, *masks)
    assert np.isfinite(float(loss)) and 0 <= float(accuracy) <= 1
    g_step(history, *masks)
    after = generator.get_weights() + discriminator.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    with pytest.raises(ValueError, match="zr_weight"):
        cfgan_train_steps(generator, discriminator, None, None, zr_weight=-1.0)
    with pytest.raises(TypeError, match="adversarial"):
        cfgan_train_steps(generator, discriminator, None, None, adversarial="no")


# --------------------------------------------------------------------------- the recommender

def test_cfgan_fits_scores_and_is_deterministic():
    ratings = _planted()
    settings = dict(generator_hidden=(8,), discriminator_hidden=(4,), epochs=3, batch_size=16, seed=3)
    a = CFGAN(**settings).fit(ratings)
    b = CFGAN(**settings).fit(ratings)
    scores = a.score([1, 2, 3])
    assert scores.shape == (3, ratings["item_id"].nunique()) and scores.dtype == np.float32
    np.testing.assert_array_equal(scores, b.score([1, 2, 3]))
    assert len(a.history_["discriminator_accuracy"]) == 3 and a.best_epoch_ == 3
    assert a.recommend([1], k=2).shape == (1, 2)


def test_a_tiny_fit_lowers_the_loss_and_learns_the_history():
    ratings = _planted()
    model = CFGAN(generator_hidden=(16,), discriminator_hidden=(4,), epochs=15, batch_size=8, learning_rate=1e-2,
                  adversarial=False, seed=0).fit(ratings)
    losses = model.history_["generator_loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert model.history_["output_on_history"][-1] > model.history_["output_elsewhere"][-1] + 0.3


def test_validation_keeps_the_best_epoch():
    ratings = _planted()
    train, valid = ratings.iloc[::4 * 1].pipe(lambda r: (ratings.drop(r.index), r))
    model = CFGAN(generator_hidden=(8,), discriminator_hidden=(4,), epochs=4, batch_size=16, eval_every=2,
                  eval_k=5, seed=0).fit(train, validation=valid)
    assert model.history_["validation_epoch"] == [2, 4]
    assert model.best_epoch_ == [2, 4][int(np.argmax(model.history_["validation_ndcg"]))]


def test_scores_diagnostics_and_validation_equal_their_dense_computation():
    ratings = _planted(n_users=50, n_items=40, seed=2)
    train, valid = ratings.drop(ratings.index[::5]), ratings.iloc[::5]
    model = CFGAN(generator_hidden=(8,), discriminator_hidden=(4,), epochs=2, batch_size=16, eval_every=1,
                  eval_k=5, seed=1).fit(train, validation=valid)
    history = model.seen_.toarray().astype(np.float32)
    generated = np.asarray(model.generator_(history, training=False))
    np.testing.assert_allclose(model.score(model.users_.ids), generated, rtol=1e-6)
    # the diagnostics of the last epoch, computed block by block, equal the dense means
    np.testing.assert_allclose(model.history_["output_on_history"][-1], generated[history > 0].mean(), rtol=1e-5)
    np.testing.assert_allclose(model.history_["output_elsewhere"][-1], generated[history == 0].mean(), rtol=1e-5)
    # and the validation NDCG of the kept generator is the dense one
    from rec_utils.evaluation.metrics import exclude_seen, ranking_metrics
    truth = np.zeros_like(history)
    truth[model.users_.positions(valid["user_id"]), model.items_.positions(valid["item_id"])] = 1
    rows = np.flatnonzero(truth.any(axis=1))
    dense = ranking_metrics(truth[rows], exclude_seen(generated[rows], history[rows]), 5, metrics=("ndcg",))["ndcg"]
    kept = model.history_["validation_ndcg"][model.history_["validation_epoch"].index(model.best_epoch_)]
    np.testing.assert_allclose(kept, dense, rtol=1e-6)


def test_fit_never_builds_a_users_x_items_matrix():
    import tracemalloc

    rng = np.random.default_rng(0)
    n_users, n_items = 12_000, 2000  # a dense float32 users x items matrix would take 96 MB
    users, items = np.repeat(np.arange(n_users), 4), rng.integers(0, n_items, 4 * n_users)
    ratings = pd.DataFrame({"user_id": users + 1, "item_id": items + 1}).drop_duplicates()
    valid = ratings.groupby("user_id").head(1).iloc[::5]
    model = CFGAN(generator_hidden=(4,), discriminator_hidden=(2,), epochs=1, batch_size=256, seed=0)
    tracemalloc.start()
    try:
        model.fit(ratings.drop(valid.index), validation=valid)
        model.score(model.users_.ids[:300])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # blocks of a few hundred users x items come and go; a users x items matrix would not fit here
    assert peak < 32 * 2**20, f"fit and score allocated {peak / 2**20:.0f} MB in NumPy"



@pytest.mark.parametrize("kwargs, error", [
    ({"epochs": 0}, ValueError), ({"batch_size": 1.5}, TypeError), ({"learning_rate": 0.0}, ValueError),
    ({"discriminator_learning_rate": -1.0}, ValueError), ({"zr_ratio": 2.0}, ValueError),
    ({"pm_ratio": -0.1}, ValueError), ({"zr_weight": -1.0}, ValueError), ({"adversarial": 1}, TypeError),
    ({"generator_hidden": ()}, ValueError), ({"discriminator_hidden": (4, 0)}, ValueError),
    ({"eval_every": 0}, ValueError), ({"seed": 1.5}, TypeError), ({"verbose": "yes"}, TypeError),
])
def test_cfgan_rejects_bad_hyper_parameters_at_fit(kwargs, error):
    model = CFGAN(**kwargs)  # stored as given: the error comes from fit
    (name, value), = kwargs.items()
    assert model.get_params()[name] is value
    with pytest.raises(error, match=name):
        model.fit(_planted(6, 5))
    assert not hasattr(model, "generator_")


def test_cfgan_must_be_fitted_before_scoring():
    with pytest.raises(NotFittedError, match="not fitted"):
        CFGAN().score([1])


def test_cfgan_without_a_seed_still_trains():
    model = CFGAN(generator_hidden=(4,), discriminator_hidden=(4,), epochs=1, seed=None).fit(_planted(6, 5))
    assert model.score([1]).shape == (1, model.seen_.shape[1])
