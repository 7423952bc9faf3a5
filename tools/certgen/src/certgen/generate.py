"""The idempotent plan: make what is missing in the output directory, keep what is there."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from certgen import files, issue

DEFAULT_SANS = ("localhost", "127.0.0.1", "mtls-proxy")
# A CRL is re-signed (same revoked serials) once it is this close to its nextUpdate: NGINX
# refuses every client certificate while its CRL is expired.
CRL_REFRESH_MARGIN = dt.timedelta(days=7)


class CertgenError(Exception):
    """The directory is in a state certgen will not repair by itself; the message says why."""


@dataclasses.dataclass(frozen=True)
class Settings:
    out: Path
    extra_sans: Sequence[str] = ()
    client_cn: str = "consumer-app"
    server_cn: str = "mtls-proxy"
    ca_days: int = 3650
    leaf_days: int = 365
    proxy_uid: int = 10001
    proxy_gid: int = 10001
    # uid:gid for the CA and client files; None means the owner of the output directory.
    owner: tuple[int, int] | None = None
    # Change ownership at all? None means: when running as root (the compose one-shot service).
    chown: bool | None = None


@dataclasses.dataclass(frozen=True)
class Pair:
    """A key and its certificate, by file stem: `server` is server.key + server.crt."""

    stem: str

    def key(self, out: Path) -> Path:
        return out / f"{self.stem}.key"

    def crt(self, out: Path) -> Path:
        return out / f"{self.stem}.crt"


class Layout:
    CA = Pair("ca")
    OTHER_CA = Pair("other-ca")
    SERVER = Pair("server")
    CLIENT = Pair("client")
    EXPIRED = Pair("client-expired")
    REVOKED = Pair("client-revoked")
    OTHER_CA_CLIENT = Pair("client-other-ca")
    CRL = "ca.crl"
    # What each CA signed: deleting a CA without these would leave certificates nothing trusts.
    SIGNED_BY_CA = (SERVER, CLIENT, EXPIRED, REVOKED)
    SIGNED_BY_OTHER_CA = (OTHER_CA_CLIENT,)
    PROXY_FILES = ("server.key", "server.crt")


@dataclasses.dataclass
class Report:
    actions: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def add(self, action: str, path: Path) -> None:
        self.actions.append((action, path.name))

    def names(self, action: str) -> list[str]:
        return [name for act, name in self.actions if act == action]


def ensure_certificates(settings: Settings, now: dt.datetime | None = None) -> Report:
    """Create every missing file under settings.out; never replace a key or certificate."""
    now = now or dt.datetime.now(dt.UTC)
    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    report = Report()

    ca_key, ca_cert = _ensure_ca(
        out,
        Layout.CA,
        "private-apis-local CA",
        Layout.SIGNED_BY_CA,
        (Layout.CRL,),
        settings,
        now,
        report,
    )
    other_key, other_cert = _ensure_ca(
        out,
        Layout.OTHER_CA,
        "private-apis-local other CA",
        Layout.SIGNED_BY_OTHER_CA,
        (),
        settings,
        now,
        report,
    )
    valid = (now - issue.CLOCK_SKEW, now + dt.timedelta(days=settings.leaf_days))
    server_sans = [*DEFAULT_SANS, *settings.extra_sans]
    leaves = [
        (Layout.SERVER, settings.server_cn, server_sans, False, ca_cert, ca_key, valid),
        (Layout.CLIENT, settings.client_cn, [settings.client_cn], True, ca_cert, ca_key, valid),
        (
            Layout.EXPIRED,
            f"{settings.client_cn}-expired",
            [f"{settings.client_cn}-expired"],
            True,
            ca_cert,
            ca_key,
            (now - dt.timedelta(days=30), now - dt.timedelta(days=1)),
        ),
        (
            Layout.REVOKED,
            f"{settings.client_cn}-revoked",
            [f"{settings.client_cn}-revoked"],
            True,
            ca_cert,
            ca_key,
            valid,
        ),
        (
            Layout.OTHER_CA_CLIENT,
            settings.client_cn,
            [settings.client_cn],
            True,
            other_cert,
            other_key,
            valid,
        ),
    ]
    certs: dict[str, x509.Certificate] = {}
    for pair, cn, sans, client, signer_cert, signer_key, (start, end) in leaves:
        certs[pair.stem] = _ensure_leaf(
            out, pair, cn, sans, client, signer_cert, signer_key, start, end, report
        )

    _check_server_sans(certs[Layout.SERVER.stem], server_sans, report)
    for pair in (Layout.SERVER, Layout.CLIENT, Layout.REVOKED, Layout.OTHER_CA_CLIENT):
        _check_not_expiring(pair.crt(out), certs[pair.stem], now, report, pair)

    _ensure_crl(
        out, ca_cert, ca_key, certs[Layout.REVOKED.stem].serial_number, settings, now, report
    )
    _tighten_key_modes(out, report)
    if settings.chown if settings.chown is not None else os.geteuid() == 0:
        _assign_owners(out, settings, report)
    return report


def _ensure_ca(
    out: Path,
    pair: Pair,
    common_name: str,
    signed: Sequence[Pair],
    extra_signed: Sequence[str],
    settings: Settings,
    now: dt.datetime,
    report: Report,
) -> tuple[issue.PrivateKey, x509.Certificate]:
    key_path, crt_path = pair.key(out), pair.crt(out)
    if crt_path.exists() and not key_path.exists():
        dependents = [p.name for s in signed for p in (s.crt(out), s.key(out)) if p.exists()]
        dependents += [name for name in extra_signed if (out / name).exists()]
        raise CertgenError(
            f"{key_path} is missing, so nothing more can be signed by {crt_path.name}. "
            f"Restore {key_path.name}, or start this CA over by deleting "
            + " ".join(str(out / name) for name in [crt_path.name, *dependents])
        )
    if not key_path.exists():
        dependents = [p.name for s in signed for p in (s.crt(out), s.key(out)) if p.exists()]
        dependents += [name for name in extra_signed if (out / name).exists()]
        if dependents:
            raise CertgenError(
                f"{key_path.name} and {crt_path.name} are missing but {', '.join(dependents)} "
                f"(signed by that CA) exist in {out}; a new CA would not vouch for them. "
                f"Restore the CA, or delete them: rm "
                + " ".join(str(out / name) for name in dependents)
            )
        key = issue.new_key()
        files.write_new(key_path, files.key_pem(key), files.KEY_MODE)
        report.add("created", key_path)
    else:
        key = files.load_key(key_path)
        report.add("kept", key_path)

    if crt_path.exists():
        cert = files.load_cert(crt_path)
        if cert.public_key() != key.public_key():
            raise CertgenError(f"{crt_path} does not belong to {key_path}; restore or delete both")
        report.add("kept", crt_path)
    else:
        # A lone CA key (a run interrupted between the two writes) gets its certificate now.
        cert = issue.make_ca(key, common_name, now, settings.ca_days)
        files.write_new(crt_path, files.cert_pem(cert), files.PUBLIC_MODE)
        report.add("created", crt_path)
    return key, cert


def _ensure_leaf(
    out: Path,
    pair: Pair,
    common_name: str,
    sans: Sequence[str],
    client: bool,
    ca_cert: x509.Certificate,
    ca_key: issue.PrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    report: Report,
) -> x509.Certificate:
    key_path, crt_path = pair.key(out), pair.crt(out)
    if crt_path.exists() and not key_path.exists():
        raise CertgenError(f"{key_path} is missing; delete {crt_path} to issue a new pair")
    if key_path.exists():
        key = files.load_key(key_path)
        report.add("kept", key_path)
    else:
        key = issue.new_key()
        files.write_new(key_path, files.key_pem(key), files.KEY_MODE)
        report.add("created", key_path)

    if crt_path.exists():
        cert = files.load_cert(crt_path)
        if cert.public_key() != key.public_key():
            raise CertgenError(f"{crt_path} does not belong to {key_path}; delete both")
        if not issue.is_issued_by(cert, ca_cert):
            raise CertgenError(
                f"{crt_path} was not issued by the current {ca_cert.subject.rfc4514_string()} "
                f"(was the CA replaced?); delete {crt_path} and {key_path} to reissue"
            )
        report.add("kept", crt_path)
        return cert
    cert = issue.issue_leaf(
        key=key,
        common_name=common_name,
        sans=sans,
        client=client,
        ca_cert=ca_cert,
        ca_key=ca_key,
        not_before=not_before,
        not_after=not_after,
    )
    files.write_new(crt_path, files.cert_pem(cert), files.PUBLIC_MODE)
    report.add("created", crt_path)
    return cert


def _ensure_crl(
    out: Path,
    ca_cert: x509.Certificate,
    ca_key: issue.PrivateKey,
    revoked_serial: int,
    settings: Settings,
    now: dt.datetime,
    report: Report,
) -> None:
    path = out / Layout.CRL
    existed = path.exists()
    if existed:
        crl = files.load_crl(path)
        next_update = crl.next_update_utc
        if (
            issue.is_issued_by(crl, ca_cert)
            and crl.get_revoked_certificate_by_serial_number(revoked_serial) is not None
            and next_update is not None
            and next_update - CRL_REFRESH_MARGIN > now
        ):
            report.add("kept", path)
            return
    crl = issue.make_crl(
        ca_cert=ca_cert,
        ca_key=ca_key,
        revoked_serials=[revoked_serial],
        now=now,
        days=settings.leaf_days,
    )
    files.replace(path, files.crl_pem(crl), files.PUBLIC_MODE)
    report.add("renewed" if existed else "created", path)


def _check_server_sans(cert: x509.Certificate, wanted: Sequence[str], report: Report) -> None:
    missing = [san for san in wanted if san not in issue.san_strings(cert)]
    if missing:
        report.warnings.append(
            f"server.crt lacks SANs {', '.join(missing)}; delete server.crt and server.key "
            "and run again to reissue it"
        )


def _check_not_expiring(
    path: Path, cert: x509.Certificate, now: dt.datetime, report: Report, pair: Pair
) -> None:
    if cert.not_valid_after_utc - dt.timedelta(days=30) < now:
        report.warnings.append(
            f"{path.name} expires {cert.not_valid_after_utc:%Y-%m-%d}; delete {path.name} and "
            f"{pair.stem}.key and run again to reissue it"
        )


def _tighten_key_modes(out: Path, report: Report) -> None:
    for key_path in sorted(out.glob("*.key")):
        if key_path.stat().st_mode & 0o077:
            key_path.chmod(files.KEY_MODE)
            report.add("chmod 600", key_path)


def _assign_owners(out: Path, settings: Settings, report: Report) -> None:
    """Root only: the proxy (a non-root container user) must read its key; the person who owns
    the directory must read the client key to use it with curl."""
    if settings.owner is not None:
        owner_uid, owner_gid = settings.owner
    else:
        st = out.stat()
        owner_uid, owner_gid = st.st_uid, st.st_gid
    for path in sorted(out.iterdir()):
        if path.name.startswith(".") or path.suffix not in {".key", ".crt", ".crl"}:
            continue
        if path.name in Layout.PROXY_FILES:
            uid, gid = settings.proxy_uid, settings.proxy_gid
        else:
            uid, gid = owner_uid, owner_gid
        if files.chown_if_needed(path, uid, gid):
            report.add(f"chown {uid}:{gid}", path)
