"""Re-runs keep what exists, fill in what is missing, and refuse states they cannot repair."""

import datetime as dt
import os
from pathlib import Path

import pytest
from certgen import CertgenError, Settings, ensure_certificates
from certgen.files import load_cert, load_crl, load_key, write_new
from certgen.generate import Layout
from cryptography.x509.verification import PolicyBuilder, Store


def run(out: Path, now: dt.datetime, **kwargs) -> list[tuple[str, str]]:
    return ensure_certificates(Settings(out=out, chown=False, **kwargs), now=now).actions


def test_second_run_changes_nothing(certs: Path, now: dt.datetime, snapshot) -> None:
    before = snapshot(certs)
    actions = run(certs, now + dt.timedelta(hours=1))
    assert snapshot(certs) == before
    assert {action for action, _ in actions} == {"kept"}
    assert len(actions) == len(before)


def test_first_run_creates_every_file(tmp_path: Path, now: dt.datetime) -> None:
    actions = run(tmp_path / "new" / "certs", now)
    assert {action for action, _ in actions} == {"created"}
    assert len(actions) == 15
    assert not [p for p in (tmp_path / "new" / "certs").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "deleted",
    [
        ["client.crt", "client.key"],
        ["server.crt", "server.key"],
        ["client-revoked.crt", "client-revoked.key"],
        ["client-expired.crt", "client-expired.key", "client-other-ca.crt"],
        ["ca.crl"],
    ],
)
def test_missing_files_are_filled_in(
    certs: Path, now: dt.datetime, snapshot, deleted: list[str]
) -> None:
    before = snapshot(certs)
    for name in deleted:
        (certs / name).unlink()
    actions = run(certs, now)
    after = snapshot(certs)
    assert sorted(name for action, name in actions if action != "kept") == sorted(
        {*deleted, *(["ca.crl"] if "client-revoked.crt" in deleted else [])}
    )
    untouched = set(before) - set(deleted) - {"ca.crl"}
    assert {n: after[n] for n in untouched} == {n: before[n] for n in untouched}
    assert set(after) == set(before)


def test_a_new_revoked_certificate_is_put_on_a_new_crl(certs: Path, now: dt.datetime) -> None:
    (certs / "client-revoked.crt").unlink()
    (certs / "client-revoked.key").unlink()
    run(certs, now)
    revoked = load_cert(certs / "client-revoked.crt").serial_number
    assert [r.serial_number for r in load_crl(certs / "ca.crl")] == [revoked]


def test_lone_key_gets_a_certificate_for_that_key(certs: Path, now: dt.datetime) -> None:
    key_bytes = (certs / "server.key").read_bytes()
    (certs / "server.crt").unlink()
    run(certs, now)
    assert (certs / "server.key").read_bytes() == key_bytes
    ca = load_cert(certs / "ca.crt")
    server = load_cert(certs / "server.crt")
    assert server.public_key() == load_key(certs / "server.key").public_key()
    server.verify_directly_issued_by(ca)


def test_stale_crl_is_resigned_with_the_same_serials(certs: Path, now: dt.datetime) -> None:
    old = load_crl(certs / "ca.crl")
    later = now + dt.timedelta(days=360)
    actions = run(certs, later)
    assert ("renewed", "ca.crl") in actions
    new = load_crl(certs / "ca.crl")
    assert [r.serial_number for r in new] == [r.serial_number for r in old]
    assert new.next_update_utc is not None and new.next_update_utc > later


@pytest.mark.parametrize(
    ("deleted", "message"),
    [
        (["ca.key", "ca.crt"], "ca.key and ca.crt are missing but"),
        (["ca.key"], "ca.key is missing, so nothing more can be signed by ca.crt"),
        (["other-ca.key", "other-ca.crt"], "other-ca.key and other-ca.crt are missing but"),
        (["client.key"], "client.key is missing; delete"),
    ],
)
def test_unrepairable_states_say_what_to_delete(
    certs: Path, now: dt.datetime, snapshot, deleted: list[str], message: str
) -> None:
    for name in deleted:
        (certs / name).unlink()
    before = snapshot(certs)
    with pytest.raises(CertgenError, match=message):
        run(certs, now)
    assert snapshot(certs) == before


def test_missing_ca_message_lists_the_files_to_delete(certs: Path, now: dt.datetime) -> None:
    (certs / "ca.key").unlink()
    (certs / "ca.crt").unlink()
    with pytest.raises(CertgenError) as excinfo:
        run(certs, now)
    command = str(excinfo.value).split("rm ", 1)[1].split()
    expected = [f"{pair.stem}.{ext}" for pair in Layout.SIGNED_BY_CA for ext in ("crt", "key")]
    assert sorted(Path(p).name for p in command) == sorted([*expected, "ca.crl"])


def test_after_deleting_what_it_said_a_new_ca_is_made(certs: Path, now: dt.datetime) -> None:
    old_ca = (certs / "ca.crt").read_bytes()
    (certs / "ca.key").unlink()
    (certs / "ca.crt").unlink()
    with pytest.raises(CertgenError) as excinfo:
        run(certs, now)
    for path in str(excinfo.value).split("rm ", 1)[1].split():
        Path(path).unlink()
    run(certs, now)
    ca = load_cert(certs / "ca.crt")
    assert (certs / "ca.crt").read_bytes() != old_ca
    verifier = PolicyBuilder().store(Store([ca])).time(now).build_client_verifier()
    verifier.verify(load_cert(certs / "client.crt"), [])


def test_leaf_from_a_replaced_ca_is_refused(certs: Path, tmp_path: Path, now: dt.datetime) -> None:
    elsewhere = tmp_path / "elsewhere"
    run(elsewhere, now)
    for name in ("client.crt", "client.key"):
        (certs / name).unlink()
        (certs / name).write_bytes((elsewhere / name).read_bytes())
        (certs / name).chmod(0o600)
    with pytest.raises(CertgenError, match=r"client.crt was not issued by the current"):
        run(certs, now)


def test_loose_key_mode_is_tightened(certs: Path, now: dt.datetime) -> None:
    (certs / "client.key").chmod(0o644)
    actions = run(certs, now)
    assert ("chmod 600", "client.key") in actions
    assert (certs / "client.key").stat().st_mode & 0o777 == 0o600


def test_extra_san_missing_from_existing_server_cert_is_warned(
    certs: Path, now: dt.datetime, snapshot
) -> None:
    before = snapshot(certs)
    report = ensure_certificates(
        Settings(out=certs, chown=False, extra_sans=("proxy.example.test",)), now=now
    )
    assert snapshot(certs) == before
    assert report.warnings == [
        "server.crt lacks SANs proxy.example.test; delete server.crt and server.key "
        "and run again to reissue it"
    ]


def test_write_new_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "x.key"
    write_new(target, b"first", 0o600)
    with pytest.raises(FileExistsError):
        write_new(target, b"second", 0o600)
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["x.key"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_root_gives_server_files_to_the_proxy_and_the_rest_to_the_directory_owner(
    tmp_path: Path, now: dt.datetime, snapshot
) -> None:
    out = tmp_path / "certs"
    out.mkdir()
    os.chown(out, 20002, 20003)
    report = ensure_certificates(Settings(out=out, chown=True), now=now)
    owners = {p.name: (p.stat().st_uid, p.stat().st_gid) for p in out.iterdir()}
    assert owners.pop("server.key") == (10001, 10001)
    assert owners.pop("server.crt") == (10001, 10001)
    assert set(owners.values()) == {(20002, 20003)}
    assert len([a for a, _ in report.actions if a.startswith("chown")]) == 15
    before = snapshot(out)
    second = ensure_certificates(
        Settings(out=out, chown=True, proxy_uid=10001, proxy_gid=10001), now=now
    )
    assert snapshot(out) == before
    assert {a for a, _ in second.actions} == {"kept"}
