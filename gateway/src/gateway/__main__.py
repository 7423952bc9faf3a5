"""`python -m gateway`: serve every configured API with uvicorn on $HOST:$PORT."""

from __future__ import annotations

import os
import sys

import uvicorn

from gateway.app import GatewayApp
from gateway.config import ConfigError, load_config


def main() -> int:
    try:
        app = GatewayApp(load_config())
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8080")),
        # The peer address decides the VPC endpoint: never let X-Forwarded-For rewrite it.
        proxy_headers=False,
        forwarded_allow_ips="",
        access_log=False,  # the gateway writes its own $context access log
        server_header=False,
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        timeout_keep_alive=int(os.environ.get("KEEP_ALIVE_SECONDS", "75")),
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
