"""The sandbox: a queue of invocations, one runtime process, a watchdog that enforces timeouts.

Invocations are handed to the runtime one at a time, in arrival order. The function timeout runs
from the moment the runtime receives an invocation; past it the runtime is killed, the invocation
gets Lambda's timeout error and a fresh runtime is started for the next one. A runtime that dies
on its own answers its invocation with `Runtime.ExitError`, or with the error it posted to
`/init/error`.
"""

import subprocess
import threading
import time
from collections import deque

from lambda_rie.config import EmulatorConfig
from lambda_rie.invocation import Answer, Invocation, error_answer, exit_answer, timeout_answer
from lambda_rie.logs import log_event
from lambda_rie.runtime_api import RuntimeApiServer

STOP_GRACE_S = 2.0


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._cond = threading.Condition()
        self._pending: deque[Invocation] = deque()
        self._current: Invocation | None = None
        self._generation = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._api_server: RuntimeApiServer | None = None
        self._started_mono = 0.0
        self._ready = False
        self._init_error: bytes | None = None
        self._closed = False
        self._watchdog = threading.Thread(target=self._watch, name="rie-watchdog", daemon=True)

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the watchdog and a runtime, so the first invocation finds it initialised."""
        self._watchdog.start()
        with self._cond:
            self._start_runtime_locked()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            stopping = [*self._pending, *([self._current] if self._current else [])]
            self._pending.clear()
            self._current = None
            self._stop_runtime_locked(graceful=True)
            self._cond.notify_all()
        for invocation in stopping:
            invocation.finish(
                error_answer({"errorType": "Runtime.Shutdown", "errorMessage": "Emulator stopping"})
            )

    def status(self) -> dict[str, object]:
        with self._cond:
            return {
                "runtime": "ready" if self._ready else ("starting" if self._process else "stopped"),
                "pending": len(self._pending),
                "busy": self._current is not None,
            }

    # invoke side ---------------------------------------------------------------------------

    def invoke(self, invocation: Invocation) -> Answer:
        """Queue the invocation and wait for its answer (the watchdog bounds the wait)."""
        with self._cond:
            if self._closed:
                return error_answer(
                    {"errorType": "Runtime.Shutdown", "errorMessage": "Emulator stopping"}
                )
            self._pending.append(invocation)
            if self._process is None:
                self._start_runtime_locked()
            self._cond.notify_all()
        answer = invocation.wait()
        assert answer is not None
        return answer

    # runtime side (called from Runtime API threads) -----------------------------------------

    def next_invocation(self, generation: int) -> Invocation | None:
        """Block until there is work for this runtime; None if it was replaced meanwhile."""
        with self._cond:
            if generation == self._generation:
                self._ready = True
                self._cond.notify_all()
            while not self._closed and generation == self._generation:
                if self._current is None and self._pending:
                    invocation = self._pending.popleft()
                    invocation.start(self.config.timeout_s)
                    self._current = invocation
                    self._cond.notify_all()  # the watchdog now has a deadline
                    return invocation
                self._cond.wait()
            return None

    def post_result(self, generation: int, request_id: str, answer: Answer) -> bool:
        with self._cond:
            invocation = self._current
            if (
                generation != self._generation
                or invocation is None
                or invocation.request_id != request_id
            ):
                return False
            self._current = None
            self._cond.notify_all()
        return invocation.finish(answer)

    def post_init_error(self, generation: int, body: bytes) -> None:
        with self._cond:
            if generation == self._generation:
                self._init_error = body

    # runtime process -----------------------------------------------------------------------

    def _start_runtime_locked(self) -> None:
        self._generation += 1
        generation = self._generation
        self._ready = False
        self._init_error = None
        self._started_mono = time.monotonic()
        server = RuntimeApiServer(("127.0.0.1", self.config.runtime_api_port), self, generation)
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"rie-runtime-api-{generation}",
            daemon=True,
        ).start()
        self._api_server = server
        command = [*self.config.runtime_command, self.config.handler]
        env = self.config.runtime_env(f"127.0.0.1:{server.server_port}")
        try:
            process = subprocess.Popen(command, env=env)  # noqa: S603 - our own runtime command
        except OSError as exc:
            log_event("runtime_start_failed", error=str(exc), command=command)
            self._stop_runtime_locked(graceful=False)
            failed = list(self._pending)
            self._pending.clear()
            for invocation in failed:
                invocation.finish(
                    error_answer(
                        {"errorType": "Runtime.InvalidEntrypoint", "errorMessage": str(exc)}
                    )
                )
            return
        self._process = process
        log_event(
            "runtime_started", pid=process.pid, generation=generation, handler=self.config.handler
        )
        threading.Thread(
            target=self._monitor, args=(process, generation), name="rie-monitor", daemon=True
        ).start()

    def _stop_runtime_locked(self, *, graceful: bool) -> None:
        """Stop the current runtime and its Runtime API; stale requests see a new generation."""
        self._generation += 1
        self._ready = False
        process, self._process = self._process, None
        server, self._api_server = self._api_server, None
        if process is not None and process.poll() is None:
            if graceful:
                process.terminate()
                try:
                    process.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    process.kill()
            else:
                process.kill()
            process.wait()
        if server is not None:
            server.shutdown()
            server.server_close()
        self._cond.notify_all()

    def _monitor(self, process: subprocess.Popen[bytes], generation: int) -> None:
        returncode = process.wait()
        with self._cond:
            if generation != self._generation or self._closed:
                return  # killed on purpose (timeout, shutdown): already handled
            log_event("runtime_exited", pid=process.pid, returncode=returncode)
            was_ready = self._ready
            init_error = self._init_error
            invocation = self._current
            self._current = None
            if invocation is None and self._pending and not was_ready:
                invocation = self._pending.popleft()  # the one that waited for this init
            self._stop_runtime_locked(graceful=False)
            if self._pending or was_ready:
                self._start_runtime_locked()
        if invocation is not None:
            if init_error is not None:
                invocation.finish(Answer(200, init_error, "application/json", "Unhandled"))
            else:
                invocation.finish(exit_answer(invocation.request_id, returncode))

    # watchdog ------------------------------------------------------------------------------

    def _watch(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                wait: float | None = None
                current = self._current
                if current is not None and current.deadline_mono is not None:
                    if now >= current.deadline_mono:
                        self._expire_locked(current, self.config.timeout_s)
                        continue
                    wait = current.deadline_mono - now
                elif self._process is not None and not self._ready and self._pending:
                    init_deadline = self._started_mono + self.config.init_timeout_s
                    if now >= init_deadline:
                        self._expire_locked(self._pending.popleft(), self.config.init_timeout_s)
                        continue
                    wait = init_deadline - now
                self._cond.wait(wait)

    def _expire_locked(self, invocation: Invocation, timeout_s: float) -> None:
        log_event("invocation_timed_out", request_id=invocation.request_id, timeout_s=timeout_s)
        if self._current is invocation:
            self._current = None
        self._stop_runtime_locked(graceful=False)
        invocation.finish(timeout_answer(invocation.request_id, timeout_s))
        self._start_runtime_locked()
