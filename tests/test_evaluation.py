"""rec_utils.evaluation: the protocols (full ranking, sampled candidates) and the comparisons
(confidence intervals, paired differences, the leaderboard), on hand-worked cases."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.stats import norm

from rec_utils._checks import NotFittedError
from rec_utils.data import IdIndex, interaction_matrix
from rec_utils.evaluation import (
    NEXT_ITEM_METRICS, RANKING_METRICS, TOP_K_METRICS, candidate_scores, evaluate_candidates, evaluate_model,
    evaluate_scores, leaderboard, mean_ci, paired_difference, relevance_matrix, result_key,
)
from rec_utils.models import EASE, PopularityRecommender

Z95 = norm.ppf(0.975)
D = 1 / np.log2(np.arange(2, 12))  # D[r - 1]: the discount of rank r


# =========================================================================== protocols

# Two users, four items. User 1 saw item 10; user 2 saw nothing.
USERS, ITEMS = IdIndex([1, 2]), IdIndex([10, 20, 30, 40])
SCORES = np.array([[4.0, 3.0, 2.0, 1.0],
                   [1.0, 2.0, 3.0, 4.0]])
SEEN = np.array([[1, 0, 0, 0], [0, 0, 0, 0]])
TEST = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [30, 40, 20]})


def test_result_keys_have_one_spelling():
    assert result_key("ndcg", 10) == "ndcg@10" and result_key("hit_rate", 5) == "hit_rate@5"
    with pytest.raises(ValueError, match="unknown metric 'hr'"):
        result_key("hr", 10)
    with pytest.raises(ValueError, match="k must be"):
        result_key("ndcg", 0)


def test_evaluate_scores_by_hand():
    # user 1, seen 10 excluded: ranking 20, 30, 40 -> top-2 = 20 (miss), 30 (hit); relevant {30, 40}
    # user 2: ranking 40, 30, 20, 10 -> top-2 = 40, 30 (both misses); relevant {20}
    got = evaluate_scores(SCORES, TEST, USERS, ITEMS, exclude=SEEN, k=2, metrics=RANKING_METRICS)
    user1 = {"precision": 1 / 2, "recall": 1 / 2, "ndcg": D[1] / (D[0] + D[1]), "map": (1 / 2) / 2,
             "hit_rate": 1.0, "mrr": 1 / 2}
    user2 = dict.fromkeys(user1, 0.0)
    assert got == pytest.approx({f"{m}@2": (user1[m] + user2[m]) / 2 for m in RANKING_METRICS})
    assert list(got) == [f"{m}@2" for m in RANKING_METRICS]  # in the order asked


def test_evaluate_scores_per_user_rows_and_their_mean():
    per_user = evaluate_scores(SCORES, TEST, USERS, ITEMS, exclude=SEEN, k=3, per_user=True)
    assert list(per_user.columns) == [f"{m}@3" for m in TOP_K_METRICS]
    assert per_user.index.name == "user_id" and per_user.index.tolist() == [1, 2]
    # user 1 top-3 = 20, 30, 40: hits at ranks 2 and 3; user 2 top-3 = 40, 30, 20: hit at rank 3
    assert per_user.loc[1, "recall@3"] == 1.0 and per_user.loc[2, "precision@3"] == pytest.approx(1 / 3)
    assert per_user.loc[2, "ndcg@3"] == pytest.approx(D[2] / D[0])
    means = evaluate_scores(SCORES, TEST, USERS, ITEMS, exclude=SEEN, k=3)
    assert means == pytest.approx(per_user.mean().to_dict())


def test_excluding_seen_items_changes_the_ranking():
    # without exclusion user 1's top-1 is the seen item 10: no hit
    test = pd.DataFrame({"user_id": [1], "item_id": [20]})
    assert evaluate_scores(SCORES, test, USERS, ITEMS, exclude=SEEN, k=1, metrics=("hit_rate",)) == {"hit_rate@1": 1.0}
    assert evaluate_scores(SCORES, test, USERS, ITEMS, k=1, metrics=("hit_rate",)) == {"hit_rate@1": 0.0}
    sparse = evaluate_scores(SCORES, test, USERS, ITEMS, exclude=sp.csr_matrix(SEEN), k=1, metrics=("hit_rate",))
    assert sparse == {"hit_rate@1": 1.0}


def test_full_ranking_next_item_by_hand():
    """The former full_ranking_metrics: one held-out item per row, ranked among the unseen items."""
    users, items = IdIndex([0]), IdIndex([0, 1, 2, 3])
    scores, seen = np.array([[5.0, 4.0, 3.0, 2.0]]), np.array([[1, 1, 0, 0]])
    test = pd.DataFrame({"user_id": [0], "item_id": [2]})
    assert evaluate_scores(scores, test, users, items, exclude=seen, k=1, metrics=NEXT_ITEM_METRICS) == \
        {"hit_rate@1": 1.0, "ndcg@1": 1.0}
    assert evaluate_scores(scores, test, users, items, exclude=np.zeros_like(seen), k=1,
                           metrics=NEXT_ITEM_METRICS)["hit_rate@1"] == 0.0


def _random_problem(seed=0, n_users=60, n_items=30):
    rng = np.random.default_rng(seed)
    scores = rng.random((n_users, n_items))
    seen = rng.random((n_users, n_items)) < 0.2
    held_out = (rng.random((n_users, n_items)) < 0.15) & ~seen
    held_out[np.arange(0, n_users, 3), rng.integers(0, n_items, len(range(0, n_users, 3)))] = True  # some users
    held_out &= ~seen
    users, items = IdIndex(np.arange(100, 100 + n_users)), IdIndex(np.arange(n_items) * 7)
    rows, cols = np.nonzero(held_out)
    test = pd.DataFrame({"user_id": users.ids[rows], "item_id": items.ids[cols]})
    return scores, seen, test, users, items


def _brute_force(scores, seen, test, users, items, k):
    """Each user's metrics by the textbook definitions, one user at a time."""
    rows = {}
    for user, group in test.groupby("user_id"):
        u = users.positions([user])[0]
        relevant = set(items.positions(group["item_id"].to_numpy()).tolist())
        candidates = [i for i in range(len(items)) if not seen[u, i]]
        ranked = sorted(candidates, key=lambda i: -scores[u, i])[:k]
        hits = [i in relevant for i in ranked]
        dcg = sum(1 / np.log2(r + 2) for r, h in enumerate(hits) if h)
        idcg = sum(1 / np.log2(r + 2) for r in range(min(len(relevant), k)))
        precisions = [sum(hits[:r + 1]) / (r + 1) for r in range(len(hits)) if hits[r]]
        first = next((r for r, h in enumerate(hits) if h), None)
        rows[user] = {"precision": sum(hits) / k, "recall": sum(hits) / len(relevant), "ndcg": dcg / idcg,
                      "map": sum(precisions) / min(len(relevant), k), "hit_rate": float(any(hits)),
                      "mrr": 0.0 if first is None else 1 / (first + 1)}
    return pd.DataFrame(rows).T


@pytest.mark.parametrize("k", [1, 5, 10])
def test_evaluate_scores_agrees_with_a_per_user_loop(k):
    scores, seen, test, users, items = _random_problem(seed=k)
    expected = _brute_force(scores, seen, test, users, items, k)
    got = evaluate_scores(scores, test, users, items, exclude=seen, k=k, metrics=RANKING_METRICS, per_user=True)
    assert got.index.tolist() == sorted(test["user_id"].unique())
    for metric in RANKING_METRICS:
        np.testing.assert_allclose(got[f"{metric}@{k}"].to_numpy(), expected.loc[got.index, metric].to_numpy(),
                                   atol=1e-12, err_msg=metric)


def test_batches_and_callables_do_not_change_the_result():
    scores, seen, test, users, items = _random_problem(seed=3)
    reference = evaluate_scores(scores, test, users, items, exclude=seen, k=5, batch_size=1000)
    assert evaluate_scores(scores, test, users, items, exclude=seen, k=5, batch_size=7) == pytest.approx(reference)
    asked = []

    def score_users(user_ids):
        asked.append(len(user_ids))
        return scores[users.positions(user_ids)]

    assert evaluate_scores(score_users, test, users, items, exclude=seen, k=5, batch_size=7) == \
        pytest.approx(reference)
    assert max(asked) <= 7 and sum(asked) == test["user_id"].nunique()  # a batch of users at a time


def test_evaluate_model_is_evaluate_scores_of_the_model_without_its_training_items():
    scores, seen, test, users, items = _random_problem(seed=4)
    train_rows, train_cols = np.nonzero(seen)
    train = pd.DataFrame({"user_id": users.ids[train_rows], "item_id": items.ids[train_cols]})
    model = EASE(l2=5.0).fit(train, users=users, items=items)
    expected = evaluate_scores(model.score(users.ids), test, users, items,
                               exclude=interaction_matrix(train, users, items), k=5)
    assert evaluate_model(model, test, k=5, batch_size=11) == pytest.approx(expected)
    unfiltered = evaluate_scores(model.score(users.ids), test, users, items, k=5)
    assert evaluate_model(model, test, k=5, exclude_train=False) == pytest.approx(unfiltered)


def test_evaluate_model_needs_a_fitted_scorer():
    test = pd.DataFrame({"user_id": [1], "item_id": [10]})
    with pytest.raises(NotFittedError, match="not fitted"):
        evaluate_model(PopularityRecommender(), test)

    class NoScore:
        users_, items_, seen_ = USERS, ITEMS, sp.csr_matrix(SEEN)

    with pytest.raises(TypeError, match="score"):
        evaluate_model(NoScore(), test)


@pytest.mark.parametrize("call, error, message", [
    (lambda: evaluate_scores(SCORES, TEST.to_numpy(), USERS, ITEMS), TypeError, "test must be a pandas DataFrame"),
    (lambda: evaluate_scores(SCORES, TEST.drop(columns="item_id"), USERS, ITEMS), ValueError, "lacks column"),
    (lambda: evaluate_scores(SCORES, TEST.iloc[:0], USERS, ITEMS), ValueError, "test is empty"),
    (lambda: evaluate_scores(SCORES, TEST, [1, 2], ITEMS), TypeError, "IdIndex"),
    (lambda: evaluate_scores(SCORES[:, :3], TEST, USERS, ITEMS), ValueError, r"len\(users\) x len\(items\)"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, exclude=SEEN[:1]), ValueError, "exclude must be"),
    (lambda: evaluate_scores(SCORES, TEST.assign(user_id=[1, 1, 3]), USERS, ITEMS), ValueError,
     r"1 test user\(s\) have no row in the scores, e.g. \[3\]"),
    (lambda: evaluate_scores(SCORES, TEST.assign(item_id=[30, 40, 99]), USERS, ITEMS), ValueError, "cannot score"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, metrics="ndcg"), TypeError, r"write \('ndcg',\)"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, metrics=("hr",)), ValueError, "metrics must name"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, metrics=()), ValueError, "metrics must name"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, k=0), ValueError, "k must be"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, k=2.0), TypeError, "k must be an integer"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, k=5), ValueError, "exceeds the number of items"),
    (lambda: evaluate_scores(SCORES, TEST, USERS, ITEMS, batch_size=0), ValueError, "batch_size"),
    (lambda: evaluate_scores(lambda ids: np.zeros(len(ids)), TEST, USERS, ITEMS), ValueError, "2-dimensional"),
])
def test_evaluate_scores_refuses_bad_input_with_clear_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_relevance_matrix_needs_scorable_items_and_counts_a_pair_once():
    with pytest.raises(ValueError, match="cannot score"):
        relevance_matrix(pd.DataFrame({"user_id": [1], "item_id": [99]}), IdIndex([1]), IdIndex([10, 20]))
    matrix = relevance_matrix(pd.DataFrame({"user_id": [1, 1], "item_id": [20, 20]}), IdIndex([1]), IdIndex([10, 20]))
    np.testing.assert_array_equal(matrix.toarray(), [[0, 1]])


# --------------------------------------------------------------------------- sampled candidates

def test_evaluate_candidates_by_hand():
    scores = [[0.9, 0.5, 0.1], [0.2, 0.8, 0.1]]  # the positive (column 0) ranks 1st, then 2nd
    assert evaluate_candidates(scores, k=1) == {"hit_rate@1": 0.5, "ndcg@1": 0.5}
    assert evaluate_candidates(scores, k=2) == pytest.approx({"hit_rate@2": 1.0, "ndcg@2": (1 + D[1]) / 2})
    per_row = evaluate_candidates(scores, k=2, metrics=("mrr",), per_user=True)
    assert per_row["mrr@2"].tolist() == [1.0, 0.5]


def test_evaluate_candidates_gives_ties_no_advantage_to_the_positive():
    """The former candidate_metrics: ties are broken at random, not in favour of column 0."""
    assert evaluate_candidates(np.tile(np.arange(100.0)[::-1], (5, 1)), k=10)["hit_rate@10"] == 1.0
    tied = evaluate_candidates(np.zeros((2000, 100)), k=10)
    assert abs(tied["hit_rate@10"] - 0.1) < 0.03
    assert evaluate_candidates(np.zeros((50, 10)), k=3, seed=1) == evaluate_candidates(np.zeros((50, 10)), k=3, seed=1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: evaluate_candidates(np.zeros(5)), ValueError, "2-dimensional"),
    (lambda: evaluate_candidates(np.zeros((5, 1))), ValueError, "at least 2 candidates"),
    (lambda: evaluate_candidates([["a", "b"]]), TypeError, "array of numbers"),
    (lambda: evaluate_candidates(np.zeros((5, 3)), k=4), ValueError, "exceeds"),
    (lambda: evaluate_candidates(np.zeros((5, 3)), seed=-1), ValueError, "seed"),
])
def test_evaluate_candidates_refuses_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_candidate_scores_from_a_matrix_a_function_and_a_model():
    train = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 20, 10, 10]})
    model = PopularityRecommender().fit(train, items=ITEMS)
    test = pd.DataFrame({"user_id": [2, 3], "item_id": [20, 30]})
    candidates = np.array([[20, 30, 40], [30, 20, 10]])
    # popularity: 10 -> 3, 20 -> 1, 30 and 40 -> 0
    expected = [[1.0, 0.0, 0.0], [0.0, 1.0, 3.0]]
    np.testing.assert_array_equal(candidate_scores(model, test, candidates), expected)
    full = model.score(model.users_.ids)
    np.testing.assert_array_equal(candidate_scores(full, test, candidates, model.users_, model.items_), expected)
    np.testing.assert_array_equal(candidate_scores(model.score, test, candidates, items=model.items_), expected)
    assert evaluate_candidates(candidate_scores(model, test, candidates), k=1) == {"hit_rate@1": 0.5, "ndcg@1": 0.5}


@pytest.mark.parametrize("call, error, message", [
    (lambda m, t: candidate_scores(m, t, [[20, 30]]), ValueError, r"len\(test\) x n_candidates"),
    (lambda m, t: candidate_scores(m, t, [[20], [30]]), ValueError, r"\(>= 2\)"),
    (lambda m, t: candidate_scores(m, t.to_dict(), [[20, 30], [30, 20]]), TypeError, "DataFrame"),
    (lambda m, t: candidate_scores(np.zeros((3, 4)), t, [[20, 30], [30, 20]]), TypeError, "IdIndex"),
    (lambda m, t: candidate_scores(np.zeros((2, 4)), t, [[20, 30], [30, 20]], IdIndex([2, 3]), IdIndex([10, 20, 30])),
     ValueError, r"len\(users\) x len\(items\)"),
    (lambda m, t: candidate_scores(m, t, [[20, 99], [30, 20]]), ValueError, "not in the index"),
    (lambda m, t: candidate_scores(PopularityRecommender(), t, [[20, 30], [30, 20]]), NotFittedError, "not fitted"),
])
def test_candidate_scores_refuses_bad_input(call, error, message):
    model = PopularityRecommender().fit(pd.DataFrame({"user_id": [2, 3], "item_id": [10, 10]}), items=ITEMS)
    with pytest.raises(error, match=message):
        call(model, pd.DataFrame({"user_id": [2, 3], "item_id": [20, 30]}))


# =========================================================================== comparisons

def test_mean_ci_normal_by_hand():
    values = [1.0, 2.0, 3.0, 4.0]
    se = np.std(values, ddof=1) / 2
    got = mean_ci(values)
    assert got == pytest.approx({"mean": 2.5, "low": 2.5 - Z95 * se, "high": 2.5 + Z95 * se, "se": se, "n": 4})
    assert all(type(got[key]) is float for key in ("mean", "low", "high", "se")) and type(got["n"]) is int
    narrow = mean_ci(values, confidence=0.5)
    assert narrow["high"] - narrow["low"] == pytest.approx(2 * norm.ppf(0.75) * se)


def test_mean_ci_skips_missing_values():
    got = mean_ci([1.0, np.nan, 3.0, np.nan])
    assert got["n"] == 2 and got["mean"] == 2.0


def test_bootstrap_and_normal_intervals_agree_on_a_large_sample():
    values = np.random.default_rng(0).exponential(size=5000)  # skewed, but the mean of 5,000 is not
    normal, bootstrap = mean_ci(values), mean_ci(values, method="bootstrap", n_boot=4000, seed=1)
    width = normal["high"] - normal["low"]
    assert bootstrap["mean"] == normal["mean"] and bootstrap["se"] == normal["se"]
    assert abs(bootstrap["low"] - normal["low"]) < 0.05 * width
    assert abs(bootstrap["high"] - normal["high"]) < 0.05 * width


def test_bootstrap_is_seeded():
    values = np.random.default_rng(1).random(50)
    a = mean_ci(values, method="bootstrap", n_boot=500, seed=3)
    assert a == mean_ci(values, method="bootstrap", n_boot=500, seed=3)
    assert a != mean_ci(values, method="bootstrap", n_boot=500, seed=4)
    assert a["low"] < a["mean"] < a["high"]


def test_paired_difference_by_hand():
    a = pd.Series([0.5, 0.6, 0.7, 0.8], index=[1, 2, 3, 4])
    b = pd.Series([0.4, 0.5, 0.6, 0.75], index=[1, 2, 3, 4])
    diff = np.array([0.1, 0.1, 0.1, 0.05])
    se = diff.std(ddof=1) / 2
    got = paired_difference(a, b)
    assert got == pytest.approx({"difference": 0.0875, "low": 0.0875 - Z95 * se, "high": 0.0875 + Z95 * se,
                                 "se": se, "z": 0.0875 / se, "n": 4, "verdict": "better"})
    assert paired_difference(b, a)["verdict"] == "worse"
    assert paired_difference(a.to_numpy(), b.to_numpy()) == got  # arrays pair by position


def test_paired_difference_aligns_series_on_their_shared_users():
    a = pd.Series([1.0, 2.0, 3.0, np.nan, 9.0], index=[1, 2, 3, 4, 5])
    b = pd.Series([0.0, 1.5, 2.0, 1.0], index=[3, 2, 1, 4])  # another order; user 5 missing; user 4 NaN in a
    got = paired_difference(a, b)
    assert got["n"] == 3 and got["difference"] == pytest.approx(np.mean([1 - 2, 2 - 1.5, 3 - 0]))


def test_a_difference_around_zero_is_a_tie():
    rng = np.random.default_rng(2)
    a = rng.normal(size=200)
    assert paired_difference(a, a + rng.normal(0, 1e-3, 200))["verdict"] == "tie"
    same = paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert same["difference"] == 0.0 and same["verdict"] == "tie" and np.isnan(same["z"])


def test_paired_intervals_are_narrower_than_unpaired_on_correlated_users():
    rng = np.random.default_rng(3)
    difficulty = rng.random(400)  # what the users have in common: some are easy for every model
    a = difficulty + rng.normal(0, 0.02, 400) + 0.01
    b = difficulty + rng.normal(0, 0.02, 400)
    paired = paired_difference(a, b)
    ci_a, ci_b = mean_ci(a), mean_ci(b)
    unpaired_half_width = Z95 * np.hypot(ci_a["se"], ci_b["se"])
    assert (paired["high"] - paired["low"]) / 2 < unpaired_half_width / 5
    assert paired["verdict"] == "better"  # 0.01 is clear when paired ...
    assert ci_a["low"] < ci_b["high"]  # ... though the two separate intervals overlap


def _per_user_results(seed=4, n=300):
    rng = np.random.default_rng(seed)
    users = np.arange(1000, 1000 + n)
    base = rng.random(n)
    return {
        "weak": pd.DataFrame({"ndcg@10": base * 0.5, "recall@10": base}, index=pd.Index(users, name="user_id")),
        "strong": pd.DataFrame({"ndcg@10": base + 0.1, "recall@10": base}, index=pd.Index(users, name="user_id")),
        "twin": pd.Series(base + 0.1 + rng.normal(0, 1e-3, n), index=users),
    }


def test_leaderboard_verdicts_against_the_best_model():
    results = _per_user_results()
    board = leaderboard(results, "ndcg@10")
    best = "strong" if results["strong"]["ndcg@10"].mean() >= results["twin"].mean() else "twin"
    other = "twin" if best == "strong" else "strong"
    assert board.index.tolist() == [best, other, "weak"]  # best first
    assert list(board.columns) == ["mean", "low", "high", f"vs {best}", "diff low", "diff high", "verdict"]
    assert board["verdict"].to_dict() == {best: "reference", other: "tie", "weak": "worse"}
    assert board.loc[best, f"vs {best}"] == 0.0
    weak = paired_difference(results["weak"]["ndcg@10"], results[best] if best == "twin" else results[best]["ndcg@10"])
    assert board.loc["weak", f"vs {best}"] == pytest.approx(weak["difference"])
    assert board.loc["weak", ["diff low", "diff high"]].tolist() == pytest.approx([weak["low"], weak["high"]])
    assert board.loc["weak", "mean"] == pytest.approx(results["weak"]["ndcg@10"].mean())


def test_leaderboard_against_a_chosen_reference_and_with_the_bootstrap():
    results = _per_user_results()
    board = leaderboard(results, "ndcg@10", reference="weak", method="bootstrap", n_boot=300, seed=0)
    assert board.loc["weak", "verdict"] == "reference"
    assert board.loc["strong", "verdict"] == "better" and board.loc["twin", "verdict"] == "better"
    # recall is the same for weak and strong: a tie, whichever is called the reference
    same = leaderboard({"weak": results["weak"], "strong": results["strong"]}, "recall@10")
    assert set(same["verdict"]) == {"reference", "tie"}


@pytest.mark.parametrize("call, error, message", [
    (lambda: mean_ci([1.0]), ValueError, "at least 2 users"),
    (lambda: mean_ci([np.nan, 1.0]), ValueError, "at least 2 users"),
    (lambda: mean_ci([[1.0, 2.0]]), ValueError, "1-dimensional"),
    (lambda: mean_ci(["a", "b"]), TypeError, "array of numbers"),
    (lambda: mean_ci([1.0, 2.0], confidence=1.0), ValueError, "confidence"),
    (lambda: mean_ci([1.0, 2.0], confidence="95%"), TypeError, "confidence"),
    (lambda: mean_ci([1.0, 2.0], method="t"), ValueError, r"method must be one of \('normal', 'bootstrap'\)"),
    (lambda: mean_ci([1.0, 2.0], method="bootstrap", n_boot=0), ValueError, "n_boot"),
    (lambda: mean_ci([1.0, 2.0], n_boot=2.5), TypeError, "n_boot"),
    (lambda: mean_ci([1.0, 2.0], seed=-1), ValueError, "seed"),
    (lambda: paired_difference([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "one value per user"),
    (lambda: paired_difference(pd.Series([1.0, 2.0], index=[1, 2]), pd.Series([1.0, 2.0], index=[3, 4])),
     ValueError, "share no user"),
    (lambda: leaderboard([("a", pd.Series([1.0, 2.0]))], "ndcg@10"), TypeError, "per_user must be a dict"),
    (lambda: leaderboard({}, "ndcg@10"), ValueError, "per_user is empty"),
    (lambda: leaderboard({"a": pd.DataFrame({"ndcg@5": [1.0, 2.0]})}, "ndcg@10"), ValueError,
     r"'a' has no column 'ndcg@10'; it has \['ndcg@5'\]"),
    (lambda: leaderboard({"a": [1.0, 2.0]}, "ndcg@10"), TypeError, "DataFrame or a Series"),
    (lambda: leaderboard({"a": pd.Series([1.0, 2.0])}, "ndcg@10", reference="b"), ValueError,
     "reference 'b' is not among the models"),
])
def test_comparisons_refuse_bad_input_with_clear_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_published_microsoft_recommenders_table_names_its_source_and_rejects_unknown_models():
    from rec_utils.evaluation.published import microsoft_recommenders_ml100k

    table = microsoft_recommenders_ml100k()
    assert table.attrs["source"].startswith("Microsoft Recommenders") and "1.1.1" in table.attrs["source"]
    assert "stratified 75/25" in table.attrs["protocol"]
    assert ((table > 0) & (table < 1)).all().all()
    assert (table["ndcg@10"] >= table["map"]).all()  # as in the published table: NDCG@10 above MAP for every model
    assert microsoft_recommenders_ml100k(["SAR"]).index.tolist() == ["SAR"]
    with pytest.raises(KeyError, match="BiVAE"):
        microsoft_recommenders_ml100k(["EASE"])
