"""The floor Dog Names is compared with: a bare ASGI app on the same server, with the same server
settings as `python -m dog_names` (services/dog-names/src/dog_names/__main__.py: uvicorn, its
default loop and HTTP implementation, no access log, no Server header, no proxy headers, the
objects made before serving frozen out of garbage collection), that answers every request with
the bytes of one `GET /dogs` answer of Dog Names and its Content-Type. No routing, no
validation, no logging: what serving those bytes costs at least.

    BENCH_FLOOR_BODY_FILE=body.json BENCH_FLOOR_CONTENT_TYPE=application/json \\
        HOST=127.0.0.1 PORT=8090 python -m bench.floors

The bench fetches the bytes from the running Dog Names at start and starts this module as a
server of its own (`floor-asgi`). Keep `SERVER_OPTIONS` in step with Dog Names' __main__.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BODY_FILE = "BENCH_FLOOR_BODY_FILE"
CONTENT_TYPE = "BENCH_FLOOR_CONTENT_TYPE"

# As dog_names.__main__ passes them to uvicorn.run (host, port and log_level from the
# environment, as there).
SERVER_OPTIONS: dict[str, Any] = {
    "access_log": False,
    "server_header": False,
    "proxy_headers": False,
}

Scope = dict[str, Any]
Message = dict[str, Any]


def make_app(body: bytes, content_type: str) -> Any:
    """An ASGI app answering 200 with `body` to every HTTP request."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", content_type.encode("latin-1")),
            (b"content-length", str(len(body)).encode("ascii")),
        ],
    }
    answer = {"type": "http.response.body", "body": body, "more_body": False}

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send(start)
        await send(answer)

    return app


def create_app() -> Any:
    """The app from the environment: BENCH_FLOOR_BODY_FILE, BENCH_FLOOR_CONTENT_TYPE."""
    return make_app(
        Path(os.environ[BODY_FILE]).read_bytes(),
        os.environ.get(CONTENT_TYPE, "application/json"),
    )


def main() -> None:
    import gc

    import uvicorn

    app = create_app()
    gc.freeze()  # as dog_names.__main__ does
    uvicorn.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8080")),
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        **SERVER_OPTIONS,
    )


if __name__ == "__main__":
    main()
