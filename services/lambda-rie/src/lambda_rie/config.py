"""The emulator's settings: the environment Lambda gives a function, plus where to listen.

| variable | meaning | default |
| --- | --- | --- |
| `HOST`, `PORT` | invoke URL and health check | `127.0.0.1`, `8080` |
| `_HANDLER` | handler when none is given on the command line (one of the two is required) | |
| `AWS_LAMBDA_FUNCTION_TIMEOUT` | seconds an invocation may run | `300` (as RIE) |
| `AWS_LAMBDA_FUNCTION_NAME`, `_VERSION`, `_MEMORY_SIZE` | for the function | RIE's defaults |
| `AWS_REGION` | region of the function ARN | `us-east-1` |
| `RIE_ACCOUNT_ID` | account of the function ARN | `012345678912` (as RIE) |
| `RIE_INIT_TIMEOUT` | seconds a runtime may take to ask for its first invocation | `10` |
| `RIE_RUNTIME_API_PORT` | loopback port of the Runtime API (`0`: a free one) | `0` |
"""

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class EmulatorConfig:
    handler: str
    host: str = "127.0.0.1"
    port: int = 8080
    timeout_s: float = 300.0
    init_timeout_s: float = 10.0
    function_name: str = "test_function"
    function_version: str = "$LATEST"
    memory_size: str = "3008"
    region: str = "us-east-1"
    account_id: str = "012345678912"
    runtime_api_port: int = 0
    # The runtime's command; the handler is appended.
    runtime_command: tuple[str, ...] = (sys.executable, "-m", "awslambdaric")
    # The environment the runtime inherits (the emulator's own, as RIE forwards it).
    base_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, handler: str | None = None
    ) -> "EmulatorConfig":
        env = dict(os.environ if environ is None else environ)
        handler = handler or env.get("_HANDLER")
        if not handler:
            raise ValueError("no handler: give module.function as the argument or set _HANDLER")
        return cls(
            handler=handler,
            host=env.get("HOST") or "127.0.0.1",
            port=int(env.get("PORT") or 8080),
            timeout_s=_positive(env, "AWS_LAMBDA_FUNCTION_TIMEOUT", 300.0),
            init_timeout_s=_positive(env, "RIE_INIT_TIMEOUT", 10.0),
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME") or "test_function",
            function_version=env.get("AWS_LAMBDA_FUNCTION_VERSION") or "$LATEST",
            memory_size=env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or "3008",
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            account_id=env.get("RIE_ACCOUNT_ID") or "012345678912",
            runtime_api_port=int(env.get("RIE_RUNTIME_API_PORT") or 0),
            base_env=env,
        )

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def runtime_env(self, runtime_api: str) -> dict[str, str]:
        """What the runtime process sees: Lambda's reserved variables, then everything given."""
        timeout = self.timeout_s
        env = {
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": self.function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": self.memory_size,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(timeout) if timeout.is_integer() else timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "LAMBDA_TASK_ROOT": os.getcwd(),
            "LAMBDA_RUNTIME_DIR": os.getcwd(),
            "TZ": ":UTC",
        }
        env.update(self.base_env)
        env["_HANDLER"] = self.handler
        env["AWS_LAMBDA_RUNTIME_API"] = runtime_api
        env["PYTHONUNBUFFERED"] = "1"
        return env
