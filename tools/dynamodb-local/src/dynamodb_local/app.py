"""The WSGI app: moto's request dispatcher, one request at a time, plus `GET /health`.

moto keeps its tables in plain dictionaries without a lock, and its threaded server runs requests
side by side: a thread switch between a condition check and the write it guards would let two
conditional writes, or two updates of an atomic counter, both "win". The window is tiny and the
GIL makes it rare, but DynamoDB rules it out and the ToDo backend relies on that (unique ids from
a conditional put, the creation sequence from an atomic counter), so this server rules it out
too. A call takes a few milliseconds here, so the queue stays short.

The request body is read before the lock is taken: a slow client delays only itself.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

HEALTH_PATH = "/health"


class SerializedApp:
    """Runs `app` for one request at a time; answers HEALTH_PATH itself, without the lock."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"status": "ok"}).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        with self._lock:
            result = self.app(environ, start_response)
            try:
                return list(result)  # the whole response is made inside the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def create_app() -> SerializedApp:
    """moto's dispatcher (it picks the DynamoDB backend from the request's signature), wrapped."""
    return SerializedApp(DomainDispatcherApplication(create_backend_app))
