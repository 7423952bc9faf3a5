"""Where the shared secret comes from, by configuration: a file (locally, mounted from ./secrets)
or a Secrets Manager secret (in AWS, read through boto3). Both are read when the function starts
and again when the secret changes, so a rotation is picked up without a restart.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class SecretError(RuntimeError):
    """The secret cannot be read (a missing file, an empty secret, a failed API call)."""


class SecretSource(Protocol):
    @property
    def description(self) -> str: ...

    def current(self) -> str:
        """The secret now; re-read when it changed since the last call."""
        ...


def _token(text: str, where: str) -> str:
    token = text.strip()
    if not token:
        raise SecretError(f"{where} is empty")
    return token


@dataclass
class FileSecret:
    """A file holding the token. Its identity (inode, size, mtime) is checked on every call, a
    stat per invocation; a changed file is read again. A rotation replaces the file (a new inode)
    or rewrites it."""

    path: Path
    _stamp: tuple[int, int, int] | None = None
    _token: str = ""

    @property
    def description(self) -> str:
        return f"file {self.path}"

    def current(self) -> str:
        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            if stamp != self._stamp:
                self._token = _token(self.path.read_text(encoding="utf-8"), str(self.path))
                self._stamp = stamp
        except OSError as exc:
            raise SecretError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        return self._token


@dataclass
class SecretsManagerSecret:
    """A Secrets Manager secret's current version (its SecretString), fetched again once
    `refresh_s` seconds have passed: Secrets Manager rotation makes a new version current, and a
    warm function sees it within that time."""

    secret_id: str
    client: Any  # boto3's secretsmanager client
    refresh_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _fetched_at: float | None = None
    _token: str = ""

    @property
    def description(self) -> str:
        return f"Secrets Manager secret {self.secret_id}"

    def current(self) -> str:
        now = self.clock()
        if self._fetched_at is None or now - self._fetched_at >= self.refresh_s:
            try:
                value = self.client.get_secret_value(SecretId=self.secret_id)
            except Exception as exc:  # botocore's ClientError and connection errors alike
                raise SecretError(f"cannot read {self.description}: {exc}") from exc
            self._token = _token(value.get("SecretString") or "", self.description)
            self._fetched_at = now
        return self._token
