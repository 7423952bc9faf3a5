"""Reading and writing PEM files: atomic, never overwriting, keys private."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certgen.issue import PrivateKey

KEY_MODE = 0o600
PUBLIC_MODE = 0o644


Owner = tuple[int, int]  # uid, gid


def write_new(path: Path, data: bytes, mode: int, *, owner: Owner | None = None) -> None:
    """Write `data` to `path` atomically with `mode` (and `owner`: root only); refuse to replace
    an existing file.

    os.link fails if `path` appeared meanwhile, so a concurrent run never loses a key.
    """
    _write_atomically(path, data, mode, os.link, owner)


def replace(path: Path, data: bytes, mode: int, *, owner: Owner | None = None) -> None:
    """Atomically replace `path`: the CRL, re-signed when it goes stale, and the rotated token
    secret."""
    _write_atomically(path, data, mode, os.replace, owner)


def _write_atomically(
    path: Path,
    data: bytes,
    mode: int,
    put_in_place: Callable[[Path, Path], None],
    owner: Owner | None = None,
) -> None:
    """The bytes go to a temporary file in the same directory, created with the final mode (so a
    key is never readable by others, not even briefly) and owner, are flushed to disk, and then
    `put_in_place(tmp, path)` makes them `path`."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, *owner)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        put_in_place(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def key_pem(key: PrivateKey) -> bytes:
    # Unencrypted PKCS#8: NGINX and curl read it without a passphrase; the file mode protects it.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


def load_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, PrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return key


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_crl(path: Path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(path.read_bytes())


def chown_if_needed(path: Path, uid: int, gid: int) -> bool:
    """Give `path` to uid:gid unless it already belongs to them; True when it changed."""
    st = path.stat()
    if (st.st_uid, st.st_gid) == (uid, gid):
        return False
    os.chown(path, uid, gid)
    return True
