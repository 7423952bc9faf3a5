"""`python -m devstack` (`make run`): the native stack in the foreground.

The gateway on 127.0.0.1:8080 in front of Dog Names (:8081), ToDo (:8082, SQLite in
data/todo.db below the current directory) and the widgets API's Lambda functions, the widgets
function (:8083) and the TOKEN authorizer (:8084, its shared secret in secrets/authorizer-token,
made when missing); the same gateway serves the front door on :8088. Every server's output comes
to this terminal, each line prefixed with its name. Ctrl-C (or SIGTERM, SIGHUP) stops them all,
gateway first; a server that exits on its own stops the others too, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from devstack.ready import StartError, describe_exit
from devstack.stack import running_stack


class Interrupted(BaseException):
    """A stop signal, raised where the main thread is (a block's `finally` still runs)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _say(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


def _port(variable: str) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        try:
            port = int(text)
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a port, 0-65535 (from the option or ${variable})"
            )
        return port or None  # 0: any free port

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Dog Names, ToDo, the widgets API's functions and the gateway (with the "
        "front door's port) natively on 127.0.0.1, in the foreground (Ctrl-C stops all). Ports: "
        "the options, else $GATEWAY_PORT, $FRONTDOOR_PORT, $DOG_NAMES_PORT, $TODO_PORT, "
        "$WIDGETS_PORT, $AUTHORIZER_PORT, else 8080, 8088, 8081, 8082, 8083, 8084; 0 is any free "
        "port.",
    )
    for option, variable, default in (
        ("--gateway-port", "GATEWAY_PORT", "8080"),
        ("--frontdoor-port", "FRONTDOOR_PORT", "8088"),
        ("--dog-names-port", "DOG_NAMES_PORT", "8081"),
        ("--todo-port", "TODO_PORT", "8082"),
        ("--widgets-port", "WIDGETS_PORT", "8083"),
        ("--authorizer-port", "AUTHORIZER_PORT", "8084"),
    ):
        parser.add_argument(
            option,
            type=_port(variable),
            default=os.environ.get(variable, default),
            metavar="PORT",
            help=f"(${variable}, default {default})",
        )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(os.environ.get("TODO_DB_PATH", "data/todo.db")),
        help="ToDo's SQLite file ($TODO_DB_PATH, default data/todo.db); its folder is created",
    )
    parser.add_argument(
        "--token-secret",
        type=Path,
        default=Path(os.environ.get("TOKEN_SECRET_FILE", "secrets/authorizer-token")),
        help="the TOKEN authorizer's shared secret ($TOKEN_SECRET_FILE, default "
        "secrets/authorizer-token, as `make certs` makes it); a new random one when missing",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # A shell that starts us in the background with SIGINT ignored means it.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _interrupt)
    db = args.db.resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        with running_stack(
            echo=sys.stdout,
            gateway_port=args.gateway_port,
            frontdoor_port=args.frontdoor_port,
            dog_names_port=args.dog_names_port,
            todo_port=args.todo_port,
            todo_db=db,
            functions=True,
            widgets_port=args.widgets_port,
            authorizer_port=args.authorizer_port,
            token_secret=args.token_secret,
        ) as stack:
            for service in stack.services.values():
                _say(f"{service.name:<9} {service.base_url}  pid {service.process.pid}")
            _say(f"front door {stack.frontdoor_url}  (the gateway's port for the frontdoor API)")
            _say(f"ToDo's data: {db}")
            _say(f"the widgets API's token: {args.token_secret}")
            token = f"$(cat {args.token_secret})"
            _say(
                f"ready: curl {stack.gateway.base_url}/dogs ;"
                f' curl -H "Authorization: {token}" {stack.frontdoor_url}/prod/ ; Ctrl-C stops all'
            )
            order = ", ".join(reversed(stack.services))
            try:
                exited = stack.wait_any()
            except Interrupted as stop:
                _say(f"{signal.Signals(stop.signum).name}: stopping {order}")
                status = 128 + stop.signum
            else:
                why = describe_exit(exited.process.returncode)
                _say(f"{exited.name} exited with {why}: stopping {order}")
                status = 1
    except StartError as exc:
        # The server's own output is above; the summary is the line that says what failed.
        _say(f"{exc.summary}; nothing is left running")
        return 1
    except Interrupted as stop:  # while starting, or a second signal while stopping
        _say(f"{signal.Signals(stop.signum).name}: stopped, nothing is left running")
        return 128 + stop.signum
    _say("all stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
