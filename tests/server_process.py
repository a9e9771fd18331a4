"""The installed ``orderdesk-mcp serve --transport http`` as a child process, found by its ready line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CLI", "ServerProcess", "clean_env", "http_server"]

CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))
_READY = re.compile(r"MCP over streamable HTTP at (http://\S+)/mcp \((?:ready|listening, not ready: [^)]*)\)")


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This environment without any ORDERDESK_* variable, with its own data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERDESK_")}
    env["ORDERDESK_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


class ServerProcess:
    """A running server: its base URL and every stderr line so far."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.base_url = ""
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            found = _READY.search(line)
            if found:
                self.base_url = found.group(1)
                self._ready.set()
        self._ready.set()  # the process ended: stop waiting

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def wait_ready(self, timeout: float = 20.0) -> None:
        if not self._ready.wait(timeout) or not self.base_url:
            raise AssertionError("server never said it was ready:\n" + "\n".join(self.lines))

    def stop(self) -> list[str]:
        """Terminate, wait, and return all of stderr."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=15)
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return self.lines


@contextmanager
def http_server(env: Mapping[str, str], *args: str) -> Iterator[ServerProcess]:
    """``serve --transport http --port 0`` (a free port) until the block ends."""
    proc = subprocess.Popen(
        [CLI, "serve", "--transport", "http", "--port", "0", *args],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = ServerProcess(proc)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def run_cli(env: Mapping[str, str], *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """``orderdesk-mcp ARGS`` run to the end (30 s at most), its stdout and stderr captured as text."""
    return subprocess.run(
        [CLI, *args], env=dict(env), capture_output=True, text=True, timeout=30, check=check
    )
