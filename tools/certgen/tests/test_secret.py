"""The TOKEN authorizer's shared secret: made once, kept, private; `--token-secret` in the CLI."""

import os
import stat
from pathlib import Path

import pytest
from certgen.cli import main
from certgen.secret import SECRET_MODE, SecretOwners, ensure_token_secret, read_token


def test_made_once_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "authorizer" / "token"

    assert ensure_token_secret(path) == "created"
    token = read_token(path)
    mtime = path.stat().st_mtime_ns
    assert ensure_token_secret(path) == "kept"

    assert read_token(path) == token and path.stat().st_mtime_ns == mtime
    assert len(token) == 43 and token.replace("-", "").replace("_", "").isalnum()
    assert stat.S_IMODE(path.stat().st_mode) == SECRET_MODE  # never readable by others
    assert path.read_text() == token + "\n"


def test_a_new_one_each_time_it_is_made(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "token", tmp_path / "b" / "token"
    ensure_token_secret(first)
    ensure_token_secret(second)
    assert read_token(first) != read_token(second)


def test_one_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("given\n")
    path.chmod(0o644)
    assert ensure_token_secret(path) == "kept"
    assert stat.S_IMODE(path.stat().st_mode) == SECRET_MODE
    assert read_token(path) == "given"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away")
def test_as_root_the_function_group_may_read_it(tmp_path: Path) -> None:
    path = tmp_path / "authorizer" / "token"
    ensure_token_secret(path, SecretOwners(owner_uid=1234, reader_gid=10001))
    for target in (path, path.parent):
        assert (target.stat().st_uid, target.stat().st_gid) == (1234, 10001)


def test_the_cli_makes_it_with_the_certificates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, secret = tmp_path / "certs", tmp_path / "certs" / "authorizer" / "token"
    assert main(["--out", str(out), "--token-secret", str(secret)]) == 0
    assert f"created: {secret}" in capsys.readouterr().out.splitlines()
    token = read_token(secret)

    assert main(["--out", str(out), "--token-secret", str(secret)]) == 0
    assert capsys.readouterr().out == f"kept: 15 existing files in {out}\n"
    assert read_token(secret) == token


def test_without_the_option_no_secret(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path / "certs")]) == 0
    assert not (tmp_path / "certs" / "authorizer").exists()
