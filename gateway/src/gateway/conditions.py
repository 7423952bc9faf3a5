"""IAM condition operators, wildcards and policy variables, as AWS documents them.

Plain values in, plain values out: no framework, standard library only. The rules followed here
(IAM User Guide, "Condition operators", "Conditions with multiple context keys or values",
"Policy variables"):

- A key missing from the request context makes a condition false, except that negated operators
  (StringNotEquals, NotIpAddress, ...) are then true, `...IfExists` is then true, and `Null` tests
  exactly that. An empty list counts as missing.
- Several values for one key: OR; for a negated operator: NOR (the key matches none of them).
- `ForAnyValue:` is true if some request value passes (false when the key is missing);
  `ForAllValues:` is true if every request value passes (true when the key is missing).
  Without a qualifier a multivalued request key behaves like `ForAnyValue` for positive operators
  and as its negation for negated ones.
- Condition keys are case-insensitive; values are case-sensitive unless the operator says
  IgnoreCase. A request value that cannot be read as the operator's type matches nothing.
- `${key}` and `${key, 'default'}` in condition values (and in Resource) are replaced from the
  request context; `${*}`, `${?}`, `${$}` are the literal characters.
- A variable of the caller's identity (aws:username, aws:userid, aws:PrincipalType,
  aws:PrincipalArn, aws:PrincipalAccount) that the request does not have, and without a
  default, makes its statement invalid: it does not apply, for negated operators too (same
  page, "Principal key values": "any attempt to match it fails and causes the statement to be
  invalid"). See `invalidates_statement`.
- Any other variable without a value and without a default (IAM User Guide, "IAM policy elements:
  Variables and tags", section "Policy variables with no value"): the policy value "is
  effectively null. There is no equal or like value." Only that one policy value is affected:
  positive operators never match it ("condition operators like StringEquals or StringLike do
  not match"), negated operators always do ("Inverted condition operators like StringNotEquals
  or StringNotLike do match against a null value"). This does NOT make the statement inapplicable:
  AWS's own example is a Deny with StringNotEquals against `${aws:PrincipalTag/Team}` where
  "Access is explicitly denied when aws:principaltag/Team is not set". (The same page's
  footnote under "Principal key values" - a value "not present" makes "any attempt to match it"
  fail "and causes the statement to be invalid" - is about the keys of that table, the caller's
  identity, and is followed for those keys.)
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ContextValues = Mapping[str, tuple[str, ...]]  # lower-cased key -> request values (never empty)

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'((?:[^']|'')*)'\s*$")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


class ConditionError(ValueError):
    """A condition block that IAM would refuse; policy.py turns it into a PolicyError."""


def normalize_context(
    condition_keys: Mapping[str, object], only: Container[str] | None = None
) -> dict[str, tuple[str, ...]]:
    """Lower-case the keys and turn every value into a tuple of strings; drop missing ones.
    `only`: just these (lower-cased) keys, None: every key."""
    normalized: dict[str, tuple[str, ...]] = {}
    for key, value in condition_keys.items():
        lowered = key.lower()
        if only is not None and lowered not in only:
            continue
        values = (value,) if type(value) is str else _as_strings(value)  # most are one string
        if values:
            normalized[lowered] = values
    return normalized


def _as_strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, int | float):
        return (str(value),)
    if isinstance(value, Sequence):
        return tuple(v for item in value for v in _as_strings(item))
    raise TypeError(f"unsupported condition value {value!r}")


# --- policy variables and wildcards -----------------------------------------------------------


def substitute(text: str, context: ContextValues) -> list[tuple[bool, str]] | None:
    """Split `text` into (is_literal, piece) parts with its variables resolved.

    Pieces that come from a variable are literal (their `*` and `?` are not wildcards). Returns
    None when a variable has no value in the request and no default.
    """
    if "${" not in text:
        return [(False, text)]  # nearly every pattern: nothing to resolve
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > position:
            parts.append((False, text[position : match.start()]))
        inner = match.group(1)
        if inner in _LITERALS:
            parts.append((True, _LITERALS[inner]))
        else:
            resolved = _resolve_variable(inner, context)
            if resolved is None:
                return None
            parts.append((True, resolved))
        position = match.end()
    if position < len(text):
        parts.append((False, text[position:]))
    return parts


def _split_variable(inner: str) -> tuple[str, str | None]:
    """`key` or `key, 'default'` -> (lower-cased key, default or None)."""
    default_match = _DEFAULT.match(inner)
    if default_match:
        return default_match.group(1).lower(), default_match.group(2).replace("''", "'")
    return inner.strip().lower(), None


def _resolve_variable(inner: str, context: ContextValues) -> str | None:
    key, default = _split_variable(inner)
    values = context.get(key, ())
    # a multivalued key cannot stand in for one value
    return values[0] if len(values) == 1 else default


# The keys of the caller's own identity. IAM User Guide, "IAM policy elements: Variables and
# tags", "Principal key values": a key "not present" for the caller's kind of principal (no
# aws:username for a role, none of them for an anonymous caller) "means that the value is not in
# the current request information, and any attempt to match it fails and causes the statement to
# be invalid". Such a variable switches its whole statement off, Allow or Deny, whatever the
# operator. Other keys without a value (a tag, an endpoint) are a null value instead (below).
PRINCIPAL_KEYS = frozenset(
    {"aws:username", "aws:userid", "aws:principaltype", "aws:principalarn", "aws:principalaccount"}
)


def invalidates_statement(text: str, context: ContextValues) -> bool:
    """Whether `text` uses a variable of the caller's identity that this request does not have
    (and that has no default): the statement holding it does not apply."""
    for match in _VARIABLE.finditer(text):
        inner = match.group(1)
        if inner in _LITERALS:
            continue
        key, default = _split_variable(inner)
        if key in PRINCIPAL_KEYS and default is None and len(context.get(key, ())) != 1:
            return True
    return False


def variable_keys(text: str) -> set[str]:
    """The request keys (lower-cased) whose values the policy variables of `text` take."""
    return {
        _split_variable(match.group(1))[0]
        for match in _VARIABLE.finditer(text)
        if match.group(1) not in _LITERALS
    }


def plain_text(parts: list[tuple[bool, str]]) -> str:
    return "".join(piece for _, piece in parts)


def compile_wildcard(
    parts: list[tuple[bool, str]], *, ignore_case: bool = False, arn_segments: bool = False
) -> re.Pattern[str]:
    """A regex for an IAM wildcard pattern: `*` any run of characters, `?` exactly one.

    With arn_segments (the Resource element), a `*` stays inside its colon-delimited segment
    unless it is the last character of a segment, where it may run past the colons, as the IAM
    Resource documentation describes. Compiled once per pattern (the same few patterns are
    judged on every request).
    """
    return _compiled_wildcard(tuple(parts), ignore_case, arn_segments)


@functools.lru_cache(maxsize=4096)
def _compiled_wildcard(
    parts: tuple[tuple[bool, str], ...], ignore_case: bool, arn_segments: bool
) -> re.Pattern[str]:
    regex: list[str] = []
    for literal, piece in parts:
        if literal:
            regex.append(re.escape(piece))
            continue
        for index, char in enumerate(piece):
            if char == "*":
                segment_ends = index + 1 == len(piece) or piece[index + 1] == ":"
                regex.append(".*" if not arn_segments or segment_ends else "[^:]*")
            elif char == "?":
                regex.append("[^:]" if arn_segments else ".")
            else:
                regex.append(re.escape(char))
    return re.compile("".join(regex), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Match a pattern without policy variables (Action, NotAction)."""
    regex = compile_wildcard([(False, pattern)], ignore_case=ignore_case)
    return regex.fullmatch(value) is not None


# --- operators --------------------------------------------------------------------------------

# A matcher takes (policy value parts, one request value) and says whether they match.
Matcher = Callable[[list[tuple[bool, str]], str], bool]


def _string_equals(parts: list[tuple[bool, str]], value: str) -> bool:
    return plain_text(parts) == value


def _string_equals_ignore_case(parts: list[tuple[bool, str]], value: str) -> bool:
    return plain_text(parts).casefold() == value.casefold()


def _string_like(parts: list[tuple[bool, str]], value: str) -> bool:
    return compile_wildcard(parts).fullmatch(value) is not None


def _arn_like(parts: list[tuple[bool, str]], value: str) -> bool:
    pattern = plain_text(parts)
    if pattern == "*":
        return True
    # each of the six colon-delimited components is matched on its own
    pattern_components = _split_parts(parts)
    value_components = value.split(":", 5)
    if pattern_components is None or len(value_components) != 6:
        return False
    return all(
        compile_wildcard(p).fullmatch(v) is not None
        for p, v in zip(pattern_components, value_components, strict=True)
    )


def _split_parts(parts: list[tuple[bool, str]]) -> list[list[tuple[bool, str]]] | None:
    components: list[list[tuple[bool, str]]] = [[]]
    for literal, piece in parts:
        chunks = [piece] if literal else piece.split(":")
        for index, chunk in enumerate(chunks):
            if index and len(components) < 6:
                components.append([])
            elif index:
                chunk = ":" + chunk  # the sixth component keeps its colons
            components[-1].append((literal, chunk))
    return components if len(components) == 6 else None


_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if _DECIMAL.fullmatch(text) else None


def _date(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 date/time or an epoch number; None if neither."""
    text = text.strip()
    if _DECIMAL.fullmatch(text):
        return float(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _compare(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Matcher:
    def matcher(parts: list[tuple[bool, str]], value: str) -> bool:
        expected, actual = parse(plain_text(parts)), parse(value)
        return expected is not None and actual is not None and test(actual, expected)

    return matcher


def _bool(parts: list[tuple[bool, str]], value: str) -> bool:
    return plain_text(parts).lower() == value.lower()


def _ip_address(parts: list[tuple[bool, str]], value: str) -> bool:
    try:
        network = ipaddress.ip_network(plain_text(parts), strict=False)
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return address in network  # an address of the other IP version is in no network


def _is_number(text: str) -> bool:
    return _number(text) is not None


def _is_date(text: str) -> bool:
    return _date(text) is not None


def _valid_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "NotEquals": lambda a, b: a == b,  # negated by the table below
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}

# operator name -> (matcher, negated, value validator)
OPERATORS: dict[str, tuple[Matcher, bool, Callable[[str], bool] | None]] = {
    "StringEquals": (_string_equals, False, None),
    "StringNotEquals": (_string_equals, True, None),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False, None),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True, None),
    "StringLike": (_string_like, False, None),
    "StringNotLike": (_string_like, True, None),
    "ArnEquals": (_arn_like, False, None),
    "ArnLike": (_arn_like, False, None),
    "ArnNotEquals": (_arn_like, True, None),
    "ArnNotLike": (_arn_like, True, None),
    "Bool": (_bool, False, lambda v: v.lower() in ("true", "false")),
    "IpAddress": (_ip_address, False, _valid_network),
    "NotIpAddress": (_ip_address, True, _valid_network),
}
for _suffix, _test in _COMPARISONS.items():
    _negated = _suffix == "NotEquals"
    OPERATORS["Numeric" + _suffix] = (_compare(_number, _test), _negated, _is_number)
    OPERATORS["Date" + _suffix] = (_compare(_date, _test), _negated, _is_date)


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key, e.g. `StringEquals` on `aws:SourceVpce`."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # lower-cased
    values: tuple[str, ...]
    base: str  # "StringLike"
    qualifier: str | None  # "ForAnyValue", "ForAllValues" or None
    if_exists: bool

    def evaluate(self, context: ContextValues, *, variables: bool = True) -> bool:
        if variables and any(invalidates_statement(v, context) for v in self.values):
            return False  # the statement is invalid: it applies to nothing
        request_values = context.get(self.key, ())
        if self.base == "Null":
            wanted_missing = {v.lower() == "true" for v in self.values}
            return (not request_values) in wanted_missing
        matcher, negated, _ = OPERATORS[self.base]
        if not request_values:
            if self.if_exists:
                return True
            if self.qualifier == "ForAllValues":
                return True
            if self.qualifier == "ForAnyValue":
                return False
            return negated
        # Any other variable without a value (and no default) is effectively null: it equals
        # and is like nothing, so it drops out of the OR (positive operators) and of the NOR
        # (negated operators: the request value is "not equal to" null). The other policy values
        # of the condition still count. Not "the statement does not apply": a Deny guarded by
        # StringNotEquals on ${aws:PrincipalTag/...} keeps denying callers without the tag, as
        # AWS documents.
        policy_values = [
            parts
            for parts in (
                substitute(v, context) if variables else [(False, v)] for v in self.values
            )
            if parts is not None
        ]

        def passes(request_value: str) -> bool:
            hit = any(matcher(parts, request_value) for parts in policy_values)
            return not hit if negated else hit

        if self.qualifier == "ForAllValues":
            return all(passes(v) for v in request_values)
        if self.qualifier == "ForAnyValue" or not negated:
            return any(passes(v) for v in request_values)
        return all(passes(v) for v in request_values)


def parse_condition_block(block: object) -> tuple[Condition, ...]:
    """Validate a statement's Condition element and flatten it to one Condition per key."""
    if not isinstance(block, Mapping) or not block:
        raise ConditionError("Condition must be a non-empty object of operators")
    conditions: list[Condition] = []
    for operator, keys in block.items():
        qualifier, base, if_exists = _split_operator(operator)
        if not isinstance(keys, Mapping) or not keys:
            raise ConditionError(
                f"Condition operator {operator!r} must map condition keys to values"
            )
        for key, raw in keys.items():
            values = _condition_values(operator, key, raw)
            validator = None if base == "Null" else OPERATORS[base][2]
            for value in values:
                valid = (
                    value.lower() in ("true", "false")
                    if base == "Null"
                    else "${" in value or not validator or validator(value)
                )
                if not valid:
                    raise ConditionError(
                        f"Condition {operator!r} on {key!r}: {value!r} is not a valid value"
                    )
            conditions.append(Condition(operator, key.lower(), values, base, qualifier, if_exists))
    return tuple(conditions)


def _split_operator(operator: object) -> tuple[str | None, str, bool]:
    if not isinstance(operator, str):
        raise ConditionError(f"unknown condition operator {operator!r}")
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise ConditionError(f"unknown condition operator {operator!r}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base.removesuffix("IfExists")
    if base == "Null" and (if_exists or qualifier):
        raise ConditionError(f"unknown condition operator {operator!r} (Null takes no modifiers)")
    if base != "Null" and base not in OPERATORS:
        raise ConditionError(f"unknown condition operator {operator!r}")
    return qualifier or None, base, if_exists


def _condition_values(operator: str, key: object, raw: object) -> tuple[str, ...]:
    if not isinstance(key, str) or not key:
        raise ConditionError(f"Condition {operator!r}: condition keys must be non-empty strings")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ConditionError(f"Condition {operator!r} on {key!r}: no values")
    values: list[str] = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            values.append(str(item))
        else:
            raise ConditionError(
                f"Condition {operator!r} on {key!r}: values must be strings, numbers or booleans"
            )
    return tuple(values)
