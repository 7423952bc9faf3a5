"""Handlers the gateway's Lambda tests run under the real awslambdaric (lambda_rie imports them
from this folder). Not fakes of the gateway: functions that answer as the tests ask.

- `proxy`: answers 200 with the event it received as its JSON body; a request with the header
  `x-script` instead carries, as its body, what the function does: `{"return": <any JSON>}`
  (returned as is, also results API Gateway refuses), `{"raise": "message"}`, `{"sleep": s}`.
- `authorizer`: a Lambda authorizer whose token (TOKEN) or `x-user` header (REQUEST) says what it
  answers; every invocation is appended, as one JSON line, to $AUTHORIZER_LOG, so tests count them.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any


def proxy(event: Any, context: Any) -> Any:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if "x-script" not in headers:
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event),
        }
    script = json.loads(event.get("body") or "{}")
    if "sleep" in script:
        time.sleep(float(script["sleep"]))
    if "raise" in script:
        raise RuntimeError(script["raise"])
    return script.get("return")


def _stage_arn(method_arn: str) -> str:
    api, _, _ = method_arn.partition("/")
    stage = method_arn.split("/")[1]
    return f"{api}/{stage}/*"


def _policy(effect: str, resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
    }


def authorizer(event: Any, context: Any) -> Any:
    with open(os.environ["AUTHORIZER_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(event) + "\n")
    if event["type"] == "TOKEN":
        word = event["authorizationToken"]
    else:
        word = {k.lower(): v for k, v in (event.get("headers") or {}).items()}["x-user"]
    word = re.sub(r"-\d+$", "", word)  # "allow-3": a token of its own (its own cache entry)
    arn = event["methodArn"]
    if word == "unauthorized":
        raise Exception("Unauthorized")  # exactly this message: API Gateway answers 401
    if word == "fail":
        raise ValueError("the authorizer broke")
    if word == "garbage":
        return {"principalId": "someone"}  # no policyDocument
    if word == "nested":
        return {
            "principalId": "someone",
            "policyDocument": _policy("Allow", _stage_arn(arn)),
            "context": {"nested": {"not": "allowed"}},
        }
    effect, resource = {
        "allow": ("Allow", _stage_arn(arn)),
        "exact": ("Allow", arn),  # this method only: a cached result denies the others
        "deny": ("Deny", arn),
        "elsewhere": ("Allow", arn.rsplit(":", 1)[0] + ":otherapi01/*"),  # allows nothing here
    }[word]
    return {
        "principalId": f"user-{word}",
        "policyDocument": _policy(effect, resource),
        "context": {"tenant": "blue", "level": 3, "admin": False},
    }
