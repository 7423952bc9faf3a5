"""The TOKEN authorizer's shared secret: made once, kept, private (0600 in a 0700 directory),
rotated in one step; `--token-secret`, `--secret-owner` and `--rotate-token` in the CLI."""

import os
import stat
import threading
from pathlib import Path

import pytest
from certgen.cli import main
from certgen.secret import (
    SECRET_DIR_MODE,
    SECRET_MODE,
    SecretOwner,
    ensure_token_secret,
    read_token,
    rotate_token_secret,
)

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_made_once_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "authorizer-token"

    assert ensure_token_secret(path) == "created"
    token = read_token(path)
    mtime = path.stat().st_mtime_ns
    assert ensure_token_secret(path) == "kept"

    assert read_token(path) == token and path.stat().st_mtime_ns == mtime
    assert len(token) == 43 and token.replace("-", "").replace("_", "").isalnum()
    assert (mode(path), SECRET_MODE) == (0o600, 0o600)  # its owner's only
    assert (mode(path.parent), SECRET_DIR_MODE) == (0o700, 0o700)
    assert path.read_text() == token + "\n"


def test_a_new_one_each_time_it_is_made(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "token", tmp_path / "b" / "token"
    ensure_token_secret(first)
    ensure_token_secret(second)
    assert read_token(first) != read_token(second)


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604])
def test_one_readable_by_anyone_else_is_made_private(tmp_path: Path, loose: int) -> None:
    """Also the 0640 of the secret's earlier home, certs/authorizer/token."""
    path = tmp_path / "token"
    path.write_text("given\n")
    path.chmod(loose)
    assert ensure_token_secret(path) == "kept"
    assert mode(path) == SECRET_MODE
    assert read_token(path) == "given"


def test_rotated_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "authorizer-token"
    ensure_token_secret(path)
    old, inode = read_token(path), path.stat().st_ino

    assert rotate_token_secret(path) == "rotated"

    assert read_token(path) not in ("", old) and len(read_token(path)) == 43
    assert path.stat().st_ino != inode  # a new file in its place, not a rewrite
    assert mode(path) == SECRET_MODE
    assert [p.name for p in path.parent.iterdir()] == ["authorizer-token"]  # no temporary left


def test_a_reader_never_sees_a_partial_or_empty_secret(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "authorizer-token"
    ensure_token_secret(path)
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(len(read_token(path)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(50):
            rotate_token_secret(path)
    finally:
        done.set()
        reader.join()
    assert seen == {43}


def test_rotating_a_missing_secret_makes_one(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "authorizer-token"
    assert rotate_token_secret(path) == "created"
    assert len(read_token(path)) == 43


@as_root
def test_as_root_it_goes_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "authorizer-token"
    ensure_token_secret(path, SecretOwner(1234, 2345))
    for target in (path, path.parent):
        assert (target.stat().st_uid, target.stat().st_gid) == (1234, 2345)
    rotate_token_secret(path, SecretOwner(1234, 2345))
    assert (path.stat().st_uid, path.stat().st_gid, mode(path)) == (1234, 2345, SECRET_MODE)


def test_the_cli_makes_it_with_the_certificates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, secret = tmp_path / "certs", tmp_path / "secrets" / "authorizer-token"
    assert main(["--out", str(out), "--token-secret", str(secret)]) == 0
    assert f"created: {secret}" in capsys.readouterr().out.splitlines()
    token = read_token(secret)

    assert main(["--out", str(out), "--token-secret", str(secret)]) == 0
    assert capsys.readouterr().out == f"kept: 15 existing files in {out}\n"
    assert read_token(secret) == token


def test_the_cli_rotates_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, secret = tmp_path / "certs", tmp_path / "secrets" / "authorizer-token"
    assert main(["--out", str(out), "--token-secret", str(secret)]) == 0
    token = read_token(secret)
    capsys.readouterr()

    assert main(["--out", str(out), "--token-secret", str(secret), "--rotate-token"]) == 0

    assert capsys.readouterr().out == f"rotated: {secret}\nkept: 15 existing files in {out}\n"
    assert read_token(secret) != token


def test_rotating_needs_the_secret_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--out", str(tmp_path / "certs"), "--rotate-token"])
    assert exited.value.code == 2
    assert "--rotate-token needs --token-secret" in capsys.readouterr().err


@as_root
def test_the_cli_as_root_gives_it_to_the_secret_owner(tmp_path: Path) -> None:
    out, secret = tmp_path / "certs", tmp_path / "secrets" / "authorizer-token"
    argv = ["--out", str(out), "--token-secret", str(secret), "--secret-owner", "1234:2345"]
    assert main(argv) == 0
    assert main([*argv, "--rotate-token"]) == 0
    for target in (secret, secret.parent):
        assert (target.stat().st_uid, target.stat().st_gid) == (1234, 2345)


def test_without_the_option_no_secret(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path / "certs")]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["certs"]
    assert len(list((tmp_path / "certs").iterdir())) == 15  # the certificates and keys only
