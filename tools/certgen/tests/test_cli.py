import ipaddress
from pathlib import Path

import pytest
from certgen.cli import main
from certgen.files import load_cert
from cryptography import x509


def test_cli_creates_then_keeps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "certs"
    assert main(["--out", str(out), "--san", "proxy.example.test", "--san", "10.0.0.5"]) == 0
    printed = capsys.readouterr()
    assert f"created: {out / 'ca.key'}" in printed.out.splitlines()
    san = load_cert(out / "server.crt").extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert san.value.get_values_for_type(x509.DNSName) == [
        "localhost",
        "mtls-proxy",
        "proxy.example.test",
    ]
    assert san.value.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("10.0.0.5"),
    ]

    assert main(["--out", str(out), "--san", "proxy.example.test", "--san", "10.0.0.5"]) == 0
    assert capsys.readouterr().out == f"kept: 15 existing files in {out}\n"


def test_cli_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "env-certs"
    monkeypatch.setenv("CERTGEN_OUT", str(out))
    monkeypatch.setenv("CERTGEN_SANS", "a.example.test, b.example.test")
    monkeypatch.setenv("CERTGEN_CLIENT_CN", "team-b")
    monkeypatch.setenv("CERTGEN_LEAF_DAYS", "30")
    assert main([]) == 0
    server = load_cert(out / "server.crt")
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName)[-2:] == ["a.example.test", "b.example.test"]
    client = load_cert(out / "client.crt")
    assert client.subject.rfc4514_string() == "CN=team-b,O=private-apis-local"
    assert (client.not_valid_after_utc - client.not_valid_before_utc).days == 30


def test_cli_error_exits_1_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "certs"
    assert main(["--out", str(out)]) == 0
    (out / "ca.key").unlink()
    capsys.readouterr()
    assert main(["--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("certgen: error: ")
    assert "ca.key is missing" in err


@pytest.mark.parametrize("owner", ["10", "a:b", "1:", ":2"])
def test_cli_rejects_a_malformed_owner(owner: str) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--out", "x", "--owner", owner])
    assert excinfo.value.code == 2
