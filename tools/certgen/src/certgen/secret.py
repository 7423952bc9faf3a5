"""The TOKEN authorizer's shared secret: a random token in a file of its own, made once.

Callers send it as their token and the authorizer function compares it with this file (in AWS
the same function reads a Secrets Manager secret instead). It lives in a directory of its own so
that the function's container mounts that directory alone: a replaced file (a rotation) is seen
there, where a bind mount of the single file would keep showing the old one.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from certgen import files

SECRET_MODE = 0o640  # the owner reads it for curl, the function's group reads it to compare
SECRET_DIR_MODE = 0o750
TOKEN_BYTES = 32  # 43 URL-safe characters


@dataclasses.dataclass(frozen=True)
class SecretOwners:
    """Who gets the secret when run as root: the owner of the output directory keeps it (uid),
    the function containers' group may read it (gid)."""

    owner_uid: int
    reader_gid: int


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def ensure_token_secret(path: Path, owners: SecretOwners | None = None) -> str:
    """Create `path` with a new random token unless it exists; "created" or "kept". With
    `owners` (root only) the file and its directory are handed to them."""
    path.parent.mkdir(mode=SECRET_DIR_MODE, parents=True, exist_ok=True)
    action = "kept"
    if not path.exists():
        try:
            files.write_new(path, (new_token() + "\n").encode(), SECRET_MODE)
            action = "created"
        except FileExistsError:  # a concurrent run made it first: theirs stands
            pass
    if path.stat().st_mode & 0o007:
        path.chmod(SECRET_MODE)
    if owners is not None:
        for target in (path.parent, path):
            files.chown_if_needed(target, owners.owner_uid, owners.reader_gid)
        os.chmod(path.parent, SECRET_DIR_MODE)
    return action


def read_token(path: Path) -> str:
    """The token as callers send it (the file's one line, without the newline)."""
    return path.read_text(encoding="utf-8").strip()
