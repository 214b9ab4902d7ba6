"""SASRec builder, its sequence-to-sequence training data and attention weights (rec_utils.models.sasrec)."""

import numpy as np
import pandas as pd
import pytest

from rec_utils.models.sasrec import attention_weights, build_sasrec, causal_attention_mask, masked_next_item_loss, sequence_dataset, sequence_training_model, training_flops
from rec_utils.data.sequences import next_item_sequences
from rec_utils.data.sequences import next_item_examples
from rec_utils.data import IdIndex

# user 1 rated 10, 20, 30, 40, 50 in that order; user 2 rated 10 then 20 (rows out of order); user 3 rated 30 alone
HISTORIES = pd.DataFrame({"user_id": [1, 1, 1, 1, 1, 2, 2, 3],
                          "item_id": [10, 20, 30, 40, 50, 20, 10, 30],
                          "timestamp": [1, 2, 3, 4, 5, 2, 1, 9]})
ITEMS = IdIndex([10, 20, 30, 40, 50])


@pytest.fixture(scope="module")
def keras():
    import keras

    keras.utils.set_random_seed(0)
    return keras


def test_causal_mask_hides_later_positions_and_padding_keys():
    mask = causal_attention_mask([[0, 0, 4, 2], [1, 2, 3, 4]])
    assert mask.shape == (2, 4, 4) and mask.dtype == bool
    assert not np.triu(mask[1], k=1).any()  # no query sees a later key
    assert mask[1].sum() == 10  # a full row sees itself and everything before
    assert mask[0, 3].tolist() == [False, False, True, True]  # padding keys hidden
    assert mask[0, 0].tolist() == [True, False, False, False]  # a padding query sees itself only


def test_causal_mask_rejects_one_dimensional_input():
    with pytest.raises(ValueError, match="tokens must be 2-dimensional"):
        causal_attention_mask([1, 2, 3])
    with pytest.raises(TypeError, match="tokens must hold integer positions"):
        causal_attention_mask([[0.0, 1.0]])


def test_next_item_sequences_cover_every_target_once():
    inputs, targets, owners = next_item_sequences(HISTORIES, max_len=3, items=ITEMS)
    assert inputs.dtype == np.int32 and targets.dtype == np.int32
    # user 1: inputs 1 2 3 4 -> targets 2 3 4 5, cut from the newest end; user 2: 1 -> 2; user 3: nothing
    assert inputs.tolist() == [[0, 0, 1], [2, 3, 4], [0, 0, 1]]
    assert targets.tolist() == [[-1, -1, 1], [2, 3, 4], [-1, -1, 1]]
    assert owners.tolist() == [1, 1, 2]
    _, prefix_targets, _ = next_item_examples(HISTORIES, max_len=3, items=ITEMS)
    assert sorted(targets[targets >= 0].tolist()) == sorted(prefix_targets.tolist())


def test_next_item_sequences_rejects_bad_max_len():
    with pytest.raises(ValueError, match="max_len must be an integer >= 1"):
        next_item_sequences(HISTORIES, max_len=0)
    with pytest.raises(TypeError, match="max_len must be an integer"):
        next_item_sequences(HISTORIES, max_len=2.0)


def test_training_flops_rule_and_validation():
    assert training_flops(10, 7) == 420.0
    with pytest.raises(ValueError, match="n_tokens"):
        training_flops(10, 0)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n_items": 0}, ValueError, "n_items"),
    ({"embedding_dim": 10, "n_heads": 3}, ValueError, "divisible"),
    ({"dropout": 1.0}, ValueError, "dropout"),
    ({"learning_rate": 0}, ValueError, "learning_rate"),
    ({"learning_rate": "1e-3"}, TypeError, "learning_rate"),
    ({"n_blocks": 1.5}, TypeError, "n_blocks"),
])
def test_build_sasrec_validates_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        build_sasrec(**{"n_items": 5, **kwargs})


@pytest.mark.parametrize("features, error, message", [
    (np.ones((4, 3)), ValueError, "one row per item"),
    (np.ones(5), ValueError, "2-dimensional"),
    (np.full((5, 3), np.nan), ValueError, "NaN"),
    (np.array([["a"] * 3] * 5), TypeError, "item_features"),
])
def test_build_sasrec_validates_item_features(features, error, message):
    with pytest.raises(error, match=message):
        build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=1, item_features=features)


def test_side_input_adds_a_trained_projection_of_frozen_features(keras):
    features = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    model = build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=1, dropout=0.0, learning_rate=1e-2,
                         item_features=features)
    table = model.get_layer("item_features").get_weights()[0]
    np.testing.assert_array_equal(table[0], 0)  # padding has no features
    np.testing.assert_allclose(table[1:], features)  # token t = item position t - 1
    assert not model.get_layer("item_features").trainable
    # the features enter the blocks: the same seed with other features gives other scores
    keras.utils.set_random_seed(0)
    first = build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=1, dropout=0.0, item_features=features)
    keras.utils.set_random_seed(0)
    second = build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=1, dropout=0.0,
                          item_features=features[::-1].copy())
    tokens = np.array([[0, 1, 2, 3]], dtype=np.int32)
    assert not np.allclose(first.predict(tokens, verbose=0), second.predict(tokens, verbose=0))
    # training moves the projection and leaves the feature table as it was
    inputs, targets, _ = next_item_sequences(HISTORIES, max_len=4, items=ITEMS)
    projection = model.get_layer("item_feature_projection").get_weights()[0].copy()
    history = sequence_training_model(model, learning_rate=1e-2).fit(inputs, targets, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(model.get_layer("item_features").get_weights()[0], table)
    assert not np.allclose(model.get_layer("item_feature_projection").get_weights()[0], projection)
    assert model.count_params() == build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=1).count_params() \
        + table.size + 3 * 8


def test_sasrec_shapes_causality_and_shared_weights(keras):
    model = build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=2, n_heads=2, dropout=0.0)
    tokens = np.array([[0, 1, 2, 3], [4, 3, 2, 1]], dtype=np.int32)
    logits = model.predict(tokens, verbose=0)
    assert logits.shape == (2, 5)
    trainer = sequence_training_model(model)
    every = trainer.predict(tokens, verbose=0)
    assert every.shape == (2, 4, 5)
    np.testing.assert_allclose(every[:, -1], logits, atol=1e-5)  # the last position is the scoring output
    changed = tokens.copy()
    changed[1, 2] = 5
    after = trainer.predict(changed, verbose=0)
    np.testing.assert_allclose(after[1, :2], every[1, :2], atol=1e-6)  # earlier positions cannot see the change
    assert not np.allclose(after[1, 2:], every[1, 2:])


def test_sequence_training_trains_the_scoring_model(keras):
    model = build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=1, dropout=0.0, learning_rate=1e-2)
    inputs, targets, _ = next_item_sequences(HISTORIES, max_len=4, items=ITEMS)
    before = model.predict(inputs, verbose=0)
    history = sequence_training_model(model, learning_rate=1e-2).fit(inputs, targets, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(model.predict(inputs, verbose=0), before)


def test_attention_weights_shape_rows_and_mask(keras):
    model = build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=2, n_heads=2)
    tokens = np.array([[0, 0, 2, 3], [1, 2, 3, 4], [0, 1, 1, 5]], dtype=np.int32)
    weights = attention_weights(model, tokens)
    assert weights.shape == (2, 3, 2, 4, 4)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    allowed = causal_attention_mask(tokens)[None, :, None]
    assert np.all(weights[~np.broadcast_to(allowed, weights.shape)] < 1e-6)


def test_attention_weights_validates_inputs(keras):
    model = build_sasrec(n_items=5, max_len=4, embedding_dim=8, n_blocks=1)
    with pytest.raises(ValueError, match=r"shape \(batch, 4\)"):
        attention_weights(model, np.zeros((2, 3), dtype=np.int32))
    with pytest.raises(ValueError, match="build_sasrec"):
        attention_weights(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), np.zeros((1, 4), np.int32))


def test_sequence_dataset_batches_and_validates():
    inputs = np.arange(15, dtype=np.int32).reshape(5, 3)
    batches = list(sequence_dataset(inputs, inputs - 1, batch_size=2, shuffle=True, seed=0))
    assert [tuple(x.shape) for x, _ in batches] == [(2, 3), (2, 3), (1, 3)] or len(batches) == 3
    rows = np.concatenate([np.asarray(x) for x, _ in batches])
    assert sorted(rows[:, 0].tolist()) == [0, 3, 6, 9, 12]  # every window once
    for x, y in batches:
        np.testing.assert_array_equal(np.asarray(y), np.asarray(x) - 1)  # pairs stay together
    with pytest.raises(ValueError, match="same shape"):
        sequence_dataset(inputs, inputs[:, 0])


def test_masked_loss_is_the_mean_cross_entropy_of_the_real_targets(keras):
    logits = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    targets = np.array([[-1, 2, 0], [-1, -1, 3]], dtype=np.int32)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    expected = -np.mean([log_probabilities[0, 1, 2], log_probabilities[0, 2, 0], log_probabilities[1, 2, 3]])
    np.testing.assert_allclose(float(masked_next_item_loss(targets, logits)), expected, rtol=1e-5)
