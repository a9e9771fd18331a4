"""Key and credential hardening: concurrent key commands, rotation under a running server, start-up secrets,
a corrupted credential file, and API keys with control characters."""

from __future__ import annotations

import argparse
import io
import threading
from pathlib import Path

import pytest

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.entrypoints.cli_admin import register
from tests.test_cli_admin import FakeOrderDesk

CANARY = "CANARY-hardening-api-key-0c41d7"


class Cli:
    """The admin commands through argparse, in this process, on one data directory."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self._monkeypatch, self._capsys = monkeypatch, capsys
        self.desk = FakeOrderDesk({"1001": CANARY})
        parser = argparse.ArgumentParser(prog="orderdesk-mcp")
        register(parser.add_subparsers(dest="command", required=True), gateway_factory=self.desk)
        self.parser = parser

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self._monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = self.parser.parse_args(argv)
        code = args.handler(args)
        out, err = self._capsys.readouterr()
        return code, out, err

    def concurrently(self, count: int, *argv: str) -> list[int]:
        """Run one command on ``count`` threads released together; their exit codes."""
        args = self.parser.parse_args(argv)
        start = threading.Barrier(count)
        codes: list[int] = []

        def run() -> None:
            start.wait(timeout=5)
            codes.append(args.handler(args))

        threads = [threading.Thread(target=run) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        self._capsys.readouterr()
        return codes


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.setenv("ORDERDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ORDERDESK_MASTER_KEY", raising=False)
    return Cli(monkeypatch, capsys)


def _one_store(cli: Cli) -> None:
    cli("keys", "generate")
    cli("tenants", "add", "acme")
    assert cli("stores", "add", "--tenant", "acme", "--store-id", "1001", stdin=CANARY + "\n")[0] == 0


# -- 1. key commands at the same time ----------------------------------------------------------


def test_concurrent_rotations_each_add_a_version_and_the_stored_key_still_decrypts(
    cli: Cli, tmp_path: Path
) -> None:
    _one_store(cli)
    assert cli.concurrently(8, "keys", "rotate") == [0] * 8
    assert Keyring.load(tmp_path).versions == tuple(range(1, 10))
    assert cli("stores", "list")[1] == "acme\t1001\t-\tread-write\tkey version 9\n"
    assert cli("stores", "test", "--tenant", "acme")[:2] == (
        0,
        "Store 1001 of tenant acme: OK, OrderDesk accepted the API key.\n",
    )
