"""The FastAPI application: GET /dogs, /dogs/males, /dogs/females, /health; errors as JSON."""

from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dog_names.access_log import AccessLogMiddleware, configure_access_logger
from dog_names.names import Gender, Kennel
from dog_names.settings import Settings, get_settings


class DogOut(BaseModel):
    """The reference service's wire format: capitalised keys."""

    Name: str
    Gender: Literal["male", "female"]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ErrorOut(BaseModel):
    message: str


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


def create_app(settings: Settings | None = None, kennel: Kennel | None = None) -> FastAPI:
    settings = settings if settings is not None else get_settings()
    kennel = kennel if kennel is not None else Kennel.from_package_data()
    configure_access_logger(settings.log_level)

    app = FastAPI(
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
    app.add_middleware(HeadAsGet)
    app.add_middleware(AccessLogMiddleware)  # added last = outermost: sees the real method

    def dog(gender: Gender | None) -> DogOut:
        picked = kennel.random_dog(gender)
        return DogOut(Name=picked.name, Gender=picked.gender)

    @app.get("/dogs", response_model=DogOut, tags=["dogs"])
    def random_dog() -> DogOut:
        """A random dog of either gender."""
        return dog(None)

    @app.get("/dogs/males", response_model=DogOut, tags=["dogs"])
    def random_male() -> DogOut:
        """A random male dog."""
        return dog("male")

    @app.get("/dogs/females", response_model=DogOut, tags=["dogs"])
    def random_female() -> DogOut:
        """A random female dog."""
        return dog("female")

    @app.get("/health", response_model=HealthOut, tags=["health"])
    def health() -> HealthOut:
        """For load-balancer health checks."""
        return HealthOut(status="ok")

    return app
