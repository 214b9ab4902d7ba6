"""Item text features for cold start: title, genre and year text -> dense vectors -> collaborative embeddings.

Taught in ``notebooks/11_large_models_and_scaling.ipynb``. The text of an item (its title
words, genres and decade) is embedded with TF-IDF over word and character n-grams, reduced by
truncated SVD (latent semantic analysis) and normalised to unit length; a ridge regression
learned on warm items maps those vectors to the item embeddings of a collaborative model,
which gives a brand-new (cold) item a usable embedding before anyone has rated it. A
pre-trained language model from keras-hub, when one can be had (it is downloaded on first
use), replaces :class:`TextEmbedder` and keeps everything else.

* :func:`item_texts` — one string per item, e.g. ``"toy story | animation children's comedy | 1990s"``;
* :class:`TextEmbedder` — TF-IDF (word 1-2-grams and character 2-4-grams) + truncated SVD;
* :class:`PretrainedTextEmbedder` — a pre-trained keras-hub encoder (BERT by default), mean-pooled;
* :func:`load_pretrained_text_encoder` — that encoder from a preset, or a
  :class:`PretrainedModelUnavailable` that says in one line why not (keras-hub missing, offline,
  unknown preset);
* :class:`RidgeMap` — multi-output ridge regression with an unpenalised intercept, closed form;
* :func:`cold_item_split` — hold out a random share of items as cold: all their ratings leave train.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .._checks import check_array, check_fitted, check_frame, check_number, check_seed, fraction, positive_int
from .datasets import DataUnavailableError
from .interactions import check_interactions
from .schema import GENRES, ITEM, TITLE, YEAR

__all__ = ["item_texts", "TextEmbedder", "PretrainedTextEmbedder", "PretrainedModelUnavailable",
           "load_pretrained_text_encoder", "RidgeMap", "cold_item_split"]

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


class PretrainedModelUnavailable(DataUnavailableError):
    """A pre-trained model cannot be had here; the message says why in one line.

    A :class:`~rec_utils.data.datasets.DataUnavailableError` (so also a ``RuntimeError``):
    catch it to skip an optional section, as a notebook does offline.
    """


_INSTALL_KERAS_HUB = 'python -m pip install --no-deps "keras-hub~=0.32.0" (see the README)'


def _one_line(exc: BaseException, limit: int = 120) -> str:
    """``"TypeName: first line of the message"``, cut to ``limit`` characters."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _offline() -> bool:
    return os.environ.get("REC_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _in_download_cache(preset: str) -> bool:
    """Whether kagglehub's cache already holds a preset of this name (then no download is needed)."""
    cache = os.environ.get("KAGGLEHUB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kagglehub")
    name = preset.rstrip("/").rsplit("/", 1)[-1]
    models = os.path.join(cache, "models")
    return os.path.isdir(models) and any(name in root and "config.json" in files  # a complete download
                                         for root, _, files in os.walk(models))


def _load_preset(preset: str):
    """The ``(backbone, tokenizer)`` of a keras-hub preset, or :class:`PretrainedModelUnavailable`.

    ``preset`` is a built-in preset name (downloaded on first use, then cached by kagglehub),
    a hub handle (``"kaggle://..."``, ``"hf://..."``) or a local preset directory.
    ``REC_OFFLINE=1`` (set by the tests) forbids the download, as it does for data sets.
    """
    if not isinstance(preset, str) or not preset.strip():
        raise TypeError(f"preset must be a keras-hub preset name or directory (a non-empty str), got {preset!r}")
    if importlib.util.find_spec("keras_hub") is None:
        raise PretrainedModelUnavailable(f"keras-hub is not installed, so preset {preset!r} cannot be loaded: "
                                         f"{_INSTALL_KERAS_HUB}")
    local = os.path.isdir(preset)
    if not local and not _offline() and not _in_download_cache(preset):
        host = "huggingface.co" if preset.startswith("hf://") else "api.kaggle.com"
        try:  # before importing keras-hub: offline, a notebook should not pay its ~30 MB for nothing
            socket.create_connection((host, 443), timeout=5).close()
        except OSError as exc:
            raise PretrainedModelUnavailable(f"preset {preset!r} could not be downloaded (offline?): cannot reach "
                                             f"{host}: {_one_line(exc)}") from exc
    try:  # imported here only: about 30 MB that a notebook which never asks for a pretrained model does not pay
        import keras_hub
    except Exception as exc:  # a broken install (e.g. a missing dependency of keras-hub)
        raise PretrainedModelUnavailable(f"keras-hub is installed but does not import ({_one_line(exc)}): "
                                         f"{_INSTALL_KERAS_HUB}") from exc
    if not local and "://" not in preset and preset not in keras_hub.models.Backbone.presets:
        raise PretrainedModelUnavailable(
            f"unknown preset {preset!r}: keras-hub {keras_hub.__version__} has e.g. 'bert_tiny_en_uncased' and "
            f"'all_minilm_l6_v2_en' (list them with keras_hub.models.Backbone.presets), or give a preset directory")
    if not local and _offline():
        raise PretrainedModelUnavailable(f"REC_OFFLINE=1 forbids downloading preset {preset!r}")
    try:
        backbone = keras_hub.models.Backbone.from_preset(preset)
        tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(preset)
    except OSError as exc:  # requests' and urllib's connection errors are OSErrors
        raise PretrainedModelUnavailable(f"preset {preset!r} could not be downloaded (offline?): "
                                         f"{_one_line(exc)}") from exc
    except Exception as exc:
        raise PretrainedModelUnavailable(f"preset {preset!r} could not be loaded: {_one_line(exc)}") from exc
    return backbone, tokenizer


def load_pretrained_text_encoder(preset: str = "bert_tiny_en_uncased", sequence_length: int = 32,
                                 batch_size: int = 64) -> "PretrainedTextEmbedder":
    """A :class:`PretrainedTextEmbedder` for a keras-hub preset, downloaded on first use.

    Raises
    ------
    PretrainedModelUnavailable
        With one line saying why: keras-hub is not installed, the preset is unknown, the
        machine is offline (or ``REC_OFFLINE=1``), or the download failed. Catch it to skip the
        optional part that needs the model.

    Examples
    --------
    >>> try:
    ...     encoder = load_pretrained_text_encoder("no_such_preset")
    ... except PretrainedModelUnavailable as exc:
    ...     print(f"skipped: {exc}")  # doctest: +ELLIPSIS
    skipped: ...
    """
    backbone, tokenizer = _load_preset(preset)
    return PretrainedTextEmbedder(preset, sequence_length, batch_size, backbone=backbone, tokenizer=tokenizer)


def _token_lists(token_ids) -> list[list[int]]:
    """Token ids as Python lists, whatever the tokenizer returned (lists, a ragged or dense tensor)."""
    if hasattr(token_ids, "to_list"):  # tf.RaggedTensor, when tensorflow-text does the tokenising
        return token_ids.to_list()
    if hasattr(token_ids, "numpy"):
        token_ids = token_ids.numpy()
    if isinstance(token_ids, np.ndarray):
        return token_ids.tolist()
    return [list(row) for row in token_ids]


class PretrainedTextEmbedder(BaseEstimator):
    """A pre-trained keras-hub text encoder, mean-pooled over each text's tokens, rows at unit length.

    Same interface as :class:`TextEmbedder` (``fit``/``transform`` over a sequence of texts, a
    float32 matrix with one unit-length row per text), so the cold-start ridge map takes
    either. The tokenizer splits a text into sub-word tokens; ``[CLS]`` and ``[SEP]`` (the
    tokenizer's start and end tokens) frame them; the backbone gives one vector per token
    (its ``sequence_output``); the vectors of the real tokens are averaged — **mean pooling**,
    which is how sentence encoders such as Sentence-BERT turn token vectors into one — and
    the mean is scaled to unit length. Each batch is padded only to its longest text and the
    padding is masked, so a text's vector does not depend on the texts it is batched with.

    Nothing is learned: :meth:`fit` loads the model (downloading the preset on first use) and
    checks the parameters.

    Parameters
    ----------
    preset : str
        keras-hub preset, used when no ``backbone`` is given: a built-in name such as
        ``"bert_tiny_en_uncased"`` (2 layers, 128 dimensions) or ``"all_minilm_l6_v2_en"`` (a
        sentence encoder, 384 dimensions), a hub handle, or a local preset directory.
    sequence_length : int
        Most tokens per text, start and end tokens included (>= 3); longer texts are cut.
    batch_size : int
        Texts per forward pass.
    backbone, tokenizer : keras-hub Backbone and Tokenizer, optional
        An encoder already built (both or neither), e.g. a tiny random one for tests.

    Attributes
    ----------
    backbone_, tokenizer_ : the keras-hub backbone and tokenizer in use

    Examples
    --------
    A tiny randomly initialised BERT, built offline (a real one comes from
    :func:`load_pretrained_text_encoder`):

    >>> import keras_hub
    >>> vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "star", "wars", "trek", "toy", "story", "|"]
    >>> tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    >>> backbone = keras_hub.models.BertBackbone(vocabulary_size=len(vocabulary), num_layers=1, num_heads=1,
    ...                                          hidden_dim=8, intermediate_dim=16, max_sequence_length=16)
    >>> encoder = PretrainedTextEmbedder(sequence_length=16, backbone=backbone, tokenizer=tokenizer)
    >>> vectors = encoder.fit_transform(["Star Wars | sci-fi", "star trek", "toy story"])
    >>> vectors.shape, vectors.dtype.name, bool(np.allclose(np.linalg.norm(vectors, axis=1), 1))
    ((3, 8), 'float32', True)
    """

    def __init__(self, preset: str = "bert_tiny_en_uncased", sequence_length: int = 32, batch_size: int = 64,
                 backbone=None, tokenizer=None):
        self.preset, self.sequence_length, self.batch_size = preset, sequence_length, batch_size
        self.backbone, self.tokenizer = backbone, tokenizer

    def __sklearn_clone__(self):
        # A clone shares the backbone and tokenizer: nothing trains them, and deep-copying a model is costly.
        return type(self)(**self.get_params(deep=False))

    @staticmethod
    def _texts(texts) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, got a single str")
        try:
            texts = list(texts)
        except TypeError:
            raise TypeError(f"texts must be a sequence of strings, got {type(texts).__name__}") from None
        if not texts:
            raise ValueError("texts must hold at least 1 string, got 0")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] must be a str, got {text!r} ({type(text).__name__})")
            if not text.strip():
                raise ValueError(f"texts[{i}] is empty: every text needs at least one word, got {text!r}")
        return texts

    def fit(self, texts=None):
        """Check the parameters and load the model (``texts`` are only checked: nothing is learned)."""
        length = check_number("sequence_length", self.sequence_length, low=3, integer=True)
        positive_int("batch_size", self.batch_size)
        if texts is not None:
            self._texts(texts)
        if (self.backbone is None) != (self.tokenizer is None):
            raise ValueError("give both backbone and tokenizer, or neither (then they come from preset), got only "
                             f"{'backbone' if self.tokenizer is None else 'tokenizer'}")
        if self.backbone is None:
            self.backbone_, self.tokenizer_ = _load_preset(self.preset)
        else:
            self.backbone_, self.tokenizer_ = self.backbone, self.tokenizer
        most = getattr(self.backbone_, "max_sequence_length", None)
        if most is not None and length > most:
            raise ValueError(f"sequence_length must be <= {most}, the backbone's max_sequence_length, got {length}")
        return self

    def _pack(self, texts: list[str]) -> dict:
        """Token ids framed by the start and end tokens, padded to the longest text of the batch, and its mask."""
        tokenizer = self.tokenizer_
        start, end = getattr(tokenizer, "start_token_id", None), getattr(tokenizer, "end_token_id", None)
        pad = getattr(tokenizer, "pad_token_id", None) or 0
        room = self.sequence_length - (start is not None) - (end is not None)
        rows = [[start] * (start is not None) + row[:room] + [end] * (end is not None)
                for row in _token_lists(tokenizer(texts))]
        width = max(len(row) for row in rows)
        token_ids = np.full((len(rows), width), pad, dtype=np.int32)
        padding_mask = np.zeros((len(rows), width), dtype=np.int32)
        for i, row in enumerate(rows):
            token_ids[i, :len(row)], padding_mask[i, :len(row)] = row, 1
        return {"token_ids": token_ids, "padding_mask": padding_mask, "segment_ids": np.zeros_like(token_ids)}

    def _encode(self, texts: list[str]) -> np.ndarray:
        from keras import ops

        packed = self._pack(texts)
        wanted = self.backbone_.input
        inputs = {name: packed[name] for name in wanted} if isinstance(wanted, dict) else packed["token_ids"]
        outputs = self.backbone_(inputs, training=False)
        tokens = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
        tokens = np.asarray(ops.convert_to_numpy(tokens), dtype=np.float64)
        mask = packed["padding_mask"][:, :, None]
        pooled = (tokens * mask).sum(axis=1) / mask.sum(axis=1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def transform(self, texts) -> np.ndarray:
        check_fitted(self, "backbone_")
        texts = self._texts(texts)
        batches = [self._encode(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.vstack(batches).astype(np.float32)

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
