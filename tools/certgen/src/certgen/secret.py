"""The TOKEN authorizer's shared secret: a random token in a file of its own, made once, replaced
by a rotation.

Callers send it as their token and the authorizer function compares it with this file (in AWS
the same function reads a Secrets Manager secret instead). Mode 0600: only its owner reads it,
which is both the person who sends it with curl and the authorizer (natively the same user; in
compose the function container runs as that user). It lives in a directory of its own
(`secrets/`) that the function's container mounts: a replaced file (a rotation) is seen there,
where a bind mount of the single file would keep showing the old one.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from certgen import files

SECRET_MODE = 0o600  # its owner only: the caller who cats it for curl and the authorizer
SECRET_DIR_MODE = 0o700
TOKEN_BYTES = 32  # 43 URL-safe characters


@dataclasses.dataclass(frozen=True)
class SecretOwner:
    """Who gets the secret and its directory when run as root."""

    uid: int
    gid: int


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _token_bytes() -> bytes:
    return (new_token() + "\n").encode()


def _owner_ids(owner: SecretOwner | None) -> tuple[int, int] | None:
    return None if owner is None else (owner.uid, owner.gid)


def ensure_token_secret(path: Path, owner: SecretOwner | None = None) -> str:
    """Create `path` with a new random token unless it exists; "created" or "kept". A secret
    readable by anyone but its owner is made private again. With `owner` (root only) the file
    and its directory are handed to them."""
    path.parent.mkdir(mode=SECRET_DIR_MODE, parents=True, exist_ok=True)
    action = "kept"
    if not path.exists():
        try:
            files.write_new(path, _token_bytes(), SECRET_MODE, owner=_owner_ids(owner))
            action = "created"
        except FileExistsError:  # a concurrent run made it first: theirs stands
            pass
    if path.stat().st_mode & 0o077:
        path.chmod(SECRET_MODE)
    if owner is not None:
        for target in (path.parent, path):
            files.chown_if_needed(target, owner.uid, owner.gid)
        os.chmod(path.parent, SECRET_DIR_MODE)
    return action


def rotate_token_secret(path: Path, owner: SecretOwner | None = None) -> str:
    """Replace the secret with a new random token ("rotated"; "created" when there was none).
    The new file takes the old one's place in one step, already private and (as root) already
    the owner's, so a reader sees the old token or the new one, never a half-written or
    unreadable file. The authorizer reads it at its next invocation."""
    if not path.exists():
        return ensure_token_secret(path, owner)
    files.replace(path, _token_bytes(), SECRET_MODE, owner=_owner_ids(owner))
    return "rotated"


def read_token(path: Path) -> str:
    """The token as callers send it (the file's one line, without the newline)."""
    return path.read_text(encoding="utf-8").strip()
