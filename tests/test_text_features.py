"""Item text features for cold start (rec_utils.data.text_features)."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from sklearn.base import clone

from rec_utils._checks import NotFittedError
from rec_utils.data import text_features
from rec_utils.data.datasets import DataUnavailableError
from rec_utils.data.text_features import (PretrainedModelUnavailable, PretrainedTextEmbedder, RidgeMap, TextEmbedder,
                                          cold_item_split, item_texts, load_pretrained_text_encoder)

ITEMS = pd.DataFrame({
    "item_id": [1, 2, 3, 4, 5],
    "title": ["Star Trek: Generations (1994)", "Star Wars (1977)", "Toy Story (1995)", "Godfather, The (1972)",
              "Godfather: Part II, The (1974)"],
    "year": [1994, 1977, 1995, 1972, np.nan],
    "genres": ["Action|Sci-Fi", "Action|Sci-Fi", "Animation|Comedy", "Crime|Drama", "Crime|Drama"],
})


def test_item_texts_clean_titles_and_add_genres_and_decade():
    texts = item_texts(ITEMS)
    assert texts.index.tolist() == [1, 2, 3, 4, 5]
    assert texts[2] == "star wars | action sci-fi | 1970s"
    assert texts[4] == "the godfather | crime drama | 1970s"  # trailing article moved to the front
    assert texts[5].endswith("| unknown decade")  # a missing year is said, not guessed


def test_item_texts_validates_columns():
    with pytest.raises(ValueError, match=r"items lacks column\(s\) \['genres'\]"):
        item_texts(ITEMS.drop(columns="genres"))
    with pytest.raises(TypeError, match="DataFrame"):
        item_texts(["Toy Story"])


def test_text_embedder_unit_vectors_and_similar_titles_close():
    texts = item_texts(ITEMS).tolist()
    vectors = TextEmbedder(n_components=3, seed=0).fit_transform(texts)
    assert vectors.shape == (5, 3) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    similarity = vectors @ vectors.T
    assert similarity[3, 4] > similarity[3, 2]  # the two Godfathers are closer than Godfather and Toy Story


def test_text_embedder_caps_components_and_validates():
    vectors = TextEmbedder(n_components=50).fit_transform(["a b", "b c", "c d"])
    assert vectors.shape[1] <= 2  # at most n_texts - 1 components
    bad = TextEmbedder(n_components=0)  # stored as given, refused by fit
    assert bad.get_params() == {"n_components": 0, "seed": 0} and clone(bad).n_components == 0
    with pytest.raises(ValueError, match="n_components"):
        bad.fit(["a b", "b c"])
    with pytest.raises(TypeError, match="n_components"):
        TextEmbedder(n_components=2.0).fit(["a b", "b c"])
    with pytest.raises(TypeError, match="single str"):
        TextEmbedder().fit("just one string")
    with pytest.raises(NotFittedError, match="not fitted"):
        TextEmbedder().transform(["a", "b"])


def test_ridge_map_matches_closed_form_and_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    true_w, true_b = rng.normal(size=(4, 3)), rng.normal(size=3)
    y = x @ true_w + true_b
    ridge = RidgeMap(l2=1e-8).fit(x, y)
    np.testing.assert_allclose(ridge.coef_, true_w, atol=1e-6)
    np.testing.assert_allclose(ridge.predict(x[:5]), y[:5], atol=1e-5)
    strong = RidgeMap(l2=1e9).fit(x, y)  # all weight penalised away: the intercept (mean target) remains
    np.testing.assert_allclose(strong.predict(x[:5]), np.broadcast_to(y.mean(axis=0), (5, 3)), atol=1e-3)


def test_ridge_map_validates():
    assert RidgeMap(l2=0).l2 == 0  # stored as given, refused by fit
    with pytest.raises(ValueError, match="l2 must be a number > 0"):
        RidgeMap(l2=0).fit(np.eye(3), np.eye(3))
    with pytest.raises(TypeError, match="l2 must be a number"):
        RidgeMap(l2="1").fit(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="one row per item"):
        RidgeMap().fit(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="targets must be 2-dimensional"):
        RidgeMap().fit(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(NotFittedError, match="not fitted"):
        RidgeMap().predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="2 columns"):
        RidgeMap().fit(np.eye(3)[:, :2], np.eye(3)).predict(np.zeros((1, 3)))


def test_cold_item_split_removes_every_rating_of_cold_items():
    ratings = pd.DataFrame({"user_id": np.repeat(np.arange(10), 5), "item_id": np.tile(np.arange(5), 10)})
    ratings = pd.concat([ratings, pd.DataFrame({"user_id": [0], "item_id": [99]})], ignore_index=True)
    warm, cold, cold_items = cold_item_split(ratings, cold_fraction=0.4, min_ratings=5, seed=1)
    assert len(cold_items) == 2 and 99 not in cold_items  # item 99 has 1 rating: never eligible
    assert set(cold["item_id"]) == set(cold_items)
    assert not set(warm["item_id"]) & set(cold_items)
    assert len(warm) + len(cold) == len(ratings)


def test_cold_item_split_validates():
    ratings = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1]})
    with pytest.raises(ValueError, match="cold_fraction"):
        cold_item_split(ratings, cold_fraction=1.0)
    with pytest.raises(ValueError, match="min_ratings"):
        cold_item_split(ratings, min_ratings=0)
    with pytest.raises(TypeError, match="min_ratings"):
        cold_item_split(ratings, min_ratings=2.5)
    with pytest.raises(ValueError, match="no item would be cold"):
        cold_item_split(ratings, cold_fraction=0.2, min_ratings=5)


# --------------------------------------------------------------------------- the pre-trained encoder
# Tested on a tiny randomly initialised BERT of the same keras-hub classes a preset gives, built
# offline: the code a learner runs online is the code tested here.

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "star", "trek", "wars", "toy", "story", "the",
              "godfather", "|", "action", "sci", "-", "fi", "comedy", "crime", "drama", "1990s", "1970s", ":"]


@pytest.fixture(scope="module")
def tiny_bert():
    keras_hub = pytest.importorskip("keras_hub")
    import keras

    keras.utils.set_random_seed(0)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=VOCABULARY, lowercase=True)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=len(VOCABULARY), num_layers=1, num_heads=1,
                                             hidden_dim=8, intermediate_dim=16, max_sequence_length=16)
    return backbone, tokenizer


def tiny_encoder(tiny_bert, **params):
    backbone, tokenizer = tiny_bert
    return PretrainedTextEmbedder(**{"sequence_length": 16, **params}, backbone=backbone, tokenizer=tokenizer)


def test_pretrained_embedder_gives_unit_float32_rows(tiny_bert):
    texts = item_texts(ITEMS).tolist()
    vectors = tiny_encoder(tiny_bert).fit_transform(texts)
    assert vectors.shape == (5, 8) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(vectors[0], vectors[2])  # different texts, different vectors


def test_pretrained_embedder_mean_pools_the_real_tokens(tiny_bert):
    backbone, tokenizer = tiny_bert
    text = "star wars | sci-fi"
    ids = [tokenizer.start_token_id, *tokenizer([text])[0], tokenizer.end_token_id]
    outputs = backbone({"token_ids": np.array([ids]), "segment_ids": np.zeros((1, len(ids)), "int32"),
                        "padding_mask": np.ones((1, len(ids)), "int32")})
    mean = np.asarray(outputs["sequence_output"])[0].mean(axis=0)
    np.testing.assert_allclose(tiny_encoder(tiny_bert).fit_transform([text])[0], mean / np.linalg.norm(mean),
                               atol=1e-5)


def test_pretrained_embedder_vector_does_not_depend_on_padding_or_batch(tiny_bert):
    encoder = tiny_encoder(tiny_bert).fit()
    short, long = "toy story", "the godfather | crime drama | 1970s star trek"
    # batched with a longer text, the short one is padded; alone, it is not
    assert encoder._pack([short])["token_ids"].shape[1] < encoder._pack([short, long])["token_ids"].shape[1]
    alone = encoder.transform([short])[0]
    padded = encoder.transform([short, long])[0]
    np.testing.assert_allclose(padded, alone, atol=1e-5)
    texts = item_texts(ITEMS).tolist()
    one_by_one = tiny_encoder(tiny_bert, batch_size=1).fit().transform(texts)
    np.testing.assert_allclose(encoder.transform(texts), one_by_one, atol=1e-5)


def test_pretrained_embedder_is_deterministic_and_order_free(tiny_bert):
    texts = item_texts(ITEMS).tolist()
    encoder = tiny_encoder(tiny_bert, batch_size=2).fit(texts)
    first = encoder.transform(texts)
    np.testing.assert_array_equal(encoder.transform(texts), first)
    reordered = encoder.transform(texts[::-1])
    np.testing.assert_allclose(reordered[::-1], first, atol=1e-5)


def test_pretrained_embedder_cuts_long_texts(tiny_bert):
    encoder = tiny_encoder(tiny_bert, sequence_length=4).fit()  # [CLS] + 2 tokens + [SEP]
    np.testing.assert_allclose(encoder.transform(["star wars toy story"]), encoder.transform(["star wars"]),
                               atol=1e-6)


def test_pretrained_embedder_validates(tiny_bert):
    backbone, tokenizer = tiny_bert
    encoder = tiny_encoder(tiny_bert)
    with pytest.raises(NotFittedError, match="not fitted"):
        encoder.transform(["star wars"])
    encoder.fit()
    with pytest.raises(TypeError, match="single str"):
        encoder.transform("star wars")
    with pytest.raises(ValueError, match="at least 1 string, got 0"):
        encoder.transform([])
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got 3 \(int\)"):
        encoder.transform(["star wars", 3])
    with pytest.raises(ValueError, match=r"texts\[0\] is empty"):
        encoder.transform(["  "])
    with pytest.raises(TypeError, match="must be a sequence of strings, got int"):
        encoder.transform(5)
    bad = tiny_encoder(tiny_bert, sequence_length=2)  # stored as given, refused by fit
    assert bad.sequence_length == 2 and clone(bad).sequence_length == 2
    assert clone(bad).backbone is backbone and not hasattr(clone(encoder), "backbone_")  # shared, not copied
    with pytest.raises(ValueError, match="sequence_length must be an integer >= 3"):
        bad.fit()
    with pytest.raises(ValueError, match="max_sequence_length, got 17"):
        tiny_encoder(tiny_bert, sequence_length=17).fit()
    with pytest.raises(ValueError, match="batch_size"):
        tiny_encoder(tiny_bert, batch_size=0).fit()
    with pytest.raises(TypeError, match="batch_size"):
        tiny_encoder(tiny_bert, batch_size=2.5).fit()
    with pytest.raises(ValueError, match="both backbone and tokenizer"):
        PretrainedTextEmbedder(backbone=backbone).fit()
    with pytest.raises(TypeError, match=r"texts\[0\] must be a str"):
        tiny_encoder(tiny_bert).fit([None])


def one_line_reason(call) -> str:
    with pytest.raises(PretrainedModelUnavailable) as caught:
        call()
    reason = str(caught.value)
    assert "\n" not in reason and isinstance(caught.value, DataUnavailableError)
    return reason


def test_loader_says_why_when_keras_hub_is_missing(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "keras_hub" else real_find_spec(name, *args))
    reason = one_line_reason(lambda: load_pretrained_text_encoder("bert_tiny_en_uncased"))
    assert reason.startswith("keras-hub is not installed") and "--no-deps" in reason


def test_loader_says_why_offline_or_for_an_unknown_preset(monkeypatch):
    keras_hub = pytest.importorskip("keras_hub")
    assert "unknown preset 'no_such_preset'" in one_line_reason(lambda: load_pretrained_text_encoder("no_such_preset"))
    monkeypatch.setenv("REC_OFFLINE", "1")
    assert "REC_OFFLINE=1 forbids" in one_line_reason(lambda: load_pretrained_text_encoder("bert_tiny_en_uncased"))
    # without REC_OFFLINE, the host answers but the download itself fails
    monkeypatch.delenv("REC_OFFLINE")
    import socket

    class _Answer:
        def close(self):
            pass

    monkeypatch.setattr(socket, "create_connection", lambda address, timeout=None: _Answer())

    def no_connection(preset, **kwargs):
        raise ConnectionError("HTTPSConnectionPool(host='example.invalid', port=443): Max retries exceeded\nmore")

    monkeypatch.setattr(keras_hub.models.Backbone, "from_preset", no_connection)
    reason = one_line_reason(lambda: load_pretrained_text_encoder("bert_tiny_en_uncased"))
    assert reason.startswith("preset 'bert_tiny_en_uncased' could not be downloaded (offline?): ConnectionError")
    # the encoder built from a preset goes through the same loader
    assert "could not be downloaded" in one_line_reason(lambda: PretrainedTextEmbedder().fit())
    with pytest.raises(TypeError, match="preset must be"):
        PretrainedTextEmbedder(preset=None).fit()


def test_loader_returns_an_encoder_with_the_loaded_parts(monkeypatch, tiny_bert):
    monkeypatch.setattr(text_features, "_load_preset", lambda preset: tiny_bert)
    encoder = load_pretrained_text_encoder("bert_tiny_en_uncased", sequence_length=8, batch_size=4)
    assert encoder.get_params()["preset"] == "bert_tiny_en_uncased" and encoder.backbone is tiny_bert[0]
    assert encoder.fit_transform(["toy story"]).shape == (1, 8)


def test_pretrained_vectors_feed_the_ridge_map(tiny_bert):
    texts = item_texts(ITEMS).tolist() + ["star trek | sci-fi | 1990s", "toy story | comedy | 1990s",
                                          "the godfather | drama | 1970s"]
    vectors = tiny_encoder(tiny_bert).fit_transform(texts)
    rng = np.random.default_rng(0)
    item_embeddings = vectors @ rng.normal(size=(8, 4)) + 0.5  # embeddings that text explains exactly
    warm, cold = np.arange(6), np.arange(6, 8)
    predicted = RidgeMap(l2=1e-6).fit(vectors[warm], item_embeddings[warm]).predict(vectors[cold])
    assert predicted.shape == (2, 4) and predicted.dtype == np.float32
    # 6 warm items cannot pin down 8 weights + intercept exactly; the prediction must still beat the mean
    mean_error = np.abs(item_embeddings[warm].mean(axis=0) - item_embeddings[cold]).mean()
    assert np.abs(predicted - item_embeddings[cold]).mean() < mean_error


def test_pretrained_vectors_feed_sasrec_as_side_input(tiny_bert):
    """Notebook 11, section 7.3's online path: encoder vectors -> build_sasrec(item_features=...) -> training."""
    from rec_utils.data import IdIndex
    from rec_utils.models.sasrec import build_sasrec, next_item_sequences, sequence_training_model

    texts = ["star trek | sci-fi | 1990s", "toy story | comedy | 1990s", "the godfather | drama | 1970s",
             "star wars | action sci-fi | 1970s"]
    vectors = tiny_encoder(tiny_bert).fit_transform(texts)
    items = IdIndex([1, 2, 3, 4])
    histories = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 2], "item_id": [1, 4, 2, 4, 1, 3],
                              "timestamp": [1, 2, 3, 1, 2, 3]})
    model = build_sasrec(n_items=4, max_len=3, embedding_dim=8, n_blocks=1, item_features=vectors)
    np.testing.assert_allclose(model.get_layer("item_features").get_weights()[0][1:], vectors)
    inputs, targets, _ = next_item_sequences(histories, 3, items)
    history = sequence_training_model(model).fit(inputs, targets, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(inputs, verbose=0).shape == (len(inputs), 4)


def test_an_unreachable_download_host_skips_before_keras_hub_is_imported(monkeypatch, tmp_path):
    import socket
    import sys

    from rec_utils.data import text_features
    monkeypatch.delenv("REC_OFFLINE", raising=False)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path))  # nothing cached
    monkeypatch.setattr(text_features.importlib.util, "find_spec", lambda name: object())  # "installed"

    def no_network(address, timeout=None):
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setitem(sys.modules, "keras_hub", None)  # importing it would raise ImportError
    with pytest.raises(text_features.PretrainedModelUnavailable, match=r"offline\?\): cannot reach api\.kaggle\.com"):
        text_features.load_pretrained_text_encoder("bert_tiny_en_uncased")
