"""Item text features for cold start (rec_utils.data.text_features)."""

import numpy as np
import pandas as pd
import pytest

from sklearn.base import clone

from rec_utils._checks import NotFittedError
from rec_utils.data.text_features import RidgeMap, TextEmbedder, cold_item_split, item_texts

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
