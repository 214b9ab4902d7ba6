import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import metrics as skm

from rec_utils.evaluation import metrics as m

Y_TRUE = np.array([[1, 0, 1, 0, 0], [0, 0, 0, 0, 1]])
Y_SCORE = np.array([[0.9, 0.8, 0.7, 0.1, 0.0], [0.5, 0.4, 0.3, 0.2, 0.1]])


def test_ranking_metrics_by_hand():
    # user 0: top-3 = items 0, 1, 2 -> hits at ranks 1 and 3 of 2 relevant; user 1: no hit
    ndcg0 = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    expected = {"precision": (2 / 3) / 2, "recall": 0.5, "ndcg": ndcg0 / 2,
                "map": ((1 + 2 / 3) / 2) / 2, "hit_rate": 0.5, "mrr": 0.5}
    got = m.ranking_metrics(Y_TRUE, Y_SCORE, k=3)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value), name
        assert getattr(m, f"{name}_at_k")(Y_TRUE, Y_SCORE, 3) == pytest.approx(value)


def test_late_hit():
    got = m.ranking_metrics(Y_TRUE[1:], Y_SCORE[1:], k=5)
    assert got["mrr"] == pytest.approx(1 / 5)
    assert got["ndcg"] == pytest.approx(1 / np.log2(6))
    assert got["map"] == pytest.approx(1 / 5)


def test_graded_ndcg_matches_scikit_learn():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 4, (50, 30)).astype(float)
    score = rng.random((50, 30))
    assert m.ndcg_at_k(truth, score, 10) == pytest.approx(skm.ndcg_score(truth, score, k=10))


def test_sparse_and_dense_agree():
    rng = np.random.default_rng(2)
    truth = (rng.random((40, 60)) < 0.1).astype(np.float32)
    score = rng.random((40, 60))
    dense = m.ranking_metrics(truth, score, 10)
    sparse = m.ranking_metrics(sp.csr_matrix(truth), score, 10)
    assert dense == pytest.approx(sparse)


def test_users_without_relevant_items_follow_the_rule():
    truth = np.vstack([Y_TRUE, np.zeros(5)])
    score = np.vstack([Y_SCORE, np.ones(5)])
    skip = m.precision_at_k(truth, score, 3)
    assert skip == pytest.approx(m.precision_at_k(Y_TRUE, Y_SCORE, 3))
    assert m.precision_at_k(truth, score, 3, empty="zero") == pytest.approx(skip * 2 / 3)
    with pytest.raises(ValueError, match="1 user.*no relevant"):
        m.precision_at_k(truth, score, 3, empty="raise")
    per_user = m.precision_at_k(truth, score, 3, average=False)
    assert np.isnan(per_user[2]) and per_user[0] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no user has a relevant item"):
        m.ndcg_at_k(np.zeros((2, 5)), score[:2], 3)


@pytest.mark.parametrize("k, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError),
                                      ("3", TypeError), (6, ValueError)])
def test_bad_k(k, error):
    with pytest.raises(error, match="k"):
        m.ndcg_at_k(Y_TRUE, Y_SCORE, k)
    with pytest.raises(error, match="k"):
        m.top_k(Y_SCORE, k)


def test_bad_shapes_and_values():
    with pytest.raises(ValueError, match="same shape"):
        m.recall_at_k(Y_TRUE, Y_SCORE[:, :4], 2)
    with pytest.raises(ValueError, match="2-D"):
        m.recall_at_k(Y_TRUE[0], Y_SCORE[0], 2)
    nan_score = Y_SCORE.copy()
    nan_score[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        m.map_at_k(Y_TRUE, nan_score, 2)
    with pytest.raises(ValueError, match="non-negative"):
        m.map_at_k(-Y_TRUE, Y_SCORE, 2)
    with pytest.raises(ValueError, match="unknown metric"):
        m.ranking_metrics(Y_TRUE, Y_SCORE, 2, metrics=("auc",))
    with pytest.raises(ValueError, match="empty must be"):
        m.hit_rate_at_k(Y_TRUE, Y_SCORE, 2, empty="ignore")


def test_top_k_order_ties_and_exclusion():
    score = np.array([[1.0, 3.0, 3.0, 2.0, 3.0]])
    assert m.top_k(score, 2).tolist() == [[1, 2]]  # ties: lower index first
    assert m.top_k(score, 4).tolist() == [[1, 2, 4, 3]]
    masked = m.exclude_seen(score, np.array([[0, 1, 0, 0, 0]]))
    assert m.top_k(masked, 2).tolist() == [[2, 4]]
    rng = np.random.default_rng(3)
    rounded = np.round(rng.random((200, 50)), 1)  # many ties
    assert (m.top_k(rounded, 7) == np.argsort(-rounded, axis=1, kind="stable")[:, :7]).all()


def test_candidate_protocol_uses_the_same_call():
    # NCF style: column 0 is the held-out positive among 100 candidates
    rng = np.random.default_rng(4)
    truth = np.zeros((300, 100))
    truth[:, 0] = 1
    random_scores = rng.random((300, 100))
    assert m.hit_rate_at_k(truth, random_scores, 10) == pytest.approx(0.1, abs=0.05)
    perfect = random_scores.copy()
    perfect[:, 0] = 2
    assert m.hit_rate_at_k(truth, perfect, 10) == 1.0 and m.ndcg_at_k(truth, perfect, 10) == 1.0


def test_rating_metrics():
    assert m.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert m.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same length"):
        m.rmse([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="NaN"):
        m.mae([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="empty"):
        m.rmse([], [])
    with pytest.raises(TypeError, match="y_true must be an array of numbers"):
        m.rmse(["four"], [4.0])
    with pytest.raises(ValueError, match="1-dimensional"):
        m.mae([[1, 2], [3, 4]], [[1, 2], [3, 4]])
    assert m.rmse([[4.0], [3.0]], [3.0, 3.0]) == m.rmse([4.0, 3.0], [3.0, 3.0])  # a column vector is fine


def test_classification_metrics_match_scikit_learn():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500), 2)  # ties for AUC
    hard = (p > 0.5).astype(int)
    assert m.accuracy(y, hard) == pytest.approx(skm.accuracy_score(y, hard))
    assert m.precision(y, hard) == pytest.approx(skm.precision_score(y, hard))
    assert m.recall(y, hard) == pytest.approx(skm.recall_score(y, hard))
    assert m.f1(y, hard) == pytest.approx(skm.f1_score(y, hard))
    assert m.roc_auc(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    assert m.log_loss(y, p) == pytest.approx(skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)))


def test_classification_bad_input():
    with pytest.raises(ValueError, match="binary labels"):
        m.accuracy([0, 2], [0, 1])
    with pytest.raises(ValueError, match="both positive and negative"):
        m.roc_auc([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        m.log_loss([0, 1], [0.2, 1.3])
    assert m.precision([1, 0], [0, 0]) == 0.0 and m.f1([0, 0], [0, 0]) == 0.0


def test_beyond_accuracy_by_hand():
    assert m.catalog_coverage([[0, 1], [1, 2]], 10) == pytest.approx(0.3)
    features = np.array([[1, 0], [0, 1], [1, 0], [0, 0]], dtype=float)
    assert m.intra_list_diversity([[0, 1]], features) == pytest.approx(1.0)
    assert m.intra_list_diversity([[0, 2]], features) == pytest.approx(0.0)
    assert m.intra_list_diversity([[0, 1, 2]], features) == pytest.approx(1 - 1 / 3)
    assert m.novelty([[0, 1]], [0.5, 0.25]) == pytest.approx(1.5)
    assert m.personalization([[0, 1], [2, 3]]) == pytest.approx(1.0)
    assert m.personalization([[0, 1], [0, 2]]) == pytest.approx(0.5)


def test_personalization_equals_pairwise_definition():
    rng = np.random.default_rng(6)
    rec = np.array([rng.choice(30, 5, replace=False) for _ in range(40)])
    onehot = np.zeros((40, 30))
    np.put_along_axis(onehot, rec, 1, axis=1)
    sim = onehot @ onehot.T / 5
    brute = 1 - sim[np.triu_indices(40, 1)].mean()
    assert m.personalization(rec) == pytest.approx(brute)


def test_beyond_accuracy_bad_input():
    with pytest.raises(TypeError, match="recommended must hold integer positions"):
        m.catalog_coverage([[0.5, 1.0]], 3)
    with pytest.raises(TypeError, match="n_items must be an integer"):
        m.catalog_coverage([[0, 1]], 3.0)
    with pytest.raises(ValueError, match="recommended must be 2-dimensional"):
        m.personalization([0, 1])
    with pytest.raises(ValueError, match="lie in"):
        m.catalog_coverage([[0, 5]], 3)
    with pytest.raises(ValueError, match="distinct"):
        m.personalization([[0, 0], [1, 2]])
    with pytest.raises(ValueError, match="smooth zero counts"):
        m.novelty([[0, 1]], [0.5, 0.0])
    with pytest.raises(ValueError, match="at least 2 items"):
        m.intra_list_diversity([[0]], np.eye(2))


def test_an_excluded_item_is_never_a_hit_even_when_it_fills_the_top_k():
    from rec_utils.evaluation.metrics import exclude_seen, ranking_metrics

    truth = np.array([[1.0, 1.0, 0.0]])  # item 0 is relevant but was seen in training
    scores = exclude_seen(np.array([[0.9, 0.5, 0.1]]), np.array([[1, 0, 1]]))
    found = ranking_metrics(truth, scores, k=3, metrics=("precision", "recall", "hit_rate"))
    assert found == {"precision": pytest.approx(1 / 3), "recall": 0.5, "hit_rate": 1.0}
