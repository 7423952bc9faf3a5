"""`python -m dynamodb_local` as a real process on a loopback port: it answers boto3 as DynamoDB
does, and concurrent conditional writes and counter updates are atomic, as in DynamoDB."""

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from devstack.ports import free_port
from devstack.stack import Service, ServiceSpec, spawn

SERVER = ServiceSpec("dynamodb", "dynamodb_local", "/health")
THREADS = 8
PER_THREAD = 25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = Path(tmp_path_factory.mktemp("dynamodb")) / "dynamodb.log"
    env = {**os.environ, "LOG_LEVEL": "warning"}
    service = spawn(SERVER, free_port(), env=env, log_path=log).wait_ready()
    try:
        yield service
    finally:
        service.stop()


def _client(server: Service) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=server.base_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture(scope="module")
def table(server: Service) -> str:
    _client(server).create_table(
        TableName="t",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "t"


def test_health(server: Service) -> None:
    response = httpx.get(server.health_url)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_answers_as_dynamodb(server: Service, table: str) -> None:
    client = _client(server)
    assert client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    assert client.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "1"}
    with pytest.raises(ClientError) as raised:
        client.get_item(TableName="missing", Key={"pk": {"S": "a"}})
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_counter_updates_never_interleave(server: Service, table: str) -> None:
    def bump(_: int) -> list[int]:
        client = _client(server)
        seen = []
        for _ in range(PER_THREAD):
            answer = client.update_item(
                TableName=table,
                Key={"pk": {"S": "counter"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            seen.append(int(answer["Attributes"]["n"]["N"]))
        return seen

    with ThreadPoolExecutor(THREADS) as pool:
        values = [value for seen in pool.map(bump, range(THREADS)) for value in seen]
    assert sorted(values) == list(range(1, THREADS * PER_THREAD + 1))


def test_one_conditional_put_wins(server: Service, table: str) -> None:
    def claim(thread: int) -> bool:
        try:
            _client(server).put_item(
                TableName=table,
                Item={"pk": {"S": "claimed"}, "by": {"N": str(thread)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    with ThreadPoolExecutor(THREADS) as pool:
        won = list(pool.map(claim, range(THREADS)))
    assert won.count(True) == 1
    item = _client(server).get_item(TableName=table, Key={"pk": {"S": "claimed"}})["Item"]
    assert item["by"] == {"N": str(won.index(True))}
