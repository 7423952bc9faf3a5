"""GET and HEAD on the parameterless routes, answered in front of FastAPI.

A request through FastAPI costs about 60 us of CPU here, most of it on what these routes do not
use: its outer middleware (server errors, telemetry, body limit), a Request object, dependency
solving, exception-handler and exit-stack wrappers, routing by regular expression. `DirectRoutes`
sends the `Response` of the very endpoint registered with FastAPI for the path, so an answer has
one definition, FastAPI still documents these routes and serves everything else (/openapi.json,
404, 405, other methods), and each direct answer gets the same request id and access line.

Equivalence with FastAPI for the routes registered here, which take no parameters, dependencies
or body: the path is matched exactly (scope["path"], already percent-decoded, as starlette
matches it), a query string is ignored, HEAD is GET without the body (as HeadAsGet does), and an
endpoint that fails is answered 500 by AccessLogMiddleware, then raised to the server to log.
A scope with a root_path goes to FastAPI, which knows how to strip it. FastAPI's native
OpenTelemetry instrumentation (off unless a provider is configured; the service configures none
and ships no OpenTelemetry SDK) is not applied to direct answers.
"""

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from dog_names.access_log import AccessLog, AccessLogMiddleware

Endpoint = Callable[[], Awaitable[Response]]


class DirectRoutes:
    """Path -> endpoint; `handles(scope)` says whether the request is answered here."""

    def __init__(self, access_log: AccessLog) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self._app = AccessLogMiddleware(self._answer, access_log)

    def add(self, path: str, endpoint: Endpoint) -> None:
        self.endpoints[path] = endpoint

    def handles(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["path"] in self.endpoints
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("root_path")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _answer(self, scope: Scope, _receive: Receive, send: Send) -> None:
        response = await self.endpoints[scope["path"]]()
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body, "more_body": False})
        if response.background is not None:
            await response.background()
