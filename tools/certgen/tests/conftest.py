import datetime as dt
import shutil
from pathlib import Path

import pytest
from certgen import Settings, ensure_certificates

NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full run, made once: tests that only read share it, tests that modify copy it."""
    out = tmp_path_factory.mktemp("pristine") / "certs"
    ensure_certificates(Settings(out=out, chown=False), now=NOW)
    return out


@pytest.fixture
def certs(pristine: Path, tmp_path: Path) -> Path:
    out = tmp_path / "certs"
    shutil.copytree(pristine, out)
    return out


@pytest.fixture
def now() -> dt.datetime:
    return NOW


def _snapshot(out: Path) -> dict[str, tuple[bytes, int, int, int, int]]:
    """Bytes, mtime, mode and owner of every file: what "nothing changed" means."""
    result = {}
    for p in sorted(out.iterdir()):
        st = p.stat()
        result[p.name] = (p.read_bytes(), st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid)
    return result


@pytest.fixture
def snapshot():
    return _snapshot
