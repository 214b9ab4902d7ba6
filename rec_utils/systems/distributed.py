"""Training one embedding model on one device, on several devices, and on several processes.

Taught in ``notebooks/13_deployment_and_scale.ipynb``, section 7, which writes the training
loop by hand against ``tf.distribute``'s API and checks that :func:`train_embedding_model`
gives the same weights. The same function then runs under three strategies:

* ``tf.distribute.OneDeviceStrategy`` — one process, one device;
* ``tf.distribute.MirroredStrategy`` — one process, a copy of the model on each device
  (on a CPU-only machine, :func:`split_cpu_devices` makes two logical CPUs first);
* ``tf.distribute.MultiWorkerMirroredStrategy`` — one copy per process, gradients summed
  over the network by collective all-reduce. :func:`run_workers` starts the processes on
  this machine (``python -m rec_utils.systems.distributed ...``), each with its own ``TF_CONFIG``
  pointing at free loopback ports (:func:`free_ports`, :func:`tf_config`), waits with a
  timeout, kills stragglers and collects the chief's result and every worker's log.

The model is :func:`rec_utils.models.ncf.build_mf` (matrix factorisation with biases)
trained on implicit feedback: every interaction a positive, ``n_negatives`` uniformly
sampled non-interactions per positive, fresh every epoch (:func:`epoch_pairs`).

TensorFlow is imported only when needed, so importing this module is cheap.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .._checks import check_number, positive_int
from .._console import quiet_native_stderr

__all__ = ["free_ports", "tf_config", "split_cpu_devices", "epoch_pairs", "train_embedding_model",
           "run_workers", "WorkerRun"]


# --------------------------------------------------------------------------- cluster plumbing

def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports that are free on ``host`` right now.

    Each port is found by binding a socket to port 0 (the system picks a free one); all
    ``n`` sockets stay open until every port is chosen, so the ports differ. Another
    program could still take a port before the workers bind it, which is why
    :func:`run_workers` asks for ports just before it starts them. Taught in notebook 13,
    section 7.

    Parameters
    ----------
    n : int
        Number of ports.
    host : str
        Interface to bind; the loopback interface by default, so nothing leaves the machine.

    Examples
    --------
    >>> ports = free_ports(2)
    >>> len(set(ports)) == 2 and all(1024 <= p < 65536 for p in ports)
    True
    """
    n = positive_int("n", n)
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(n)]
        for s in sockets:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]


def tf_config(ports, index: int, host: str = "127.0.0.1", task_type: str = "worker") -> str:
    """The ``TF_CONFIG`` JSON of worker ``index`` in a cluster of workers on ``host``.

    ``TF_CONFIG`` tells each process of a multi-worker job who the members are (the
    ``cluster``) and which one it is (the ``task``); worker 0 is the chief, which by
    convention writes checkpoints and results. Taught in notebook 13, section 7.

    Parameters
    ----------
    ports : sequence of int
        One port per worker.
    index : int
        This worker's position in ``ports``.
    host : str
        The workers' address (loopback for a local run).
    task_type : str
        ``"worker"`` for MultiWorkerMirroredStrategy.

    Raises
    ------
    TypeError
        If a port or ``index`` is not an integer.
    ValueError
        If ``ports`` is empty or holds a number outside 1-65535, or ``index`` is out of range.

    Examples
    --------
    >>> import json
    >>> json.loads(tf_config([2222, 2223], 1))
    {'cluster': {'worker': ['127.0.0.1:2222', '127.0.0.1:2223']}, 'task': {'type': 'worker', 'index': 1}}
    """
    ports = list(ports)
    if not ports:
        raise ValueError("ports must be a non-empty list of port numbers (1-65535), got none")
    for position, port in enumerate(ports):
        check_number(f"ports[{position}]", port, low=1, high=65535, integer=True)
    check_number("index", index, low=0, high=len(ports) - 1, integer=True)
    cluster = {task_type: [f"{host}:{p}" for p in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": int(index)}})


def split_cpu_devices(n: int = 2) -> list:
    """Split the physical CPU into ``n`` logical devices, so MirroredStrategy has replicas.

    Must run before TensorFlow initialises its devices — before the first tensor is made,
    which ``rec_utils.setup(..., tensorflow=True)`` does — because TensorFlow fixes its
    device list then. TensorFlow's start-up notices are silenced. Taught in notebook 13.

    Parameters
    ----------
    n : int
        Number of logical CPU devices.

    Returns
    -------
    list of str
        The logical CPU devices' names once initialised, e.g. ``['/device:CPU:0', '/device:CPU:1']``.

    Raises
    ------
    RuntimeError
        If TensorFlow has already initialised its devices with another split (restart the
        kernel and call this first).
    """
    n = positive_int("n", n)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native_stderr():
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        try:
            tf.config.set_logical_device_configuration(cpu, wanted)
        except RuntimeError:
            current = tf.config.list_logical_devices("CPU")
            if len(current) != n:
                raise RuntimeError(
                    f"TensorFlow already initialised {len(current)} CPU device(s) and cannot split the CPU into {n} "
                    "now: restart the kernel and call split_cpu_devices() before setup(..., tensorflow=True)") from None
        return [d.name for d in tf.config.list_logical_devices("CPU")]


# --------------------------------------------------------------------------- training

def epoch_pairs(user_positions, item_positions, n_items: int, n_negatives: int, epoch: int, seed: int = 0):
    """The shuffled (user, item, label) training pairs of one epoch, the same in every process.

    The negatives and the order depend only on ``(seed, epoch)``, so every worker of a
    multi-worker job builds identical data and then reads its own shard of it.

    Returns
    -------
    tuple of numpy.ndarray
        ``users`` (int32), ``items`` (int32), ``labels`` (float32), ``(1 + n_negatives) x n_positives`` each.

    Examples
    --------
    >>> u, i, y = epoch_pairs([0, 1], [2, 0], n_items=5, n_negatives=2, epoch=0)
    >>> len(u), int(y.sum())
    (6, 2)
    """
    from ..models.ncf import sample_negatives

    rng = np.random.default_rng([seed, epoch])
    users, items, labels = sample_negatives(user_positions, item_positions, n_items, n_negatives, seed=rng)
    order = rng.permutation(labels.size)
    return users[order].astype(np.int32), items[order].astype(np.int32), labels[order].astype(np.float32)


def train_embedding_model(strategy, user_positions, item_positions, n_users: int, n_items: int,
                          n_factors: int = 32, epochs: int = 5, global_batch_size: int = 4096,
                          learning_rate: float = 0.005, n_negatives: int = 4, seed: int = 42):
    """Train :func:`~rec_utils.models.ncf.build_mf` on implicit feedback under ``strategy``.

    A custom training loop: each step, every replica takes its share of a global batch
    (``global_batch_size / replicas`` pairs), computes the binary cross-entropy summed over
    its pairs divided by the *global* batch size, and its gradients; the strategy sums the
    gradients over replicas (all-reduce) and every replica applies the same Adam update.
    Each epoch has ``floor(pairs / global_batch_size)`` steps, the same on every worker.
    Taught in notebook 13, section 7.

    Parameters
    ----------
    strategy : tf.distribute.Strategy
        Where the replicas live, e.g. ``tf.distribute.OneDeviceStrategy("/cpu:0")``.
    user_positions, item_positions : array of int
        The interactions (positions from :class:`rec_utils.data.IdIndex`).
    n_users, n_items : int
        Sizes of the embedding tables.
    n_factors, epochs, global_batch_size, learning_rate, n_negatives, seed :
        Model size and training settings; ``global_batch_size`` must divide by the number of replicas.

    Returns
    -------
    model : keras.Model
        The trained model (its variables live under ``strategy``).
    history : dict
        ``"loss"`` (mean training loss per epoch) and ``"seconds"`` (wall time per epoch).

    Raises
    ------
    TypeError
        For a size that is not an integer.
    ValueError
        For a size below 1, or a global batch the replicas cannot share evenly.
    """
    n_factors, epochs = positive_int("n_factors", n_factors), positive_int("epochs", epochs)
    global_batch_size = positive_int("global_batch_size", global_batch_size)
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(f"global_batch_size must be a multiple of the {replicas} replicas, got {global_batch_size}")
    import keras
    import tensorflow as tf

    from ..models.ncf import build_mf

    with strategy.scope():
        model = build_mf(n_users, n_items, n_factors, seed=seed)
        optimizer = keras.optimizers.Adam(learning_rate)
        optimizer.build(model.trainable_variables)  # its slots must exist before the step is traced

    def replica_step(users, items, labels):
        with tf.GradientTape() as tape:
            probabilities = model({"user": users, "item": items}, training=True)[:, 0]
            per_pair = keras.losses.binary_crossentropy(labels[:, None], probabilities[:, None])
            loss = tf.reduce_sum(per_pair) / global_batch_size
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    @tf.function
    def train_step(batch):
        per_replica = strategy.run(replica_step, args=batch)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    history = {"loss": [], "seconds": []}
    for epoch in range(epochs):
        start = time.perf_counter()
        pairs = epoch_pairs(user_positions, item_positions, n_items, n_negatives, epoch, seed)
        steps = len(pairs[2]) // global_batch_size

        def dataset_fn(context, pairs=pairs):
            per_replica = context.get_per_replica_batch_size(global_batch_size)
            data = tf.data.Dataset.from_tensor_slices(pairs)
            data = data.shard(context.num_input_pipelines, context.input_pipeline_id)
            return data.batch(per_replica, drop_remainder=True)

        batches = iter(strategy.distribute_datasets_from_function(dataset_fn))
        total = 0.0
        for _ in range(steps):
            total += float(train_step(next(batches)))
        history["loss"].append(total / steps)
        history["seconds"].append(time.perf_counter() - start)
    return model, history


# --------------------------------------------------------------------------- multi-worker runs

class WorkerRun(dict):
    """What :func:`run_workers` returns: a dict with ``result`` (the chief's JSON),
    ``logs`` (each worker's output), ``returncodes``, ``seconds`` and ``timed_out``."""


def run_workers(data_file, out_dir, n_workers: int = 2, timeout: float = 300.0, train_args=(),
                python: str | None = None) -> WorkerRun:
    """Run a MultiWorkerMirroredStrategy job as ``n_workers`` local processes on loopback.

    Each worker is ``python -m rec_utils.systems.distributed --data DATA --out OUT ...`` with its
    own ``TF_CONFIG`` (free loopback ports, worker 0 the chief), one intra-op thread, and
    its output written to ``OUT/worker_<i>.log``. The function waits for all of them; past
    ``timeout`` seconds it kills the ones still running. Taught in notebook 13, section 7.

    Parameters
    ----------
    data_file : path
        An ``.npz`` with ``user``, ``item`` (positions), ``n_users`` and ``n_items``.
    out_dir : path
        Folder for the logs and the chief's ``result.json`` and ``embeddings.npz``.
    n_workers : int
        Number of worker processes.
    timeout : float
        Seconds before the workers still running are killed.
    train_args : sequence of str
        Extra command-line options for the workers, e.g. ``["--epochs", "3"]``.
    python : str, optional
        The Python interpreter (default: the current one).

    Returns
    -------
    WorkerRun
        ``result`` is the chief's ``result.json`` as a dict (``None`` if it did not finish).

    Raises
    ------
    TypeError
        If ``n_workers`` is not an integer or ``timeout`` not a number.
    ValueError
        If ``n_workers`` or ``timeout`` is not positive, or ``data_file`` does not exist.
    """
    n_workers = positive_int("n_workers", n_workers)
    check_number("timeout (seconds)", timeout, low=0, low_inclusive=False)
    data_file, out_dir = Path(data_file), Path(out_dir)
    if not data_file.is_file():
        raise ValueError(f"data_file must be an existing .npz file, got {str(data_file)!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    ports = free_ports(n_workers)
    package_root = str(Path(__file__).resolve().parents[2])  # the folder that holds rec_utils/
    processes, logs = [], []
    start = time.perf_counter()
    for index in range(n_workers):
        env = dict(os.environ, TF_CONFIG=tf_config(ports, index), TF_CPP_MIN_LOG_LEVEL="2",
                   CUDA_VISIBLE_DEVICES="", PYTHONPATH=os.pathsep.join(
                       [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]))
        log = open(out_dir / f"worker_{index}.log", "w")
        logs.append(log)
        command = [python or sys.executable, "-m", "rec_utils.systems.distributed", "--data", str(data_file),
                   "--out", str(out_dir), *map(str, train_args)]
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    timed_out = False
    try:
        for process in processes:
            remaining = timeout - (time.perf_counter() - start)
            try:
                process.wait(timeout=max(remaining, 0.01))
            except subprocess.TimeoutExpired:
                timed_out = True
                break
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
    seconds = time.perf_counter() - start
    result_file = out_dir / "result.json"
    result = json.loads(result_file.read_text()) if result_file.exists() and not timed_out else None
    return WorkerRun(result=result, returncodes=[p.returncode for p in processes], timed_out=timed_out,
                     seconds=seconds, logs=[(out_dir / f"worker_{i}.log").read_text() for i in range(n_workers)])


def _worker_main(argv=None) -> int:
    """One worker of a multi-worker job (its role comes from ``TF_CONFIG``)."""
    parser = argparse.ArgumentParser(description="one worker of a MultiWorkerMirroredStrategy job")
    parser.add_argument("--data", required=True, help=".npz with user, item, n_users, n_items")
    parser.add_argument("--out", required=True, help="folder for result.json and embeddings.npz")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--factors", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--learning-rate", type=float, default=0.005)
    parser.add_argument("--negatives", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with quiet_native_stderr():
        import keras
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        keras.utils.set_random_seed(args.seed)
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    print(f"worker {task['index']}: {strategy.num_replicas_in_sync} replicas in sync, "
          f"TensorFlow ready after {time.perf_counter() - started:.1f} s", flush=True)
    data = np.load(args.data)
    train_start = time.perf_counter()
    model, history = train_embedding_model(
        strategy, data["user"], data["item"], int(data["n_users"]), int(data["n_items"]), n_factors=args.factors,
        epochs=args.epochs, global_batch_size=args.batch_size, learning_rate=args.learning_rate,
        n_negatives=args.negatives, seed=args.seed)
    train_seconds = time.perf_counter() - train_start
    print(f"worker {task['index']}: trained {args.epochs} epoch{'s' if args.epochs != 1 else ''} in {train_seconds:.1f} s, "
          f"losses {[round(v, 4) for v in history['loss']]}", flush=True)
    if task["index"] == 0:  # the chief writes the results
        out = Path(args.out)
        np.savez(out / "embeddings.npz", **{layer: model.get_layer(layer).get_weights()[0] for layer in
                                            ("user_embedding", "item_embedding", "user_bias", "item_bias")})
        (out / "result.json").write_text(json.dumps({
            "replicas": strategy.num_replicas_in_sync, "train_seconds": train_seconds,
            "total_seconds": time.perf_counter() - started, **history}))
    # a last all-reduce as a barrier: every worker waits until the chief has written its results,
    # then all leave together (a worker that exits early is reported as crashed by the others)
    strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(1.0)), axis=None)
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main())
