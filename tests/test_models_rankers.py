"""Feature-interaction rankers (rec_utils.models.rankers): the feature set learned on training rows
only, the baselines on the same features, and the Keras layers against NumPy formulas (the FM's
pairwise terms, DCN-v2's cross layer, the block norms of its weight matrix)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rec_utils._checks import NotFittedError
from rec_utils.evaluation.metrics import roc_auc
from rec_utils.models.rankers import (
    NUMERICAL, FeatureMatrix, FeatureSpec, baseline_models, build_dcn_v2, build_deepfm, build_wide_and_deep,
    cross_field_weights, top_crosses,
)

GENRES = ["g_action", "g_comedy", "g_drama"]


def like_frame(n=400, seed=0):
    """A small like-prediction table: ids, a category, two numbers (one a count), genre flags.

    The label depends on a cross (gender x genre) and on a number, so every model has signal.
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "user_id": rng.integers(1, 30, n), "item_id": rng.integers(1, 40, n),
        "gender": rng.choice(["F", "M"], n), "activity": rng.poisson(20, n).astype(float),
        "mean_rating": rng.normal(3.5, 0.5, n),
    })
    frame.loc[rng.random(n) < 0.1, "mean_rating"] = np.nan
    flags = rng.random((n, 3)) < 0.4
    frame[GENRES] = flags.astype(np.uint8)
    logit = 2.0 * ((frame["gender"] == "F") == flags[:, 0]) - 1.0 + frame["mean_rating"].fillna(3.5) - 3.5
    frame["like"] = (rng.random(n) < 1 / (1 + np.exp(-2 * logit))).astype(int)
    return frame


def spec_for(**changes):
    settings = dict(categorical=["user_id", "item_id", "gender"], numerical=["activity", "mean_rating"],
                    log_numerical=["activity"], multi_hot={"genres": GENRES})
    return FeatureSpec(**{**settings, **changes})


@pytest.fixture(scope="module")
def frame():
    return like_frame()


@pytest.fixture(scope="module")
def spec(frame):
    return spec_for().fit(frame.iloc[:300])


# --------------------------------------------------------------------------- FeatureSpec

def test_vocabularies_come_from_the_training_rows_most_frequent_first():
    train = pd.DataFrame({"c": ["b", "a", "b", "c", "c", "c", None]})
    spec = FeatureSpec(categorical=["c"]).fit(train)
    assert spec.vocabularies_["c"].tolist() == ["c", "b", "a"]
    assert spec.transform(pd.DataFrame({"c": ["a", "c", "zzz", None]}))["c"].tolist() == [3, 1, 0, 0]
    rare = FeatureSpec(categorical=["c"], min_count=2).fit(train)
    assert rare.vocabulary_size("c") == 3 and rare.transform(pd.DataFrame({"c": ["a"]}))["c"].tolist() == [0]


def test_numbers_are_filled_logged_and_scaled_with_training_statistics(spec, frame):
    train = frame.iloc[:300]
    logged = np.log1p(train["activity"].to_numpy())
    np.testing.assert_allclose(spec.means_[0], logged.mean())
    median = train["mean_rating"].median()
    filled = train["mean_rating"].fillna(median)
    np.testing.assert_allclose(spec.medians_[1], median)
    expected = (filled - filled.mean()) / filled.std(ddof=0)
    np.testing.assert_allclose(spec.transform(train)[NUMERICAL][:, 1], expected, rtol=1e-5, atol=1e-6)
    test = spec.transform(frame.iloc[300:])  # the test rows do not move the statistics
    assert test[NUMERICAL].shape == (100, 2) and np.isfinite(test[NUMERICAL]).all()


def test_transform_gives_one_input_per_field(spec, frame):
    inputs = spec.transform(frame)
    assert set(inputs) == {"user_id", "item_id", "gender", NUMERICAL, "genres"}
    assert inputs["user_id"].dtype == np.int32 and inputs["genres"].shape == (len(frame), 3)
    assert spec.fields_ == ["user_id", "item_id", "gender", "activity", "mean_rating", "genres"]


def test_crosses_are_categorical_fields_of_the_wide_part_only(frame):
    spec = spec_for(crosses=[("gender", "user_id")]).fit(frame)
    assert "gender_x_user_id" in spec.transform(frame) and "gender_x_user_id" not in spec.fields_
    assert spec.wide_fields_[3] == "gender_x_user_id"
    assert spec.vocabulary_size("gender_x_user_id") == frame.groupby(["gender", "user_id"]).ngroups + 1


def test_design_matrices_for_a_linear_model_and_for_trees(spec, frame):
    linear = spec.design_matrix(frame)
    width = sum(spec.vocabulary_size(f) for f in ("user_id", "item_id", "gender")) + 2 + 3
    assert linear.shape == (len(frame), width)
    np.testing.assert_array_equal(linear[:, :spec.vocabulary_size("user_id")].sum(axis=1), 1)  # one-hot
    trees = spec.design_matrix(frame, kind="trees")
    assert isinstance(trees["gender"].dtype, pd.CategoricalDtype)
    assert trees["mean_rating"].isna().sum() == frame["mean_rating"].isna().sum()  # trees handle missing values
    assert list(trees.columns[-3:]) == ["genres_0", "genres_1", "genres_2"]


def test_many_categories_go_to_the_trees_as_frequency_ranks():
    train = pd.DataFrame({"id": np.arange(300) % 290})
    trees = FeatureSpec(categorical=["id"]).fit(train).design_matrix(train, kind="trees")
    assert trees["id"].dtype == np.float32 and trees["id"].max() == 290


@pytest.mark.parametrize("changes, error, match", [
    ({"categorical": "user_id"}, TypeError, "string"),
    ({"log_numerical": ["user_id"]}, ValueError, "log_numerical"),
    ({"crosses": [("gender", "activity")]}, ValueError, "cross"),
    ({"multi_hot": ["g"]}, TypeError, "multi_hot"),
    ({"min_count": 0}, ValueError, "min_count"),
    ({"categorical": ["gender", "gender"]}, ValueError, "distinct"),
])
def test_a_bad_spec_is_refused_by_fit(frame, changes, error, match):
    with pytest.raises(error, match=match):
        spec_for(**changes).fit(frame)


def test_using_a_spec_before_fit_or_on_a_frame_without_its_columns(frame, spec):
    with pytest.raises(NotFittedError):
        spec_for().transform(frame)
    with pytest.raises(ValueError, match="gender"):
        spec.transform(frame.drop(columns="gender"))
    with pytest.raises(TypeError, match="DataFrame"):
        spec_for().fit(frame.to_numpy())


# --------------------------------------------------------------------------- baselines

def test_baselines_read_the_same_features_and_learn(frame):
    train, test = frame.iloc[:300], frame.iloc[300:]
    models = baseline_models(spec_for(), seed=0)
    models["gradient-boosted trees"].set_params(model__max_iter=20)  # a fast test
    for name, model in models.items():
        probability = model.fit(train, train["like"]).predict_proba(test)[:, 1]
        assert roc_auc(test["like"], probability) > 0.55, name
    assert models["logistic regression"].named_steps["features"].spec_.vocabularies_["user_id"].size > 0
    with pytest.raises(TypeError, match="FeatureSpec"):
        FeatureMatrix(spec=None).fit(train)


# --------------------------------------------------------------------------- Keras layers against NumPy

def test_the_factorisation_machine_sums_the_inner_products_of_every_pair(spec, frame):
    model = build_deepfm(spec, embedding_dim=3, hidden=(4,), seed=0)
    import keras

    probe = keras.Model(model.input, [model.get_layer("field_embeddings").output, model.get_layer("fm_pairs").output])
    fields, pairs = probe.predict(spec.transform(frame.iloc[:5]), verbose=0)
    expected = [sum(fields[r, f] @ fields[r, g] for f in range(6) for g in range(f + 1, 6)) for r in range(5)]
    np.testing.assert_allclose(pairs[:, 0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("low_rank", [None, 3])
def test_a_cross_layer_computes_x0_times_w_x_plus_b_plus_x(spec, frame, low_rank):
    import keras

    model = build_dcn_v2(spec, embedding_dim=2, n_cross_layers=2, low_rank=low_rank, hidden=(4,), seed=0)
    for layer in model.layers:  # a non-zero bias, so that b is tested too
        if layer.name in ("cross_1", "cross_2"):
            layer.bias.assign(np.linspace(-0.5, 0.5, layer.bias.shape[0]).astype(np.float32))
    probe = keras.Model(model.input, [model.get_layer(n).output for n in ("cross_input", "cross_1", "cross_2")])
    x0, x1, x2 = probe.predict(spec.transform(frame.iloc[:4]), verbose=0)
    for x_in, x_out, name in ((x0, x1, "cross_1"), (x1, x2, "cross_2")):
        layer = model.get_layer(name)
        w, b = layer.weight_matrix(), layer.bias.numpy()
        np.testing.assert_allclose(x_out, x0 * (x_in @ w.T + b) + x_in, rtol=1e-4, atol=1e-5)
    if low_rank:
        assert np.linalg.matrix_rank(model.get_layer("cross_1").weight_matrix()) == low_rank


def test_cross_field_weights_are_the_block_norms_of_w(spec):
    model = build_dcn_v2(spec, embedding_dim=2, n_cross_layers=2, hidden=(4,), seed=0)
    weights = cross_field_weights(model, spec)
    assert list(weights.index) == list(weights.columns) == spec.fields_
    w1 = model.get_layer("cross_1").weight_matrix()
    w2 = model.get_layer("cross_2").weight_matrix()
    f, g = 1, 4  # item_id (x0) x activity (x_l): rows 2-3, columns 8-9
    expected = np.linalg.norm(w1[2:4, 8:10]) + np.linalg.norm(w2[2:4, 8:10])
    assert weights.iloc[f, g] == pytest.approx(expected, rel=1e-5)
    assert cross_field_weights(model, spec, layer=2).iloc[f, g] == pytest.approx(np.linalg.norm(w2[2:4, 8:10]), rel=1e-5)
    top = top_crosses(weights, n=3)
    assert len(top) == 3 and top.is_monotonic_decreasing and all(" x " in k for k in top.index)
    with pytest.raises(ValueError, match="build_dcn_v2"):
        cross_field_weights(build_deepfm(spec, embedding_dim=2, hidden=(4,), seed=0), spec)
    with pytest.raises(ValueError, match="layer"):
        cross_field_weights(model, spec, layer=3)


@pytest.mark.slow
def test_the_three_models_train_on_the_like_task(spec, frame):
    inputs, labels = spec.transform(frame.iloc[:300]), frame["like"].to_numpy()[:300]
    for build in (build_wide_and_deep, build_deepfm, build_dcn_v2):
        model = build(spec, embedding_dim=4, hidden=(8,), learning_rate=0.01, seed=0)
        history = model.fit(inputs, labels, epochs=4, batch_size=64, verbose=0).history
        assert history["loss"][-1] < history["loss"][0], model.name
        assert model.output_shape == (None, 1) and model.get_layer("like") is not None


def test_parallel_dcn_concatenates_the_cross_and_deep_outputs(spec):
    model = build_dcn_v2(spec, embedding_dim=2, n_cross_layers=1, hidden=(5,), structure="parallel", seed=0)
    assert model.get_layer("cross_and_deep").output.shape == (None, 6 * 2 + 5)


def test_the_same_seed_builds_the_same_model(spec, frame):
    inputs = spec.transform(frame.iloc[:8])
    a = build_wide_and_deep(spec, embedding_dim=4, hidden=(8,), seed=3).predict(inputs, verbose=0)
    b = build_wide_and_deep(spec, embedding_dim=4, hidden=(8,), seed=3).predict(inputs, verbose=0)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("build, changes, error, match", [
    (build_wide_and_deep, {"hidden": ()}, ValueError, "hidden"),
    (build_deepfm, {"embedding_dim": 0}, ValueError, "embedding_dim"),
    (build_dcn_v2, {"structure": "side"}, ValueError, "structure"),
    (build_dcn_v2, {"low_rank": 0}, ValueError, "low_rank"),
    (build_dcn_v2, {"n_cross_layers": 1.5}, TypeError, "n_cross_layers"),
    (build_deepfm, {"dropout": 1.0}, ValueError, "dropout"),
    (build_dcn_v2, {"cross_l2": -1.0}, ValueError, "cross_l2"),
])
def test_builders_refuse_bad_settings(spec, build, changes, error, match):
    with pytest.raises(error, match=match):
        build(spec, **changes)


def test_builders_need_a_fitted_spec():
    with pytest.raises(TypeError, match="FeatureSpec"):
        build_deepfm({"user_id": 3})
    with pytest.raises(NotFittedError):
        build_dcn_v2(spec_for())
