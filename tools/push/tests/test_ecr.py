import base64

import boto3
import pytest
from image_push import ecr
from image_push.errors import PushError

REGION = "us-east-1"


@pytest.mark.parametrize(
    ("account", "region", "host"),
    [
        ("123456789012", "us-east-1", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("111111111111", "eu-central-1", "111111111111.dkr.ecr.eu-central-1.amazonaws.com"),
        ("444444444444", "cn-north-1", "444444444444.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_registry_host(account: str, region: str, host: str) -> None:
    assert ecr.registry_host(account, region) == host


def test_login_from_moto(aws) -> None:
    login = ecr.login(boto3.client("ecr", region_name="eu-west-1"))

    assert login == ecr.Login(
        username="AWS",
        password=f"{aws.account}-auth-token",
        registry=f"{aws.account}.dkr.ecr.eu-west-1.amazonaws.com",
    )


class TokenClient:
    def __init__(self, token: str, endpoint: str) -> None:
        self._answer = {
            "authorizationData": [{"authorizationToken": token, "proxyEndpoint": endpoint}]
        }

    def get_authorization_token(self) -> dict:
        return self._answer


@pytest.mark.parametrize(
    ("decoded", "endpoint", "expected"),
    [
        # Only the first ':' separates the user: a password may contain more.
        (
            "AWS:eyJwYXlsb2FkIjoi:x=",
            "https://1.dkr.ecr.us-east-1.amazonaws.com",
            ("AWS", "eyJwYXlsb2FkIjoi:x=", "1.dkr.ecr.us-east-1.amazonaws.com"),
        ),
        (
            "AWS:pw",
            "https://2.dkr.ecr.eu-west-1.amazonaws.com/",
            ("AWS", "pw", "2.dkr.ecr.eu-west-1.amazonaws.com"),
        ),
    ],
)
def test_login_splits_the_token(decoded: str, endpoint: str, expected: tuple) -> None:
    token = base64.b64encode(decoded.encode()).decode()

    login = ecr.login(TokenClient(token, endpoint))

    assert (login.username, login.password, login.registry) == expected


def test_caller_account_from_sts(aws) -> None:
    assert ecr.caller_account(boto3.session.Session(), REGION) == aws.account


def test_ensure_repository_creates_once(aws) -> None:
    client = boto3.client("ecr", region_name=REGION)

    assert ecr.ensure_repository(client, "private-apis/todo") is True
    assert ecr.ensure_repository(client, "private-apis/todo") is False

    [repository] = client.describe_repositories()["repositories"]
    assert repository["repositoryName"] == "private-apis/todo"
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}


def test_pushed_digest_of_a_missing_tag_is_none(aws) -> None:
    client = boto3.client("ecr", region_name=REGION)
    ecr.ensure_repository(client, "private-apis/todo")

    assert ecr.pushed_digest(client, "private-apis/todo", "abc") is None


def test_client_error_is_one_line(aws) -> None:
    client = boto3.client("ecr", region_name=REGION)

    with pytest.raises(PushError) as caught:
        ecr.pushed_digest(client, "private-apis/never-created", "abc")

    assert str(caught.value).startswith("AWS DescribeImages failed: RepositoryNotFoundException: ")
    assert "\n" not in str(caught.value)
