"""`python -m dog_names`: serve the app with uvicorn on $HOST:$PORT (default 127.0.0.1:8080)."""

import gc

import uvicorn

from dog_names import create_app
from dog_names.settings import get_settings


def main() -> None:
    settings = get_settings()
    app = create_app(settings)
    # The app and the libraries live as long as the process: left out of every garbage
    # collection, so that the collector's full passes only walk what requests leave behind
    # (see gateway/src/gateway/cli.py, which does the same).
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # the app writes its own JSON access line
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
