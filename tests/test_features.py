import numpy as np
import pandas as pd
import pytest

from rec_utils.data.features import SECONDS_PER_DAY, context_features, cross_genre_affinity, cross_genre_rating, item_features, point_in_time_features, shrunk_mean, user_features
from rec_utils.data.synthetic import generate_movielens_like

DAY = SECONDS_PER_DAY


@pytest.fixture
def toy():
    """Two users, three items; user 1 rates twice at the same second, then a day later."""
    ratings = pd.DataFrame({
        "user_id": [1, 1, 1, 2, 2],
        "item_id": [10, 20, 30, 10, 30],
        "rating": np.array([4, 2, 5, 3, 1], dtype=np.float32),
        "timestamp": [0, 0, DAY, DAY, 3 * DAY],
    })
    items = pd.DataFrame({"item_id": [10, 20, 30, 40], "title": ["a", "b", "c", "d"],
                          "year": pd.array([1990, 1995, None, 1997], dtype="Int16"),
                          "genres": ["Drama", "Comedy|Drama", "Comedy", "Action"]})
    genres = pd.DataFrame({"Comedy": [0, 1, 1, 0], "Drama": [1, 1, 0, 0]}, index=pd.Index([10, 20, 30, 40], name="item_id"))
    return ratings, items, genres


@pytest.fixture(scope="module")
def synthetic():
    return generate_movielens_like(n_users=80, n_items=150, mean_ratings_per_user=30, seed=5)


def test_user_features_by_hand(toy):
    ratings, _, genres = toy
    table = user_features(ratings, genre_matrix=genres)
    one = table.loc[1]
    assert one["user_activity"] == 3
    assert one["user_mean_rating"] == pytest.approx(11 / 3)
    assert one["user_rating_var"] == pytest.approx(np.var([4, 2, 5]))
    assert one["user_recency_days"] == pytest.approx(2.0)  # last rating on day 1, data end on day 3
    assert one["user_frequency"] == pytest.approx(3 / 2)  # 3 ratings over 1 + 1 days
    assert one["affinity_Comedy"] == pytest.approx(2 / 3) and one["affinity_Drama"] == pytest.approx(2 / 3)
    assert one["genre_mean_Comedy"] == pytest.approx(3.5) and one["genre_mean_Drama"] == pytest.approx(3.0)
    two = table.loc[2]
    assert two["genre_mean_Drama"] == 3.0 and two["genre_mean_Comedy"] == 1.0
    assert two["user_recency_days"] == 0.0


def test_user_features_as_of_is_strict(toy):
    ratings, _, _ = toy
    table = user_features(ratings, as_of=DAY)  # the ratings at DAY are not yet seen
    assert list(table.index) == [1]
    assert table.loc[1, "user_activity"] == 2
    assert table.loc[1, "user_recency_days"] == pytest.approx(1.0)
    assert table.loc[1, "user_frequency"] == pytest.approx(2.0)
    assert user_features(ratings, as_of=0).empty


def test_shrunk_mean():
    assert shrunk_mean(10.0, 2, 3.5, 2) == pytest.approx((2 * 5 + 2 * 3.5) / 4)
    assert shrunk_mean(0.0, 0, 3.5, 5) == 3.5
    assert shrunk_mean(9.0, 3, np.nan, 0) == 3.0  # m = 0: the raw mean, even without a prior
    np.testing.assert_allclose(shrunk_mean([5.0, 500.0], [1, 100], 3.0, 10), [(5 + 30) / 11, (500 + 30) / 110])


def test_item_features_by_hand(toy):
    ratings, items, _ = toy
    table = item_features(ratings, items, prior_strength=2)
    global_mean = 15 / 5
    assert table.loc[10, "item_popularity"] == 2
    assert table.loc[10, "item_mean_rating"] == pytest.approx(3.5)
    assert table.loc[10, "item_shrunk_mean"] == pytest.approx((7 + 2 * global_mean) / 4)
    assert table.loc[40, "item_popularity"] == 0 and np.isnan(table.loc[40, "item_mean_rating"])
    assert table.loc[40, "item_shrunk_mean"] == pytest.approx(global_mean)
    assert table.loc[10, "item_age_years"] == 1970 - 1990  # the data end in 1970 (Unix time)
    assert np.isnan(table.loc[30, "item_age_years"])
    assert list(table.filter(like="genre_").columns) == ["genre_Action", "genre_Comedy", "genre_Drama"]
    assert table.loc[20, ["genre_Comedy", "genre_Drama"]].tolist() == [1, 1]
    raw = item_features(ratings, items, prior_strength=0)
    rated = raw["item_popularity"] > 0
    np.testing.assert_allclose(raw.loc[rated, "item_shrunk_mean"], raw.loc[rated, "item_mean_rating"])


def test_item_features_as_of(toy):
    ratings, items, _ = toy
    table = item_features(ratings, items, as_of=DAY, prior_strength=1)
    assert table["item_popularity"].tolist() == [1, 1, 0, 0]
    assert table.loc[30, "item_shrunk_mean"] == pytest.approx(3.0)  # global mean of the two earlier ratings


def test_without_timestamps_the_as_of_tables_leave_out_the_time_columns(toy):
    ratings, items, genres = toy
    timeless = ratings.drop(columns="timestamp")
    users = user_features(timeless, genre_matrix=genres)
    with_time = user_features(ratings, genre_matrix=genres)
    assert "user_recency_days" not in users and "user_frequency" not in users
    pd.testing.assert_frame_equal(users, with_time.drop(columns=["user_recency_days", "user_frequency"]))
    table = item_features(timeless, items, prior_strength=2)
    assert "item_age_years" not in table
    pd.testing.assert_frame_equal(table, item_features(ratings, items, prior_strength=2).drop(columns="item_age_years"))
    with pytest.raises(ValueError, match="lacks column"):
        user_features(timeless, as_of=DAY)  # "before" needs time
    with pytest.raises(ValueError, match="lacks column"):
        point_in_time_features(timeless)


def test_item_features_take_any_genres_and_any_scale(toy):
    ratings, items, genres = toy
    half_stars = ratings.assign(rating=ratings["rating"] - 0.5)  # 0.5 to 5 in half stars
    own_genres = items.assign(genres=["Zydeco|anime", "anime", "", "Noir"])
    table = item_features(half_stars, own_genres, prior_strength=0)
    assert list(table.filter(like="genre_").columns) == ["genre_anime", "genre_Noir", "genre_Zydeco"]
    assert table.loc[10, "item_mean_rating"] == pytest.approx(3.0)  # (3.5 + 2.5) / 2: item 10 by users 1 and 2
    no_genres = item_features(ratings, items.assign(genres=""))
    assert no_genres.filter(like="genre_").shape[1] == 0
    given = item_features(ratings, items, genre_matrix=genres[["Drama", "Comedy"]])
    assert list(given.filter(like="genre_").columns) == ["genre_Drama", "genre_Comedy"]
    assert given.loc[20, ["genre_Drama", "genre_Comedy"]].tolist() == [1, 1]
    with pytest.raises(ValueError, match="genre_matrix lacks"):
        item_features(ratings, items, genre_matrix=genres.drop(index=40))


def test_point_in_time_in_float32_is_the_float64_result_rounded(synthetic):
    ratings, genres = synthetic.ratings, synthetic.genre_matrix()
    full = point_in_time_features(ratings, genre_matrix=genres, items=synthetic.items)
    compact = point_in_time_features(ratings, genre_matrix=genres, items=synthetic.items, dtype=np.float32)
    floats = [c for c in full.columns if full[c].dtype.kind == "f"]
    assert all(compact[c].dtype == np.float32 for c in floats)
    assert compact["user_activity"].dtype == np.int64 and compact["item_popularity"].dtype == np.int64
    pd.testing.assert_frame_equal(compact, full.astype({c: np.float32 for c in floats}), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="floating-point dtype"):
        point_in_time_features(ratings, dtype=np.int32)


def test_context_features():
    sunday_2330 = 3 * DAY + 23 * 3600 + 1800  # 1970-01-04 was a Sunday
    table = context_features(pd.Series([0, sunday_2330], index=[7, 8]))
    assert list(table.index) == [7, 8]
    assert table["hour"].tolist() == [0, 23] and table["weekday"].tolist() == [3, 6]
    assert table["is_weekend"].tolist() == [0, 1]
    np.testing.assert_allclose(table["hour_sin"] ** 2 + table["hour_cos"] ** 2, 1.0)
    np.testing.assert_allclose(table.loc[8, ["hour_sin", "hour_cos"]].astype(float),
                               [np.sin(2 * np.pi * 23 / 24), np.cos(2 * np.pi * 23 / 24)])


def test_cross_features():
    assert cross_genre_affinity([[0.2, 0.6]], [[0, 0]]).tolist() == [0.0]
    assert np.isnan(cross_genre_affinity([[np.nan, np.nan]], [[1, 0]])[0])
    assert cross_genre_rating([[0.5, 0.5]], [[4.0, 2.0]], [[1, 1]]).tolist() == [3.0]
    assert np.isnan(cross_genre_rating([[0.0, 1.0]], [[np.nan, 2.0]], [[1, 0]])[0])  # never rated that genre


def test_point_in_time_by_hand(toy):
    ratings, items, genres = toy
    pit = point_in_time_features(ratings, genres, items, prior_strength=1)
    assert pit["user_activity"].tolist() == [0, 0, 2, 0, 1]  # rows 0 and 1 share a second
    np.testing.assert_allclose(pit["user_mean_rating"], [np.nan, np.nan, 3.0, np.nan, 3.0])
    np.testing.assert_allclose(pit["user_rating_var"], [np.nan, np.nan, 1.0, np.nan, 0.0])
    np.testing.assert_allclose(pit["user_recency_days"], [np.nan, np.nan, 1.0, np.nan, 2.0])
    assert pit["item_popularity"].tolist() == [0, 0, 0, 1, 1]
    # row 2 (item 30 at DAY): no earlier rating of item 30, prior = mean of the two ratings at 0
    assert pit.loc[2, "item_shrunk_mean"] == pytest.approx(3.0)
    # row 4 (item 30 at 3 DAY): one earlier rating (5), prior = mean(4, 2, 5, 3) = 3.5
    assert pit.loc[4, "item_shrunk_mean"] == pytest.approx((5 + 3.5) / 2)
    assert np.isnan(pit.loc[0, "item_shrunk_mean"])  # nothing at all before the first second
    # row 2: user 1 rated Drama (4), Comedy|Drama (2) -> item 30 is Comedy: mean 2, user mean 3
    assert pit.loc[2, "user_item_genre_affinity"] == pytest.approx(0.5)
    assert pit.loc[2, "user_item_genre_rating_gap"] == pytest.approx(2 - 3)
    assert pit.loc[3, "item_age_years"] == 1970 - 1990


def test_point_in_time_never_sees_the_future(synthetic):
    ratings = synthetic.ratings
    genres = synthetic.genre_matrix()
    before = point_in_time_features(ratings, genres, synthetic.items)
    cut = int(ratings["timestamp"].quantile(0.6))
    changed = ratings.copy()
    later = changed["timestamp"] >= cut
    changed.loc[later, "rating"] = 6 - changed.loc[later, "rating"]  # rewrite the future (and the present)
    after = point_in_time_features(changed, genres, synthetic.items)
    pd.testing.assert_frame_equal(before[~later], after[~later])
    at_cut = changed["timestamp"] == cut
    pd.testing.assert_frame_equal(before[at_cut], after[at_cut])  # nor its own label, nor same-second ones


def test_point_in_time_matches_as_of_tables(synthetic):
    ratings, items, genres = synthetic.ratings, synthetic.items, synthetic.genre_matrix()
    pit = point_in_time_features(ratings, genres, items, prior_strength=7)
    for row in np.random.default_rng(0).choice(len(ratings), 15, replace=False):
        user, item, when = ratings.loc[row, ["user_id", "item_id", "timestamp"]]
        users = user_features(ratings, as_of=when, genre_matrix=genres)
        item_table = item_features(ratings, items, as_of=when, prior_strength=7)
        for column in users.columns:
            expected = users.loc[user, column] if user in users.index else (0 if column == "user_activity" else np.nan)
            np.testing.assert_allclose(pit.loc[row, column], expected, rtol=1e-9, atol=1e-12, err_msg=column)
        for column in ("item_popularity", "item_mean_rating", "item_shrunk_mean", "item_age_years"):
            np.testing.assert_allclose(pit.loc[row, column], item_table.loc[item, column], rtol=1e-9, err_msg=column)


def test_point_in_time_ignores_row_order(synthetic):
    ratings = synthetic.ratings
    shuffled = ratings.sample(frac=1.0, random_state=1)
    a = point_in_time_features(ratings, synthetic.genre_matrix())
    b = point_in_time_features(shuffled, synthetic.genre_matrix())
    pd.testing.assert_frame_equal(a, b.loc[a.index])


@pytest.mark.parametrize("call, error, message", [
    (lambda r, i, g: user_features(r.drop(columns="timestamp"), as_of=DAY), ValueError, "lacks column"),
    (lambda r, i, g: user_features(r.drop(columns="rating")), ValueError, "lacks column"),
    (lambda r, i, g: user_features(r.to_numpy()), TypeError, "ratings must be a pandas DataFrame"),
    (lambda r, i, g: user_features(r.iloc[:0]), ValueError, "is empty"),
    (lambda r, i, g: user_features(r, as_of="1998-01-01"), TypeError, "as_of must be a number"),
    (lambda r, i, g: user_features(r, as_of=np.nan), ValueError, "as_of must be a finite number"),
    (lambda r, i, g: user_features(r.assign(rating="4")), ValueError, "must be numeric"),
    (lambda r, i, g: user_features(r, genre_matrix=g.drop(index=30)), ValueError, "genre_matrix lacks 1 rated item"),
    (lambda r, i, g: user_features(r, genre_matrix=g.to_numpy()), TypeError, "genre_matrix must be a pandas DataFrame"),
    (lambda r, i, g: item_features(r, i, prior_strength=-1), ValueError, "prior_strength must be"),
    (lambda r, i, g: item_features(r, i, prior_strength="10"), TypeError, "prior_strength must be"),
    (lambda r, i, g: item_features(r, i.drop(columns="year")), ValueError, "items lacks column"),
    (lambda r, i, g: item_features(r, i.to_dict()), TypeError, "items must be a pandas DataFrame"),
    (lambda r, i, g: item_features(r, i[i.item_id != 10]), ValueError, "not in items"),
    (lambda r, i, g: item_features(r, pd.concat([i, i])), ValueError, "duplicate item ids"),
    (lambda r, i, g: point_in_time_features(r, prior_strength=np.inf), ValueError, "prior_strength must be"),
    (lambda r, i, g: context_features([[0, 1]]), ValueError, "1-dimensional"),
    (lambda r, i, g: context_features([0.0, np.nan]), ValueError, "NaN"),
    (lambda r, i, g: context_features(["monday"]), TypeError, "timestamps must be an array of numbers"),
    (lambda r, i, g: cross_genre_affinity([[0.5, 0.5]], [[1, 0, 1]]), ValueError, "same shape"),
    (lambda r, i, g: shrunk_mean(1.0, -1, 3.0), ValueError, "count must be"),
])
def test_bad_input_is_refused_clearly(toy, call, error, message):
    ratings, items, genres = toy
    with pytest.raises(error, match=message):
        call(ratings, items, genres)
