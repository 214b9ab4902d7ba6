"""Sequence utilities, next-item baselines and the GRU4Rec builder (rec_utils.models.sequential)."""

import numpy as np
import pandas as pd
import pytest

from rec_utils._checks import NotFittedError
from rec_utils.models.sequential import MarkovChainRecommender, RecentPopularityRecommender, build_gru4rec, next_item_dataset
from rec_utils.data.sequences import next_item_examples, time_ordered, user_sequences
from rec_utils.data import IdIndex

# user 1 rated 10, 20 and 30 at t=1, 2, 2 (the tie keeps row order) and 40 at t=3, listed out of order;
# user 2 rated 20 alone
TINY = pd.DataFrame({"user_id": [1, 2, 1, 1, 1], "item_id": [40, 20, 10, 20, 30],
                     "rating": 4.0, "timestamp": [3, 5, 1, 2, 2]})


def test_time_ordered_sorts_by_user_then_time_and_keeps_row_order_on_ties():
    ordered = time_ordered(TINY)
    assert ordered["user_id"].tolist() == [1, 1, 1, 1, 2]
    assert ordered["item_id"].tolist() == [10, 20, 30, 40, 20]


def test_user_sequences_order_padding_and_truncation():
    items = IdIndex([10, 20, 30, 40, 50])  # tokens 1..5
    users, long = user_sequences(TINY, max_len=6, items=items)
    assert users.tolist() == [1, 2]
    assert long.dtype == np.int32
    assert long.tolist() == [[0, 0, 1, 2, 3, 4], [0, 0, 0, 0, 0, 2]]  # left-padded, newest last
    _, short = user_sequences(TINY, max_len=2, items=items)
    assert short.tolist() == [[3, 4], [0, 2]]  # truncation keeps the latest items


def test_next_item_examples_are_all_prefixes():
    items = IdIndex([10, 20, 30, 40])
    inputs, targets, owners = next_item_examples(TINY, max_len=2, items=items)
    assert inputs.tolist() == [[0, 1], [1, 2], [2, 3]]
    assert targets.tolist() == [1, 2, 3]  # positions of 20, 30, 40
    assert owners.tolist() == [1, 1, 1]  # user 2's single item predicts nothing


def test_markov_chain_counts_transitions_by_hand():
    ratings = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 3, 3],
                            "item_id": [10, 20, 30, 10, 20, 20, 10],
                            "timestamp": [1, 2, 3, 1, 2, 1, 2]})
    model = MarkovChainRecommender().fit(ratings)
    # 10->20 twice (users 1 and 2), 20->30 once, 20->10 once (user 3)
    np.testing.assert_array_equal(model.transitions_.toarray(), [[0, 2, 0], [1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(model.popularity_, [3, 3, 1])
    scores = model.score([2])[0]  # user 2 ended on 20: 10 and 30 follow it once each
    assert scores[0] > scores[2] > scores[1]  # the tie between 10 and 30 goes to the more popular 10
    fallback = model.score([1])[0]  # nothing ever followed 30: popularity decides
    assert np.all(fallback < 1) and fallback[0] == fallback[1] > fallback[2]


def test_recent_popularity_never_looks_ahead():
    ratings = pd.DataFrame({"user_id": [1, 2, 3, 4, 5], "item_id": [10, 10, 10, 20, 20],
                            "timestamp": [1, 2, 3, 4, 5]})
    model = RecentPopularityRecommender(window=2).fit(ratings)
    early, late = model.score_at([4, 6])
    assert early[0] > early[1]  # before t=4 only item 10 was rated
    assert late[1] > late[0]  # the last two ratings before t=6 are both item 20
    assert model.recommend_at([1], at=[6], k=1).tolist() == [[20]]


def test_markov_chain_counts_a_repeated_pair_once_at_its_latest_time():
    # user 1 watched 10, 20, then 10 again: the pair (1, 10) counts once, at t=3 -> history 20, 10
    repeated = pd.DataFrame({"user_id": [1, 1, 1, 2, 2], "item_id": [10, 20, 10, 10, 20],
                             "timestamp": [1, 2, 3, 1, 2]})
    model = MarkovChainRecommender().fit(repeated)
    np.testing.assert_array_equal(model.transitions_.toarray(), [[0, 1], [1, 0]])  # 20->10 (user 1), 10->20 (user 2)
    assert model.last_item_.tolist() == [0, 1]  # user 1 ended on 10, user 2 on 20


def test_sequential_baselines_need_timestamps_and_fitting():
    for model in (MarkovChainRecommender(), RecentPopularityRecommender(window=2)):
        with pytest.raises(NotFittedError, match="not fitted"):
            model.score([1])
        with pytest.raises(ValueError, match="timestamp"):
            model.fit(TINY.drop(columns="timestamp"))
        with pytest.raises(TypeError, match="DataFrame"):
            model.fit(TINY.to_dict())
    with pytest.raises(NotFittedError):
        MarkovChainRecommender().score_after([0])
    with pytest.raises(NotFittedError):
        RecentPopularityRecommender().score_at([1])


def test_next_item_dataset_shuffles_rows_and_keeps_pairs():
    inputs = np.arange(30, dtype=np.int32).reshape(10, 3)
    targets = np.arange(10)
    batches = list(next_item_dataset(inputs, targets, batch_size=4, shuffle=True, seed=1))
    assert [len(y) for _, y in batches] in ([4, 4, 2], [4, 2, 4], [2, 4, 4])
    seen_inputs = np.concatenate([np.asarray(x) for x, _ in batches])
    seen_targets = np.concatenate([np.asarray(y) for _, y in batches])
    assert sorted(seen_targets.tolist()) == list(range(10))  # every row once per epoch
    np.testing.assert_array_equal(seen_inputs, inputs[seen_targets])  # inputs stay with their targets
    assert seen_targets.tolist() != list(range(10))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_builder_shapes_and_padding_does_not_change_the_prediction(cell):
    long = build_gru4rec(n_items=7, embedding_dim=4, hidden_units=5, max_len=6, cell=cell)
    short = build_gru4rec(n_items=7, embedding_dim=4, hidden_units=5, max_len=3, cell=cell)
    short.set_weights(long.get_weights())
    assert long.get_layer(cell) is not None and long.output_shape == (None, 7)
    history = np.array([[3, 1, 7]], dtype=np.int32)
    padded = np.array([[0, 0, 0, 3, 1, 7]], dtype=np.int32)
    p_long = long.predict(padded, verbose=0)
    np.testing.assert_allclose(p_long, short.predict(history, verbose=0), atol=1e-6)
    np.testing.assert_allclose(p_long.sum(axis=1), 1.0, atol=1e-5)


def test_a_tiny_gru_learns_a_deterministic_cycle():
    import keras

    keras.utils.set_random_seed(0)
    cycle = pd.DataFrame({"user_id": np.repeat(np.arange(6), 7),  # every user: 1 2 3 1 2 3 1
                          "item_id": np.tile([1, 2, 3, 1, 2, 3, 1], 6), "timestamp": np.tile(np.arange(7), 6)})
    inputs, targets, _ = next_item_examples(cycle, max_len=4)
    model = build_gru4rec(n_items=3, embedding_dim=4, hidden_units=8, max_len=4, learning_rate=0.05)
    model.fit(inputs, targets, epochs=15, batch_size=12, verbose=0)
    after = np.array([[0, 0, 0, 1], [0, 0, 1, 2], [0, 1, 2, 3], [1, 2, 3, 1]], dtype=np.int32)
    assert model.predict(after, verbose=0).argmax(axis=1).tolist() == [1, 2, 0, 1]  # 2, 3, 1, 2


@pytest.mark.parametrize("call, error", [
    (lambda: user_sequences(TINY, max_len=0), ValueError),
    (lambda: next_item_examples(TINY, max_len=2.5), TypeError),
    (lambda: user_sequences(TINY.drop(columns="timestamp"), max_len=3), ValueError),
    (lambda: RecentPopularityRecommender(window=0).fit(TINY), ValueError),
    (lambda: RecentPopularityRecommender(window="10").fit(TINY), TypeError),
    (lambda: build_gru4rec(n_items=0), ValueError),
    (lambda: build_gru4rec(n_items=5, cell="rnn"), ValueError),
    (lambda: build_gru4rec(n_items=5, dropout=1.0), ValueError),
    (lambda: build_gru4rec(n_items=5, learning_rate="fast"), TypeError),
    (lambda: build_gru4rec(n_items=5, max_len=-1), ValueError),
    (lambda: next_item_dataset(np.zeros((4, 2)), np.zeros(3)), ValueError),
    (lambda: next_item_dataset(np.zeros((4, 2)), np.zeros(4), batch_size=0), ValueError),
])
def test_bad_arguments_raise_type_or_value_error(call, error):
    with pytest.raises(error):
        call()


def test_recent_popularity_stores_its_window_untouched():
    model = RecentPopularityRecommender(window=0)  # no error until fit
    assert model.get_params() == {"window": 0}
