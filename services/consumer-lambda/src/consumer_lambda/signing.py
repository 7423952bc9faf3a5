"""SigV4 signing with requests-aws4auth, with the clock as a parameter.

requests-aws4auth signs with the request's `x-amz-date` when one is present, so setting that header
from an injected clock gives reproducible signatures in tests and the real time otherwise.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from requests import PreparedRequest
from requests_aws4auth import AWS4Auth

from consumer_lambda.settings import Settings

SERVICE = "execute-api"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ClockedAWS4Auth(AWS4Auth):  # type: ignore[misc]
    """AWS4Auth that stamps `x-amz-date` from `clock` before signing."""

    def __init__(self, *args: object, clock: Clock = utc_now, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def __call__(self, req: PreparedRequest) -> PreparedRequest:
        now = self.clock().astimezone(UTC)
        req.headers.pop("date", None)
        req.headers["x-amz-date"] = now.strftime(AMZ_DATE_FORMAT)
        return super().__call__(req)  # type: ignore[no-any-return]


def make_auth(settings: Settings, clock: Clock = utc_now) -> ClockedAWS4Auth:
    """The signer for the partner API: the function's credentials, its region, `execute-api`."""
    return ClockedAWS4Auth(
        settings.access_key_id,
        settings.secret_access_key,
        settings.region,
        SERVICE,
        clock().astimezone(UTC).strftime("%Y%m%d"),
        session_token=settings.session_token,
        clock=clock,
    )
