"""Next-item models on a large catalogue and long histories: caps on training examples, the sampled
softmax of GRU4Rec and SASRec, and recent popularity answered in one pass
(rec_utils.data.sequences, rec_utils.models.sequential, rec_utils.models.sasrec)."""

import numpy as np
import pandas as pd
import pytest

from rec_utils.data import IdIndex
from rec_utils.data.sequences import cap_per_user, next_item_examples, next_item_sequences
from rec_utils.models.sequential import (FULL_SOFTMAX_MAX_ITEMS, RecentPopularityRecommender, build_gru4rec,
                                         fit_next_item_model, next_item_dataset, sampled_softmax_cross_entropy,
                                         sampled_softmax_model)

# user 1 rated 10..60 in order (6 items), user 2 rated 20 then 10, user 3 rated 30 alone
HISTORIES = pd.DataFrame({"user_id": [1, 1, 1, 1, 1, 1, 2, 2, 3],
                          "item_id": [10, 20, 30, 40, 50, 60, 20, 10, 30],
                          "timestamp": [1, 2, 3, 4, 5, 6, 2, 3, 9]})
ITEMS = IdIndex([10, 20, 30, 40, 50, 60])


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


# --------------------------------------------------------------------------- caps

def test_cap_per_user_is_the_largest_cap_within_the_budget():
    counts = np.array([2, 5, 100])
    assert cap_per_user(counts, 107) is None and cap_per_user(counts, 1000) is None
    for budget in (3, 10, 20, 50, 106):
        cap = cap_per_user(counts, budget)
        assert np.minimum(counts, cap).sum() <= budget < np.minimum(counts, cap + 1).sum()
    assert cap_per_user(counts, 1) == 1  # one per user even when that is over the budget


@pytest.mark.parametrize("counts, budget, error", [
    ([[1, 2]], 5, ValueError), ([1.5, 2.0], 5, ValueError), ([-1, 2], 5, ValueError),
    ([1, 2], 0, ValueError), ([1, 2], 2.5, TypeError),
])
def test_cap_per_user_rejects_bad_input(counts, budget, error):
    with pytest.raises(error):
        cap_per_user(counts, budget)


def test_next_item_examples_keep_each_users_newest_prefixes():
    full_inputs, full_targets, full_owners = next_item_examples(HISTORIES, max_len=3, items=ITEMS)
    inputs, targets, owners = next_item_examples(HISTORIES, max_len=3, items=ITEMS, max_per_user=2)
    assert owners.tolist() == [1, 1, 2]  # user 1 keeps 2 of 5, user 2 its only one
    keep = np.r_[3, 4, 5]  # the last two of user 1's five examples, then user 2's
    np.testing.assert_array_equal(inputs, full_inputs[keep])
    np.testing.assert_array_equal(targets, full_targets[keep])
    assert inputs[0].tolist() == [2, 3, 4] and targets[0] == 4  # 20 30 40 -> 50: the newest history in view
    assert len(next_item_examples(HISTORIES, max_len=3, items=ITEMS, max_per_user=99)[0]) == len(full_inputs)
    with pytest.raises(ValueError, match="max_per_user"):
        next_item_examples(HISTORIES, max_len=3, max_per_user=0)


def test_next_item_sequences_keep_each_users_newest_windows():
    inputs, targets, owners = next_item_sequences(HISTORIES, max_len=2, items=ITEMS, max_windows_per_user=1)
    # user 1: inputs 1..5 -> windows [4 5], [2 3], [0 1]; only the newest is kept
    assert owners.tolist() == [1, 2]
    assert inputs.tolist() == [[4, 5], [0, 2]]
    assert targets.tolist() == [[4, 5], [-1, 0]]
    with pytest.raises(ValueError, match="max_windows_per_user"):
        next_item_sequences(HISTORIES, max_len=2, max_windows_per_user=0)


def test_capped_overlapping_windows_keep_every_target_of_their_oldest_window():
    # stride 1 < max_len 3: a window drops the targets an older window covers, unless that one is not kept
    _, targets, owners = next_item_sequences(HISTORIES, max_len=3, items=ITEMS, stride=1, max_windows_per_user=2)
    user_1 = targets[owners == 1]
    assert user_1.tolist() == [[2, 3, 4], [-1, -1, 5]]  # the older window kept keeps all three
    kept = user_1[user_1 >= 0]
    assert sorted(kept.tolist()) == [2, 3, 4, 5]  # each target once, the newest four


# --------------------------------------------------------------------------- recent popularity

def test_recent_popularity_in_one_pass_equals_counting_each_request_from_scratch():
    rng = np.random.default_rng(0)
    ratings = pd.DataFrame({"user_id": rng.integers(1, 30, 400), "item_id": rng.integers(1, 25, 400),
                            "timestamp": rng.integers(0, 300, 400)}).drop_duplicates(["user_id", "item_id"])
    model = RecentPopularityRecommender(window=37).fit(ratings)
    at = rng.integers(-5, 320, 60)  # unsorted, repeated, before the first and after the last rating
    scores = model.score_at(at)
    n = len(model.items_)
    for row, moment in enumerate(at):
        end = np.searchsorted(model.times_, moment, side="left")
        before = np.bincount(model.positions_[:end], minlength=n)
        recent = np.bincount(model.positions_[max(0, end - 37):end], minlength=n)
        np.testing.assert_array_equal(scores[row], (recent + before / (before.max() + 1.0)).astype(np.float32))


# --------------------------------------------------------------------------- sampled softmax

def test_the_rule_keeps_the_full_softmax_for_a_small_catalogue_only():
    assert 1_000 <= FULL_SOFTMAX_MAX_ITEMS < 3_000  # a catalogue of a few thousand items or more trains sampled


def test_next_item_dataset_can_feed_targets_as_an_input():
    (batch,) = next(iter(next_item_dataset(np.ones((5, 3)), np.arange(5), batch_size=4, targets_as_input=True)))
    inputs, targets = batch
    assert tuple(inputs.shape) == (4, 3) and np.asarray(targets).tolist() == [0, 1, 2, 3]


def test_sampled_softmax_corrected_for_its_proposal_estimates_the_full_cross_entropy(keras):
    keras.utils.set_random_seed(1)
    model = build_gru4rec(n_items=40, embedding_dim=8, hidden_units=8, max_len=4)
    inputs = np.random.default_rng(0).integers(1, 41, (64, 4)).astype(np.int32)
    targets = np.random.default_rng(1).integers(0, 40, 64).astype(np.int32)
    full = float(np.mean(keras.losses.sparse_categorical_crossentropy(targets, model.predict(inputs, verbose=0))))
    counts = np.random.default_rng(2).integers(0, 50, 40)
    for power in (0.0, 1.0):  # uniform or popularity-shaped draws: the log-Q correction removes the proposal
        trainer = sampled_softmax_model(model, n_negatives=20_000, item_counts=counts, power=power, seed=3)
        sampled = float(trainer([inputs, targets], training=True))
        assert sampled == pytest.approx(full, rel=0.02)
        evaluated = float(trainer([inputs, targets], training=False))  # evaluation: the exact full softmax
        assert evaluated == pytest.approx(full, rel=1e-5)


def test_sampled_softmax_twin_shares_the_weights_and_learns_a_cycle(keras):
    keras.utils.set_random_seed(0)
    n_items = 30  # histories cycle through the items in order: the next item is always the one after
    rows = np.arange(600) % n_items
    inputs = np.stack([(rows + shift) % n_items + 1 for shift in range(3)], axis=1).astype(np.int32)
    targets = ((rows + 3) % n_items).astype(np.int32)
    model = build_gru4rec(n_items, embedding_dim=16, hidden_units=16, max_len=3, learning_rate=0.02)
    before = model.get_layer("next_item_logits").get_weights()[0].copy()
    curves = fit_next_item_model(model, inputs, targets, validation=(inputs[:60], targets[:60]), epochs=25,
                                 batch_size=60, n_negatives=8, item_counts=np.bincount(targets, minlength=n_items))
    assert not np.allclose(before, model.get_layer("next_item_logits").get_weights()[0])  # trained through the twin
    assert curves["val_loss"][-1] < 0.5 * np.log(n_items)  # the full cross-entropy fell well below a uniform guess
    accuracy = np.mean(model.predict(inputs[:60], verbose=0).argmax(axis=1) == targets[:60])
    assert accuracy > 0.9


def test_fit_next_item_model_full_softmax_matches_fitting_by_hand(keras):
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 21, (100, 3)).astype(np.int32), rng.integers(0, 20, 100).astype(np.int32)
    keras.utils.set_random_seed(0)
    by_hand = build_gru4rec(20, embedding_dim=4, hidden_units=4, max_len=3)
    by_hand.fit(next_item_dataset(inputs, targets, 32, shuffle=True, seed=5),
                validation_data=next_item_dataset(inputs[:10], targets[:10], 32), epochs=2, shuffle=False, verbose=0,
                callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)])
    keras.utils.set_random_seed(0)
    packaged = build_gru4rec(20, embedding_dim=4, hidden_units=4, max_len=3)
    curves = fit_next_item_model(packaged, inputs, targets, (inputs[:10], targets[:10]), epochs=2, batch_size=32, seed=5)
    assert len(curves["loss"]) == 2 and set(curves) == {"loss", "val_loss"}
    for mine, theirs in zip(packaged.get_weights(), by_hand.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)


@pytest.mark.parametrize("kwargs, error", [
    ({"n_negatives": 0}, ValueError), ({"power": 1.5}, ValueError), ({"item_counts": np.ones(7)}, ValueError),
    ({"item_counts": -np.ones(20)}, ValueError), ({"learning_rate": 0.0}, ValueError),
])
def test_sampled_softmax_model_rejects_bad_arguments(keras, kwargs, error):
    model = build_gru4rec(20, embedding_dim=4, hidden_units=4, max_len=3)
    with pytest.raises(error):
        sampled_softmax_model(model, **kwargs)


def test_sampled_softmax_model_needs_a_next_item_model(keras):
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="scores")])
    with pytest.raises(ValueError, match="next_item_logits"):
        sampled_softmax_model(other)
    with pytest.raises(TypeError, match="validation"):
        fit_next_item_model(build_gru4rec(5, max_len=2), np.ones((4, 2)), np.zeros(4), validation=None, epochs=1)


def test_sasrec_sampled_sequence_training_evaluates_the_full_softmax_at_real_targets(keras):
    from rec_utils.models.sasrec import (build_sasrec, masked_next_item_loss, sequence_dataset,
                                         sequence_training_model)

    keras.utils.set_random_seed(0)
    model = build_sasrec(n_items=6, max_len=3, embedding_dim=8, n_blocks=1, dropout=0.0)
    inputs, targets, _ = next_item_sequences(HISTORIES, max_len=3, items=ITEMS)
    full_trainer = sequence_training_model(model)
    expected = float(masked_next_item_loss(targets, full_trainer.predict(inputs, verbose=0)))
    sampled_trainer = sequence_training_model(model, n_negatives=4, item_counts=np.ones(6, dtype=int), seed=1)
    assert sampled_trainer.input_shape == [(None, 3), (None, 3)]
    assert float(sampled_trainer([inputs, targets], training=False)) == pytest.approx(expected, rel=1e-5)
    before = model.predict(inputs, verbose=0)
    sampled_trainer.fit(sequence_dataset(inputs, targets, batch_size=2, targets_as_input=True), epochs=2, verbose=0,
                        shuffle=False)
    assert not np.allclose(before, model.predict(inputs, verbose=0))  # training the twin trains the model


def test_the_shared_cross_entropy_is_numpys_and_one_call_serves_gru4rec_and_bert4rec(keras):
    from rec_utils.models.bert4rec import build_bert4rec, cloze_training_model

    rng = np.random.default_rng(0)
    dense = keras.layers.Dense(6)
    states = rng.normal(size=(2, 3, 4)).astype(np.float32)
    dense(states)
    targets = np.array([[2, -1, 5], [-1, -1, 0]])
    logits = states.reshape(-1, 4) @ np.asarray(dense.kernel) + np.asarray(dense.bias)
    kept = targets.ravel() >= 0
    log_softmax = logits[kept] - np.log(np.exp(logits[kept]).sum(axis=1, keepdims=True))
    by_hand = -log_softmax[np.arange(kept.sum()), targets.ravel()[kept]].mean()
    assert float(sampled_softmax_cross_entropy(states, targets, dense)) == pytest.approx(by_hand, rel=1e-5)
    assert float(sampled_softmax_cross_entropy(states, -np.ones((2, 3)), dense)) == 0.0  # no target: no loss
    doubled = sampled_softmax_cross_entropy(states, targets, dense, head=lambda h: 2 * h)
    assert float(doubled) != pytest.approx(by_hand)  # the head is applied before the output layer
    # BERT4Rec's cloze loss is this function with its output head: the trainer's loss in evaluation mode
    model = build_bert4rec(n_items=6, max_len=3, embedding_dim=4, n_blocks=1, n_heads=1, dropout=0.0, seed=0)
    inputs = np.array([[1, 7, 3], [0, 2, 7]], dtype=np.int32)
    cloze_targets = np.array([[-1, 4, -1], [-1, -1, 5]], dtype=np.int32)
    item_states = keras.Model(model.input, model.get_layer("item_states").output)(inputs)
    head = lambda h: model.get_layer("output_norm")(model.get_layer("output_transform")(h))
    direct = sampled_softmax_cross_entropy(item_states, cloze_targets, model.get_layer("next_item_logits"), head=head)
    trainer = cloze_training_model(model)
    assert float(trainer([inputs, cloze_targets], training=False)) == pytest.approx(float(direct), rel=1e-6)


def test_the_shared_cross_entropy_refuses_a_sample_without_its_proposal(keras):
    dense = keras.layers.Dense(4)
    dense(np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError, match="log_proposal and seed_generator"):
        sampled_softmax_cross_entropy(np.zeros((3, 2), np.float32), np.array([0, 1, 2]), dense, n_negatives=5)
