"""`python -m certgen --out DIR`: flags, each with an environment variable for compose."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from certgen.generate import CertgenError, Settings, ensure_certificates
from certgen.secret import SecretOwner, ensure_token_secret, rotate_token_secret


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


def _owner(value: str) -> tuple[int, int]:
    uid, sep, gid = value.partition(":")
    if not sep or not uid.isdigit() or not gid.isdigit():
        raise argparse.ArgumentTypeError(f"expected UID:GID, got {value!r}")
    return int(uid), int(gid)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m certgen",
        description="Create the local CA, the mTLS proxy's server certificate, client "
        "certificates and the test certificates (expired, other CA, revoked + CRL). "
        "Existing files are kept; only missing ones are made.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("CERTGEN_OUT", "certs")),
        help="output directory (env CERTGEN_OUT, default ./certs)",
    )
    parser.add_argument(
        "--san",
        action="append",
        default=[s for s in os.environ.get("CERTGEN_SANS", "").replace(",", " ").split() if s],
        help="extra DNS name or IP for the server certificate, repeatable "
        "(env CERTGEN_SANS, comma separated); localhost, 127.0.0.1 and mtls-proxy are always in",
    )
    parser.add_argument(
        "--client-cn",
        default=os.environ.get("CERTGEN_CLIENT_CN", "consumer-app"),
        help="common name of the client certificate (env CERTGEN_CLIENT_CN)",
    )
    parser.add_argument(
        "--ca-days",
        type=int,
        default=_env_int("CERTGEN_CA_DAYS", 3650),
        help="CA validity in days (env CERTGEN_CA_DAYS, default 3650)",
    )
    parser.add_argument(
        "--leaf-days",
        type=int,
        default=_env_int("CERTGEN_LEAF_DAYS", 365),
        help="server/client certificate and CRL validity in days (env CERTGEN_LEAF_DAYS, "
        "default 365)",
    )
    parser.add_argument(
        "--proxy-uid",
        type=int,
        default=_env_int("CERTGEN_PROXY_UID", 10001),
        help="when run as root: owner of server.key/server.crt (env CERTGEN_PROXY_UID, "
        "default 10001, the proxy container's user)",
    )
    parser.add_argument(
        "--proxy-gid",
        type=int,
        default=_env_int("CERTGEN_PROXY_GID", 10001),
        help="when run as root: group of server.key/server.crt (env CERTGEN_PROXY_GID)",
    )
    parser.add_argument(
        "--owner",
        type=_owner,
        default=_owner(os.environ["CERTGEN_OWNER"]) if os.environ.get("CERTGEN_OWNER") else None,
        help="when run as root: UID:GID for every other file (env CERTGEN_OWNER; default the "
        "owner of the output directory)",
    )
    parser.add_argument(
        "--token-secret",
        type=Path,
        default=Path(os.environ["CERTGEN_TOKEN_SECRET"])
        if os.environ.get("CERTGEN_TOKEN_SECRET")
        else None,
        metavar="PATH",
        help="also make the TOKEN authorizer's shared secret here when it is missing, a random "
        "token (mode 0600) in a directory of its own (env CERTGEN_TOKEN_SECRET; e.g. "
        "secrets/authorizer-token)",
    )
    parser.add_argument(
        "--secret-owner",
        type=_owner,
        default=_owner(os.environ["CERTGEN_SECRET_OWNER"])
        if os.environ.get("CERTGEN_SECRET_OWNER")
        else None,
        metavar="UID:GID",
        help="when run as root: owner of the token secret and its directory, the one user who "
        "reads it (env CERTGEN_SECRET_OWNER; default: as --owner)",
    )
    parser.add_argument(
        "--rotate-token",
        action="store_true",
        default=os.environ.get("CERTGEN_ROTATE_TOKEN", "") not in ("", "0"),
        help="replace the token secret with a new random one (needs --token-secret; env "
        "CERTGEN_ROTATE_TOKEN=1): the old token is refused from the authorizer's next call",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.rotate_token and args.token_secret is None:
        parser.error("--rotate-token needs --token-secret (or CERTGEN_TOKEN_SECRET)")
    settings = Settings(
        out=args.out,
        extra_sans=tuple(args.san),
        client_cn=args.client_cn,
        ca_days=args.ca_days,
        leaf_days=args.leaf_days,
        proxy_uid=args.proxy_uid,
        proxy_gid=args.proxy_gid,
        owner=args.owner,
    )
    try:
        report = ensure_certificates(settings)
    except CertgenError as exc:
        print(f"certgen: error: {exc}", file=sys.stderr)
        return 1
    if args.token_secret is not None:
        owner = None
        if os.geteuid() == 0:
            # --secret-owner, else as the CA and client files: --owner, else the owner of the
            # output directory (./certs), not the secret's own folder, which Docker may have
            # made as root for the bind mount
            st = args.out.stat()
            uid, gid = args.secret_owner or args.owner or (st.st_uid, st.st_gid)
            owner = SecretOwner(uid, gid)
        make = rotate_token_secret if args.rotate_token else ensure_token_secret
        action = make(args.token_secret, owner)
        if action != "kept":
            print(f"{action}: {args.token_secret}")
    for action, name in report.actions:
        if action != "kept":
            print(f"{action}: {args.out / name}")
    kept = report.names("kept")
    if kept:
        print(f"kept: {len(kept)} existing files in {args.out}")
    for warning in report.warnings:
        print(f"certgen: warning: {warning}", file=sys.stderr)
    return 0
