"""`python -m dog_names`: serve the app with uvicorn on $HOST:$PORT (default 127.0.0.1:8080)."""

import uvicorn

from dog_names.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        "dog_names:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # the app writes its own JSON access line
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
