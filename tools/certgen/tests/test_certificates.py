"""What one run produces: files, modes, names, usages, chains and the CRL."""

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from certgen.files import load_cert, load_crl
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    DNSName,
    IPAddress,
    PolicyBuilder,
    Store,
    VerificationError,
)

# The instant the session's certificates were made at (conftest.NOW).
NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.UTC)

KEYS = [
    "ca.key",
    "other-ca.key",
    "server.key",
    "client.key",
    "client-expired.key",
    "client-revoked.key",
    "client-other-ca.key",
]
PUBLIC = [
    "ca.crt",
    "other-ca.crt",
    "server.crt",
    "client.crt",
    "client-expired.crt",
    "client-revoked.crt",
    "client-other-ca.crt",
    "ca.crl",
]


def cert(out: Path, name: str) -> x509.Certificate:
    return load_cert(out / name)


def client_verifier(ca: x509.Certificate, at: dt.datetime = NOW):
    return PolicyBuilder().store(Store([ca])).time(at).build_client_verifier()


def test_exactly_the_expected_files(pristine: Path) -> None:
    assert sorted(p.name for p in pristine.iterdir()) == sorted(KEYS + PUBLIC)


@pytest.mark.parametrize(
    ("name", "mode"), [(k, 0o600) for k in KEYS] + [(p, 0o644) for p in PUBLIC]
)
def test_file_modes(pristine: Path, name: str, mode: int) -> None:
    assert (pristine / name).stat().st_mode & 0o777 == mode


def test_server_sans(pristine: Path) -> None:
    san = cert(pristine, "server.crt").extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert san.value.get_values_for_type(x509.DNSName) == ["localhost", "mtls-proxy"]
    assert san.value.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("server.crt", ExtendedKeyUsageOID.SERVER_AUTH),
        ("client.crt", ExtendedKeyUsageOID.CLIENT_AUTH),
        ("client-expired.crt", ExtendedKeyUsageOID.CLIENT_AUTH),
        ("client-revoked.crt", ExtendedKeyUsageOID.CLIENT_AUTH),
        ("client-other-ca.crt", ExtendedKeyUsageOID.CLIENT_AUTH),
    ],
)
def test_extended_key_usage(pristine: Path, name: str, usage: x509.ObjectIdentifier) -> None:
    eku = cert(pristine, name).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [usage]


@pytest.mark.parametrize(
    ("name", "cn"),
    [
        ("client.crt", "consumer-app"),
        ("client-other-ca.crt", "consumer-app"),
        ("client-revoked.crt", "consumer-app-revoked"),
        ("server.crt", "mtls-proxy"),
    ],
)
def test_subject_names(pristine: Path, name: str, cn: str) -> None:
    assert cert(pristine, name).subject.rfc4514_string() == f"CN={cn},O=private-apis-local"


@pytest.mark.parametrize(
    "subject",
    [DNSName("localhost"), DNSName("mtls-proxy"), IPAddress(ipaddress.ip_address("127.0.0.1"))],
)
def test_server_chain_verifies(pristine: Path, subject: DNSName | IPAddress) -> None:
    ca = cert(pristine, "ca.crt")
    verifier = PolicyBuilder().store(Store([ca])).time(NOW).build_server_verifier(subject)
    chain = verifier.verify(cert(pristine, "server.crt"), [])
    assert chain[-1] == ca


@pytest.mark.parametrize("name", ["client.crt", "client-revoked.crt"])
def test_client_chain_verifies(pristine: Path, name: str) -> None:
    ca = cert(pristine, "ca.crt")
    verified = client_verifier(ca).verify(cert(pristine, name), [])
    assert verified.chain[-1] == ca


def test_expired_client_is_expired(pristine: Path) -> None:
    expired = cert(pristine, "client-expired.crt")
    assert expired.not_valid_after_utc < NOW
    with pytest.raises(VerificationError, match="expired"):
        client_verifier(cert(pristine, "ca.crt")).verify(expired, [])


def test_other_ca_client_chains_only_to_the_other_ca(pristine: Path) -> None:
    other = cert(pristine, "client-other-ca.crt")
    with pytest.raises(VerificationError):
        client_verifier(cert(pristine, "ca.crt")).verify(other, [])
    verified = client_verifier(cert(pristine, "other-ca.crt")).verify(other, [])
    assert verified.chain[-1] == cert(pristine, "other-ca.crt")


def test_validity_periods(pristine: Path) -> None:
    ca = cert(pristine, "ca.crt")
    assert ca.not_valid_after_utc - NOW == dt.timedelta(days=3650)
    for name in ("server.crt", "client.crt", "client-revoked.crt", "client-other-ca.crt"):
        leaf = cert(pristine, name)
        assert leaf.not_valid_after_utc - NOW == dt.timedelta(days=365), name
        assert leaf.not_valid_before_utc <= NOW


def test_crl_lists_only_the_revoked_serial(pristine: Path) -> None:
    crl = load_crl(pristine / "ca.crl")
    ca = cert(pristine, "ca.crt")
    assert crl.is_signature_valid(ca.public_key())
    assert crl.issuer == ca.subject
    assert [r.serial_number for r in crl] == [cert(pristine, "client-revoked.crt").serial_number]
    assert crl.next_update_utc is not None and crl.next_update_utc > NOW
    assert (pristine / "ca.crl").read_bytes().startswith(b"-----BEGIN X509 CRL-----")
