"""The signed request carries exactly the SigV4 `Authorization` header, checked with botocore."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from consumer_lambda.partner import PartnerRequest, call_partner
from consumer_lambda.settings import Settings

FIXED_NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
AMZ_DATE = "20240102T030405Z"


def expected_authorization(
    *,
    method: str,
    url: str,
    body: bytes,
    access_key: str,
    secret_key: str,
    token: str | None,
    content_type: str | None = None,
) -> str:
    """SigV4 per botocore for the headers requests-aws4auth signs (host, content-type, x-amz-*)."""
    headers = {"X-Amz-Date": AMZ_DATE, "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if token is not None:
        headers["X-Amz-Security-Token"] = token
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    request.context["timestamp"] = AMZ_DATE
    signer = SigV4Auth(Credentials(access_key, secret_key, token), "execute-api", "us-east-1")
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signed = "content-type;" if content_type is not None else ""
    signed += "host;x-amz-content-sha256;x-amz-date" + (";x-amz-security-token" if token else "")
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/20240102/us-east-1/execute-api/aws4_request, "
        f"SignedHeaders={signed}, Signature={signature}"
    )


def settings_for(url: str, credentials: dict[str, str], token: str | None) -> Settings:
    return Settings(
        api_url=f"{url}/prod",
        api_id="partnerap1",
        region="us-east-1",
        access_key_id=credentials["access_key"],
        secret_access_key=credentials["secret_key"],
        session_token=token,
        timeout_s=5.0,
    )


@pytest.mark.parametrize("with_token", [True, False], ids=["session-token", "long-term-keys"])
@pytest.mark.parametrize(
    ("request_", "target", "body"),
    [
        (PartnerRequest("GET", "/dogs"), "/prod/dogs", b""),
        (
            PartnerRequest("GET", "/dogs/females", query={"size": "2", "after": "Bella"}),
            "/prod/dogs/females?size=2&after=Bella",
            b"",
        ),
        (
            PartnerRequest("POST", "/todo", body={"data": "walk the dog"}),
            "/prod/todo",
            json.dumps({"data": "walk the dog"}, separators=(",", ":")).encode(),
        ),
    ],
    ids=["get", "get-query", "post-json"],
)
def test_authorization_header_is_sigv4_for_fixed_credentials_and_clock(
    partner, credentials, with_token, request_, target, body
):
    token = credentials["token"] if with_token else None
    partner.answer(request_.method, target.split("?")[0], 200, {"ok": True})

    response = call_partner(
        requests.Session(),
        settings_for(partner.url, credentials, token),
        request_,
        clock=lambda: FIXED_NOW,
    )

    assert (response.status, response.body) == (200, {"ok": True})
    [received] = partner.received
    assert (received.method, received.path, received.body) == (request_.method, target, body)
    assert received.headers["x-amz-date"] == AMZ_DATE
    assert received.headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert received.headers["authorization"] == expected_authorization(
        method=request_.method,
        url=f"{partner.url}{target}",
        body=body,
        access_key=credentials["access_key"],
        secret_key=credentials["secret_key"],
        token=token,
        content_type=received.headers.get("content-type"),
    )
    assert received.headers.get("content-type") == ("application/json" if body else None)
    if with_token:
        assert received.headers["x-amz-security-token"] == credentials["token"]
    else:
        assert "x-amz-security-token" not in received.headers
    # The private API is chosen by header (a VPC endpoint without private DNS); it is not signed.
    assert received.headers["x-apigw-api-id"] == "partnerap1"


def test_wrong_secret_gives_a_different_signature(partner, credentials):
    """The check above can fail: a signature from another secret does not match."""
    partner.answer("GET", "/prod/dogs", 200, {})
    call_partner(
        requests.Session(),
        settings_for(partner.url, credentials, None),
        PartnerRequest("GET", "/dogs"),
        clock=lambda: FIXED_NOW,
    )
    assert partner.received[0].headers["authorization"] != expected_authorization(
        method="GET",
        url=f"{partner.url}/prod/dogs",
        body=b"",
        access_key=credentials["access_key"],
        secret_key="not-the-secret",
        token=None,
    )
