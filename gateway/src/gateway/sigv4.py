"""AWS Signature Version 4 verification for the local API Gateway (methods with AWS_IAM auth).

Framework-free: the request as it came off the wire (method, raw path, raw query, headers, the
SHA-256 of the body actually received) and the local identities in, the caller's `Identity` or a
`SigV4Error` out. Both forms are verified: the `Authorization: AWS4-HMAC-SHA256 ...` header and the
presigned query string (`X-Amz-Algorithm`, `X-Amz-Credential`, ...).

Canonical request (rules for services other than S3, as execute-api applies them):
- URI: the path exactly as received, dot segments removed and runs of slashes collapsed, then
  percent-encoded again (`%20` -> `%2520`, `@` -> `%40`; only A-Z a-z 0-9 - _ . ~ / stay). This is
  botocore `SigV4Auth._normalize_url_path`, requests-aws4auth `amz_cano_path` and awscurl's
  `quote(path)`; the aws-sdk-net PR #4473 measurements confirm execute-api canonicalises the
  encoded wire path (a raw `+` in the path is a literal `+`).
- Query: each `key=value` pair percent-decoded (`+` is a space: requests encodes spaces as `+` and
  requests-aws4auth users get 200 from API Gateway, tedder/requests-aws4auth#54), re-encoded per
  RFC 3986, sorted by key then value; repeated keys and empty values kept, a key without `=` is
  `key=`. Presigned requests leave out `X-Amz-Signature`.
- Headers: the names listed in SignedHeaders, lowercased; values trimmed, inner whitespace runs
  collapsed, repeated headers joined with `,`; a signed header that is absent has an empty value
  (so the signature does not match). `host` must be signed.
- Payload: the hex SHA-256 of the body actually received, for both forms (botocore's
  `SigV4QueryAuth` hashes the body too; only S3 presigning uses UNSIGNED-PAYLOAD). A client that
  signs `X-Amz-Content-SHA256: UNSIGNED-PAYLOAD` therefore gets a signature mismatch.

Order of the checks and the messages, all answered with HTTP 403 as API Gateway does:
- Header structure (IncompleteSignatureException). "Invalid key=value pair (missing equal-sign) in
  Authorization header (hashed with SHA-256 and encoded with Base64): '<b64>'." and
  "Authorization header requires 'Credential' parameter. ... Authorization header requires
  existence of either a 'X-Amz-Date' or a 'Date' header. (Hashed with SHA-256 and encoded with
  Base64) Authorization=<b64>": responses of API Gateway quoted in public repositories (2024-2026);
  the older form, with the header in clear, in aws/chalice#828 and serverless/serverless#3205.
  What exactly is hashed is not documented: here it is the header value, stripped.
  "Authorization header must begin with the algorithm name, which cannot include an
  equal-sign": quoted API Gateway response (text after it not seen; none is added here).
- Presigned parameters (IncompleteSignatureException): "AWS query-string parameters must include
  '<name>'. Re-examine the query-string parameters." (the AWS query-auth message, as mirrored by
  versity's IAM emulator). X-Amz-Expires checks use S3's texts ("X-Amz-Expires should be a
  number", "... must be non-negative", "... must be less than a week (in seconds) that is
  604800"): API Gateway's are not published.
- Date: "Date must be in ISO-8601 'basic format'. Got '<v>'. See http://en.wikipedia.org/wiki/ISO_8601"
  (IncompleteSignatureException); "Signature expired: <t> is now earlier than <now-5m> (<now> - 5
  min.)" and "Signature not yet current: <t> is still later than <now+5m> (<now> + 5 min.)"
  (InvalidSignatureException): API Gateway responses in mhart/aws4#118 and
  NickWaterton/Roomba980-Python#118; IAM User Guide "Troubleshoot signed requests". A presigned
  URL past X-Amz-Expires gets "Signature expired: <t> is now earlier than <now-expires> (<now> -
  <expires> sec.)": same template, wording of the window not verified against AWS.
- "'Host' must be a 'SignedHeader' in the AWS Authorization." (InvalidSignatureException),
  "Unsupported AWS 'algorithm': '<a>' (only AWS4-HMAC-SHA256 for now). " and "Credential must have
  exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '<c>'"
  (IncompleteSignatureException), then the scope, all problems in one message:
  "Credential should be scoped to a valid region, not '<r>'. Credential should be scoped to correct
  service: 'execute-api'. Credential should be scoped with a valid terminator: 'aws4_request', not
  '<t>'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP:
  '<d>' != '<yyyymmdd>', from '<amzdate>'." (InvalidSignatureException): the AWS request
  front end's order and texts as recorded in mhart/dynalite (validations of the shared AWS
  front end), the region/service pair as API Gateway answered in Kong/insomnia#830.
- Unknown access key, and a session token that is missing, wrong, or sent with a key that has
  none: UnrecognizedClientException "The security token included in the request is invalid."
  (API Gateway knowledge-center article "Troubleshoot HTTP 403 errors from API Gateway"; the error
  type as the AWS front end sends it, mhart/dynalite). The key is looked up after the scope checks
  and the token is checked after the signature, as the AWS front end does.
- Signature mismatch (InvalidSignatureException): "The request signature we calculated does not
  match the signature you provided. Check your AWS Secret Access Key and signing method. Consult
  the service documentation for details.\\n\\nThe Canonical String for this request should have
  been\\n'<canonical request>'\\n\\nThe String-to-Sign should have been\\n'<string to sign>'\\n"
  (API Gateway responses in aws/aws-sdk-js#2372 and aws-samples/sigv4-signing-examples#14).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes

from gateway.memo import BoundedMemo

__all__ = [
    "ALGORITHM",
    "Identity",
    "SigV4Error",
    "SigV4Verifier",
    "canonical_query",
    "canonical_uri",
    "has_sigv4",
    "verify_sigv4",
]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_PRESIGN_EXPIRES = 604800  # seconds: a SigV4 signing key is valid for 7 days
TERMINATOR = "aws4_request"

INCOMPLETE = "IncompleteSignatureException"
INVALID = "InvalidSignatureException"
UNRECOGNIZED = "UnrecognizedClientException"

UNKNOWN_CLIENT_MESSAGE = "The security token included in the request is invalid."
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)

_AMZ_DATE = re.compile(r"^\d{8}T\d{6}Z$")
_QUERY_AUTH_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")
_PRESIGN_REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)


@dataclass(frozen=True)
class Identity:
    access_key_id: str
    secret_access_key: str
    principal_arn: str  # e.g. arn:aws:iam::444444444444:role/consumer-lambda
    account: str  # 444444444444
    session_token: str | None = None  # the request must carry exactly this X-Amz-Security-Token
    user_id: str | None = None  # aws:userid
    username: str | None = None  # aws:username
    session_name: str | None = None  # the role session's name (Lambda: the function's name)

    @functools.cached_property
    def caller_arn(self) -> str:
        """Who AWS says called: a role's session is
        arn:aws:sts::<account>:assumed-role/<role-name>/<session_name> (the role's path is not
        part of it); anyone else is their principal_arn. Worked out once per identity (the
        access log and the policies ask on every request)."""
        role = re.fullmatch(
            r"arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[^/]+/)*([^/]+)", self.principal_arn
        )
        if role is None or not self.session_name:
            return self.principal_arn
        partition, account, name = role.groups()
        return f"arn:{partition}:sts::{account}:assumed-role/{name}/{self.session_name}"


class SigV4Error(Exception):
    """A request API Gateway would refuse: answer `status`, `x-amzn-ErrorType: error_type` and
    the body `{"message": message}`."""

    def __init__(self, error_type: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def __repr__(self) -> str:
        return f"SigV4Error({self.status}, {self.error_type!r}, {self.message!r})"


class _Signed(NamedTuple):  # a tuple: made on every signed request, at a third of the cost
    """What the client claims, from the header or from the query string."""

    algorithm: str
    credential: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # X-Amz-Date in ISO-8601 basic format (derived from Date if that was used)
    request_time: datetime
    presigned: bool
    expires: int | None  # presigned only
    security_token: str | None


def has_sigv4(headers: Sequence[tuple[str, str]], raw_query: str) -> bool:
    """True if the request attempts AWS auth: a non-empty Authorization header, or the presigned
    query parameters."""
    authorization = next((v for n, v in headers if n.strip().lower() == "authorization"), None)
    if authorization is not None and authorization.strip():
        return True
    return any(key in _QUERY_AUTH_PARAMS for key, _ in _decoded_query(raw_query))


def verify_sigv4(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    body_sha256: str,
    identities: Mapping[str, Identity],
    now: datetime,
    regions: Collection[str],
    service: str = "execute-api",
) -> Identity:
    """Verify a SigV4-signed request and return the caller, or raise `SigV4Error`.

    `raw_path` and `raw_query` are exactly as received (percent-encoded, query without `?`);
    non-ASCII characters in them are taken as UTF-8. `headers` as received, names in any case,
    repeats allowed. `now` is the server clock (a naive value is taken as UTC).
    """
    return _verify(
        method, raw_path, raw_query, headers, body_sha256, identities, _utc(now), regions, service
    )[0]


class SigV4Verifier:
    """`verify_sigv4` for one set of identities, regions and service, with the most recent
    requests it verified kept: the same request again (a client signs with a date of one-second
    resolution, so it sends the same bytes for a whole second) costs one lookup and the clock
    check.

    Exact by construction: what `verify_sigv4` answers is a function of the request (method,
    raw path, raw query, every header as received, the payload hash), the identities, the
    regions, the service and the clock, and the clock only enters through the first check
    after parsing (not yet current, expired). So a request that verified once verifies again
    with the same identity for as long as that check passes, and the check is made afresh on
    every request; any other byte of difference, signed or not, is a new request, verified in
    full. Refused requests are never kept. The identities are the ones given here: the
    verifier must not outlive a change to them. Least recently used entries go first once
    `maxsize` are kept.
    """

    def __init__(
        self,
        identities: Mapping[str, Identity],
        regions: Collection[str],
        service: str = "execute-api",
        maxsize: int = 256,
    ) -> None:
        self.identities = identities
        self.regions = regions
        self.service = service
        self._verified: BoundedMemo[tuple[object, ...], tuple[Identity, _Signed]] = BoundedMemo(
            maxsize
        )

    def __len__(self) -> int:
        return len(self._verified)

    def verify(
        self,
        *,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Sequence[tuple[str, str]],
        body_sha256: str,
        now: datetime,
    ) -> Identity:
        """What `verify_sigv4` answers for this request with this verifier's identities."""
        now = _utc(now)
        key = (method, raw_path, raw_query, tuple(headers), body_sha256)
        kept = self._verified.get(key)
        if kept is not None:
            _check_time(kept[1], now)
            return kept[0]
        kept = _verify(
            method,
            raw_path,
            raw_query,
            headers,
            body_sha256,
            self.identities,
            now,
            self.regions,
            self.service,
        )
        self._verified.put(key, kept)
        return kept[0]


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _verify(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    body_sha256: str,
    identities: Mapping[str, Identity],
    now: datetime,
    regions: Collection[str],
    service: str,
) -> tuple[Identity, _Signed]:
    """`verify_sigv4`, `now` in UTC, with what the client claimed."""
    header_map = _header_map(headers)
    authorization = _first(header_map, "authorization")
    if authorization is not None and authorization.strip():
        signed = _from_authorization_header(authorization, header_map)
    else:
        signed = _from_query(_decoded_query(raw_query), header_map)

    _check_time(signed, now)
    if "host" not in signed.signed_headers:
        raise SigV4Error(INVALID, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    if signed.algorithm != ALGORITHM:
        raise SigV4Error(
            INCOMPLETE,
            f"Unsupported AWS 'algorithm': '{signed.algorithm}' (only {ALGORITHM} for now). ",
        )
    key_id, scope = _check_credential(signed, regions, service)

    identity = identities.get(key_id)
    if identity is None:
        raise SigV4Error(UNRECOGNIZED, UNKNOWN_CLIENT_MESSAGE)

    canonical = "\n".join(
        [
            method,
            canonical_uri(raw_path),
            canonical_query(raw_query, presigned=signed.presigned),
            _canonical_headers(signed.signed_headers, header_map),
            ";".join(signed.signed_headers),
            body_sha256,
        ]
    )
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            signed.amz_date,
            scope,
            hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest(),
        ]
    )
    expected = _signature(identity.secret_access_key, scope, string_to_sign)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode("utf-8", "replace")):
        raise SigV4Error(
            INVALID,
            f"{MISMATCH}\n\nThe Canonical String for this request should have been\n"
            f"'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n",
        )

    _check_session_token(identity, signed.security_token)
    return identity, signed


@functools.lru_cache(maxsize=1024)
def canonical_uri(raw_path: str) -> str:
    """The CanonicalURI of a request path as received: normalised, then encoded once more.
    Remembered for the most recent paths (callers repeat theirs)."""
    path = _remove_dot_segments(raw_path or "/")
    return quote(path.encode("utf-8", "surrogateescape"), safe="/~")


def canonical_query(raw_query: str, *, presigned: bool = False) -> str:
    """The CanonicalQueryString of a query as received (without `?`)."""
    if not raw_query:
        return ""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        encoded_key = _rfc3986(key)
        if presigned and encoded_key == "X-Amz-Signature":
            continue
        pairs.append((encoded_key, _rfc3986(value)))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


# --- the two ways a client can sign -------------------------------------------------------------


def _from_authorization_header(authorization: str, header_map: dict[str, list[str]]) -> _Signed:
    value = authorization.strip()
    algorithm, params = _authorization_params(value)
    date_header = _first(header_map, "x-amz-date")
    fallback_date = _first(header_map, "date")
    complete = (
        params.get("Credential")
        and params.get("Signature")
        and "SignedHeaders" in params
        and (date_header is not None or fallback_date is not None)
    )
    if not complete:
        missing = "".join(
            f"Authorization header requires '{name}' parameter. "
            for name in ("Credential", "Signature", "SignedHeaders")
            if name not in params or (not params[name] and name != "SignedHeaders")
        )
        if date_header is None and fallback_date is None:
            missing += (
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header. "
            )
        raise SigV4Error(
            INCOMPLETE,
            f"{missing}(Hashed with SHA-256 and encoded with Base64) "
            f"Authorization={_hashed(value)}",
        )

    if date_header is not None:
        request_time, amz_date = _parse_amz_date(date_header)
    else:
        request_time = _parse_http_date(fallback_date or "")
        amz_date = _format(request_time)
    return _Signed(
        algorithm=algorithm,
        credential=params["Credential"],
        signed_headers=_split_signed_headers(params["SignedHeaders"]),
        signature=params["Signature"],
        amz_date=amz_date,
        request_time=request_time,
        presigned=False,
        expires=None,
        security_token=_first(header_map, "x-amz-security-token"),
    )


@functools.lru_cache(maxsize=256)
def _authorization_params(value: str) -> tuple[str, Mapping[str, str]]:
    """The algorithm and the key=value parameters of an Authorization header (stripped), the
    first of each name. Remembered for the most recent values: a client sends the same header
    for as long as it signs the same request in the same second (a malformed one raises, and
    nothing is kept)."""
    algorithm, _, rest = value.partition(" ")
    if "=" in algorithm:
        raise SigV4Error(
            INCOMPLETE,
            "Authorization header must begin with the algorithm name, which cannot include an "
            "equal-sign",
        )
    params: dict[str, str] = {}
    for item in rest.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise SigV4Error(
                INCOMPLETE,
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed "
                f"with SHA-256 and encoded with Base64): '{_hashed(value)}'.",
            )
        name, _, param = item.partition("=")
        params.setdefault(name.strip(), param.strip())
    return algorithm, MappingProxyType(params)


def _from_query(query: list[tuple[str, str]], header_map: dict[str, list[str]]) -> _Signed:
    params: dict[str, str] = {}
    for key, value in query:
        params.setdefault(key, value)
    for name in _PRESIGN_REQUIRED:
        if name not in params:
            raise SigV4Error(
                INCOMPLETE,
                f"AWS query-string parameters must include '{name}'. "
                "Re-examine the query-string parameters.",
            )
    request_time, amz_date = _parse_amz_date(params["X-Amz-Date"])
    expires = None
    if "X-Amz-Expires" in params:
        raw_expires = params["X-Amz-Expires"]
        if not re.fullmatch(r"-?\d+", raw_expires):
            raise SigV4Error(INCOMPLETE, "X-Amz-Expires should be a number")
        expires = int(raw_expires)
        if expires < 0:
            raise SigV4Error(INCOMPLETE, "X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGN_EXPIRES:
            raise SigV4Error(
                INCOMPLETE,
                "X-Amz-Expires must be less than a week (in seconds) that is "
                f"{MAX_PRESIGN_EXPIRES}",
            )
    token = params.get("X-Amz-Security-Token")
    if token is None:
        token = _first(header_map, "x-amz-security-token")
    return _Signed(
        algorithm=params["X-Amz-Algorithm"],
        credential=params["X-Amz-Credential"],
        signed_headers=_split_signed_headers(params["X-Amz-SignedHeaders"]),
        signature=params["X-Amz-Signature"],
        amz_date=amz_date,
        request_time=request_time,
        presigned=True,
        expires=expires,
        security_token=token,
    )


# --- checks -------------------------------------------------------------------------------------


def _check_time(signed: _Signed, now: datetime) -> None:
    latest = now + MAX_CLOCK_SKEW
    if signed.request_time > latest:
        raise SigV4Error(
            INVALID,
            f"Signature not yet current: {signed.amz_date} is still later than "
            f"{_format(latest)} ({_format(now)} + 5 min.)",
        )
    if signed.expires is not None:
        earliest = now - timedelta(seconds=signed.expires)
        if signed.request_time < earliest:
            raise SigV4Error(
                INVALID,
                f"Signature expired: {signed.amz_date} is now earlier than {_format(earliest)} "
                f"({_format(now)} - {signed.expires} sec.)",
            )
        return
    earliest = now - MAX_CLOCK_SKEW
    if signed.request_time < earliest:
        raise SigV4Error(
            INVALID,
            f"Signature expired: {signed.amz_date} is now earlier than {_format(earliest)} "
            f"({_format(now)} - 5 min.)",
        )


def _check_credential(signed: _Signed, regions: Collection[str], service: str) -> tuple[str, str]:
    """Return (access key id, credential scope without the key)."""
    credential = signed.credential.rstrip("/")
    parts = credential.split("/")
    if len(parts) != 5:
        raise SigV4Error(
            INCOMPLETE,
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'",
        )
    key_id, date, region, scope_service, terminator = parts
    problems = ""
    if region not in regions:
        problems += f"Credential should be scoped to a valid region, not '{region}'. "
    if scope_service != service:
        problems += f"Credential should be scoped to correct service: '{service}'. "
    if terminator != TERMINATOR:
        problems += (
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'. "
        )
    if date != signed.amz_date[:8]:
        problems += (
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{date}' != '{signed.amz_date[:8]}', from '{signed.amz_date}'."
        )
    if problems:
        raise SigV4Error(INVALID, problems)
    return key_id, "/".join(parts[1:])


def _check_session_token(identity: Identity, token: str | None) -> None:
    if identity.session_token is None:
        if token:
            raise SigV4Error(UNRECOGNIZED, UNKNOWN_CLIENT_MESSAGE)
        return
    if token is None or not hmac.compare_digest(
        token.encode("utf-8", "replace"), identity.session_token.encode("utf-8")
    ):
        raise SigV4Error(UNRECOGNIZED, UNKNOWN_CLIENT_MESSAGE)


# --- helpers ------------------------------------------------------------------------------------


def _signature(secret: str, scope: str, string_to_sign: str) -> str:
    return hmac.digest(_signing_key(secret, scope), string_to_sign.encode("utf-8"), "sha256").hex()


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, scope: str) -> bytes:
    """The key derived from the secret for one credential scope (date/region/service/
    aws4_request): four HMACs whose result is the same for every request of that identity, day,
    region and service, so kept, as the AWS SDKs keep theirs (aws-sdk-go-v2
    `aws/signer/internal/v4/cache.go`, aws-sdk-js-v3 `signature-v4/src/credentialDerivation.ts`).
    Only identities that exist get here, and the cache is bounded: a caller naming ever other
    scopes only makes keys be derived again."""
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.digest(key, part.encode("utf-8"), "sha256")
    return key


def _canonical_headers(signed_headers: Sequence[str], header_map: dict[str, list[str]]) -> str:
    return "".join(
        [
            f"{name}:{','.join([' '.join(value.split()) for value in header_map.get(name, ())])}\n"
            for name in signed_headers
        ]
    )


@functools.lru_cache(maxsize=256)
def _split_signed_headers(value: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in value.split(";") if name.strip())


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, value in headers:
        result.setdefault(name.strip().lower(), []).append(value)
    return result


def _first(header_map: dict[str, list[str]], name: str) -> str | None:
    values = header_map.get(name)
    return values[0] if values else None


def _decoded_query(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append(
            (_decode(key).decode("utf-8", "replace"), _decode(value).decode("utf-8", "replace"))
        )
    return pairs


def _decode(component: str) -> bytes:
    # Query components are form-encoded on the wire: '+' is a space, '%2B' a plus.
    # Bytes that are not UTF-8 arrive as lone surrogates (surrogateescape): give them back as sent.
    return unquote_to_bytes(component.replace("+", " ").encode("utf-8", "surrogateescape"))


def _rfc3986(component: str) -> str:
    return quote(_decode(component), safe="-_.~")


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, and runs of slashes collapsed, as the AWS SDKs sign it.
    output: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if output:
                output.pop()
        else:
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return first + "/".join(output) + last or "/"


@functools.lru_cache(maxsize=64)
def _parse_amz_date(value: str) -> tuple[datetime, str]:
    """X-Amz-Date as a time, and in ISO-8601 basic format again. Remembered for the most recent
    values: a signing client sends the same one for a whole second (a bad value raises, and
    nothing is kept)."""
    value = value.strip()
    if not _AMZ_DATE.match(value):
        raise SigV4Error(INCOMPLETE, _bad_date(value))
    try:
        moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SigV4Error(INCOMPLETE, _bad_date(value)) from None
    return moment, _format(moment)


def _parse_http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise SigV4Error(INCOMPLETE, _bad_date(value)) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _hashed(value: str) -> str:
    """How API Gateway's messages quote an Authorization header: SHA-256, Base64."""
    return base64.b64encode(hashlib.sha256(value.encode("utf-8")).digest()).decode("ascii")


def _bad_date(value: str) -> str:
    return (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _format(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")
