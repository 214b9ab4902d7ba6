"""Fixtures for the unit tests: no network, tiny data sets in each GroupLens layout, and the
course website built once per session (for the site and browser tests)."""

import importlib.util
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _block_the_network(monkeypatch):
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in {"localhost", "::1"} or self.family == socket.AF_UNIX):
            return real_connect(self, address)
        raise RuntimeError(f"a test tried to reach the network ({address})")

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to reach another host fails loudly: the tests run offline."""
    _block_the_network(monkeypatch)


@pytest.fixture(scope="session")
def site_builder():
    """``website/build.py``, the README's site command, as a module."""
    spec = importlib.util.spec_from_file_location("course_site_build", ROOT / "website" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def built_site(site_builder, tmp_path_factory) -> Path:
    """The course website, built offline (as every test runs) into a temporary folder."""
    with pytest.MonkeyPatch.context() as monkeypatch:  # session fixtures start before no_network
        _block_the_network(monkeypatch)
        return site_builder.build(tmp_path_factory.mktemp("site") / "html")


ML100K_ITEMS = (
    "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|Amélie (2001)|01-Jan-2001||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0|0|0|0\n"
    "3|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
)


@pytest.fixture
def ml100k_dir(tmp_path) -> Path:
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t878542960\n2\t3\t1\t876893119\n")
    (folder / "u.item").write_bytes(ML100K_ITEMS.encode("iso-8859-1"))
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    return folder


@pytest.fixture
def ml1m_dir(tmp_path) -> Path:
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
    (folder / "movies.dat").write_bytes(
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
        "3::Les Misérables (1995)::Drama|Musical\n".encode("iso-8859-1"))
    (folder / "users.dat").write_text("1::F::1::10::48067\n2::M::56::16::70072\n")
    return folder


@pytest.fixture
def ml_latest_dir(tmp_path) -> Path:
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,1,2.5,964982224\n")
    (folder / "movies.csv").write_text(
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n'
        '3,"Grumpier Old Men, The (1995)",(no genres listed)\n', encoding="utf-8")
    return folder
