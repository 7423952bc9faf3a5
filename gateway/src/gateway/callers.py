"""The classes of callers a resource policy tells apart, from its own literal values, for
`gateway.analysis`: within one class every statement decides alike, so one representative
request per class stands for all of them.

- principal: each role (a session of it), session, user and account root the policy names in
  Principal/NotPrincipal or aws:PrincipalArn, each account it names, another principal of the
  API's account, any other principal; the anonymous caller where a route has no IAM auth.
- endpoint: the exact overlaps of the aws:SourceVpce values (StringEquals literals, StringLike
  patterns) and, when named, of the aws:SourceVpc values; for a REGIONAL API also no endpoint
  (a PRIVATE API is reachable only through one).
- address: each range of IpAddress/NotIpAddress on aws:SourceIp/aws:VpcSourceIp less the named
  ranges inside it, any other address.
- User-Agent, Referer (only when a condition names them): the overlaps of their values, none.

A condition these classes cannot represent exactly is recorded per statement (`Inexact`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.access import parse_principal
from gateway.apis import Api
from gateway.facts import Caller, key_name
from gateway.patterns import Language, atoms, glob, id_like, literal, non_empty
from gateway.policy import Statement

OTHER_ROLE = "another-principal"  # the role of an "another principal" representative
IPV4_OUTSIDE = ("203.0.113.10", "198.51.100.10", "192.0.2.10", "10.0.0.10", "172.16.0.10")
IPV6_OUTSIDE = ("2001:db8::10", "fd00::10", "2600::10")
_STRING_OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")
_PRINCIPAL_OPERATORS = ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals")
_IP_KEYS = ("aws:sourceip", "aws:vpcsourceip")
_PRINCIPAL_KEYS = ("aws:principalarn", "aws:principalaccount")
_ADDRESS_KEYS = (*_IP_KEYS, "aws:sourcevpce", "aws:sourcevpc", "aws:useragent", "aws:referer")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CallerClass:
    code: str  # P1, E2, I1, U1, R1: the table's column names
    label: str
    named: bool  # named by the policy (not "any other")
    caller: Caller | None = None  # principal classes (None: anonymous)
    vpce_id: str | None = None  # endpoint classes
    vpc_id: str | None = None
    address: str | None = None  # address classes (None: the endpoint's usual address)
    header: str | None = None  # User-Agent / Referer classes (None: no header)


class Inexact(dict[str, list[str]]):
    """Statement label -> why the classes do not represent it exactly."""

    def add(self, statement: Statement, why: str) -> None:
        self.setdefault(statement.label, []).append(why)


def caller_classes(
    api: Api, endpoints: dict[str, str], inexact: Inexact
) -> list[tuple[str, list[CallerClass]]]:
    """Every dimension with its classes. `endpoints`: the configured VPC endpoints' VPCs."""
    statements = api.resource_policy.statements if api.resource_policy else ()
    dimensions = [
        ("principal", principals(api, statements, inexact)),
        ("endpoint", _endpoints(api, statements, endpoints, inexact)),
        ("address", _addresses(statements, inexact)),
        ("User-Agent", _headers("aws:useragent", "U", "User-Agent", statements, inexact)),
        ("Referer", _headers("aws:referer", "R", "Referer", statements, inexact)),
    ]
    for statement in statements:
        _other_conditions(statement, inexact)
    return [(name, classes) for name, classes in dimensions if classes]


def principals(api: Api, statements: Sequence[Statement], inexact: Inexact) -> list[CallerClass]:
    iam = [route.data.iam_auth for route in api.routes.routes]
    found: list[tuple[str, Caller | None, bool]] = []
    if not all(iam):
        found.append(("anonymous (a route without IAM auth)", None, False))
    if not any(iam):
        return _coded("P", found)
    arns, accounts, roots = _named_principals(statements, inexact)
    sessions_of: list[str] = []
    for arn in arns:
        caller = _caller(arn)
        if caller is None:
            continue  # a service or federated principal: never a caller of the gateway
        if ":assumed-role/" in arn:
            found.append((arn, caller, True))
            sessions_of.append(caller.principal_arn)
        else:
            found.append((("a session of " if ":role/" in arn else "") + arn, caller, True))
    roles = {caller.principal_arn for _, caller, _ in found if caller is not None}
    for role in dict.fromkeys(r for r in sessions_of if r not in roles):
        found.append((f"another session of {role}", _caller(role), True))
    for root in roots:
        found.append((f"the root of account {root.split(':')[4]}", _caller(root), True))
    for account in dict.fromkeys([*accounts, api.account]):
        mine = " (the API's)" if account == api.account else ""
        other = _caller(f"arn:aws:iam::{account}:role/{OTHER_ROLE}")
        found.append((f"another principal of account {account}{mine}", other, account in accounts))
    taken = {caller.account for _, caller, _ in found if caller is not None}
    account = next(f"{n:012d}" for n in range(999999999999, 0, -1) if f"{n:012d}" not in taken)
    other = _caller(f"arn:aws:iam::{account}:role/{OTHER_ROLE}")
    found.append(("any other principal (another account)", other, False))
    return _coded("P", found)


def _named_principals(
    statements: Sequence[Statement], inexact: Inexact
) -> tuple[list[str], list[str], list[str]]:
    """(principal ARNs, account ids, account root ARNs that must be told apart) named."""
    arns: list[str] = []
    accounts: list[str] = []
    roots: list[str] = []
    for s in statements:
        for entry in s.principals or ():
            if not entry.startswith("arn:"):
                continue  # "*", or a Service/Federated/CanonicalUser principal
            if entry.endswith(":root"):
                accounts.append(entry.split(":")[4])
                if s.not_principal:  # NotPrincipal excepts an account's root on its own
                    roots.append(entry)
            else:
                arns.append(entry)
        for c in s.conditions:
            if c.key not in _PRINCIPAL_KEYS or c.base == "Null":
                continue
            patterns = any("${" in v or "*" in v or "?" in v for v in c.values)
            if c.base not in _PRINCIPAL_OPERATORS or patterns:
                inexact.add(s, f"{c.operator} on {key_name(c.key)}: principal patterns")
                continue
            for value in c.values:
                if c.key == "aws:principalaccount":
                    accounts.append(value)
                elif value.endswith(":root"):
                    roots.append(value)
                    accounts.append(value.split(":")[4])
                else:
                    arns.append(value)
    unique = dict.fromkeys
    return list(unique(arns)), list(unique(accounts)), list(unique(roots))


def _caller(arn: str) -> Caller | None:
    try:
        return parse_principal(arn)
    except ValueError:
        return None


def _coded(letter: str, found: list[tuple[str, Caller | None, bool]]) -> list[CallerClass]:
    return [
        CallerClass(f"{letter}{n}", label, named, caller=caller)
        for n, (label, caller, named) in enumerate(found, 1)
    ]


def _string_values(
    key: str, statements: Sequence[Statement], inexact: Inexact
) -> tuple[list[str], list[str]]:
    """The literals (StringEquals/NotEquals) and patterns (StringLike/NotLike) on `key`."""
    literals: list[str] = []
    patterns: list[str] = []
    for s in statements:
        for c in s.conditions:
            if c.key != key or c.base == "Null":
                continue
            if c.base not in _STRING_OPERATORS or any("${" in v for v in c.values):
                inexact.add(s, f"{c.operator} on {key_name(key)}")
                continue
            (patterns if c.base.endswith("Like") else literals).extend(c.values)
    return list(dict.fromkeys(literals)), list(dict.fromkeys(patterns))


def string_classes(
    literals: list[str], patterns: list[str], domain: Language
) -> list[tuple[str | None, list[str], str]]:
    """Every realisable overlap of the values within `domain`: (the literal it is, or None; the
    patterns it is like; a representative), the literals first, in the policy's order."""
    languages = [domain, *(Language(literal(v)) for v in literals)]
    languages += [Language(glob(p)) for p in patterns]
    found = []
    for vector, example in atoms(languages).items():
        named = [v for v, hit in zip(literals, vector, strict=False) if hit]
        like = [p for p, hit in zip(patterns, vector[len(literals) :], strict=True) if hit]
        found.append((named[0] if named else None, like, example))
    order = {value: n for n, value in enumerate(literals)}
    return sorted(found, key=lambda c: (order.get(c[0] or "", len(order)), not c[1], c[2]))


def _other(kind: str, like: list[str]) -> str:
    return f"another {kind} like {' and '.join(like)}" if like else f"any other {kind}"


def _endpoints(
    api: Api, statements: Sequence[Statement], vpcs_of: dict[str, str], inexact: Inexact
) -> list[CallerClass]:
    if not _mentioned("aws:sourcevpce", statements) and not _mentioned("aws:sourcevpc", statements):
        if api.private:
            label = "through any VPC endpoint (the policy names none)"
            return [CallerClass("E1", label, False, vpce_id="vpce-0")]
        return [
            CallerClass("E1", "through any VPC endpoint or none (the policy names none)", False)
        ]
    vpce_values = _string_values("aws:sourcevpce", statements, inexact)
    vpcs = []
    if _mentioned("aws:sourcevpc", statements):
        vpc_values = _string_values("aws:sourcevpc", statements, inexact)
        vpcs = string_classes(*vpc_values, Language(id_like("vpc-"), True))
    found: list[tuple[str, str | None, str | None, bool]] = []
    for named, like, vpce in string_classes(*vpce_values, Language(id_like("vpce-"), True)):
        where = named or _other("VPC endpoint", like)
        known = vpcs_of.get(vpce) if named else None
        if known is not None or not vpcs:
            found.append((f"through {where}", vpce, known, named is not None))
            continue
        for vpc_named, vpc_like, vpc in vpcs:
            inside = vpc_named or _other("VPC", vpc_like)
            found.append((f"through {where} in {inside}", vpce, vpc, bool(named or vpc_named)))
    if not api.private:
        found.append(("through no VPC endpoint", None, None, True))
    return [
        CallerClass(f"E{n}", label, named, vpce_id=vpce, vpc_id=vpc)
        for n, (label, vpce, vpc, named) in enumerate(found, 1)
    ]


def _mentioned(key: str, statements: Sequence[Statement]) -> bool:
    return any(c.key == key for s in statements for c in s.conditions)


def _addresses(statements: Sequence[Statement], inexact: Inexact) -> list[CallerClass]:
    networks: list[Network] = []
    for s in statements:
        for c in s.conditions:
            if c.key not in _IP_KEYS or c.base == "Null":
                continue
            if c.base not in ("IpAddress", "NotIpAddress") or any("${" in v for v in c.values):
                inexact.add(s, f"{c.operator} on {key_name(c.key)}")
                continue
            networks.extend(ipaddress.ip_network(v, strict=False) for v in c.values)
    networks = list(dict.fromkeys(networks))
    if not networks:
        return [CallerClass("I1", "any address (the policy names none)", False)]
    found: list[tuple[str, str, bool]] = []
    for network in networks:
        inner = [n for n in networks if n != network and _inside(n, network)]
        address = _address_outside(network, inner)
        if address is not None:
            outside = f" outside {', '.join(map(str, inner))}" if inner else ""
            found.append((f"{network}{outside}", address, True))
    for version, candidates in ((4, IPV4_OUTSIDE), (6, IPV6_OUTSIDE)):
        if version == 4 or any(n.version == 6 for n in networks):
            address = next(a for a in candidates if not any(_holds(n, a) for n in networks))
            found.append((f"any other IPv{version} address", address, False))
    return [
        CallerClass(f"I{n}", label, named, address=address)
        for n, (label, address, named) in enumerate(found, 1)
    ]


def _inside(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _holds(network: Network, address: str) -> bool:
    return ipaddress.ip_address(address) in network


def _address_outside(network: Network, inner: list[Network]) -> str | None:
    """The first address of `network` in none of `inner`, or None."""
    pieces = [network]
    for sub in inner:
        pieces = [
            piece
            for whole in pieces
            for piece in (whole.address_exclude(sub) if _inside(sub, whole) else [whole])  # type: ignore[arg-type]
        ]
    return str(min(p.network_address for p in pieces)) if pieces else None


def _headers(
    key: str, letter: str, name: str, statements: Sequence[Statement], inexact: Inexact
) -> list[CallerClass]:
    if not _mentioned(key, statements):
        return []
    values = _string_values(key, statements, inexact)
    found = []
    for n, (value, like, example) in enumerate(
        string_classes(*values, Language(non_empty(), True)), 1
    ):
        label = f"{name} {value}" if value else _other(name, like)
        found.append(CallerClass(f"{letter}{n}", label, value is not None, header=example))
    return [*found, CallerClass(f"{letter}{len(found) + 1}", f"no {name}", True)]


def _other_conditions(statement: Statement, inexact: Inexact) -> None:
    if any("${" in r for r in statement.resources):
        inexact.add(statement, "policy variables in Resource")
    for c in statement.conditions:
        if c.key in ("aws:currenttime", "aws:epochtime"):
            inexact.add(statement, f"{c.operator} on {key_name(c.key)}: depends on the time")
        elif c.key in ("aws:userid", "aws:username"):
            inexact.add(statement, f"{c.operator} on {key_name(c.key)}")
        elif c.key not in (*_ADDRESS_KEYS, *_PRINCIPAL_KEYS) and any("${" in v for v in c.values):
            inexact.add(statement, f"policy variables in {c.operator} on {key_name(c.key)}")
