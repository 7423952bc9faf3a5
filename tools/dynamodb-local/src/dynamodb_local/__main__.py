"""`python -m dynamodb_local`: the DynamoDB-compatible server on HOST:PORT (default 127.0.0.1:8000).

Werkzeug's threaded server, as moto's own `moto_server` uses: this stands in for a managed AWS
service on a laptop or in the tests, never in production. Tables live in memory: they are gone
when the process ends.
"""

import logging
import os

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import run_simple

from dynamodb_local.app import create_app


def main() -> None:
    # One line per request from werkzeug at info; LOG_LEVEL=warning silences them.
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "info").upper(), format="%(message)s")
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    # moto reads MOTO_PORT to write its own address into the few answers that carry one.
    os.environ.setdefault("MOTO_PORT", str(port))
    run_simple(host, port, create_app(), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
