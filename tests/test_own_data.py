"""A learner's own data, what a data set says it holds, and the data set name check."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rec_utils.data import datasets
from rec_utils.data import RatingScale
from rec_utils.data.datasets import load_dataset, read_ratings_file, resolve_dataset
from rec_utils.data.synthetic import load_synthetic


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- capabilities

def test_ml100k_like_synthetic_has_everything_but_tags():
    caps = load_synthetic("synthetic", quick=True).capabilities
    assert caps.demographics == ("age", "gender", "occupation", "zip")
    assert caps.timestamps and caps.titles and caps.years and caps.genres and not caps.tags
    assert caps.rating_scale == RatingScale(1.0, 5.0, 1.0)


def test_catalogue_heavy_shape_lacks_demographics_and_uses_half_stars():
    data = load_synthetic("synthetic-latest-small", quick=True)
    assert data.users is None and not data.has("demographics") and data.has("timestamps", "genres")
    assert str(data.rating_scale) == "0.5–5 in steps of 0.5" and data.rating_scale.like_threshold == 4.0
    assert set(data.ratings["rating"].unique()) <= set(data.rating_scale.values())


def test_capability_table_and_unknown_capability():
    data = load_synthetic("synthetic-latest-small", quick=True)
    table = data.capabilities.table()
    assert table.loc["demographics", "present"] == False  # noqa: E712 (a numpy bool)
    assert "0.5–5" in table.loc["ratings", "meaning"]
    with pytest.raises(ValueError, match="unknown capability 'age'.*demographics"):
        data.has("age")


def test_supports_prints_exactly_one_line_when_skipping(capsys):
    data = load_synthetic("synthetic-latest-small", quick=True)
    assert data.supports("timestamps", section="the weekly plot")
    assert capsys.readouterr().out == ""
    assert not data.supports("demographics", "timestamps", section="the age plot")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["Skipped: the age plot needs user demographics (age, gender, occupation), "
                     "which synthetic-latest-small does not have."]


@pytest.mark.parametrize("values, expected", [
    ([1, 2, 3, 4, 5], RatingScale(1.0, 5.0, 1.0)),
    ([0.5, 1.5, 5.0], RatingScale(0.5, 5.0, 0.5)),
    ([1, 1, 1], RatingScale.implicit_feedback()),
    ([1, 10], RatingScale(1.0, 10.0, 9.0)),
    ([0.1, 0.25, 0.9137], RatingScale(0.1, 0.9137, None)),
])
def test_rating_scale_inference(values, expected):
    assert RatingScale.infer(values) == expected


def test_like_threshold_is_the_top_quarter_of_the_scale():
    assert RatingScale(1.0, 5.0, 1.0).like_threshold == 4.0
    assert RatingScale(0.5, 5.0, 0.5).like_threshold == 4.0
    assert RatingScale(1.0, 10.0, 1.0).like_threshold == 8.0
    assert RatingScale.implicit_feedback().like_threshold == 1.0


# ---------------------------------------------------------------- your own data

def test_csv_with_string_ids_and_no_timestamp(tmp_path):
    path = _write(tmp_path / "my log.csv", "user,item,rating\nann,The Matrix,5\nbob,The Matrix,3\nann,Heat,4\n")
    data = read_ratings_file(path)
    assert data.name == "my log" and not data.has("timestamps") and "timestamp" not in data.ratings
    assert [str(t) for t in data.ratings.dtypes] == ["int32", "int32", "float32"]
    assert data.original("user_id", data.ratings["user_id"]).tolist() == ["ann", "bob", "ann"]
    assert data.original("item_id", data.ratings["item_id"]).tolist() == ["The Matrix", "The Matrix", "Heat"]
    assert not data.has("titles") and not data.has("genres") and not data.has("demographics")
    assert data.rating_scale == RatingScale(3.0, 5.0, 1.0)
    assert sorted(data.items["item_id"]) == [1, 2]


def test_movielens_names_and_integer_ids_are_kept(tmp_path):
    path = _write(tmp_path / "r.csv", "userId,movieId,rating,timestamp\n7,193609,4.5,964982703\n9,1,0.5,964981247\n")
    data = read_ratings_file(path)
    assert data.ratings["item_id"].tolist() == [193609, 1] and data.original_ids is None
    assert data.ratings["timestamp"].tolist() == [964982703, 964981247]


def test_implicit_feedback_without_a_rating_column(tmp_path):
    data = read_ratings_file(_write(tmp_path / "clicks.tsv", "user_id\titem_id\nu1\ti1\nu1\ti2\nu2\ti1\n"))
    assert data.rating_scale.implicit and not data.has("ratings")
    assert data.ratings["rating"].tolist() == [1.0, 1.0, 1.0]


def test_dates_and_milliseconds_become_unix_seconds(tmp_path):
    dates = read_ratings_file(_write(tmp_path / "a.csv", "user_id,item_id,date\n1,1,2024-05-01 12:00\n1,2,2024-05-02\n"))
    assert dates.ratings["timestamp"].tolist() == [1714564800, 1714608000]
    millis = read_ratings_file(_write(tmp_path / "b.csv", "user_id,item_id,ts\n1,1,1714564800123\n"))
    assert millis.ratings["timestamp"].tolist() == [1714564800]


def test_folder_with_items_and_users(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    _write(folder / "ratings.csv", "customer_id,product_id,stars\nc1,p1,2\nc2,p2,5\n")
    _write(folder / "items.csv", "product_id,name,category\np1,Kettle (2019),Kitchen\np2,Lamp,Home|Light\np3,Rug,Home\n")
    _write(folder / "users.csv", "customer_id,age,sex\nc1,34,F\nc2,51,M\n")
    data = load_dataset(folder, quick=False)
    assert data.name == "shop" and data.has("titles", "genres", "demographics") and not data.has("timestamps")
    items = data.items.set_index("item_id")
    assert len(items) == 3 and data.original("item_id", items.index).tolist() == ["p1", "p2", "p3"]
    assert items["genres"].tolist() == ["Kitchen", "Home|Light", "Home"] and items["year"].iloc[0] == 2019
    assert data.users["gender"].tolist() == ["F", "M"] and data.capabilities.demographics == ("age", "gender")


def test_a_path_in_rec_dataset_is_loaded(tmp_path, monkeypatch):
    path = _write(tmp_path / "r.csv", "user_id,item_id\n1,2\n")
    monkeypatch.setenv("REC_DATASET", str(path))
    assert resolve_dataset() == ("path", path)
    assert load_dataset(quick=False).name == "r"


@pytest.mark.parametrize("content, message", [
    ("user,rating\n1,4\n", r"missing 'item_id'.*Accepted names.*item_id: item_id, movieId"),
    ("user_id,item_id,comment\n1,2,great\n", r"not understood: 'comment'"),
    ("userId,user_id,item_id\n1,1,2\n", r"all mean 'user_id'"),
    ("user_id,item_id,rating\n1,2,five\n", r"1 row\(s\) have a rating that is not a number \(e.g. row 2: 'five'\)"),
    ("user_id,item_id\n1,\n", r"empty id"),
    ("user_id,item_id,timestamp\n1,2,yesterday-ish\n", r"neither Unix seconds nor dates"),
    ("", r"is empty"),
    ("user_id,item_id\n", r"no rows"),
])
def test_bad_files_get_errors_that_name_the_problem(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        read_ratings_file(_write(tmp_path / "bad.csv", content))


def test_a_folder_without_ratings_csv_is_refused(tmp_path):
    with pytest.raises(ValueError, match="without ratings.csv"):
        read_ratings_file(tmp_path)


# ---------------------------------------------------------------- the name check

def test_a_typo_lists_every_valid_value_and_says_where_it_came_from(monkeypatch):
    monkeypatch.setenv("REC_DATASET", "ml100k")
    with pytest.raises(ValueError) as info:
        resolve_dataset()
    message = str(info.value)
    assert "from the environment variable REC_DATASET" in message and "Did you mean 'ml-100k'?" in message
    for name in ["ml-100k", "ml-1m", "ml-latest-small", "synthetic", "synthetic-latest-small", "synthetic-1m"]:
        assert name in message
    assert "a path to a CSV file" in message
    with pytest.raises(ValueError, match=r"'movielens' \(passed to load_dataset\(\)\)"):
        load_dataset("movielens")


def test_a_missing_path_is_named(tmp_path):
    with pytest.raises(ValueError, match="looks like a path, but there is no such file"):
        load_dataset(str(tmp_path / "nope.csv"))


def test_the_fetch_command_prints_a_plain_message(tmp_path):
    env = {"REC_OFFLINE": "1", "REC_CACHE_DIR": str(tmp_path), "PATH": "", "PYTHONPATH": ":".join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "rec_utils.data.datasets", "fetch", "ml-1m"], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ml-1m is not on disk and REC_OFFLINE=1 forbids downloading it")
    wrong = subprocess.run([sys.executable, "-m", "rec_utils.data.datasets", "fetch", "ml-7k"], env=env,
                           capture_output=True, text=True, cwd=tmp_path)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr and "ml-100k" in wrong.stderr


def test_offline_fallback_uses_the_stand_in_of_the_same_shape(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("REC_OFFLINE", "1")
    monkeypatch.setenv("REC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("REC_DATA_DIR", raising=False)
    monkeypatch.setattr(datasets, "_repo_data_dir", lambda: None)
    data = load_dataset("ml-latest-small", quick=True)
    assert data.name == "synthetic-latest-small" and data.users is None
    assert "using the synthetic stand-in 'synthetic-latest-small'" in capsys.readouterr().out


# ---------------------------------------------------------------- the synthetic shapes

def test_the_shapes_are_seeded_and_differ():
    a, b = load_synthetic("synthetic-1m", quick=True, seed=3), load_synthetic("synthetic-1m", quick=True, seed=3)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    assert a.users is not None and a.name == "synthetic-1m"
    assert str(a.rating_scale) == "1–5 in steps of 1"


@pytest.mark.slow
def test_the_full_shapes_imitate_their_releases():
    heavy = load_synthetic("synthetic-latest-small")
    counts = heavy.ratings["item_id"].value_counts()
    assert 550 <= heavy.n_users <= 650 and 8_000 <= heavy.n_items <= 12_000
    assert 0.28 <= (counts == 1).mean() <= 0.42  # about a third of the items are rated once
    assert 90_000 <= len(heavy.ratings) <= 110_000 and heavy.ratings.groupby("user_id").size().max() >= 1_500
    assert np.diff(np.sort(heavy.items["item_id"])).max() > 1  # ids with gaps, as in movies.csv
    big = load_synthetic("synthetic-1m")
    assert big.n_users == 6_040 and 3_600 <= big.n_items <= 3_706 and 0.9e6 <= len(big.ratings) <= 1.1e6
    assert big.users is not None and big.ratings.groupby("user_id").size().min() >= 20
