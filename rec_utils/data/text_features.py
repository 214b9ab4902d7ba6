"""Item text features for cold start: title, genre and year text -> dense vectors -> collaborative embeddings.

Taught in ``notebooks/11_large_models_and_scaling.ipynb``. No pre-trained language model is
available offline, so the text of an item (its title words, genres and decade) is embedded
with TF-IDF over word and character n-grams, reduced by truncated SVD (latent semantic
analysis) and normalised to unit length; a ridge regression learned on warm items maps those
vectors to the item embeddings of a collaborative model, which gives a brand-new (cold) item
a usable embedding before anyone has rated it. A pre-trained sentence encoder would replace
:class:`TextEmbedder` and keep everything else.

* :func:`item_texts` — one string per item, e.g. ``"toy story | animation children's comedy | 1990s"``;
* :class:`TextEmbedder` — TF-IDF (word 1-2-grams and character 2-4-grams) + truncated SVD;
* :class:`RidgeMap` — multi-output ridge regression with an unpenalised intercept, closed form;
* :func:`cold_item_split` — hold out a random share of items as cold: all their ratings leave train.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .._checks import check_array, check_fitted, check_frame, check_number, check_seed, fraction, positive_int
from .interactions import check_interactions
from .schema import GENRES, ITEM, TITLE, YEAR

__all__ = ["item_texts", "TextEmbedder", "RidgeMap", "cold_item_split"]

_YEAR_IN_TITLE = re.compile(r"\s*\(\d{4}\)\s*$")
_ARTICLE_AT_END = re.compile(r"^(.*), (the|a|an|il|la|le|les|el|der|die|das)$", re.IGNORECASE)


def _clean_title(title: str) -> str:
    """Lower-case title without its trailing "(year)", with a trailing article moved to the front."""
    title = _YEAR_IN_TITLE.sub("", str(title)).strip()
    moved = _ARTICLE_AT_END.match(title)
    if moved:
        title = f"{moved.group(2)} {moved.group(1)}"
    return title.lower()


def item_texts(items: pd.DataFrame) -> pd.Series:
    """One text per item: cleaned title | genres | decade (the fields an LLM prompt would hold).

    Parameters
    ----------
    items : DataFrame
        With ``item_id, title, year, genres`` (genres separated by ``|``), as
        :func:`rec_utils.load_dataset` gives them.

    Returns
    -------
    Series of str, indexed by item_id.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": [1, 2], "title": ["Toy Story (1995)", "Blob, The (1958)"],
    ...                       "year": [1995, 1958], "genres": ["Animation|Comedy", "Horror|Sci-Fi"]})
    >>> item_texts(items).tolist()
    ['toy story | animation comedy | 1990s', 'the blob | horror sci-fi | 1950s']
    """
    check_frame(items, (ITEM, TITLE, YEAR, GENRES), "items", allow_missing=True)
    years = pd.to_numeric(items["year"], errors="coerce")
    decades = [f"{int(y) // 10 * 10}s" if pd.notna(y) else "unknown decade" for y in years]
    genres = items["genres"].fillna("").astype(str).str.replace("|", " ", regex=False).str.lower()
    texts = [f"{_clean_title(t)} | {g} | {d}" for t, g, d in zip(items["title"], genres, decades)]
    return pd.Series(texts, index=pd.Index(items["item_id"].to_numpy(), name=ITEM), name="text")


class TextEmbedder(BaseEstimator):
    """TF-IDF over word and character n-grams, reduced by truncated SVD, rows scaled to unit length.

    Word 1-2-grams catch shared words ("star trek", "comedy"); character 2-4-grams within
    word boundaries catch shared stems and spellings ("godfather" / "godfather:"), which
    matter for short titles. The two TF-IDF blocks are stacked side by side and reduced to
    ``n_components`` dimensions by truncated SVD (latent semantic analysis, 潜在语义分析).

    Parameters
    ----------
    n_components : int
        Length of the output vectors (at most the number of texts minus 1 is used).
    seed : int
        Seeds the randomised SVD.

    Like scikit-learn's estimators, it stores its parameters as given and checks them in
    :meth:`fit`; :meth:`transform` before :meth:`fit` raises ``NotFittedError``.

    Attributes
    ----------
    word_vectorizer_, char_vectorizer_ : sklearn TfidfVectorizer
    svd_ : sklearn TruncatedSVD

    Examples
    --------
    >>> texts = ["star trek | sci-fi", "star wars | sci-fi", "toy story | animation", "love story | romance"]
    >>> vectors = TextEmbedder(n_components=2).fit_transform(texts)
    >>> vectors.shape, vectors.dtype.name, bool(np.allclose(np.linalg.norm(vectors, axis=1), 1))
    ((4, 2), 'float32', True)
    """

    def __init__(self, n_components: int = 64, seed: int = 0):
        self.n_components, self.seed = n_components, seed

    @staticmethod
    def _texts(texts) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, got a single str")
        texts = [str(t) for t in texts]
        if len(texts) < 2:
            raise ValueError(f"texts must hold at least 2 strings, got {len(texts)}")
        return texts

    def _tfidf(self, texts: list[str]):
        import scipy.sparse as sp

        return sp.hstack([self.word_vectorizer_.transform(texts), self.char_vectorizer_.transform(texts)]).tocsr()

    def fit(self, texts):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        positive_int("n_components", self.n_components)
        check_seed("seed", self.seed)
        texts = self._texts(texts)
        self.word_vectorizer_ = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"[\w'-]+",
                                                sublinear_tf=True).fit(texts)
        self.char_vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(texts)
        tfidf = self._tfidf(texts)
        n_components = max(1, min(self.n_components, min(tfidf.shape) - 1))
        self.svd_ = TruncatedSVD(n_components, random_state=self.seed).fit(tfidf)
        return self

    def transform(self, texts) -> np.ndarray:
        check_fitted(self, "svd_")
        reduced = self.svd_.transform(self._tfidf(self._texts(texts)))
        norms = np.linalg.norm(reduced, axis=1, keepdims=True)
        return (reduced / np.maximum(norms, 1e-12)).astype(np.float32)

    def fit_transform(self, texts) -> np.ndarray:
        return self.fit(texts).transform(texts)


class RidgeMap(BaseEstimator):
    """Ridge regression from features to vectors: ``W = (X_c^T X_c + l2 I)^-1 X_c^T Y_c``, plus an intercept.

    ``X_c`` and ``Y_c`` are centred, so the intercept (the mean target vector) is not
    penalised; ``predict`` returns ``(X - mean_x) W + mean_y``. One closed-form solve serves
    every output column.

    Parameters
    ----------
    l2 : float
        Penalty on the squared weights, > 0 (checked by :meth:`fit`).

    Attributes
    ----------
    coef_ : ndarray (n_features, n_outputs)
    x_mean_, y_mean_ : ndarray

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0]])
    >>> y = np.c_[2 * x[:, 0] + 1, -x[:, 0]]
    >>> np.round(RidgeMap(l2=1e-9).fit(x, y).predict([[3.0]]), 6).tolist()
    [[7.0, -3.0]]
    """

    def __init__(self, l2: float = 1.0):
        self.l2 = l2

    def fit(self, features, targets):
        check_number("l2", self.l2, low=0, low_inclusive=False)
        x, y = check_array("features", features, ndim=2), check_array("targets", targets, ndim=2)
        if len(x) != len(y):
            raise ValueError(f"features and targets must have one row per item each, got shapes "
                             f"{x.shape} and {y.shape}")
        self.x_mean_, self.y_mean_ = x.mean(axis=0), y.mean(axis=0)
        xc, yc = x - self.x_mean_, y - self.y_mean_
        self.coef_ = np.linalg.solve(xc.T @ xc + self.l2 * np.eye(x.shape[1]), xc.T @ yc)
        return self

    def predict(self, features) -> np.ndarray:
        check_fitted(self, "coef_")
        x = check_array("features", features, ndim=2)
        if x.shape[1] != len(self.x_mean_):
            raise ValueError(f"features must have {len(self.x_mean_)} columns, got shape {x.shape}")
        return ((x - self.x_mean_) @ self.coef_ + self.y_mean_).astype(np.float32)


def cold_item_split(ratings: pd.DataFrame, cold_fraction: float = 0.2, min_ratings: int = 5, seed: int = 42):
    """Hold out a random share of items as **cold**: every rating of theirs leaves train.

    Only items with at least ``min_ratings`` ratings are eligible, so each cold item has
    users to be evaluated on.

    Returns
    -------
    warm : DataFrame
        The ratings of all other items (the training data).
    cold : DataFrame
        The ratings of the cold items (the evaluation data).
    cold_items : ndarray
        Sorted ids of the cold items.

    Examples
    --------
    >>> r = pd.DataFrame({"user_id": [1, 2, 1, 2, 3], "item_id": [10, 10, 20, 20, 30]})
    >>> warm, cold, cold_items = cold_item_split(r, cold_fraction=0.5, min_ratings=2, seed=0)
    >>> len(cold_items), sorted(set(warm["item_id"]) | set(cold["item_id"]))
    (1, [10, 20, 30])
    """
    check_interactions(ratings)
    fraction("cold_fraction", cold_fraction)
    positive_int("min_ratings", min_ratings)
    counts = ratings[ITEM].value_counts()
    eligible = np.sort(counts.index[counts >= min_ratings].to_numpy())
    n_cold = int(round(cold_fraction * len(eligible)))
    if n_cold < 1:
        raise ValueError(f"no item would be cold: {len(eligible)} items have at least {min_ratings} ratings and "
                         f"cold_fraction={cold_fraction}")
    cold_items = np.sort(np.random.default_rng(seed).choice(eligible, n_cold, replace=False))
    is_cold = ratings[ITEM].isin(cold_items).to_numpy()
    return ratings[~is_cold].reset_index(drop=True), ratings[is_cold].reset_index(drop=True), cold_items
