"""Pages of `GET /todo` (`?limit=` and `?next=`): parsing the query and the opaque next token.

The token is the creation sequence number to continue after, versioned and base64url-encoded so
that clients pass it back unchanged instead of building their own: the encoding may change.
Both backends number items in creation order, so a token means the same on every instance and
stays valid while items are added or deleted (a page never repeats or skips an item).
"""

import base64
import binascii
import re

MAX_LIMIT = 1000
TOKEN_VERSION = "v1"  # noqa: S105  # a format version, not a secret
_TOKEN_BODY = re.compile(rf"{TOKEN_VERSION}:([1-9][0-9]{{0,17}})")
_DIGITS = re.compile(r"[0-9]{1,7}")


class PagingError(ValueError):
    """The query cannot be served: str() is the message for the 400."""


def parse_limit(raw: str | None) -> int:
    """`limit` as given (1..MAX_LIMIT); MAX_LIMIT when only `next` is given."""
    if raw is None:
        return MAX_LIMIT
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise PagingError(f"'limit' must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def encode_token(after: int) -> str:
    raw = f"{TOKEN_VERSION}:{after}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str) -> int:
    """The sequence number in a token that encode_token made; PagingError for anything else."""
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise PagingError("'next' is not a token this API issued") from None
    match = _TOKEN_BODY.fullmatch(raw)
    if match is None or encode_token(int(match.group(1))) != token:
        raise PagingError("'next' is not a token this API issued")
    return int(match.group(1))


def next_link(limit: int, after: int) -> str:
    """The Link header of a page that has a successor. The target is a query-only relative
    reference: it resolves against whatever path the client called (`/todo` here, `/prod/todo`
    behind a REST API stage), which an absolute path would not."""
    return f'<?limit={limit}&next={encode_token(after)}>; rel="next"'
