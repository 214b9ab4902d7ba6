"""Feature-interaction rankers in Keras — Wide & Deep, DeepFM, DCN-v2 — and their feature set.

Taught in ``notebooks/07_feature_interactions_and_graph_cf.ipynb`` (sections 1-5): the
like-prediction task of notebook 03, on its point-in-time user, item, content and context
features and its temporal split, now with models that learn which features to cross. They
are compared with logistic regression and gradient-boosted trees on the same features
(:func:`baseline_models`), by AUC and log loss with intervals
(:func:`rec_utils.evaluation.bootstrap_metric`).

* :class:`FeatureSpec` — which columns are categorical (ids, gender, occupation: an embedding
  each), numerical (counts, means, ages: scaled, each with an embedding vector it multiplies)
  and multi-hot (genre flags: the mean of their embeddings), with the vocabularies and scales
  learned on the training rows only; an unknown or rare category maps to an out-of-vocabulary
  bucket (index 0). :meth:`FeatureSpec.transform` gives the models' inputs, and
  :meth:`FeatureSpec.design_matrix` the same features for scikit-learn;
* :func:`build_wide_and_deep` — Cheng et al., "Wide & Deep Learning for Recommender Systems"
  (DLRS 2016): a linear model over every feature (crossed categories included) plus an MLP
  over the field embeddings, summed into one logit;
* :func:`build_deepfm` — Guo, Tang, Ye, Li, He, "DeepFM: A Factorization-Machine based Neural
  Network for CTR Prediction" (IJCAI 2017): the first-order terms, a factorisation machine's
  pairwise inner products of the field embeddings, and an MLP over the same embeddings;
* :func:`build_dcn_v2` — Wang, Shivanna, Cheng, Jain, Lin, Hong, Chi, "DCN V2: Improved Deep &
  Cross Network and Practical Lessons for Web-scale Learning to Rank Systems" (WWW 2021):
  cross layers ``x_{l+1} = x0 * (W x_l + b) + x_l`` (full-rank, or low-rank ``W = U V^T``)
  stacked with, or beside, an MLP; :func:`cross_field_weights` reads which pairs of fields the
  learned ``W`` couples (the norms of its field blocks) and :func:`top_crosses` ranks them.

Every model outputs the probability of a like (one sigmoid unit, layer ``like``) and is
compiled with Adam, binary cross-entropy (log loss) and AUC. TensorFlow is imported only when
a model is built, so importing this module is cheap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone

from .._checks import (
    check_choice, check_fitted, check_frame, check_layers, check_number, check_seed, positive_int,
)

__all__ = ["FeatureSpec", "FeatureMatrix", "baseline_models", "build_wide_and_deep", "build_deepfm",
           "build_dcn_v2", "cross_field_weights", "top_crosses"]

NUMERICAL = "numerical"
"""The input name of the numerical fields (one float32 column each)."""
MAX_TREE_CATEGORIES = 254
"""Categorical fields with at most this many categories (plus the OOV bucket) go to the trees
as native categories; larger ones (ids) as their frequency rank (see :meth:`FeatureSpec.design_matrix`)."""


# --------------------------------------------------------------------------- the feature set

def _names(name: str, value) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError(f"{name} must be a sequence of column names, got the string {value!r}; write ({value!r},)")
    try:
        names = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of column names, got {type(value).__name__}") from None
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{name} must hold column names (strings), got {names!r}")
    return names


class FeatureSpec(BaseEstimator):
    """The features a ranker reads, with everything learned from the training rows only.

    Parameters
    ----------
    categorical : sequence of str
        Columns whose values are categories (ids, gender, occupation, hour of day). Each gets
        a vocabulary of the training values seen at least ``min_count`` times, ordered by
        frequency (most frequent first); index 0 is the out-of-vocabulary (OOV) bucket for
        rare, unseen and missing values.
    numerical : sequence of str
        Numeric columns: missing values filled with the training median, then standardised
        with the training mean and standard deviation.
    log_numerical : sequence of str
        Numeric columns read through ``log1p`` first (counts and durations, whose tails are
        long; negative values count as 0).
    multi_hot : dict, optional
        Field name -> list of 0/1 columns forming one field (e.g. ``{"genres": [...18 genre
        flags...]}``): the field's embedding is the mean of its active flags' embeddings.
    crosses : sequence of pairs of str
        Pairs of categorical columns crossed into one more categorical field, named
        ``"<a>_x_<b>"``, for the linear (wide, first-order) part of the models only — the
        hand-made "cross-product transformations" of Wide & Deep.
    min_count : int
        Fewest training occurrences for a category to get its own index.

    Attributes
    ----------
    vocabularies_ : dict
        Field name -> ``pandas.Index`` of its categories (position + 1 = its index).
    medians_, means_, scales_ : ndarray
        Per numerical column (after ``log1p`` where asked).
    fields_ : list of str
        The embedded fields, in the order of the models' field embeddings: categorical, then
        one per numerical column, then the multi-hot fields. Crosses are not embedded.
    wide_fields_ : list of str
        Every field of the first-order part: categorical, crosses, numerical, multi-hot.

    Examples
    --------
    >>> train = pd.DataFrame({"user_id": [1, 1, 2], "gender": ["F", "F", "M"], "age": [20.0, 20.0, 40.0]})
    >>> spec = FeatureSpec(categorical=["user_id", "gender"], numerical=["age"]).fit(train)
    >>> inputs = spec.transform(pd.DataFrame({"user_id": [2, 9], "gender": ["M", "X"], "age": [30.0, None]}))
    >>> inputs["user_id"].tolist(), inputs["gender"].tolist()  # 9 and "X" were never seen: OOV = 0
    ([2, 0], [2, 0])
    >>> inputs[NUMERICAL].astype(float).round(3).tolist()  # (30 - mean 26.67) / sd 9.43; the missing age gets the median
    [[0.354], [-0.707]]
    """

    def __init__(self, categorical=(), numerical=(), log_numerical=(), multi_hot=None, crosses=(), min_count: int = 1):
        self.categorical, self.numerical, self.log_numerical = categorical, numerical, log_numerical
        self.multi_hot, self.crosses, self.min_count = multi_hot, crosses, min_count

    # ----------------------------------------------------------------- fitting
    def _settings(self):
        categorical = _names("categorical", self.categorical)
        numerical = _names("numerical", self.numerical)
        log_numerical = _names("log_numerical", self.log_numerical)
        unknown_log = sorted(set(log_numerical) - set(numerical))
        if unknown_log:
            raise ValueError(f"log_numerical must name numerical columns, got {unknown_log} not in numerical")
        multi_hot = {} if self.multi_hot is None else self.multi_hot
        if not isinstance(multi_hot, dict):
            raise TypeError(f"multi_hot must be a dict of field name -> flag columns, got {type(multi_hot).__name__}")
        multi_hot = {field: _names(f"multi_hot[{field!r}]", columns) for field, columns in multi_hot.items()}
        if any(not columns for columns in multi_hot.values()):
            raise ValueError("every multi_hot field needs at least one flag column")
        crosses = []
        for pair in self.crosses:
            pair = _names("crosses", pair)
            if len(pair) != 2 or not set(pair) <= set(categorical):
                raise ValueError(f"each cross must be a pair of categorical columns, got {pair}")
            crosses.append(pair)
        positive_int("min_count", self.min_count)
        fields = [*categorical, *numerical, *multi_hot, *(f"{a}_x_{b}" for a, b in crosses)]
        if not (categorical or numerical or multi_hot):
            raise ValueError("a FeatureSpec needs at least one categorical, numerical or multi_hot field")
        clashes = sorted({f for f in fields if fields.count(f) > 1} | ({NUMERICAL} & set(fields)))
        if clashes:
            raise ValueError(f"field names must be distinct and not {NUMERICAL!r}, got {clashes}")
        return categorical, numerical, set(log_numerical), multi_hot, crosses

    @staticmethod
    def _crossed(frame, pair):
        a, b = pair
        return frame[a].astype("string").fillna("<NA>") + "\x1f" + frame[b].astype("string").fillna("<NA>")

    def _numbers(self, frame, numerical, log_numerical) -> np.ndarray:
        columns = []
        for name in numerical:
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            columns.append(np.log1p(np.clip(values, 0, None)) if name in log_numerical else values)
        return np.column_stack(columns) if columns else np.zeros((len(frame), 0))

    def fit(self, frame, y=None):
        """Learn the vocabularies and scales from the training ``frame`` (``y`` is ignored)."""
        categorical, numerical, log_numerical, multi_hot, crosses = self._settings()
        columns = [*categorical, *numerical, *(c for cs in multi_hot.values() for c in cs)]
        check_frame(frame, tuple(dict.fromkeys(columns)), "frame", allow_missing=True)
        self.vocabularies_ = {}
        keyed = {name: frame[name] for name in categorical}
        keyed.update({f"{a}_x_{b}": self._crossed(frame, (a, b)) for a, b in crosses})
        for name, values in keyed.items():
            counts = values.dropna().value_counts(sort=False)
            counts = counts[counts >= self.min_count]
            try:
                counts = counts.sort_index()
            except TypeError:  # mixed types: keep their first-seen order among equal counts
                pass
            self.vocabularies_[name] = pd.Index(counts.sort_values(ascending=False, kind="stable").index)
        numbers = self._numbers(frame, numerical, log_numerical)
        with np.errstate(all="ignore"):
            medians = np.nanmedian(numbers, axis=0) if numbers.shape[1] else np.zeros(0)
        self.medians_ = np.where(np.isnan(medians), 0.0, medians)
        filled = np.where(np.isnan(numbers), self.medians_[None, :], numbers)
        self.means_ = filled.mean(axis=0) if len(filled) else np.zeros(filled.shape[1])
        spread = filled.std(axis=0) if len(filled) else np.ones(filled.shape[1])
        self.scales_ = np.where(spread > 0, spread, 1.0)
        self.fields_ = [*categorical, *numerical, *multi_hot]
        self.wide_fields_ = [*categorical, *(f"{a}_x_{b}" for a, b in crosses), *numerical, *multi_hot]
        return self

    # ----------------------------------------------------------------- output
    def vocabulary_size(self, field: str) -> int:
        """Number of indices of a categorical (or crossed) field, the OOV bucket included."""
        check_fitted(self, "vocabularies_")
        if field not in self.vocabularies_:
            raise ValueError(f"{field!r} is not a categorical field; they are {list(self.vocabularies_)}")
        return len(self.vocabularies_[field]) + 1

    def _indices(self, frame) -> dict:
        categorical, _, _, _, crosses = self._settings()
        out = {}
        for name in categorical:
            out[name] = self.vocabularies_[name].get_indexer(frame[name]) + 1
        for a, b in crosses:
            name = f"{a}_x_{b}"
            out[name] = self.vocabularies_[name].get_indexer(self._crossed(frame, (a, b))) + 1
        return {name: index.astype(np.int32) for name, index in out.items()}

    def _scaled(self, frame) -> np.ndarray:
        _, numerical, log_numerical, _, _ = self._settings()
        numbers = self._numbers(frame, numerical, log_numerical)
        numbers = np.where(np.isnan(numbers), self.medians_[None, :], numbers)
        return ((numbers - self.means_) / self.scales_).astype(np.float32)

    def _flags(self, frame) -> dict:
        _, _, _, multi_hot, _ = self._settings()
        return {field: frame[list(columns)].fillna(0).to_numpy(np.float32) for field, columns in multi_hot.items()}

    def _check(self, frame):
        check_fitted(self, "vocabularies_")
        categorical, numerical, _, multi_hot, _ = self._settings()
        columns = [*categorical, *numerical, *(c for cs in multi_hot.values() for c in cs)]
        check_frame(frame, tuple(dict.fromkeys(columns)), "frame", allow_missing=True)

    def transform(self, frame) -> dict:
        """The models' inputs: ``{field: int32 indices}`` for each categorical and crossed field,
        ``{"numerical": float32 (n, n_numerical)}`` and ``{field: float32 flags}`` per multi-hot field."""
        self._check(frame)
        inputs = self._indices(frame)
        if self.numerical:
            inputs[NUMERICAL] = self._scaled(frame)
        inputs.update(self._flags(frame))
        return inputs

    def design_matrix(self, frame, kind: str = "linear"):
        """The same features for scikit-learn.

        ``kind="linear"``: a sparse CSR matrix — one-hot columns for every categorical and
        crossed field (OOV bucket included), the scaled numbers, the multi-hot flags — for a
        linear model. ``kind="trees"``: a DataFrame for
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (``categorical_features=
        "from_dtype"``): categorical fields with at most :data:`MAX_TREE_CATEGORIES` categories
        as pandas categories, larger ones (ids) as their index — the rank of the category's
        training frequency, so a split reads "among the n most frequent" — the numbers before
        scaling with missing values left missing (trees handle them), and the flags. Crosses
        are left to the trees.

        >>> spec = FeatureSpec(categorical=["g"], numerical=["x"]).fit(pd.DataFrame({"g": ["a", "b"], "x": [1.0, 3.0]}))
        >>> spec.design_matrix(pd.DataFrame({"g": ["b", "z"], "x": [3.0, 1.0]})).toarray().tolist()
        [[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, -1.0]]
        """
        check_choice("kind", kind, ("linear", "trees"))
        self._check(frame)
        categorical, numerical, log_numerical, _, _ = self._settings()
        indices = self._indices(frame)
        flags = self._flags(frame)
        if kind == "linear":
            blocks = [sp.csr_matrix((np.ones(len(frame), np.float32), (np.arange(len(frame)), index)),
                                    shape=(len(frame), len(self.vocabularies_[name]) + 1))
                      for name, index in indices.items()]
            if numerical:
                blocks.append(sp.csr_matrix(self._scaled(frame)))
            blocks.extend(sp.csr_matrix(f) for f in flags.values())
            return sp.hstack(blocks, format="csr", dtype=np.float32)
        table = {}
        for name in categorical:
            size = len(self.vocabularies_[name]) + 1
            if size <= MAX_TREE_CATEGORIES + 1:
                table[name] = pd.Categorical(indices[name], categories=np.arange(size))
            else:
                table[name] = indices[name].astype(np.float32)
        numbers = self._numbers(frame, numerical, log_numerical)
        for j, name in enumerate(numerical):
            table[name] = numbers[:, j].astype(np.float32)
        for field, values in flags.items():
            for j in range(values.shape[1]):
                table[f"{field}_{j}"] = values[:, j]
        return pd.DataFrame(table, index=frame.index)


class FeatureMatrix(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer: fits a copy of ``spec`` on the training frame, then returns
    :meth:`FeatureSpec.design_matrix` of ``kind`` — so a baseline and a Keras ranker read the
    same features, learned from the same rows.

    >>> spec = FeatureSpec(categorical=["g"])
    >>> FeatureMatrix(spec).fit_transform(pd.DataFrame({"g": ["a", "b", "a"]})).toarray().tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """

    def __init__(self, spec=None, kind: str = "linear"):
        self.spec, self.kind = spec, kind

    def fit(self, frame, y=None):
        if not isinstance(self.spec, FeatureSpec):
            raise TypeError(f"spec must be a FeatureSpec, got {type(self.spec).__name__}")
        check_choice("kind", self.kind, ("linear", "trees"))
        self.spec_ = clone(self.spec).fit(frame)
        return self

    def transform(self, frame):
        check_fitted(self, "spec_")
        return self.spec_.design_matrix(frame, self.kind)


def baseline_models(spec, seed: int = 0) -> dict:
    """Logistic regression and gradient-boosted trees on ``spec``'s features, as unfitted pipelines.

    ``{"logistic regression": Pipeline(FeatureMatrix(spec, "linear"), LogisticRegression),
    "gradient-boosted trees": Pipeline(FeatureMatrix(spec, "trees"),
    HistGradientBoostingClassifier)}``: fit each on the training frame and labels; its
    ``predict_proba(test_frame)[:, 1]`` is comparable with a Keras ranker's output.

    >>> sorted(baseline_models(FeatureSpec(categorical=["g"])))
    ['gradient-boosted trees', 'logistic regression']
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    if not isinstance(spec, FeatureSpec):
        raise TypeError(f"spec must be a FeatureSpec, got {type(spec).__name__}")
    check_seed("seed", seed)
    return {
        "logistic regression": Pipeline([("features", FeatureMatrix(spec, "linear")),
                                         ("model", LogisticRegression(max_iter=2000))]),
        "gradient-boosted trees": Pipeline([("features", FeatureMatrix(spec, "trees")),
                                            ("model", HistGradientBoostingClassifier(
                                                categorical_features="from_dtype", random_state=seed))]),
    }


# --------------------------------------------------------------------------- Keras

def _layers():
    """The custom layers, defined on first use so that importing this module never imports Keras."""
    global _LAYERS
    if _LAYERS is None:
        import keras

        @keras.saving.register_keras_serializable(package="rec_utils")
        class NumericalEmbedding(keras.layers.Layer):
            """(batch, n) numbers -> (batch, n, d): each number times its own learned vector."""

            def __init__(self, dim, l2=0.0, **kwargs):
                super().__init__(**kwargs)
                self.dim, self.l2 = dim, l2

            def build(self, input_shape):
                self.vectors = self.add_weight(shape=(input_shape[-1], self.dim), name="vectors",
                                               initializer=keras.initializers.RandomNormal(stddev=0.05),
                                               regularizer=keras.regularizers.L2(self.l2) if self.l2 else None)

            def call(self, numbers):
                return numbers[:, :, None] * self.vectors[None]

            def compute_output_shape(self, input_shape):
                return (input_shape[0], input_shape[1], self.dim)

            def get_config(self):
                return {**super().get_config(), "dim": self.dim, "l2": self.l2}

        @keras.saving.register_keras_serializable(package="rec_utils")
        class MeanPooling(keras.layers.Layer):
            """(batch, m) 0/1 flags -> (batch, d): the mean of the active flags' vectors (0 if none)."""

            def __init__(self, dim, l2=0.0, **kwargs):
                super().__init__(**kwargs)
                self.dim, self.l2 = dim, l2

            def build(self, input_shape):
                self.vectors = self.add_weight(shape=(input_shape[-1], self.dim), name="vectors",
                                               initializer=keras.initializers.RandomNormal(stddev=0.05),
                                               regularizer=keras.regularizers.L2(self.l2) if self.l2 else None)

            def call(self, flags):
                count = keras.ops.maximum(keras.ops.sum(flags, axis=1, keepdims=True), 1.0)
                return keras.ops.matmul(flags / count, self.vectors)

            def compute_output_shape(self, input_shape):
                return (input_shape[0], self.dim)

            def get_config(self):
                return {**super().get_config(), "dim": self.dim, "l2": self.l2}

        @keras.saving.register_keras_serializable(package="rec_utils")
        class FactorizationMachine(keras.layers.Layer):
            """(batch, F, d) field embeddings -> (batch, 1): sum over pairs f < g of <v_f, v_g>.

            Computed as ``0.5 * sum_d ((sum_f v_fd)^2 - sum_f v_fd^2)``, linear in the number of fields.
            """

            def call(self, fields):
                summed = keras.ops.sum(fields, axis=1)
                squares = keras.ops.sum(keras.ops.square(fields), axis=1)
                return 0.5 * keras.ops.sum(keras.ops.square(summed) - squares, axis=1, keepdims=True)

            def compute_output_shape(self, input_shape):
                return (input_shape[0], 1)

        @keras.saving.register_keras_serializable(package="rec_utils")
        class CrossLayer(keras.layers.Layer):
            """One DCN-v2 cross layer: ``x_{l+1} = x0 * (W x_l + b) + x_l``.

            Called on ``[x0, x_l]``. Full rank: ``W`` is ``D x D`` (stored as ``kernel``, ``W x`` is
            ``x @ kernel``); with ``low_rank=r``: ``W = U V^T`` (``x @ v @ u.T``, ``U, V`` of ``D x r``).
            """

            def __init__(self, low_rank=None, l2=0.0, **kwargs):
                super().__init__(**kwargs)
                self.low_rank, self.l2 = low_rank, l2

            def build(self, input_shape):
                dim = input_shape[0][-1]
                regularizer = keras.regularizers.L2(self.l2) if self.l2 else None
                # W starts close to 0, so that what it holds after training was learned: its blocks
                # can then be read as the weight of each cross (cross_field_weights)
                if self.low_rank is None:
                    self.kernel = self.add_weight(shape=(dim, dim), name="kernel", regularizer=regularizer,
                                                  initializer=keras.initializers.TruncatedNormal(stddev=0.01))
                else:
                    small = keras.initializers.TruncatedNormal(stddev=0.05)
                    self.u = self.add_weight(shape=(dim, self.low_rank), name="u", regularizer=regularizer,
                                             initializer=small)
                    self.v = self.add_weight(shape=(dim, self.low_rank), name="v", regularizer=regularizer,
                                             initializer=small)
                self.bias = self.add_weight(shape=(dim,), name="bias", initializer="zeros")

            def call(self, inputs):
                x0, x = inputs
                if self.low_rank is None:
                    mixed = keras.ops.matmul(x, self.kernel)
                else:
                    mixed = keras.ops.matmul(keras.ops.matmul(x, self.v), keras.ops.transpose(self.u))
                return x0 * (mixed + self.bias) + x

            def weight_matrix(self) -> np.ndarray:
                """``W`` as a NumPy array (``W[i, j]``: how much input ``j`` feeds output ``i``)."""
                if self.low_rank is None:
                    return np.asarray(self.kernel.numpy()).T
                return np.asarray(self.u.numpy()) @ np.asarray(self.v.numpy()).T

            def compute_output_shape(self, input_shape):
                return input_shape[0]

            def get_config(self):
                return {**super().get_config(), "low_rank": self.low_rank, "l2": self.l2}

        @keras.saving.register_keras_serializable(package="rec_utils")
        class AddBias(keras.layers.Layer):
            """Adds one learned number (the global bias of a linear model)."""

            def build(self, input_shape):
                self.bias = self.add_weight(shape=(1,), name="bias", initializer="zeros")

            def call(self, x):
                return x + self.bias

            def compute_output_shape(self, input_shape):
                return input_shape

        _LAYERS = {"AddBias": AddBias, "NumericalEmbedding": NumericalEmbedding, "MeanPooling": MeanPooling,
                   "FactorizationMachine": FactorizationMachine, "CrossLayer": CrossLayer}
    return _LAYERS


_LAYERS = None


def _check_spec(spec) -> FeatureSpec:
    if not isinstance(spec, FeatureSpec):
        raise TypeError(f"spec must be a FeatureSpec, got {type(spec).__name__}")
    check_fitted(spec, "vocabularies_")
    return spec


def _settings(embedding_dim, hidden, dropout, l2, learning_rate, seed):
    embedding_dim = positive_int("embedding_dim", embedding_dim)
    hidden = check_layers("hidden", hidden)
    check_number("dropout", dropout, low=0, high=1, high_inclusive=False)
    check_number("l2", l2, low=0)
    check_number("learning_rate", learning_rate, low=0, low_inclusive=False)
    check_seed("seed", seed)
    return embedding_dim, hidden


def _inputs(keras, spec):
    """One Keras input per field of ``spec.transform``'s output."""
    inputs = {name: keras.Input(shape=(), dtype="int32", name=name) for name in spec.vocabularies_}
    if spec.numerical:
        inputs[NUMERICAL] = keras.Input(shape=(len(spec.numerical),), dtype="float32", name=NUMERICAL)
    for field, columns in (spec.multi_hot or {}).items():
        inputs[field] = keras.Input(shape=(len(columns),), dtype="float32", name=field)
    return inputs


def _field_embeddings(keras, spec, inputs, dim, l2):
    """(batch, F, d): one embedding per field of ``spec.fields_`` (crosses excluded)."""
    layers = _layers()
    regularizer = keras.regularizers.L2(l2) if l2 else None
    init = keras.initializers.RandomNormal(stddev=0.05)
    parts = [keras.layers.Reshape((1, dim), name=f"{name}_field")(
        keras.layers.Embedding(spec.vocabulary_size(name), dim, embeddings_initializer=init,
                               embeddings_regularizer=regularizer, name=f"{name}_embedding")(inputs[name]))
        for name in spec.categorical]
    if spec.numerical:
        parts.append(layers["NumericalEmbedding"](dim, l2, name="numerical_embedding")(inputs[NUMERICAL]))
    for field in spec.multi_hot or {}:
        parts.append(keras.layers.Reshape((1, dim), name=f"{field}_field")(
            layers["MeanPooling"](dim, l2, name=f"{field}_embedding")(inputs[field])))
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(axis=1, name="field_embeddings")(parts)


def _first_order(keras, spec, inputs, l2):
    """(batch, 1): the linear ("wide") part over every field, crosses included, with a bias."""
    regularizer = keras.regularizers.L2(l2) if l2 else None
    terms = [keras.layers.Embedding(spec.vocabulary_size(name), 1, embeddings_initializer="zeros",
                                    embeddings_regularizer=regularizer, name=f"{name}_weight")(inputs[name])
             for name in spec.vocabularies_]
    if spec.numerical:
        terms.append(keras.layers.Dense(1, use_bias=False, name="numerical_weights")(inputs[NUMERICAL]))
    for field in spec.multi_hot or {}:
        terms.append(keras.layers.Dense(1, use_bias=False, name=f"{field}_weights")(inputs[field]))
    summed = terms[0] if len(terms) == 1 else keras.layers.Add(name="first_order_sum")(terms)
    return _layers()["AddBias"](name="first_order")(summed)


def _mlp(keras, x, hidden, dropout, prefix):
    for depth, units in enumerate(hidden, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"{prefix}_{depth}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{prefix}_{depth}_dropout")(x)
    return x


def _compile(keras, inputs, logit, learning_rate, name):
    like = keras.layers.Activation("sigmoid", name="like")(logit)
    model = keras.Model(inputs, like, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc")])
    return model


def _start(seed):
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras


def build_wide_and_deep(spec, embedding_dim: int = 8, hidden=(64, 32), dropout: float = 0.0, l2: float = 0.0,
                        learning_rate: float = 1e-3, seed: int | None = None):
    """Wide & Deep: a linear model over every feature plus an MLP over the field embeddings.

    The wide part (layer ``first_order``) is logistic regression on the one-hot categories,
    the crossed categories of ``spec.crosses`` (Wide & Deep's "cross-product
    transformations"), the scaled numbers and the flags; the deep part flattens the field
    embeddings (``embedding_dim`` each) and passes them through ``hidden`` ReLU layers to one
    unit (``deep_logit``). The two logits add up before the sigmoid, and both parts train
    jointly (one optimiser here, where the paper used FTRL for the wide part and AdaGrad for
    the deep one).

    Parameters
    ----------
    spec : FeatureSpec
        Fitted on the training rows; the model's inputs are ``spec.transform(frame)``.
    embedding_dim : int
        Length of every field embedding.
    hidden : sequence of int
        The MLP's widths.
    dropout : float
        Dropout after each hidden layer, in [0, 1).
    l2 : float
        L2 penalty on the embedding tables.
    learning_rate : float
        Adam's step size.
    seed : int, optional
        Seeds Keras first, for reproducible initial weights.

    Returns
    -------
    keras.Model
        Compiled (Adam, binary cross-entropy, AUC); outputs the like probability (layer ``like``).

    Examples
    --------
    >>> train = pd.DataFrame({"user_id": [1, 2, 1], "gender": ["F", "M", "F"], "age": [20.0, 40.0, 20.0]})
    >>> spec = FeatureSpec(categorical=["user_id", "gender"], numerical=["age"],
    ...                    crosses=[("user_id", "gender")]).fit(train)
    >>> model = build_wide_and_deep(spec, embedding_dim=4, hidden=(8,), seed=0)
    >>> model.predict(spec.transform(train), verbose=0).shape
    (3, 1)
    """
    spec = _check_spec(spec)
    embedding_dim, hidden = _settings(embedding_dim, hidden, dropout, l2, learning_rate, seed)
    keras = _start(seed)
    inputs = _inputs(keras, spec)
    wide = _first_order(keras, spec, inputs, l2)
    fields = _field_embeddings(keras, spec, inputs, embedding_dim, l2)
    deep = _mlp(keras, keras.layers.Flatten(name="deep_input")(fields), hidden, dropout, "deep")
    deep = keras.layers.Dense(1, name="deep_logit")(deep)
    return _compile(keras, inputs, keras.layers.Add(name="logit")([wide, deep]), learning_rate, "wide_and_deep")


def build_deepfm(spec, embedding_dim: int = 8, hidden=(64, 32), dropout: float = 0.0, l2: float = 0.0,
                 learning_rate: float = 1e-3, seed: int | None = None):
    """DeepFM: first-order terms + a factorisation machine's pairwise terms + an MLP, sharing one embedding.

    The logit is the sum of the first-order part (layer ``first_order``, as in
    :func:`build_wide_and_deep`), the FM part ``sum_{f<g} <v_f, v_g>`` over the field
    embeddings (layer ``fm_pairs``; a numerical field's vector is its value times a learned
    vector, as an FM treats a real-valued feature) and the MLP over the flattened embeddings
    (``deep_logit``). Unlike Wide & Deep, no cross is hand-made: the FM learns every pair.
    Parameters and output as for :func:`build_wide_and_deep`.

    Examples
    --------
    >>> spec = FeatureSpec(categorical=["a", "b"]).fit(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    >>> model = build_deepfm(spec, embedding_dim=3, hidden=(4,), seed=0)
    >>> model.get_layer("fm_pairs").output.shape
    (None, 1)
    """
    spec = _check_spec(spec)
    embedding_dim, hidden = _settings(embedding_dim, hidden, dropout, l2, learning_rate, seed)
    keras = _start(seed)
    inputs = _inputs(keras, spec)
    first = _first_order(keras, spec, inputs, l2)
    fields = _field_embeddings(keras, spec, inputs, embedding_dim, l2)
    pairs = _layers()["FactorizationMachine"](name="fm_pairs")(fields)
    deep = _mlp(keras, keras.layers.Flatten(name="deep_input")(fields), hidden, dropout, "deep")
    deep = keras.layers.Dense(1, name="deep_logit")(deep)
    return _compile(keras, inputs, keras.layers.Add(name="logit")([first, pairs, deep]), learning_rate, "deepfm")


def build_dcn_v2(spec, embedding_dim: int = 8, n_cross_layers: int = 2, low_rank: int | None = None,
                 hidden=(64, 32), structure: str = "stacked", dropout: float = 0.0, l2: float = 0.0,
                 cross_l2: float = 0.0, learning_rate: float = 1e-3, seed: int | None = None):
    """DCN-v2: cross layers ``x_{l+1} = x0 * (W x_l + b) + x_l`` over the field embeddings, with an MLP.

    ``x0`` is the concatenation of the field embeddings (layer ``cross_input``, ``F x
    embedding_dim`` wide, in the order of ``spec.fields_``). Each of the ``n_cross_layers``
    layers (``cross_1``, ...) multiplies ``x0`` element-wise by a linear map of the previous
    layer, so layer ``l`` holds crosses of degree ``l + 1``; ``W`` is full-rank or, with
    ``low_rank=r``, ``U V^T`` (the paper's cheaper variant). ``structure="stacked"`` feeds
    the cross output to the MLP; ``"parallel"`` runs the MLP on ``x0`` beside the cross
    network and concatenates both. One dense unit gives the logit. Crossed fields of ``spec``
    are not used (the cross network learns its own). ``W`` starts close to zero (normal, standard
    deviation 0.01; 0.05 for each low-rank factor) and ``cross_l2`` penalises it, so that the
    weight it ends with is weight it learned: :func:`cross_field_weights` reads it. Other
    parameters as for :func:`build_wide_and_deep`.

    Examples
    --------
    >>> spec = FeatureSpec(categorical=["a"], numerical=["x"]).fit(pd.DataFrame({"a": [1, 2], "x": [0.5, 1.5]}))
    >>> model = build_dcn_v2(spec, embedding_dim=4, n_cross_layers=2, hidden=(8,), seed=0)
    >>> [tuple(model.get_layer(f"cross_{l}").kernel.shape) for l in (1, 2)]  # 2 fields x 4
    [(8, 8), (8, 8)]
    """
    spec = _check_spec(spec)
    embedding_dim, hidden = _settings(embedding_dim, hidden, dropout, l2, learning_rate, seed)
    n_cross_layers = positive_int("n_cross_layers", n_cross_layers)
    if low_rank is not None:
        low_rank = positive_int("low_rank", low_rank)
    check_choice("structure", structure, ("stacked", "parallel"))
    cross_l2 = check_number("cross_l2", cross_l2, low=0)
    keras = _start(seed)
    inputs = _inputs(keras, spec)
    fields = _field_embeddings(keras, spec, inputs, embedding_dim, l2)
    x0 = keras.layers.Flatten(name="cross_input")(fields)
    x = x0
    for layer in range(1, n_cross_layers + 1):
        x = _layers()["CrossLayer"](low_rank, cross_l2, name=f"cross_{layer}")([x0, x])
    if structure == "stacked":
        top = _mlp(keras, x, hidden, dropout, "deep")
    else:
        top = keras.layers.Concatenate(name="cross_and_deep")([x, _mlp(keras, x0, hidden, dropout, "deep")])
    logit = keras.layers.Dense(1, name="logit")(top)
    return _compile(keras, inputs, logit, learning_rate, "dcn_v2")


def cross_field_weights(model, spec, layer: int | None = None) -> pd.DataFrame:
    """How much weight each pair of fields carries in DCN-v2's cross matrices: the block norms of ``W``.

    ``x0`` is the concatenation of the field embeddings, so ``W`` splits into ``F x F`` blocks
    of ``embedding_dim x embedding_dim``: block ``(f, g)`` decides how field ``g`` of the
    previous layer enters the product with field ``f`` of ``x0`` — the weight of the cross
    "f x g". Its Frobenius norm measures that weight (as in the DCN-v2 paper's figure of
    the learned matrix). Numerical fields are each one block, like the others.

    Parameters
    ----------
    model : keras.Model
        Built by :func:`build_dcn_v2` with ``spec`` (and trained).
    spec : FeatureSpec
        The spec the model was built from.
    layer : int, optional
        One cross layer (1-based); by default the norms of all layers' blocks are summed.

    Returns
    -------
    pandas.DataFrame
        ``F x F``, rows = the ``x0`` field, columns = the field of ``x_l``, in ``spec.fields_``' order.

    Examples
    --------
    >>> spec = FeatureSpec(categorical=["a", "b"]).fit(pd.DataFrame({"a": [1, 2], "b": [3, 4]}))
    >>> model = build_dcn_v2(spec, embedding_dim=2, n_cross_layers=1, hidden=(4,), seed=0)
    >>> cross_field_weights(model, spec).shape
    (2, 2)
    """
    spec = _check_spec(spec)
    crosses = sorted((lay for lay in getattr(model, "layers", []) if lay.name.startswith("cross_")
                      and lay.name[6:].isdigit()), key=lambda lay: int(lay.name[6:]))
    if not crosses:
        raise ValueError(f"expected a model from build_dcn_v2 (layers cross_1, cross_2, ...), got "
                         f"{type(model).__name__} named {getattr(model, 'name', None)!r}")
    if layer is not None:
        layer = check_number("layer", layer, low=1, high=len(crosses), integer=True)
        crosses = [crosses[layer - 1]]
    fields = spec.fields_
    matrices = [lay.weight_matrix() for lay in crosses]
    size = matrices[0].shape[0]
    if size % len(fields):
        raise ValueError(f"the cross layers are {size} wide, which does not split into the spec's {len(fields)} fields")
    dim = size // len(fields)
    total = np.zeros((len(fields), len(fields)))
    for w in matrices:
        blocks = w.reshape(len(fields), dim, len(fields), dim)
        total += np.sqrt(np.square(blocks).sum(axis=(1, 3)))
    return pd.DataFrame(total, index=pd.Index(fields, name="x0 field"), columns=pd.Index(fields, name="x_l field"))


def top_crosses(weights: pd.DataFrame, n: int = 10, include_self: bool = False) -> pd.Series:
    """The ``n`` field pairs with the most weight in a :func:`cross_field_weights` table.

    A pair ``{f, g}`` counts both blocks, ``sqrt(w_fg^2 + w_gf^2)``; ``include_self`` also
    lists a field crossed with itself (its diagonal block).

    >>> w = pd.DataFrame([[1.0, 3.0, 0.0], [4.0, 2.0, 0.5], [0.0, 0.5, 9.0]], index=list("abc"), columns=list("abc"))
    >>> top_crosses(w, n=2).round(3).to_dict()
    {'a x b': 5.0, 'b x c': 0.707}
    """
    if not isinstance(weights, pd.DataFrame) or list(weights.index) != list(weights.columns):
        raise TypeError("weights must be the square DataFrame of cross_field_weights")
    n = positive_int("n", n)
    values = weights.to_numpy(np.float64)
    names = list(weights.index)
    pairs = {}
    for f in range(len(names)):
        for g in range(f if include_self else f + 1, len(names)):
            pairs[f"{names[f]} x {names[g]}"] = (values[f, f] if f == g else np.hypot(values[f, g], values[g, f]))
    return pd.Series(pairs, name="weight").sort_values(ascending=False, kind="stable").head(n)
