import json
import socket

import numpy as np
import pytest

from rec_utils.systems.distributed import epoch_pairs, free_ports, run_workers, split_cpu_devices, tf_config, train_embedding_model


# --------------------------------------------------------------------------- cluster plumbing

def test_free_ports_are_distinct_and_bindable_on_loopback():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))


def test_tf_config_names_the_cluster_and_the_task():
    config = json.loads(tf_config([5000, 5001, 5002], 2))
    assert config["cluster"]["worker"] == ["127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.1:5002"]
    assert config["task"] == {"type": "worker", "index": 2}


@pytest.mark.parametrize("ports, index, error, message", [
    ([], 0, ValueError, "non-empty list of port numbers"),
    ([80, 70000], 0, ValueError, r"ports\[1\] must be an integer >= 1 and <= 65535, got 70000"),
    (["5000"], 0, TypeError, r"ports\[0\] must be an integer"),
    ([5000, 5001], 2, ValueError, "index must be an integer >= 0 and <= 1"),
    ([5000], -1, ValueError, "index"),
    ([5000], 0.0, TypeError, "index must be an integer"),
])
def test_tf_config_rejects_bad_arguments(ports, index, error, message):
    with pytest.raises(error, match=message):
        tf_config(ports, index)


def test_free_ports_rejects_a_non_positive_count():
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        free_ports(0)
    with pytest.raises(TypeError, match="n must be an integer"):
        free_ports(2.0)


# --------------------------------------------------------------------------- data and training

def test_epoch_pairs_are_reproducible_per_epoch_and_differ_between_epochs():
    users, items = np.array([0, 0, 1, 2]), np.array([1, 2, 0, 3])
    a, b, c = (epoch_pairs(users, items, 6, 3, epoch) for epoch in (0, 0, 1))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])
    assert a[2].sum() == 4 and len(a[2]) == 16
    positives = set(zip(users.tolist(), items.tolist()))
    assert all((u, i) in positives for u, i in zip(a[0][a[2] == 1].tolist(), a[1][a[2] == 1].tolist()))


def test_train_embedding_model_learns_and_is_deterministic():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 20, 300), rng.integers(0, 15, 300)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    first, history = train_embedding_model(strategy, users, items, 20, 30, n_factors=4, epochs=3,
                                           global_batch_size=64, learning_rate=0.05, seed=1)
    second, _ = train_embedding_model(strategy, users, items, 20, 30, n_factors=4, epochs=3,
                                      global_batch_size=64, learning_rate=0.05, seed=1)
    assert history["loss"][-1] < history["loss"][0] and len(history["seconds"]) == 3
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_train_embedding_model_needs_a_batch_the_replicas_can_share():
    tf = pytest.importorskip("tensorflow")

    class TwoReplicas:
        num_replicas_in_sync = 2

    with pytest.raises(ValueError, match="multiple of the 2 replicas"):
        train_embedding_model(TwoReplicas(), [0], [0], 1, 1, global_batch_size=3)
    with pytest.raises(ValueError, match="epochs"):
        train_embedding_model(tf.distribute.get_strategy(), [0], [0], 1, 1, epochs=0)


def test_split_cpu_devices_refuses_once_devices_exist():
    tf = pytest.importorskip("tensorflow")
    tf.constant(0.0)  # initialises TensorFlow's devices
    current = len(tf.config.list_logical_devices("CPU"))
    assert len(split_cpu_devices(current)) == current  # asking for what exists is fine
    with pytest.raises(RuntimeError, match="restart the kernel"):
        split_cpu_devices(current + 1)


# --------------------------------------------------------------------------- worker processes

@pytest.fixture
def pairs_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "pairs.npz"
    np.savez(path, user=rng.integers(0, 20, 400), item=rng.integers(0, 30, 400), n_users=20, n_items=30)
    return path


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n_workers": 0}, ValueError, "n_workers"),
    ({"timeout": 0}, ValueError, r"timeout \(seconds\) must be a number > 0"),
    ({"timeout": "300"}, TypeError, "timeout"),
    ({"data_file": "missing.npz"}, ValueError, "data_file must be an existing"),
])
def test_run_workers_rejects_bad_arguments(tmp_path, pairs_file, kwargs, error, message):
    arguments = {"data_file": pairs_file, "out_dir": tmp_path / "out", **kwargs}
    with pytest.raises(error, match=message):
        run_workers(**arguments)


def test_run_workers_kills_workers_past_the_timeout(tmp_path, pairs_file):
    run = run_workers(pairs_file, tmp_path / "out", n_workers=2, timeout=0.5)
    assert run["timed_out"] and run["result"] is None
    assert all(code is not None for code in run["returncodes"])  # nobody left running
    assert run["seconds"] < 30


def test_two_workers_train_on_loopback(tmp_path, pairs_file):
    """A tiny MultiWorkerMirroredStrategy job: two processes, ports on 127.0.0.1 only."""
    pytest.importorskip("tensorflow")
    run = run_workers(pairs_file, tmp_path / "out", n_workers=2, timeout=300,  # a hang guard, not a speed target
                      train_args=["--epochs", 2, "--factors", 4, "--batch-size", 64])
    assert not run["timed_out"] and run["returncodes"] == [0, 0], run["logs"]
    assert run["result"]["replicas"] == 2 and len(run["result"]["loss"]) == 2
    with np.load(tmp_path / "out" / "embeddings.npz") as saved:
        assert saved["user_embedding"].shape == (20, 4) and saved["item_bias"].shape == (30, 1)
