"""candidate_scores gathers the sampled protocol's scores a block of test users at a time."""

import numpy as np
import pandas as pd
import pytest

from rec_utils.data import IdIndex
from rec_utils.evaluation import candidate_scores, evaluate_candidates


def _setting(n_users=7, n_items=9, n_candidates=4, seed=0):
    rng = np.random.default_rng(seed)
    users, items = IdIndex(np.arange(1, n_users + 1) * 10), IdIndex(np.arange(1, n_items + 1) * 3)
    matrix = rng.normal(size=(n_users, n_items))
    test = pd.DataFrame({"user_id": users.ids[rng.permutation(n_users)], "item_id": items.ids[:n_users]})
    candidates = np.array([rng.choice(items.ids, n_candidates, replace=False) for _ in range(n_users)])
    return matrix, test, candidates, users, items


class _Scorer:
    """A fitted-recommender stand-in that records how many users each call scores."""

    def __init__(self, matrix, users):
        self.matrix, self.users, self.calls = matrix, users, []

    def score(self, user_ids):
        self.calls.append(len(user_ids))
        return self.matrix[self.users.positions(user_ids)]


def test_every_kind_of_scores_gives_the_candidates_scores_in_any_batch_size():
    matrix, test, candidates, users, items = _setting()
    expected = np.take_along_axis(matrix[users.positions(test["user_id"])], items.positions(candidates), axis=1)
    for batch_size in (1, 3, 256):
        np.testing.assert_array_equal(candidate_scores(matrix, test, candidates, users, items, batch_size=batch_size),
                                      expected)
        model = _Scorer(matrix, users)
        np.testing.assert_array_equal(candidate_scores(model, test, candidates, users, items, batch_size=batch_size),
                                      expected)
        assert max(model.calls) <= batch_size and sum(model.calls) == len(test)
        np.testing.assert_array_equal(candidate_scores(model.score, test, candidates, users, items,
                                                       batch_size=batch_size), expected)


def test_the_scores_feed_evaluate_candidates():
    matrix, test, candidates, users, items = _setting()
    candidates[:, 0] = test["item_id"].to_numpy()
    found = evaluate_candidates(candidate_scores(matrix, test, candidates, users, items), k=2)
    assert set(found) == {"hit_rate@2", "ndcg@2"} and all(0 <= v <= 1 for v in found.values())


@pytest.mark.parametrize("batch_size", [0, -3])
def test_a_bad_batch_size_is_refused(batch_size):
    matrix, test, candidates, users, items = _setting()
    with pytest.raises(ValueError, match="batch_size"):
        candidate_scores(matrix, test, candidates, users, items, batch_size=batch_size)


def test_candidates_of_the_wrong_shape_are_refused():
    matrix, test, candidates, users, items = _setting()
    with pytest.raises(ValueError, match="candidates"):
        candidate_scores(matrix, test, candidates[:-1], users, items)
    with pytest.raises(ValueError, match="candidates"):
        candidate_scores(matrix, test, candidates[:, :1], users, items)
