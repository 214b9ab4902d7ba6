import numpy as np
import pandas as pd
import pytest

from rec_utils._checks import NotFittedError
from rec_utils.data.preprocessing import ANOMALY_CHECKS, BOT_RULE, UserMeanCenterer, apply_bot_rule, clean_ratings, find_rating_anomalies, mean_center, user_rating_stats
from rec_utils.data.synthetic import generate_movielens_like

T0 = 880_000_000  # a plausible MovieLens-era timestamp (1997)


def _log(rows):
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


def _bot(user_id, n=60, rating=5.0, seconds_apart=1):
    return [(user_id, item, rating, T0 + seconds_apart * item) for item in range(1, n + 1)]


@pytest.fixture(scope="module")
def synthetic():
    return generate_movielens_like(n_users=60, n_items=150, mean_ratings_per_user=30, seed=5).ratings


def test_each_check_flags_its_row():
    log = _log([
        (1, 10, 4.0, T0),            # fine
        (1, 20, np.nan, T0),         # missing rating
        (2, 10, 0.0, T0),            # below the scale
        (2, 20, 7.0, T0),            # above the scale
        (3, 10, 3.0, 0),             # 1970
        (3, 20, 3.0, 4_102_444_800),  # 2100, in the future
    ])
    flags = find_rating_anomalies(log, rating_range=(1, 5))
    assert list(flags.columns) == list(ANOMALY_CHECKS)
    assert flags.index.equals(log.index)
    assert flags["missing"].tolist() == [False, True, False, False, False, False]
    assert flags["rating_out_of_range"].tolist() == [False, False, True, True, False, False]
    assert flags["timestamp_out_of_range"].tolist() == [False, False, False, False, True, True]
    assert not flags["duplicate"].any() and not flags["bot_user"].any()


def test_missing_values_are_not_also_out_of_range():
    log = _log([(1, 10, np.nan, np.nan), (1, 20, 4.0, T0)])
    flags = find_rating_anomalies(log)
    assert flags.loc[0].tolist() == [True, False, False, False, False]


def test_duplicates_keep_the_latest_rating_wherever_it_sits():
    log = _log([(1, 10, 5.0, T0 + 100), (1, 10, 2.0, T0), (1, 10, 2.0, T0), (2, 10, 3.0, T0)])
    flags = find_rating_anomalies(log)
    assert flags["duplicate"].tolist() == [False, True, True, False]
    clean, _ = clean_ratings(log)
    assert clean[["user_id", "item_id", "rating"]].values.tolist() == [[1, 10, 5.0], [2, 10, 3.0]]


def test_exact_copies_keep_one_row():
    log = _log([(1, 10, 4.0, T0), (1, 10, 4.0, T0), (1, 10, 4.0, T0)])
    assert find_rating_anomalies(log)["duplicate"].sum() == 2


def test_duplicates_are_judged_among_valid_rows_only():
    # the latest row of the pair is broken: the earlier, valid rating must survive
    log = _log([(1, 10, 4.0, T0), (1, 10, np.nan, T0 + 100)])
    flags = find_rating_anomalies(log)
    assert flags["missing"].tolist() == [False, True]
    assert not flags["duplicate"].any()
    assert len(clean_ratings(log)[0]) == 1


def test_bot_needs_speed_volume_and_uniformity():
    bot = _bot(99)
    fast_but_varied = [(7, item, float(item % 5 + 1), T0 + item) for item in range(1, 61)]
    slow_and_uniform = _bot(8, seconds_apart=600)
    few_fast_uniform = _bot(9, n=10)
    log = _log(bot + fast_but_varied + slow_and_uniform + few_fast_uniform)
    flags = find_rating_anomalies(log)
    assert set(log.loc[flags["bot_user"], "user_id"]) == {99}
    assert flags["bot_user"].sum() == 60
    assert find_rating_anomalies(log, bot_min_same_share=1.0)["bot_user"].equals(flags["bot_user"])


def test_thresholds_are_respected():
    log = _log(_bot(99, n=30))
    assert not find_rating_anomalies(log)["bot_user"].any()  # 30 < 50 ratings
    assert find_rating_anomalies(log, bot_min_ratings=30)["bot_user"].all()
    assert not find_rating_anomalies(log, bot_min_ratings=30, bot_min_per_minute=100)["bot_user"].any()


def test_the_data_scale_decides_what_is_out_of_range():
    from rec_utils.data import RatingScale

    log = _log([(1, 10, 0.5, T0), (1, 20, 3.5, T0), (1, 30, 3.7, T0), (1, 40, 5.5, T0)])
    half_stars = find_rating_anomalies(log, rating_range=RatingScale(0.5, 5.0, 0.5))
    assert half_stars["rating_out_of_range"].tolist() == [False, False, True, True]  # 3.7 is off the grid
    stars = find_rating_anomalies(log, rating_range=RatingScale(1.0, 5.0, 1.0))
    assert stars["rating_out_of_range"].tolist() == [True, True, True, True]
    assert not find_rating_anomalies(log)["rating_out_of_range"].any()  # no scale given: no range check
    assert "rating_out_of_range" in find_rating_anomalies(log).attrs["skipped"]


def test_without_timestamps_the_time_checks_are_skipped_and_said():
    log = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 10, 10], "rating": [4.0, 2.0, 3.0]})
    flags = find_rating_anomalies(log, rating_range=(1, 5))
    assert flags["duplicate"].tolist() == [True, False, False]  # the later row wins
    assert not flags["timestamp_out_of_range"].any() and not flags["bot_user"].any()
    assert set(flags.attrs["skipped"]) == {"timestamp_out_of_range", "bot_user"}
    clean, _ = clean_ratings(log)
    assert list(clean.columns) == ["user_id", "item_id", "rating"] and clean["rating"].tolist() == [2.0, 3.0]


def test_implicit_feedback_is_never_taken_for_bots():
    from rec_utils.data import RatingScale

    log = _log([(99, item, 1.0, T0 + item) for item in range(1, 200)])  # fast, many, all "1"
    flags = find_rating_anomalies(log, rating_range=RatingScale.implicit_feedback())
    assert not flags.any().any() and "bot_user" in flags.attrs["skipped"]


def test_heavy_real_users_of_the_synthetic_shapes_are_not_bots():
    from rec_utils.data.synthetic import load_synthetic

    for shape in ("synthetic", "synthetic-latest-small"):
        data = load_synthetic(shape, quick=True)
        flags = find_rating_anomalies(data.ratings, rating_range=data.rating_scale)
        assert not flags.any().any(), (shape, flags.sum().to_dict())


def test_apply_bot_rule_says_which_part_of_the_rule_each_user_meets():
    log = _log(_bot(99) + [(7, item, float(item % 5 + 1), T0 + item) for item in range(1, 61)]
               + _bot(8, seconds_apart=600) + _bot(9, n=25))
    verdict = apply_bot_rule(user_rating_stats(log))
    assert verdict["bot"].tolist() == [False, False, False, True]  # users 7, 8, 9, 99
    assert verdict.loc[7, ["many_ratings", "machine_speed", "constant_rating"]].tolist() == [True, True, False]
    assert verdict.loc[8, ["many_ratings", "machine_speed", "constant_rating"]].tolist() == [True, False, True]
    assert verdict.loc[9, ["many_ratings", "machine_speed", "constant_rating"]].tolist() == [False, True, True]
    flags = find_rating_anomalies(log)
    assert set(log.loc[flags["bot_user"], "user_id"]) == set(verdict.index[verdict["bot"]])
    assert apply_bot_rule(user_rating_stats(log), bot_min_ratings=25)["bot"].sum() == 2  # user 9 joins
    assert BOT_RULE == {"bot_min_ratings": 50, "bot_min_per_minute": 20.0, "bot_min_same_share": 0.95}
    with pytest.raises(ValueError, match="lacks column"):
        apply_bot_rule(log)
    with pytest.raises(ValueError, match="bot_min_same_share must be a number > 0 and <= 1"):
        apply_bot_rule(user_rating_stats(log), bot_min_same_share=1.5)


@pytest.mark.slow
def test_no_user_of_the_full_catalogue_heavy_shape_is_a_bot():
    """synthetic-latest-small imitates ml-latest-small's heavy users (histories of thousands of
    half-star ratings, bursts of a page of ratings): with the data's own scale nothing is flagged."""
    from rec_utils.data.synthetic import load_synthetic

    data = load_synthetic("synthetic-latest-small")
    stats = apply_bot_rule(user_rating_stats(data.ratings))
    heaviest = stats.nlargest(10, "n_ratings")
    assert heaviest["n_ratings"].min() >= 500 and not heaviest["bot"].any()
    assert not stats["bot"].any()
    flags = find_rating_anomalies(data.ratings, rating_range=data.rating_scale)
    assert not flags.any().any(), flags.sum().to_dict()
    assert find_rating_anomalies(data.ratings, rating_range=(1, 5))["rating_out_of_range"].sum() > 0, \
        "a 1-5 range takes half stars for errors: the reason to pass data.rating_scale"


def test_time_range_accepts_dates_and_seconds():
    log = _log([(1, 10, 4.0, T0), (1, 20, 4.0, T0 + 86_400 * 365)])
    by_date = find_rating_anomalies(log, time_range=("1997-01-01", "1998-01-01"))
    by_seconds = find_rating_anomalies(log, time_range=(T0 - 1, T0 + 1))
    assert by_date["timestamp_out_of_range"].tolist() == [False, True]
    pd.testing.assert_frame_equal(by_date, by_seconds)
    assert not find_rating_anomalies(log, time_range=(None, None))["timestamp_out_of_range"].any()


def test_works_positionally_with_any_index():
    log = _log([(1, 10, 4.0, T0), (1, 10, 4.0, T0 + 5), (2, 10, 9.0, T0)])
    log.index = [7, 7, 3]  # repeated and unsorted labels
    flags = find_rating_anomalies(log, rating_range=(1, 5))
    assert flags["duplicate"].tolist() == [True, False, False]
    assert flags["rating_out_of_range"].tolist() == [False, False, True]


def test_clean_ratings_keeps_clean_data_and_does_not_mutate(synthetic):
    before = synthetic.copy()
    clean, flags = clean_ratings(synthetic)
    pd.testing.assert_frame_equal(synthetic, before)
    assert not flags.any().any()
    pd.testing.assert_frame_equal(clean, synthetic.reset_index(drop=True))


def test_clean_ratings_returns_course_dtypes():
    log = _log([(1, 10, 4.0, float(T0)), (1, 20, np.nan, float(T0))])
    clean, flags = clean_ratings(log)
    assert clean.dtypes.astype(str).tolist() == ["int32", "int32", "float32", "int64"]
    assert len(clean) == 1 and flags["missing"].sum() == 1


def test_user_rating_stats():
    log = _log([(1, 1, 5.0, 0), (1, 2, 5.0, 10), (1, 3, 5.0, 20), (2, 1, 1.0, 0), (2, 2, 4.0, 600)])
    stats = user_rating_stats(log)
    assert stats.loc[1, "n_ratings"] == 3 and stats.loc[1, "same_rating_share"] == 1.0
    assert stats.loc[1, "ratings_per_minute"] == 3.0  # a burst under a minute counts as one minute
    assert stats.loc[2, "active_minutes"] == 10.0 and stats.loc[2, "ratings_per_minute"] == 0.2


def test_a_list_instead_of_a_frame_is_a_type_error():
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        find_rating_anomalies([1, 2, 3])


@pytest.mark.parametrize("bad, message", [
    (pd.DataFrame({"user_id": [1], "item_id": [1]}), r"lacks column\(s\) \['rating'\]"),
    (_log([]), "is empty"),
    (_log([(1, 1, "four", T0)]), r"ratings\['rating'\] must be numeric"),
])
def test_bad_input_is_refused_clearly(bad, message):
    with pytest.raises(ValueError, match=message):
        find_rating_anomalies(bad)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"rating_range": (5, 1)}, ValueError, "low < high"),
    ({"time_range": ("1999-01-01", "1998-01-01")}, ValueError, "run forwards"),
    ({"time_range": ("not a date", None)}, ValueError, "time_range bounds"),
    ({"bot_min_ratings": 0}, ValueError, "bot_min_ratings must be an integer >= 1"),
    ({"bot_min_ratings": 2.5}, TypeError, "bot_min_ratings must be an integer"),
    ({"bot_min_per_minute": 0}, ValueError, "bot_min_per_minute must be a number > 0"),
    ({"bot_min_same_share": 1.5}, ValueError, "bot_min_same_share must be a number > 0 and <= 1"),
])
def test_bad_parameters_are_refused_clearly(kwargs, error, message):
    with pytest.raises(error, match=message):
        find_rating_anomalies(_log([(1, 1, 4.0, T0)]), **kwargs)


def test_centerer_fits_on_train_and_falls_back_to_the_global_mean():
    train = _log([(1, 1, 4.0, T0), (1, 2, 2.0, T0), (2, 1, 5.0, T0)])
    test = _log([(1, 3, 5.0, T0), (3, 1, 1.0, T0)])
    centerer = UserMeanCenterer().fit(train)
    assert centerer.user_means_.to_dict() == {1: 3.0, 2: 5.0}
    assert centerer.global_mean_ == pytest.approx(11 / 3)
    np.testing.assert_allclose(centerer.transform(train)["rating"], [1.0, -1.0, 0.0])
    np.testing.assert_allclose(centerer.transform(test)["rating"], [2.0, 1.0 - 11 / 3], rtol=1e-6)
    assert centerer.transform(test)["rating"].dtype == np.float32
    pd.testing.assert_frame_equal(test, _log([(1, 3, 5.0, T0), (3, 1, 1.0, T0)]))  # input untouched


def test_inverse_transform_round_trips(synthetic):
    centerer = UserMeanCenterer()
    centred = centerer.fit_transform(synthetic)
    back = centerer.inverse_transform(synthetic["user_id"].to_numpy(), centred["rating"].to_numpy())
    np.testing.assert_allclose(back, synthetic["rating"], atol=1e-5)
    np.testing.assert_allclose(centred.groupby("user_id")["rating"].mean(), 0, atol=1e-5)


def test_mean_center_never_looks_at_test_ratings(synthetic):
    train, test = synthetic.iloc[::2], synthetic.iloc[1::2]
    centred_train, centred_test, centerer = mean_center(train, test)
    _, shifted_test, shifted_centerer = mean_center(train, test.assign(rating=test["rating"] + 10))
    pd.testing.assert_series_equal(centerer.user_means_, shifted_centerer.user_means_)
    np.testing.assert_allclose(shifted_test["rating"], centred_test["rating"] + 10, rtol=1e-5)
    assert mean_center(train)[1] is None
    pd.testing.assert_frame_equal(mean_center(train)[0], centred_train)


def test_centerer_refuses_bad_use():
    with pytest.raises(NotFittedError, match="not fitted"):
        UserMeanCenterer().transform(_log([(1, 1, 4.0, T0)]))
    with pytest.raises(NotFittedError, match="not fitted"):
        UserMeanCenterer().inverse_transform([1], [0.5])
    with pytest.raises(TypeError, match="DataFrame"):
        UserMeanCenterer().fit([(1, 4.0)])
    with pytest.raises(ValueError, match="must be numeric"):
        UserMeanCenterer().fit(_log([(1, 1, 4.0, T0)]).astype({"rating": str}))
    with pytest.raises(ValueError, match="missing user_id or rating"):
        UserMeanCenterer().fit(_log([(1, 1, np.nan, T0)]))
    with pytest.raises(ValueError, match="lacks column"):
        UserMeanCenterer().fit(pd.DataFrame({"user_id": [1]}))
    centerer = UserMeanCenterer().fit(_log([(1, 1, 4.0, T0)]))
    with pytest.raises(ValueError, match="must pair up"):
        centerer.inverse_transform([1, 1], [0.5])
