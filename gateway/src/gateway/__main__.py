"""`python -m gateway`: serve every configured API with uvicorn on $HOST:$PORT; with a subcommand
the policy tools (`check`, `analyze`, `test-policies`: gateway.cli)."""

from __future__ import annotations

import sys

from gateway.cli import main

if __name__ == "__main__":
    sys.exit(main())
