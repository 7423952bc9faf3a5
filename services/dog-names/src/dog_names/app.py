"""The FastAPI application: GET /dogs, /dogs/males, /dogs/females, /health; errors as JSON.

The routes' endpoints are async (no thread-pool hop) and return ready JSON bytes (answers.py):
their `response_model` documents the answer in /openapi.json but is not re-validated and
re-serialised per request. GET and HEAD on them are answered in front of FastAPI's request
machinery by `DirectRoutes`, which awaits the same endpoints (see direct.py).
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dog_names.access_log import AccessLog, AccessLogMiddleware
from dog_names.answers import HEALTH_BODY, DogBodies, JSONBytes
from dog_names.direct import DirectRoutes, Endpoint
from dog_names.models import DogOut, ErrorOut, HealthOut
from dog_names.names import Kennel
from dog_names.settings import Settings, get_settings


class HeadAsGet:
    """Serves HEAD wherever GET is served, without the body (as curl -I or a load balancer expect).

    FastAPI routes declared with GET do not answer HEAD, and declaring both methods per route
    would put duplicate operation ids into /openapi.json.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and "Allow" in headers:
        allowed = {method.strip() for method in headers["Allow"].split(",")}
        if "GET" in allowed:
            allowed.add("HEAD")  # see HeadAsGet
        headers["Allow"] = ", ".join(sorted(allowed))
    return JSONResponse({"message": exc.detail}, status_code=exc.status_code, headers=headers)


async def _unexpected_error(_request: Request, _exc: Exception) -> JSONResponse:
    # Starlette logs the traceback to stderr; the client gets JSON, never a text page.
    return JSONResponse({"message": "Internal Server Error"}, status_code=500)


class DogNamesAPI(FastAPI):
    """FastAPI, with the routes declared by `direct_get` answered in front of it."""

    def __init__(self, *, access_log: AccessLog, **options: Any) -> None:
        super().__init__(**options)
        self.direct_routes = DirectRoutes(access_log)
        # Added last = outermost: the access log sees the real method and every answer.
        self.add_middleware(HeadAsGet)
        self.add_middleware(AccessLogMiddleware, access_log=access_log)

    def direct_get(self, path: str, **documented: Any) -> Callable[[Endpoint], Endpoint]:
        """`app.get(path, **documented)` for an endpoint without parameters that returns a
        Response: FastAPI documents it (and would serve it), DirectRoutes answers it."""

        def register(endpoint: Endpoint) -> Endpoint:
            self.get(path, **documented)(endpoint)
            self.direct_routes.add(path, endpoint)
            return endpoint

        return register

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.direct_routes.handles(scope):
            await self.direct_routes(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, kennel: Kennel | None = None) -> DogNamesAPI:
    settings = settings if settings is not None else get_settings()
    kennel = kennel if kennel is not None else Kennel.from_package_data()
    bodies = DogBodies(kennel)

    app = DogNamesAPI(
        access_log=AccessLog(settings.log_level),
        title="Dog Names",
        version="0.1.0",
        description="A random dog name, of either gender or of the one asked for.",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # "/dogs/" is another path: 404, not a redirect
        responses={404: {"model": ErrorOut}, 405: {"model": ErrorOut}},
    )
    app.state.settings = settings
    app.state.kennel = kennel
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

    @app.direct_get("/dogs", response_model=DogOut, tags=["dogs"])
    async def random_dog() -> Response:
        """A random dog of either gender."""
        return JSONBytes(bodies.body(kennel.random_dog(None)))

    @app.direct_get("/dogs/males", response_model=DogOut, tags=["dogs"])
    async def random_male() -> Response:
        """A random male dog."""
        return JSONBytes(bodies.body(kennel.random_dog("male")))

    @app.direct_get("/dogs/females", response_model=DogOut, tags=["dogs"])
    async def random_female() -> Response:
        """A random female dog."""
        return JSONBytes(bodies.body(kennel.random_dog("female")))

    @app.direct_get("/health", response_model=HealthOut, tags=["health"])
    async def health() -> Response:
        """For load-balancer health checks."""
        return JSONBytes(HEALTH_BODY)

    return app
