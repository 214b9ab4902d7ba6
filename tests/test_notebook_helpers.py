import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from tools import course
from rec_utils import notebook


def test_setup_seeds_and_reports(capsys):
    info = notebook.setup("99_test", seed=7)
    first = (random.random(), np.random.rand())
    notebook.setup("99_test", seed=7)
    assert (random.random(), np.random.rand()) == first
    out = capsys.readouterr().out
    assert "Python" in out and "Data: synthetic" in out and "QUICK" in out
    assert info.quick and info.seed == 7 and info.dataset == "synthetic"
    with pytest.raises(ValueError, match="notebook's name"):
        notebook.setup("")


def test_setup_with_tensorflow_is_deterministic():
    tf = pytest.importorskip("tensorflow")
    notebook.setup("99_test", seed=3, tensorflow=True, verbose=False)
    a = tf.random.uniform((3,)).numpy()
    notebook.setup("99_test", seed=3, tensorflow=True, verbose=False)
    np.testing.assert_array_equal(a, tf.random.uniform((3,)).numpy())


def test_setup_sets_inter_op_threads_before_tensorflow_starts():
    pytest.importorskip("tensorflow")
    script = ("from rec_utils import notebook\n"
              "notebook.setup('99_test', tensorflow=True, verbose=False, inter_op_threads=1)\n"
              "import tensorflow as tf\n"
              "first = tf.config.threading.get_inter_op_parallelism_threads()\n"
              "notebook.setup('99_test', tensorflow=True, verbose=False, inter_op_threads=2)  # started: kept\n"
              "print(first, tf.config.threading.get_inter_op_parallelism_threads())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "REC_QUICK": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1"]
    for wrong in (0, -1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="inter_op_threads must be a positive whole number"):
            notebook.setup("99_test", inter_op_threads=wrong)


def test_record_merges_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REC_RESULTS_DIR", str(tmp_path))
    notebook.setup("98_test", verbose=False)
    notebook.record("ndcg@10", np.float32(0.25))
    notebook.record("table", {"pop": [1, 2]})
    content = json.loads((tmp_path / "98_test.json").read_text())
    assert content["results"] == {"ndcg@10": pytest.approx(0.25), "table": {"pop": [1, 2]}}
    assert content["quick"] is True and content["notebook"] == "98_test"
    assert "recorded ndcg@10 = 0.25" in capsys.readouterr().out
    notebook.record("tiny", 3.5e-11)
    assert "recorded tiny = 3.5e-11" in capsys.readouterr().out
    with pytest.raises(ValueError, match="non-finite"):
        notebook.record("bad", float("nan"))
    with pytest.raises(ValueError, match="record\\(\\) takes"):
        notebook.record("bad", object())


def test_generated_parts_are_current():
    assert course.sync_readme(check=True), "README is out of date: run python tools/course.py"
    assert course.sync_index(check=True), "notebooks/index.ipynb is out of date: run python tools/course.py"
    assert course.sync_notebook_map(check=True), "notebook 00's course map is out of date: run python tools/course.py"


def test_notebook_map_is_rewritten_between_its_markers_only(tmp_path):
    source = course.ROOT / "notebooks" / course.NOTEBOOKS[0].file
    stale = json.loads(source.read_text(encoding="utf-8"))
    cell = next(c for c in stale["cells"] if "<!-- course-map:start -->" in "".join(c["source"]))
    cell["source"] = ["Before the map.\n", "<!-- course-map:start -->\n", "| old | map |\n",
                      "<!-- course-map:end -->\n", "After the map."]
    path = tmp_path / "00.ipynb"
    path.write_text(json.dumps(stale, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert not course.sync_notebook_map(path, check=True)
    assert "| old | map |" in path.read_text(encoding="utf-8"), "check must not write"
    assert not course.sync_notebook_map(path)
    assert course.sync_notebook_map(path, check=True)
    text = "".join(next(c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                        if "course-map" in "".join(c["source"]))["source"])
    assert text.startswith("Before the map.\n") and text.endswith("After the map.")
    assert "| old | map |" not in text and "[01_data_exploration.ipynb](01_data_exploration.ipynb)" in text
    code = "".join("".join(c["source"]) for c in stale["cells"] if c["cell_type"] == "code")
    assert "from tools" not in code and "import tools" not in code, "Colab installs the package only"
    no_markers = tmp_path / "none.ipynb"
    no_markers.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["x"]}]}))
    with pytest.raises(ValueError, match="exactly one markdown cell"):
        course.sync_notebook_map(no_markers)


def test_links_use_the_one_slug():
    assert course.REPO_SLUG in course.colab_url("01_data_exploration.ipynb")
    assert course.binder_url().startswith(f"https://mybinder.org/v2/gh/{course.REPO_SLUG}/")


def test_free_memory_returns_memory_of_a_dropped_model():
    import sys

    from rec_utils.notebook import _resident_mb, free_memory

    if not sys.platform.startswith("linux"):
        pytest.skip("the release measurement reads /proc")
    import keras

    model = keras.Sequential([keras.Input((2000,)), keras.layers.Dense(2000), keras.layers.Dense(1)])
    model.compile("adam", "mse")  # 4M weights plus Adam's two slots: about 48 MB
    model.optimizer.build(model.trainable_variables)
    grown = _resident_mb()
    del model
    released = free_memory()
    assert released > 0 and _resident_mb() < grown


def test_a_learners_run_never_writes_the_committed_results(tmp_path, monkeypatch):
    monkeypatch.delenv("REC_RESULTS_DIR", raising=False)
    monkeypatch.setenv("REC_CACHE_DIR", str(tmp_path / "cache"))
    assert notebook.results_dir() == tmp_path / "cache" / "results"
    committed = notebook.committed_results_dir()
    assert committed is not None and notebook.results_dir() != committed
    notebook.setup("97_test", verbose=False)
    notebook.record("x", 1.0)
    assert (tmp_path / "cache" / "results" / "97_test.json").exists()
    assert not (committed / "97_test.json").exists()


def test_read_results_prefers_own_runs_and_refuses_quick_or_other_data(tmp_path, monkeypatch):
    monkeypatch.setenv("REC_RESULTS_DIR", str(tmp_path))
    (tmp_path / "96_test.json").write_text(json.dumps(
        {"notebook": "96_test", "quick": False, "dataset": "synthetic", "results": {"ndcg@10": 0.3}}))
    assert notebook.read_results("96_test", dataset="synthetic") == {"ndcg@10": 0.3}
    assert notebook.read_results("96_test", dataset="ml-1m") is None
    (tmp_path / "96_test.json").write_text(json.dumps(
        {"notebook": "96_test", "quick": True, "dataset": "synthetic", "results": {"ndcg@10": 0.3}}))
    assert notebook.read_results("96_test", dataset="synthetic") is None
    assert notebook.read_results("96_test", dataset="synthetic", full_mode=False) == {"ndcg@10": 0.3}


_HEAP_PATTERN = """
import sys, numpy as np
from rec_utils.notebook import _resident_mb, _return_large_blocks_at_once
if sys.argv[1] == "fixed":
    assert _return_large_blocks_at_once()
big = np.ones(2_000_000)  # 16 MB from a private map; freeing it makes glibc raise its threshold
del big
before = _resident_mb()
blocks = [np.ones(1_000_000) for _ in range(40)]  # 40 blocks of 8 MB
del blocks[:-1]  # keep the last one, so the heap's top stays in use
print(_resident_mb() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator and /proc")
def test_setup_makes_freed_arrays_leave_the_kernel():
    import subprocess

    def kept_mb(mode):
        run = subprocess.run([sys.executable, "-c", _HEAP_PATTERN, mode], capture_output=True, text=True, check=True)
        return float(run.stdout.strip())

    assert kept_mb("fixed") < 40  # about the one 8 MB block still held, not the 320 MB freed
    notebook.setup("97_test", verbose=False)  # setup applies the same setting
    assert notebook._return_large_blocks_at_once()
