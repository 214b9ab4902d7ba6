import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_utils.data import datasets
from rec_utils.data.datasets import ChecksumError, DataUnavailableError, Variant, fetch_movielens, load_dataset, read_movielens, safe_extract

SCHEMA = ["user_id", "item_id", "rating", "timestamp"]
REAL = Path(os.environ.get("REC_TEST_REAL_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _check_schema(data):
    assert list(data.ratings.columns) == SCHEMA
    assert [str(t) for t in data.ratings.dtypes] == ["int32", "int32", "float32", "int64"]
    assert {"item_id", "title", "year", "genres"} <= set(data.items.columns)


def test_ml100k_format(ml100k_dir):
    data = read_movielens(ml100k_dir)
    _check_schema(data)
    assert len(data.ratings) == 4 and data.n_users == 2 and data.n_items == 3
    items = data.items.set_index("item_id")
    assert items.loc[2, "title"] == "Amélie (2001)"  # ISO-8859-1 decoded
    assert items.loc[1, "genres"] == "Animation|Children's|Comedy"
    assert items.loc[1, "year"] == 1995 and pd.isna(items.loc[3, "year"])
    assert list(data.users.columns) == ["user_id", "age", "gender", "occupation", "zip"]
    assert data.users.set_index("user_id").loc[2, "occupation"] == "other"
    assert data.genre_matrix().loc[2, "Romance"] == 1


def test_ml1m_format(ml1m_dir):
    data = read_movielens(ml1m_dir)
    _check_schema(data)
    assert data.ratings["rating"].tolist() == [5.0, 3.0, 4.0]
    items = data.items.set_index("item_id")
    assert items.loc[3, "title"] == "Les Misérables (1995)"
    assert items.loc[661, "genres"] == "Animation|Children's|Musical"
    users = data.users.set_index("user_id")
    assert users.loc[1, "occupation"] == "K-12 student" and users.loc[2, "occupation"] == "self-employed"
    assert users.loc[2, "age"] == 56


def test_ml_latest_format(ml_latest_dir):
    data = read_movielens(ml_latest_dir)
    _check_schema(data)
    assert data.ratings["rating"].tolist() == [4.0, 4.5, 2.5]
    assert data.users is None
    items = data.items.set_index("item_id")
    assert items.loc[3, "title"] == "Grumpier Old Men, The (1995)" and items.loc[3, "genres"] == ""
    assert items.loc[3, "year"] == 1995


def test_incomplete_folder_says_what_is_missing(ml100k_dir):
    (ml100k_dir / "u.user").unlink()
    with pytest.raises(DataUnavailableError, match="missing.*u.user"):
        read_movielens(ml100k_dir)


def test_malformed_file_raises_value_error(ml1m_dir):
    (ml1m_dir / "ratings.dat").write_text("1::x::5::978300760\n")
    with pytest.raises(ValueError, match="format"):
        read_movielens(ml1m_dir)


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown MovieLens variant"):
        datasets.find_local("ml-7k")


def test_search_order_prefers_rec_data_dir(ml100k_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("REC_DATA_DIR", str(ml100k_dir.parent))
    monkeypatch.setenv("REC_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert datasets.find_local("ml-100k") == ml100k_dir


def test_real_ml100k_loads_exactly(monkeypatch):
    if not (REAL / "ml-100k" / "u.data").exists():
        pytest.skip("the development copy of ML-100K is not beside this checkout")
    monkeypatch.setenv("REC_DATA_DIR", str(REAL))
    data = datasets.load_movielens("ml-100k", download=False)
    assert (len(data.ratings), data.n_users, data.n_items) == (100_000, 943, 1_682)
    assert len(data.items) == 1_682 and len(data.users) == 943
    assert data.ratings["rating"].between(1, 5).all()
    assert len(data.genres) == 19 and data.items["genres"].str.len().gt(0).all()
    assert set(data.users["gender"]) == {"M", "F"}


# ---------------------------------------------------------------- downloads

def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


class _Response(io.BytesIO):
    def __init__(self, payload: bytes, fail_after: int | None = None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after = fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection dropped mid-transfer")
        return super().read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def fake_grouplens(monkeypatch, ml100k_dir):
    """Serve a small ml-100k.zip and pin its checksums, as the real variant does."""
    files = {name: (ml100k_dir / name).read_bytes() for name in ("u.data", "u.item", "u.user")}
    payload = _zip_bytes({f"ml-100k/{n}": c for n, c in files.items()})
    variant = Variant("ml-100k", ("u.data", "u.item", "u.user"),
                      ("sha1", hashlib.sha1(payload).hexdigest()),
                      {"u.data": hashlib.sha256(files["u.data"]).hexdigest()})
    monkeypatch.setitem(datasets.VARIANTS, "ml-100k", variant)
    monkeypatch.delenv("REC_OFFLINE", raising=False)
    state = {"payload": payload, "fail_after": None, "calls": 0}

    def urlopen(request, timeout=None):
        state["calls"] += 1
        return _Response(state["payload"], state["fail_after"])

    monkeypatch.setattr(datasets.urllib.request, "urlopen", urlopen)
    return state


def test_fetch_verifies_and_extracts(fake_grouplens, tmp_path):
    folder = fetch_movielens("ml-100k", tmp_path / "store")
    assert folder == tmp_path / "store" / "ml-100k"
    assert len(read_movielens(folder).ratings) == 4
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["ml-100k"]  # no leftovers


def test_checksum_mismatch_keeps_nothing(fake_grouplens, tmp_path):
    fake_grouplens["payload"] = _zip_bytes({"ml-100k/u.data": b"tampered"})
    with pytest.raises(ChecksumError, match="sha1"):
        fetch_movielens("ml-100k", tmp_path / "store")
    assert list((tmp_path / "store").iterdir()) == []


def test_extracted_file_difference_is_said_plainly(fake_grouplens, monkeypatch, tmp_path, capsys):
    variant = datasets.VARIANTS["ml-100k"]
    monkeypatch.setitem(datasets.VARIANTS, "ml-100k",
                        Variant(variant.name, variant.required, variant.archive_hash, {"u.data": "0" * 64}))
    folder = fetch_movielens("ml-100k", tmp_path / "store")
    assert "u.data differ" in capsys.readouterr().out
    assert (folder / "u.data").is_file()


def test_rated_item_missing_from_item_file_gets_a_row(ml100k_dir):
    with open(ml100k_dir / "u.data", "a") as fh:
        fh.write("2\t9\t2\t876893120\n")
    items = read_movielens(ml100k_dir).items.set_index("item_id")
    assert items.loc[9, "title"] == "unknown" and items.loc[9, "genres"] == "unknown"


def test_interrupted_download_leaves_no_partial_file(fake_grouplens, tmp_path):
    fake_grouplens["fail_after"] = 100
    with pytest.raises(DataUnavailableError, match="could not download"):
        fetch_movielens("ml-100k", tmp_path / "store")
    assert list((tmp_path / "store").iterdir()) == []


def test_offline_refuses_to_download(fake_grouplens, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_OFFLINE", "1")
    with pytest.raises(DataUnavailableError, match="REC_OFFLINE=1"):
        fetch_movielens("ml-100k", tmp_path / "store")
    assert fake_grouplens["calls"] == 0


@pytest.mark.parametrize("member", ["../evil.txt", "ml-100k/../../evil.txt", "/abs/evil.txt"])
def test_archive_escaping_target_is_refused(tmp_path, member):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip_bytes({"ml-100k/u.data": b"1\t1\t5\t0\n", member: b"x"}))
    with pytest.raises(ValueError, match="outside"):
        safe_extract(archive, tmp_path / "target")
    assert not (tmp_path / "target").exists() and not (tmp_path / "evil.txt").exists()


def test_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("ml-100k/u.data")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ValueError, match="link"):
        safe_extract(archive, tmp_path / "target")


# ---------------------------------------------------------------- load_dataset

def test_load_dataset_falls_back_to_synthetic_with_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("REC_OFFLINE", "1")
    monkeypatch.setenv("REC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("REC_DATA_DIR", raising=False)
    monkeypatch.setattr(datasets, "_repo_data_dir", lambda: None)
    data = load_dataset("ml-100k", quick=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "using the synthetic stand-in" in lines[0]
    assert data.name == "synthetic" and data.quick


def test_load_dataset_reads_env_and_quick_shrinks(ml100k_dir, monkeypatch):
    monkeypatch.setenv("REC_DATASET", "ml-100k")
    monkeypatch.setenv("REC_DATA_DIR", str(ml100k_dir.parent))
    monkeypatch.setattr(datasets, "QUICK_USERS", 1)
    data = load_dataset(quick=True)
    assert data.name == "ml-100k" and data.quick and data.n_users == 1
    assert set(data.items["item_id"]) == set(data.ratings["item_id"])


def test_quick_synthetic_is_small_and_deterministic():
    a = load_dataset("synthetic", quick=True, verbose=False)
    b = load_dataset("synthetic", quick=True, verbose=False)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    assert a.n_users == 200 and len(a.ratings) < 15_000
    assert np.isfinite(a.summary()["density"])


def test_canonical_fold(ml100k_dir):
    (ml100k_dir / "u1.base").write_text("1\t1\t5\t874965758\n2\t1\t4\t878542960\n")
    (ml100k_dir / "u1.test").write_text("1\t2\t3\t876893171\n")
    train, test = datasets.canonical_fold(read_movielens(ml100k_dir), 1)
    assert len(train) == 2 and test["item_id"].tolist() == [2] and list(test.columns) == SCHEMA
    with pytest.raises(ValueError, match="only for the full real ML-100K"):
        datasets.canonical_fold(load_dataset("synthetic", quick=True, verbose=False), 1)
    with pytest.raises(ValueError, match="fold must be an integer >= 1 and <= 5"):
        datasets.canonical_fold(read_movielens(ml100k_dir), 6)
    with pytest.raises(TypeError, match="fold must be an integer"):
        datasets.canonical_fold(read_movielens(ml100k_dir), "1")


def test_command_line_where_and_fetch(ml100k_dir, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("REC_DATA_DIR", str(ml100k_dir.parent))
    assert datasets._main(["where", "ml-100k"]) == 0
    assert str(ml100k_dir) in capsys.readouterr().out
    assert datasets._main(["fetch", "ml-100k"]) == 0  # already on disk: nothing downloaded
    assert "4 ratings" in capsys.readouterr().out
    monkeypatch.setenv("REC_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(datasets, "_repo_data_dir", lambda: None)
    monkeypatch.setenv("REC_CACHE_DIR", str(tmp_path / "cache"))
    assert datasets._main(["where", "ml-1m"]) == 1
