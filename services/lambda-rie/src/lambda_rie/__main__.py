"""`python -m lambda_rie [HANDLER]`: serve the invoke URL and run the runtime as a child."""

import argparse
import signal
import sys
import threading
from types import FrameType

from lambda_rie.config import EmulatorConfig
from lambda_rie.emulator import Emulator
from lambda_rie.invoke_api import InvokeServer
from lambda_rie.logs import log_event

# How long a stopping emulator waits for the answers it owes to be written.
ANSWER_GRACE_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_rie", description=__doc__)
    parser.add_argument("handler", nargs="?", help="module.function (default: $_HANDLER)")
    args = parser.parse_args(argv)

    try:
        config = EmulatorConfig.from_env(handler=args.handler)
    except ValueError as exc:
        print(f"lambda_rie: {exc}", file=sys.stderr)
        return 2
    emulator = Emulator(config)
    server = InvokeServer((config.host, config.port), emulator)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    emulator.start()
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="rie-invoke", daemon=True
    ).start()
    log_event(
        "listening",
        address=f"{config.host}:{server.server_port}",
        handler=config.handler,
        timeout_s=config.timeout_s,
    )
    stop.wait()
    log_event("stopping")
    server.shutdown()
    emulator.close()  # answers every queued or running invocation with Runtime.Shutdown
    server.wait_idle(ANSWER_GRACE_S)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
