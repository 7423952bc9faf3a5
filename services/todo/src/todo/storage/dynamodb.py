"""DynamoDB backend: one table shared by every instance behind the load balancer.

Table design (TABLE_DEFINITION; a CDK stack creates the same): partition key `pk` (string), sort
key `sk` (number), on-demand capacity. Three kinds of item:

    pk="todo#<id>"  sk=0      {id, data, seq}   the item by its id: get, delete, unique ids
    pk="list"       sk=<seq>  {id, data}        the same item in creation order: list and pages
    pk="counter"    sk=0      {next}            the creation sequence (an atomic counter)

- `add` takes the next number from the counter (UpdateItem ADD), then writes both items of the
  todo in one transaction, each on the condition that it does not exist yet: an id that is taken
  cancels the whole transaction and another id is drawn (nothing is half-written), and a write
  that fails leaves at most an unused sequence number.
- `list` and `page` are a Query of the "list" partition in sort-key order, strongly consistent,
  read page by page (a Query answers at most 1 MB): no Scan and no sort in the app. A todo is
  listed as soon as its POST is answered, on every instance; a global secondary index would only
  be eventually consistent.
- `get` and `delete` address the "todo#<id>" item with strongly consistent reads; a delete
  removes both items in one transaction.
- `ping` is a conditional put that can never succeed (its condition contradicts itself): DynamoDB
  evaluates it as a write, so a missing table, missing write permission, throttling or an
  unreachable endpoint all show, and nothing is written.

One partition key holds the list: DynamoDB gives a key about 1,000 writes and 3,000 strongly
consistent reads per second, far above what this service sees; sharding "list" would lift it.

boto3 finds everything else itself: credentials (environment, profile, instance role) and, for a
local server, the endpoint from AWS_ENDPOINT_URL_DYNAMODB. Each call has a connect and a read
timeout and at most `max_attempts` attempts (botocore's standard retry mode, exponential backoff),
so a throttled or unreachable DynamoDB is a StorageError (503) within a bounded time, never a hang.
"""

from __future__ import annotations

import builtins
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from todo.storage import ID_ATTEMPTS, Page, StorageError, Todo, new_id

PK, SK = "pk", "sk"
LIST_PK = "list"
COUNTER_PK = "counter"
HEALTH_PK = "health"  # never written: the key of ping's conditional put
ITEM_PREFIX = "todo#"

TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": PK, "AttributeType": "S"},
        {"AttributeName": SK, "AttributeType": "N"},
    ],
    "KeySchema": [
        {"AttributeName": PK, "KeyType": "HASH"},
        {"AttributeName": SK, "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

# DynamoDB's answers when a table or an account is over its capacity.
THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}
TABLE_WAIT_S = 60


def _key(pk: str, sk: int = 0) -> dict[str, Any]:
    return {PK: {"S": pk}, SK: {"N": str(sk)}}


def _todo(item: dict[str, Any]) -> Todo:
    return Todo(id=item["id"]["S"], data=item["data"]["S"])


def _cancellation_codes(exc: ClientError) -> builtins.list[str]:
    reasons = exc.response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


class DynamoDbTodoStore:
    def __init__(
        self,
        table: str,
        *,
        region: str | None = None,
        timeout_s: float = 1.0,
        max_attempts: int = 3,
        create_table: bool = False,
    ) -> None:
        from todo.config import ConfigError

        self.table = table
        session = boto3.session.Session(region_name=region)
        config = Config(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"mode": "standard", "total_max_attempts": max_attempts},
        )
        try:
            self._client = session.client("dynamodb", config=config)
            # Health answers within one timeout: the load balancer asks again soon anyway.
            self._probe = session.client(
                "dynamodb",
                config=config.merge(Config(retries={"mode": "standard", "total_max_attempts": 1})),
            )
        except NoRegionError:
            raise ConfigError(
                "no AWS region for DynamoDB: set AWS_REGION (or boto3's AWS_DEFAULT_REGION)"
            ) from None
        self.endpoint = self._client.meta.endpoint_url
        if create_table:
            self._create_table()

    # --- errors --------------------------------------------------------------------------------

    def _error(self, exc: ClientError | BotoCoreError, action: str) -> StorageError:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            if code in THROTTLING:
                return StorageError(f"DynamoDB is throttling {action} on {self.table!r} ({code})")
            if code == "ResourceNotFoundException":
                return StorageError(f"DynamoDB table {self.table!r} not found at {self.endpoint}")
            if code == "TransactionCanceledException":
                codes = ", ".join(_cancellation_codes(exc))
                return StorageError(f"DynamoDB cancelled {action} on {self.table!r} ({codes})")
            return StorageError(f"DynamoDB {action} failed: {code}: {error.get('Message', '')}")
        if isinstance(exc, BotoConnectionError | HTTPClientError):  # refused, reset, timed out
            return StorageError(f"DynamoDB at {self.endpoint} did not answer {action}: {exc}")
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return StorageError(f"no AWS credentials for DynamoDB: {exc}")
        return StorageError(f"DynamoDB {action} failed: {exc}")

    # --- the table (local only) ---------------------------------------------------------------

    def _create_table(self) -> None:
        """Creates the table unless it exists, and waits until it is ACTIVE. Only for a local
        server (TODO_CREATE_TABLE=1): in AWS the deployment owns the table."""
        try:
            self._client.create_table(TableName=self.table, **TABLE_DEFINITION)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise self._error(exc, "CreateTable") from exc
        except BotoCoreError as exc:
            raise self._error(exc, "CreateTable") from exc
        try:
            self._client.get_waiter("table_exists").wait(
                TableName=self.table,
                WaiterConfig={"Delay": 1, "MaxAttempts": TABLE_WAIT_S},
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(
                f"DynamoDB table {self.table!r} did not become ACTIVE: {exc}"
            ) from exc

    # --- TodoStore -----------------------------------------------------------------------------

    def _next_seq(self) -> int:
        try:
            answer = self._client.update_item(
                TableName=self.table,
                Key=_key(COUNTER_PK),
                UpdateExpression="ADD #next :one",
                ExpressionAttributeNames={"#next": "next"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "UpdateItem") from exc
        return int(answer["Attributes"]["next"]["N"])

    def _put_both(self, todo: Todo, seq: int) -> None:
        data = {"S": todo.data}
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **_key(ITEM_PREFIX + todo.id),
                            "id": {"S": todo.id},
                            "data": data,
                            "seq": {"N": str(seq)},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {**_key(LIST_PK, seq), "id": {"S": todo.id}, "data": data},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    def add(self, data: str) -> Todo:
        seq = self._next_seq()
        for _ in range(ID_ATTEMPTS):
            todo = Todo(id=new_id(), data=data)
            try:
                self._put_both(todo, seq)
            except ClientError as exc:
                codes = _cancellation_codes(exc)
                if codes[:1] == ["ConditionalCheckFailed"]:
                    continue  # the id is taken: draw another (the transaction wrote nothing)
                if codes[1:2] == ["ConditionalCheckFailed"]:
                    # The number is taken: the counter was reset or restored behind the list.
                    seq = self._next_seq()
                    continue
                raise self._error(exc, "TransactWriteItems") from exc
            except BotoCoreError as exc:
                raise self._error(exc, "TransactWriteItems") from exc
            return todo
        raise StorageError(f"no free id after {ID_ATTEMPTS} attempts")

    def _get_item(self, todo_id: str, *attributes: str) -> dict[str, Any] | None:
        # Every attribute through a placeholder: `data` is a reserved word in DynamoDB.
        names = {f"#{name}": name for name in attributes}
        try:
            answer = self._client.get_item(
                TableName=self.table,
                Key=_key(ITEM_PREFIX + todo_id),
                ConsistentRead=True,
                ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names,
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "GetItem") from exc
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def get(self, todo_id: str) -> Todo | None:
        item = self._get_item(todo_id, "id", "data")
        return None if item is None else _todo(item)

    def delete(self, todo_id: str) -> bool:
        item = self._get_item(todo_id, "seq")
        if item is None:
            return False
        seq = item["seq"]["N"]
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": _key(ITEM_PREFIX + todo_id),
                            "ConditionExpression": "seq = :seq",
                            "ExpressionAttributeValues": {":seq": {"N": seq}},
                        }
                    },
                    {"Delete": {"TableName": self.table, "Key": _key(LIST_PK, int(seq))}},
                ]
            )
        except ClientError as exc:
            if _cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                return False  # deleted by another request meanwhile
            raise self._error(exc, "TransactWriteItems") from exc
        except BotoCoreError as exc:
            raise self._error(exc, "TransactWriteItems") from exc
        return True

    def _query(self, after: int, limit: int | None) -> tuple[builtins.list[dict[str, Any]], bool]:
        """Items of the "list" partition with sk > after, in order: up to `limit` (None: all),
        and whether DynamoDB has more after them."""
        items: builtins.list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while limit is None or len(items) < limit:
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :list AND sk > :after",
                "ExpressionAttributeValues": {
                    ":list": {"S": LIST_PK},
                    ":after": {"N": str(after)},
                },
                "ConsistentRead": True,
            }
            if limit is not None:
                request["Limit"] = limit - len(items)
            if start is not None:
                request["ExclusiveStartKey"] = start
            try:
                answer = self._client.query(**request)
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc, "Query") from exc
            items.extend(answer.get("Items", []))
            start = answer.get("LastEvaluatedKey")
            if start is None:
                return items, False
        return items, True

    def list(self) -> builtins.list[Todo]:
        items, _ = self._query(0, None)
        return [_todo(item) for item in items]

    def page(self, limit: int, after: int | None) -> Page:
        # One item more than asked tells whether another page follows.
        items, _ = self._query(after or 0, limit + 1)
        shown = items[:limit]
        next_after = int(shown[-1][SK]["N"]) if len(items) > limit else None
        return Page([_todo(item) for item in shown], next_after)

    def ping(self) -> None:
        try:
            self._probe.put_item(
                TableName=self.table,
                Item=_key(HEALTH_PK),
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return  # as intended: the write was evaluated and refused
            raise self._error(exc, "PutItem") from exc
        except BotoCoreError as exc:
            raise self._error(exc, "PutItem") from exc

    def close(self) -> None:
        self._client.close()
        self._probe.close()
