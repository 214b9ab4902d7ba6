"""BERT4Rec (rec_utils.models.bert4rec): windows, masking, the [MASK]-appended inputs, the
bidirectional attention, and the cloze loss against a NumPy cross-entropy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rec_utils.data import IdIndex, generate_movielens_like
from rec_utils.data.sequences import item_tokens
from rec_utils.models.bert4rec import (
    append_mask, build_bert4rec, cloze_batches, cloze_training_model, cloze_windows, mask_items, mask_token,
    scoring_function,
)


@pytest.fixture(scope="module")
def ratings():
    return generate_movielens_like(n_users=30, n_items=40, mean_ratings_per_user=20, seed=0).ratings


@pytest.fixture(scope="module")
def small_model():
    return build_bert4rec(n_items=12, max_len=6, embedding_dim=8, n_blocks=2, n_heads=2, dropout=0.0, seed=0)


# --------------------------------------------------------------------------- data

def test_cloze_windows_cover_every_item_once_newest_window_full(ratings):
    items = IdIndex(ratings["item_id"])
    windows, users = cloze_windows(ratings, max_len=8, items=items)
    tokens, token_users, _ = item_tokens(ratings, items)
    assert (windows > 0).sum() == len(tokens)  # every interaction in exactly one window
    for user in np.unique(users)[:5]:
        mine = windows[users == user]
        history = tokens[token_users == user]
        np.testing.assert_array_equal(mine[mine > 0], history)  # oldest window first, in time order
        assert (mine[-1] > 0).sum() == min(8, len(history))
    capped, capped_users = cloze_windows(ratings, max_len=8, items=items, max_windows_per_user=1)
    assert len(capped) == ratings["user_id"].nunique() and (np.bincount(capped_users) <= 1).all()
    np.testing.assert_array_equal(capped, windows[np.r_[users[1:] != users[:-1], True]])  # each user's newest


def test_overlapping_windows_slide_by_the_stride_and_stop_at_the_first_item():
    r = pd.DataFrame({"user_id": [1] * 7 + [2] * 2, "item_id": list(range(10, 17)) + [10, 11], "timestamp": range(9)})
    windows, users = cloze_windows(r, max_len=3, stride=2)
    np.testing.assert_array_equal(windows, [[1, 2, 3], [3, 4, 5], [5, 6, 7], [0, 1, 2]])
    np.testing.assert_array_equal(users, [1, 1, 1, 2])
    every_step, _ = cloze_windows(r, max_len=3, stride=1)
    assert len(every_step) == 5 + 1 and (every_step[:5, 0] == [1, 2, 3, 4, 5]).all()
    with pytest.raises(ValueError, match="stride"):
        cloze_windows(r, max_len=3, stride=4)


def test_mask_items_hides_items_never_padding_and_records_the_targets():
    rng = np.random.default_rng(0)
    windows = rng.integers(1, 31, (2000, 10)).astype(np.int32)
    windows[:, :3] = 0  # padding on the left
    inputs, targets = mask_items(windows, n_items=30, mask_prob=0.2, rng=1)
    masked = inputs == mask_token(30)
    assert not masked[:, :3].any() and (targets[:, :3] == -1).all()
    np.testing.assert_array_equal(targets[masked], windows[masked] - 1)
    np.testing.assert_array_equal(inputs[~masked], windows[~masked])
    assert (targets[~masked] == -1).all() and masked.any(axis=1).all()  # at least one per window
    forced = 0.8 ** 7 / 7  # a window left without a mask gets one
    assert abs(masked[:, 3:].mean() - (0.2 + forced)) < 0.01


def test_last_item_only_samples_mask_the_last_item():
    windows = np.array([[0, 1, 2, 3]] * 50)
    inputs, targets = mask_items(windows, n_items=5, mask_prob=0.5, rng=0, last_item_prob=1.0)
    assert (inputs[:, -1] == 6).all() and (inputs[:, :-1] == windows[:, :-1]).all()
    np.testing.assert_array_equal(targets[:, -1], 2)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"mask_prob": 0.0}, ValueError, "mask_prob"),
    ({"last_item_prob": 1.5}, ValueError, "last_item_prob"),
    ({"n_items": 2}, ValueError, "tokens 0..2"),
])
def test_mask_items_refuses_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        mask_items(**{"windows": [[0, 1, 3]], "n_items": 5, **kwargs})


def test_mask_items_refuses_an_empty_window():
    with pytest.raises(ValueError, match="at least one item"):
        mask_items([[0, 0, 0]], n_items=5)


def test_cloze_batches_draw_fresh_masks_every_epoch_reproducibly():
    windows = np.random.default_rng(0).integers(1, 20, (64, 8))
    batches = cloze_batches(windows, n_items=20, batch_size=16, seed=3)
    first = np.concatenate([batches[i][0][0] for i in range(len(batches))])
    batches.on_epoch_end()
    second = np.concatenate([batches[i][0][0] for i in range(len(batches))])
    assert not np.array_equal(first, second)
    again = cloze_batches(windows, n_items=20, batch_size=16, seed=3)
    np.testing.assert_array_equal(np.concatenate([again[i][0][0] for i in range(len(again))]), first)


def test_append_mask_shifts_in_the_mask_token():
    np.testing.assert_array_equal(append_mask([[0, 0, 4], [1, 2, 3]], n_items=9), [[0, 4, 10], [2, 3, 10]])
    with pytest.raises(ValueError, match="tokens"):
        append_mask([[0, 11]], n_items=9)


# --------------------------------------------------------------------------- model

def test_attention_is_bidirectional_and_ignores_padding(small_model):
    import keras

    states = keras.Model(small_model.input, small_model.get_layer("item_states").output)
    row = np.array([[0, 0, 3, 5, 7, 13]])
    later_changed = row.copy()
    later_changed[0, -1] = 2
    base, changed = states(row).numpy(), states(later_changed).numpy()
    assert not np.allclose(base[0, 2], changed[0, 2])  # an earlier position sees a later item
    mask = small_model.get_layer("attention_mask")(row).numpy()[0]
    np.testing.assert_array_equal(mask, np.tile([False, False, True, True, True, True], (6, 1)))


def test_the_model_scores_every_item_at_the_last_position(small_model):
    rows = append_mask(np.array([[0, 0, 3, 5, 7, 1], [4, 4, 4, 4, 4, 4]]), 12)
    assert small_model.predict(rows, verbose=0).shape == (2, 12)
    assert small_model.get_layer("item_embedding").input_dim == 14  # padding, 12 items, [MASK]


def test_the_cloze_loss_is_the_cross_entropy_at_the_masked_positions(small_model):
    import keras

    inputs, targets = mask_items(np.random.default_rng(0).integers(1, 13, (5, 6)), 12, 0.3, rng=0)
    trainer = cloze_training_model(small_model)
    found = float(trainer((inputs, targets), training=False))
    head = keras.Sequential([small_model.get_layer(n) for n in ("output_transform", "output_norm", "next_item_logits")])
    states = keras.Model(small_model.input, small_model.get_layer("item_states").output)(inputs).numpy()
    logits = head(states[targets >= 0]).numpy().astype(np.float64)
    log_softmax = logits - logits.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(len(logits)), targets[targets >= 0]].mean()
    assert found == pytest.approx(expected, rel=1e-5)
    sampled = cloze_training_model(small_model, n_negatives=4, item_counts=np.arange(12), seed=0)
    assert float(sampled((inputs, targets), training=False)) == pytest.approx(expected, rel=1e-5)  # evaluation: full
    assert np.isfinite(float(sampled((inputs, targets), training=True)))


@pytest.mark.slow
def test_training_lowers_the_loss_and_scoring_follows_user_ids(ratings):
    items = IdIndex(ratings["item_id"])
    windows, _ = cloze_windows(ratings, max_len=10, items=items)
    model = build_bert4rec(len(items), max_len=10, embedding_dim=16, n_blocks=1, n_heads=2, learning_rate=5e-3, seed=0)
    trainer = cloze_training_model(model)
    history = trainer.fit(cloze_batches(windows, len(items), mask_prob=0.3, batch_size=16, seed=0), epochs=4,
                          verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    inputs = append_mask(windows[:3], len(items))
    score = scoring_function(model, [30, 10, 20], inputs, batch_size=2)
    np.testing.assert_allclose(score([10]), model.predict(inputs[1:2], verbose=0), rtol=1e-5, atol=1e-6)
    assert score([20, 30]).shape == (2, len(items))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"embedding_dim": 10, "n_heads": 3}, ValueError, "divisible"),
    ({"dropout": 1.0}, ValueError, "dropout"),
    ({"n_blocks": 0}, ValueError, "n_blocks"),
    ({"max_len": "50"}, TypeError, "max_len"),
])
def test_build_bert4rec_refuses_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        build_bert4rec(**{"n_items": 10, **kwargs})


def test_the_trainer_and_the_scorer_refuse_bad_input(small_model):
    with pytest.raises(ValueError, match="build_bert4rec"):
        import keras

        cloze_training_model(keras.Sequential([keras.layers.Dense(1)]))
    with pytest.raises(ValueError, match="item_counts"):
        cloze_training_model(small_model, n_negatives=4, item_counts=np.ones(5))
    with pytest.raises(ValueError, match="one row per user"):
        scoring_function(small_model, [1, 2], np.zeros((3, 6), dtype=np.int32))
    with pytest.raises(ValueError, match="repeat"):
        scoring_function(small_model, [1, 1], np.zeros((2, 6), dtype=np.int32))
    with pytest.raises(ValueError, match="max_windows_per_user"):
        cloze_windows(pd.DataFrame({"user_id": [1], "item_id": [1], "timestamp": [1]}), 5, max_windows_per_user=0)
