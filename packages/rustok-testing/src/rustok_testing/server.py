"""Run the real ``rustok serve`` in a subprocess (end-to-end tests, benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


class ServerFailed(AssertionError):
    """The server exited or did not answer in time; the message holds its output."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, path: str, *, timeout: float = 60.0) -> float:
        """Poll ``path`` until it answers 200; return the seconds waited."""
        started = time.monotonic()
        last = "no answer yet"
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise ServerFailed(f"the server exited with status {self.process.returncode}:\n{self.output()}")
            try:
                response = httpx.get(self.base_url + path, timeout=2)
                if response.status_code == 200:
                    return time.monotonic() - started
                last = f"{response.status_code} {response.text}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.02)
        raise ServerFailed(f"{path} not 200 after {timeout}s (last: {last}); server output:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # SIGINT lets uvicorn shut down cleanly (lifespan, embedded PostgreSQL cleanup).
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@contextmanager
def running_server(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    port: int | None = None,
) -> Iterator[RunningServer]:
    """Start ``command --host 127.0.0.1 --port <port>`` and stop it on exit.

    The server runs in its own process group, so wrappers such as ``uv run`` are
    stopped together with it. Output goes to ``log``.
    """
    port = port or free_port()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(process, f"http://127.0.0.1:{port}", log)
    try:
        yield server
    finally:
        server.stop()


def environment_without_rustok(**extra: str) -> dict[str, str]:
    """This process's environment minus anything pointing at a RusToK setup or venv."""
    dropped = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "NATS_URL", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("RUSTOK")}
    env.update(extra)
    return env
