"""Tests of rec_utils.systems.privacy: DP-SGD's clipping and noise, the RDP accountant, federated averaging."""

import numpy as np
import pytest

from rec_utils.systems.privacy import add_gaussian_noise, clip_by_example_norm, compute_rdp, dp_sgd_epsilon, federated_average, per_example_gradients, rdp_subsampled_gaussian, rdp_to_epsilon

tf = pytest.importorskip("tensorflow")


# --------------------------------------------------------------------------- per-example gradients

def _logistic_loss(w, x, y):
    logit = tf.reduce_sum(w * x)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logit)


def test_per_example_gradients_match_microbatches_of_one():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 3)).astype("float32")
    x = rng.normal(size=(6, 3)).astype("float32")
    y = (rng.random(6) > 0.5).astype("float32")
    grads = per_example_gradients(lambda wi, xi, yi: _logistic_loss(wi, xi, yi), [w, x], y)
    for b in range(6):
        wb, xb = tf.constant(w[b]), tf.constant(x[b])
        with tf.GradientTape() as tape:
            tape.watch([wb, xb])
            loss = _logistic_loss(wb, xb, tf.constant(y[b]))
        gw, gx = tape.gradient(loss, [wb, xb])
        np.testing.assert_allclose(grads[0][b], gw, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(grads[1][b], gx, rtol=1e-5, atol=1e-6)


def test_per_example_gradients_validate():
    with pytest.raises(ValueError, match="same batch size"):
        per_example_gradients(lambda w, y: tf.reduce_sum(w), [np.zeros((3, 2), "float32")], np.zeros(4, "float32"))
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        per_example_gradients("loss", [np.zeros((3, 2), "float32")], np.zeros(3, "float32"))


# --------------------------------------------------------------------------- clipping and noise

def test_clipping_bounds_every_example_norm_and_keeps_small_ones():
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(50, 4)).astype("float32") * 3, rng.normal(size=(50, 2, 3)).astype("float32")]
    clipped, norms = clip_by_example_norm(grads, clip_norm=1.5)
    joint = np.sqrt(sum((np.asarray(c).reshape(50, -1) ** 2).sum(axis=1) for c in clipped))
    assert joint.max() <= 1.5 + 1e-5
    before = np.sqrt(sum((g.reshape(50, -1) ** 2).sum(axis=1) for g in grads))
    np.testing.assert_allclose(norms, before, rtol=1e-5)
    small = before <= 1.5
    np.testing.assert_allclose(np.asarray(clipped[0])[small], grads[0][small], rtol=1e-6)
    big = ~small
    assert big.any()
    np.testing.assert_allclose(joint[big], 1.5, rtol=1e-5)  # long gradients end exactly on the bound
    cosine = (np.asarray(clipped[0])[big] * grads[0][big]).sum(1) / (
        np.linalg.norm(np.asarray(clipped[0])[big], axis=1) * np.linalg.norm(grads[0][big], axis=1))
    np.testing.assert_allclose(cosine, 1.0, rtol=1e-5)  # direction kept


def test_clipping_validates():
    with pytest.raises(ValueError, match="clip_norm"):
        clip_by_example_norm([np.ones((2, 2))], clip_norm=0)
    with pytest.raises(TypeError, match="clip_norm"):
        clip_by_example_norm([np.ones((2, 2))], clip_norm="1")
    with pytest.raises(ValueError, match="non-empty"):
        clip_by_example_norm([], clip_norm=1.0)


def test_noise_has_the_stated_scale_and_is_seeded():
    noisy = add_gaussian_noise([np.zeros((200, 500)), np.ones(10)], noise_multiplier=1.3, clip_norm=0.4, seed=3)
    assert np.std(noisy[0]) == pytest.approx(1.3 * 0.4, rel=0.02)
    assert abs(np.mean(noisy[0])) < 0.01
    again = add_gaussian_noise([np.zeros((200, 500)), np.ones(10)], noise_multiplier=1.3, clip_norm=0.4, seed=3)
    np.testing.assert_array_equal(noisy[0], again[0])
    unchanged = add_gaussian_noise([np.ones(5)], noise_multiplier=0.0, clip_norm=1.0, seed=0)
    np.testing.assert_array_equal(unchanged[0], np.ones(5))


def test_noise_validates():
    with pytest.raises(ValueError, match="noise_multiplier"):
        add_gaussian_noise([np.zeros(3)], noise_multiplier=-1.0, clip_norm=1.0)
    with pytest.raises(ValueError, match="clip_norm"):
        add_gaussian_noise([np.zeros(3)], noise_multiplier=1.0, clip_norm=0.0)


# --------------------------------------------------------------------------- accountant

def test_no_subsampling_gives_the_closed_form():
    orders = np.arange(2, 40)
    np.testing.assert_allclose(rdp_subsampled_gaussian(1.0, 1.7, orders), orders / (2 * 1.7 ** 2))
    np.testing.assert_allclose(compute_rdp(1.0, 10.0, 1, [20]), [0.1])
    np.testing.assert_allclose(compute_rdp(1.0, 2.0, 7, [3]), [7 * 3 / 8])


def test_subsampling_formula_near_one_tends_to_the_closed_form():
    np.testing.assert_allclose(rdp_subsampled_gaussian(1 - 1e-12, 2.0, [2, 5, 9]), np.array([2, 5, 9]) / 8,
                               rtol=1e-6)


def test_published_reference_values():
    # TensorFlow Privacy's rdp_accountant tests (integer orders of their reference cases)
    assert compute_rdp(0.1, 2.0, 10, [5])[0] == pytest.approx(0.07737, abs=1e-5)
    np.testing.assert_allclose(compute_rdp(0.01, 2.5, 50, [5, 50, 100]), [0.00218075, 0.023846, 167.416307],
                               atol=1e-5)
    eps, order = rdp_to_epsilon(range(2, 33), compute_rdp(0.01, 4.0, 10_000, range(2, 33)), delta=1e-5)
    assert eps == pytest.approx(1.258575, abs=1e-5)
    assert order == 20


def test_epsilon_falls_with_noise_and_grows_with_steps_and_sampling():
    by_noise = [dp_sgd_epsilon(10_000, 100, s, 1000, 1e-5) for s in (0.7, 1.0, 1.5, 3.0)]
    assert np.all(np.diff(by_noise) < 0)
    by_steps = [dp_sgd_epsilon(10_000, 100, 1.0, t, 1e-5) for t in (10, 100, 1000, 10_000)]
    assert np.all(np.diff(by_steps) > 0)
    by_batch = [dp_sgd_epsilon(10_000, b, 1.0, 1000, 1e-5) for b in (10, 100, 1000)]
    assert np.all(np.diff(by_batch) > 0)
    by_delta = [dp_sgd_epsilon(10_000, 100, 1.0, 1000, d) for d in (1e-3, 1e-5, 1e-7)]
    assert np.all(np.diff(by_delta) > 0)
    rdp = rdp_subsampled_gaussian(0.05, 1.2, range(2, 60))
    assert np.all(np.diff(rdp) >= 0)  # RDP is non-decreasing in the order


def test_accountant_validates():
    with pytest.raises(TypeError, match="orders must be integers"):
        rdp_subsampled_gaussian(0.1, 1.0, [1.5])
    with pytest.raises(ValueError, match=">= 2"):
        rdp_subsampled_gaussian(0.1, 1.0, [1])
    with pytest.raises(ValueError, match="q"):
        rdp_subsampled_gaussian(1.5, 1.0, [2])
    with pytest.raises(ValueError, match="noise_multiplier"):
        rdp_subsampled_gaussian(0.1, 0.0, [2])
    with pytest.raises(ValueError, match="steps"):
        compute_rdp(0.1, 1.0, 0, [2])
    with pytest.raises(TypeError, match="steps"):
        compute_rdp(0.1, 1.0, 10.0, [2])
    with pytest.raises(ValueError, match="delta"):
        rdp_to_epsilon([2], [0.1], delta=0.0)
    with pytest.raises(ValueError, match="one value per order"):
        rdp_to_epsilon([2, 3], [0.1], delta=1e-5)
    with pytest.raises(ValueError, match="cannot exceed"):
        dp_sgd_epsilon(100, 200, 1.0, 10, 1e-5)


# --------------------------------------------------------------------------- federated averaging

def _gradient_step(weights, x, y, learning_rate=0.1):
    """One full-batch gradient step of least squares, mean loss over the rows."""
    gradient = x.T @ (x @ weights - y) / len(y)
    return weights - learning_rate * gradient


def test_fedavg_of_identical_clients_equals_the_central_step():
    rng = np.random.default_rng(2)
    x, y, w = rng.normal(size=(40, 3)), rng.normal(size=40), rng.normal(size=3)
    central = _gradient_step(w, x, y)
    clients = [[_gradient_step(w, x, y)] for _ in range(4)]
    np.testing.assert_allclose(federated_average(clients, [40] * 4)[0], central)


def test_fedavg_of_one_local_step_equals_the_central_step_on_any_partition():
    rng = np.random.default_rng(3)
    x, y, w = rng.normal(size=(60, 3)), rng.normal(size=60), rng.normal(size=3)
    parts = np.split(np.arange(60), [10, 35])
    clients = [[_gradient_step(w, x[p], y[p])] for p in parts]
    np.testing.assert_allclose(federated_average(clients, [len(p) for p in parts])[0], _gradient_step(w, x, y))


def test_fedavg_weights_by_size_and_keeps_dtype():
    average = federated_average([[np.zeros(2, "float32"), np.ones((2, 2), "float32")],
                                 [np.full(2, 3.0, "float32"), np.zeros((2, 2), "float32")]], [1, 2])
    np.testing.assert_allclose(average[0], [2.0, 2.0])
    np.testing.assert_allclose(average[1], np.full((2, 2), 1 / 3), rtol=1e-6)
    assert average[0].dtype == np.float32


def test_fedavg_validates():
    with pytest.raises(ValueError, match="at least one client"):
        federated_average([], [])
    with pytest.raises(ValueError, match="one size per client"):
        federated_average([[np.zeros(2)]], [1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        federated_average([[np.zeros(2)], [np.zeros(2)]], [1, -1])
    with pytest.raises(ValueError, match="same shapes"):
        federated_average([[np.zeros(2)], [np.zeros(3)]], [1, 1])
