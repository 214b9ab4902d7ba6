import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from rec_utils._checks import NotFittedError
from rec_utils.models.classical import ImplicitALS
from rec_utils.systems.serving import IVFIndex, batch_top_k, exact_search, fold_in_user, measure_latency, population_stability_index, recall_against_exact, retrieve_then_rank


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 6)).astype(np.float32), rng.normal(size=(200, 6)).astype(np.float32)


# --------------------------------------------------------------------------- exact search and batch top-k

def test_exact_search_matches_brute_force_sorting(vectors):
    queries, items = vectors
    found, scores = exact_search(queries, items, k=7)
    brute = np.argsort(-(queries @ items.T), axis=1)[:, :7]
    np.testing.assert_array_equal(found, brute)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ items.T, brute, axis=1), rtol=1e-6)
    assert (np.diff(scores, axis=1) <= 0).all()


def test_exact_search_takes_a_single_query_and_caps_k_at_the_catalogue(vectors):
    queries, items = vectors
    assert exact_search(queries[0], items[:5], k=10)[0].shape == (1, 5)


def test_exact_search_in_blocks_of_queries_equals_one_block(vectors):
    queries, items = vectors
    blocked, one = exact_search(queries, items, k=5, block_size=4), exact_search(queries, items, k=5, block_size=1000)
    np.testing.assert_array_equal(blocked[0], one[0])
    np.testing.assert_array_equal(blocked[1], one[1])
    with pytest.raises(ValueError, match="block_size"):
        exact_search(queries, items, block_size=0)


def test_batch_top_k_equals_one_block_and_skips_excluded_items(vectors):
    users, items = vectors
    seen = sp.random(len(users), len(items), density=0.1, random_state=0, format="csr")
    small_blocks = batch_top_k(users, items, k=5, exclude=seen, block_size=7)
    one_block = batch_top_k(users, items, k=5, exclude=seen, block_size=1000)
    np.testing.assert_array_equal(small_blocks[0], one_block[0])
    for row in range(len(users)):
        assert not np.isin(small_blocks[0][row], seen[row].indices).any()
    masked = users @ items.T
    masked[seen.nonzero()] = -np.inf
    np.testing.assert_array_equal(small_blocks[0], np.argsort(-masked, axis=1)[:, :5])
    assert small_blocks[0].dtype == np.int32 and small_blocks[1].dtype == np.float32


@pytest.mark.parametrize("kwargs, error, message", [
    ({"k": 0}, ValueError, "k must be an integer >= 1"),
    ({"k": 2.0}, TypeError, "k must be an integer"),
    ({"k": 500}, ValueError, "k must be at most the number of items"),
    ({"block_size": 0}, ValueError, "block_size"),
    ({"exclude": sp.csr_matrix((2, 2))}, ValueError, "exclude must have shape"),
])
def test_batch_top_k_rejects_bad_arguments(vectors, kwargs, error, message):
    users, items = vectors
    with pytest.raises(error, match=message):
        batch_top_k(users, items, **kwargs)


def test_search_rejects_vectors_of_different_lengths(vectors):
    users, items = vectors
    with pytest.raises(ValueError, match="must have 6 columns"):
        exact_search(users[:, :4], items)
    with pytest.raises(ValueError, match="item_vectors must be 2-dimensional"):
        batch_top_k(users, np.zeros(6))
    with pytest.raises(TypeError, match="item_vectors must be an array of numbers"):
        batch_top_k(users, [["a"] * 6])


# --------------------------------------------------------------------------- latency

def test_measure_latency_on_a_function_of_known_duration():
    stats = measure_latency(lambda request: time.sleep(0.003), range(15), warmup=3)
    assert stats["n"] == 12 and stats["latencies_ms"].shape == (12,)
    assert 3.0 <= stats["p50_ms"] <= stats["p99_ms"] < 200
    assert np.isclose(stats["p99_ms"], np.percentile(stats["latencies_ms"], 99))
    assert np.isclose(stats["throughput_per_s"], 1000 / stats["mean_ms"])


def test_measure_latency_excludes_the_warm_up_calls():
    calls = []
    stats = measure_latency(calls.append, range(10), warmup=4)
    assert calls == list(range(10)) and stats["n"] == 6


@pytest.mark.parametrize("function, warmup, error, message", [
    ("not callable", 0, TypeError, "score_one must be callable"),
    (len, 5, ValueError, r"warmup \(fewer than the requests\) must be an integer >= 0 and <= 4"),
    (len, -1, ValueError, "warmup"),
    (len, 1.0, TypeError, "warmup"),
])
def test_measure_latency_rejects_bad_arguments(function, warmup, error, message):
    with pytest.raises(error, match=message):
        measure_latency(function, ["a"] * 5, warmup=warmup)
    with pytest.raises(ValueError, match="requests is empty"):
        measure_latency(len, [], warmup=0)


# --------------------------------------------------------------------------- IVF

def test_ivf_recall_is_one_at_full_probing(vectors):
    queries, items = vectors
    index = IVFIndex(n_lists=8, n_probe=2, seed=1).fit(items)
    exact = exact_search(queries, items, k=10)[0]
    assert recall_against_exact(index.query(queries, k=10, n_probe=8)[0], exact) == 1.0
    assert recall_against_exact(index.query(queries, k=10, n_probe=100)[0], exact) == 1.0  # capped at n_lists


def test_ivf_recall_grows_with_probes_and_lists_cover_every_item(vectors):
    queries, items = vectors
    index = IVFIndex(n_lists=10, seed=0).fit(items)
    assert sorted(np.concatenate(index.lists_).tolist()) == list(range(len(items)))
    exact = exact_search(queries, items, k=5)[0]
    recalls = [recall_against_exact(index.query(queries, 5, n_probe=p)[0], exact) for p in (1, 3, 10)]
    assert recalls[0] <= recalls[1] <= recalls[2] == 1.0 and recalls[0] < 1.0


def test_ivf_fills_missing_results_with_minus_one():
    items = np.vstack([np.ones((3, 2)), -np.ones((3, 2)) * 10]).astype(np.float32)
    index = IVFIndex(n_lists=2, n_probe=1, seed=0).fit(items)
    found, scores = index.query([[1.0, 1.0]], k=5)
    assert (found[0, 3:] == -1).all() and np.isinf(scores[0, 3:]).all()


def test_ivf_rejects_bad_arguments(vectors):
    _, items = vectors
    with pytest.raises(ValueError, match="n_lists must be at most the number of items"):
        IVFIndex(n_lists=500).fit(items)
    bad = IVFIndex(n_probe=0)  # stored as given, refused by fit
    assert bad.get_params()["n_probe"] == 0 and clone(bad).n_probe == 0
    with pytest.raises(ValueError, match="n_probe"):
        bad.fit(items)
    with pytest.raises(TypeError, match="n_lists"):
        IVFIndex(n_lists=4.0).fit(items)
    with pytest.raises(NotFittedError, match="not fitted"):
        IVFIndex().query(items[:1])


def test_recall_against_exact_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same number of rows"):
        recall_against_exact([[1, 2]], [[1, 2], [3, 4]])


# --------------------------------------------------------------------------- two stages

def test_retrieve_then_rank_reorders_the_candidates_and_drops_missing_ones():
    retrieve = lambda rows, n: np.array([[5, 3, 9, -1]] * len(rows))  # noqa: E731
    rank = lambda rows, candidates: candidates.astype(float)  # noqa: E731  prefers large indices
    assert retrieve_then_rank(retrieve, rank, np.array([0, 1]), n_candidates=4, k=3).tolist() == [[9, 5, 3]] * 2


def test_retrieve_then_rank_validates():
    retrieve = lambda rows, n: np.zeros((len(rows), n + 1), int)  # noqa: E731
    with pytest.raises(ValueError, match="retrieve must return shape"):
        retrieve_then_rank(retrieve, lambda r, c: c, np.array([0]), n_candidates=3, k=2)
    with pytest.raises(ValueError, match="k must be at most n_candidates"):
        retrieve_then_rank(retrieve, lambda r, c: c, np.array([0]), n_candidates=3, k=5)


# --------------------------------------------------------------------------- fold-in and drift

def test_fold_in_is_implicit_als_user_half_step():
    rng = np.random.default_rng(1)
    ratings = pd.DataFrame({"user_id": rng.integers(0, 30, 300), "item_id": rng.integers(0, 40, 300)}).drop_duplicates()
    model = ImplicitALS(n_factors=4, reg=0.05, unobserved_weight=0.3, n_epochs=3).fit(ratings)
    expected = model._half(model.seen_.astype(np.float64).tocsr(), model.item_factors_.astype(np.float64))
    for row in (0, 7, 19):
        got = fold_in_user(model.item_factors_, model.seen_[row].indices, reg=0.05, unobserved_weight=0.3)
        np.testing.assert_allclose(got, expected[row], rtol=1e-4, atol=1e-6)


def test_fold_in_without_interactions_is_the_zero_vector():
    assert not fold_in_user(np.eye(3), [], reg=0.1).any()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"item_positions": [5]}, ValueError, r"item_positions must lie in 0..2"),
    ({"item_positions": [0.5]}, TypeError, "item_positions must hold integer positions"),
    ({"item_positions": [0], "reg": -1}, ValueError, "reg"),
    ({"item_positions": [0], "unobserved_weight": 0}, ValueError, "unobserved_weight"),
])
def test_fold_in_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        fold_in_user(np.eye(3), **kwargs)


def test_psi_is_symmetrised_kl_and_zero_for_equal_shares():
    e, a = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.2, 0.3, 0.3, 0.2])
    kl = lambda p, q: float(np.sum(p * np.log(p / q)))  # noqa: E731
    assert np.isclose(population_stability_index(e, a, epsilon=0), kl(a, e) + kl(e, a))
    assert population_stability_index([10, 20], [1, 2]) == pytest.approx(0.0)
    assert np.isfinite(population_stability_index([10, 0], [0, 10]))


@pytest.mark.parametrize("expected, actual, message", [
    ([1, 2], [1, 2, 3], "same bins"),
    ([1], [1], "2 or more"),
    ([1, -1], [1, 1], "non-negative"),
    ([0, 0], [1, 1], "positive total"),
])
def test_psi_rejects_bad_counts(expected, actual, message):
    with pytest.raises(ValueError, match=message):
        population_stability_index(expected, actual)
