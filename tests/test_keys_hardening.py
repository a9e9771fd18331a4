"""Key and credential hardening: concurrent key commands, rotation under a running server, start-up secrets,
a corrupted credential file, and API keys with control characters."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.sqlite_credentials import CredentialsUnreadable, SqliteCredentialStore
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.entrypoints.cli import main
from orderdesk_mcp.entrypoints.credential_choice import choose_credentials
from orderdesk_mcp.entrypoints.settings import SettingsError, load_settings
from tests.test_cli_admin import Cli as AdminCli
from tests.test_cli_admin import FakeOrderDesk

CANARY = "CANARY-hardening-api-key-0c41d7"
ACME_1001 = StoreRef(tenant="acme", store_id="1001")
KEY_1 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="  # 32 bytes of 0x01, base64
KEY_2 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="


class Cli(AdminCli):
    """The admin commands through argparse, in this process, on one data directory."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.desk = FakeOrderDesk({"1001": CANARY})
        super().__init__(monkeypatch, capsys, self.desk)

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


def test_concurrent_key_generations_make_one_key_file_and_the_rest_are_refused(
    cli: Cli, tmp_path: Path
) -> None:
    assert sorted(cli.concurrently(6, "keys", "generate")) == [0, 2, 2, 2, 2, 2]
    assert Keyring.load(tmp_path).versions == (1,)


# -- 2. a server running through a rotation --------------------------------------------------------


@contextmanager
def _server_store(directory: Path) -> Iterator[SqliteCredentialStore]:
    """The credential store as ``serve`` builds it: the keyring loaded once, at start-up."""
    keyring = Keyring.load(directory)
    with SqliteCredentialStore(path=directory / "credentials.sqlite3", keyring=keyring) as store:
        yield store


def _api_key(store: SqliteCredentialStore) -> str:
    return anyio.run(store.api_key, ACME_1001)


def test_a_running_server_keeps_decrypting_through_rotate_and_retire(cli: Cli, tmp_path: Path) -> None:
    _one_store(cli)
    with _server_store(tmp_path) as server:
        assert _api_key(server) == CANARY
        assert cli("keys", "rotate")[0] == 0
        assert cli("keys", "retire", "1")[0] == 0
        assert _api_key(server) == CANARY
        assert cli("keys", "rotate")[0] == 0
        assert _api_key(server) == CANARY


def test_a_version_the_key_file_no_longer_has_is_named_and_stores_add_replace_mends_it(
    cli: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _one_store(cli)
    assert cli("keys", "rotate")[0] == 0
    (tmp_path / "master.key").unlink()  # the operator starts a new key file: only a new version 1
    assert cli("keys", "generate")[0] == 0
    with _server_store(tmp_path) as server:
        with pytest.raises(CredentialsUnreadable) as caught:
            _api_key(server)
        assert str(caught.value) == (
            "The stored OrderDesk API key for store 1001 is sealed with master key version 2, which the "
            "master key file does not have (retired, or the file was replaced); put that version back in "
            "the file, or add the key again with `orderdesk-mcp stores add --replace`."
        )
        assert (
            "the stored API key of tenant acme store 1001 does not decrypt (sealed with master key "
            f"version 2; loaded versions (1,) from {tmp_path / 'master.key'})"
        ) in caplog.text
        replaced = cli("stores", "add", "--tenant", "acme", "--store-id", "1001", "--replace", stdin=CANARY)
        assert replaced[0] == 0
        assert _api_key(server) == CANARY  # the advice is true: no restart needed
    assert CANARY not in caplog.text


def test_a_server_with_the_master_key_in_its_environment_is_told_to_restart_after_a_rotation(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERDESK_MASTER_KEY", KEY_1)
    cli("tenants", "add", "acme")
    cli("stores", "add", "--tenant", "acme", "--store-id", "1001", stdin=CANARY)
    with _server_store(tmp_path) as server:
        monkeypatch.setenv("ORDERDESK_MASTER_KEY", f"2:{KEY_2},1:{KEY_1}")
        assert cli("keys", "rotate")[0] == 0
        with pytest.raises(CredentialsUnreadable) as caught:
            _api_key(server)
    assert str(caught.value) == (
        "The stored OrderDesk API key for store 1001 is sealed with master key version 2, which this "
        "server's ORDERDESK_MASTER_KEY does not have; restart the server with ORDERDESK_MASTER_KEY "
        "holding version 2 (the value `orderdesk-mcp keys rotate` ran with)."
    )
    with _server_store(tmp_path) as restarted:
        assert _api_key(restarted) == CANARY


def test_a_key_file_that_turns_unsafe_while_serving_is_logged_and_the_call_fails_cleanly(
    cli: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _one_store(cli)
    with _server_store(tmp_path) as server:
        assert cli("keys", "rotate")[0] == 0
        (tmp_path / "master.key").chmod(0o644)
        with pytest.raises(CredentialsUnreadable):
            _api_key(server)
    assert (
        f"could not re-read the master key file: {tmp_path / 'master.key'} can be read by other users "
        f"(mode 644); refusing to use it. Run: chmod 600 {tmp_path / 'master.key'}"
    ) in caplog.text


# -- 3. no secret in a start-up line or a settings error -----------------------------------------


def test_the_start_up_line_masks_the_password_in_the_base_url(tmp_path: Path) -> None:
    env = {
        "ORDERDESK_DATA_DIR": str(tmp_path),
        "ORDERDESK_STORE_ID": "12345",
        "ORDERDESK_API_KEY": CANARY,
        "ORDERDESK_BASE_URL": "http://proxyuser:PROXY-PASSWORD-9d1e@127.0.0.1:8080/api/v2?password=Q-SECRET",
    }
    line = choose_credentials(load_settings(env), mode="stdio", env=env).line
    assert line == (
        "orderdesk-mcp: credentials: environment variables, because ORDERDESK_STORE_ID and ORDERDESK_API_KEY "
        "are set: store 12345 at http://proxyuser:***@127.0.0.1:8080/api/v2?password=***"
    )


def test_a_store_id_that_is_really_the_api_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"ORDERDESK_STORE_ID": CANARY, "ORDERDESK_API_KEY": "12345"})
    assert str(caught.value) == (
        "ORDERDESK_STORE_ID must be OrderDesk's numeric store id (digits only); the value set has 31 "
        "characters, not all digits (not shown, in case it is the API key: check that ORDERDESK_STORE_ID "
        "and ORDERDESK_API_KEY are not swapped)"
    )


# -- 5. an API key with control characters -------------------------------------------------------


@pytest.mark.parametrize(
    "key", [f"{CANARY}\r\nX-Injected: 1", f"{CANARY}\x00x", f"ab\tcd{CANARY}", f"{CANARY}\x7f1"]
)
def test_an_api_key_with_a_control_character_is_refused_at_start_up(key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"ORDERDESK_STORE_ID": "12345", "ORDERDESK_API_KEY": key})
    assert str(caught.value) == (
        "ORDERDESK_API_KEY contains a control character (a line break, tab or similar); set it to the "
        "API key alone, on one line"
    )


def test_stores_add_refuses_an_api_key_with_a_control_character(cli: Cli) -> None:
    cli("keys", "generate")
    code, out, err = cli("stores", "add", "--store-id", "1001", stdin=f"{CANARY}\x1b[0m\n")
    assert (code, out) == (2, "")
    assert err == (
        "orderdesk-mcp: the API key contains a control character (a tab or similar); "
        "give the key alone, on one line\n"
    )
    assert cli("stores", "list")[1].startswith("No stores yet")


# -- 4. a damaged credential file -------------------------------------------------------------------


def _damage(db: Path, how: str) -> str:
    """Damage ``db`` as a bad copy or disk would; sqlite's reason for refusing it."""
    if how == "random bytes":
        db.write_bytes(bytes(range(256)) * 12)
        return "file is not a database"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])  # cut off mid-copy
    return "database disk image is malformed"


@pytest.mark.parametrize("how", ["random bytes", "truncated"])
@pytest.mark.parametrize("argv", [["stores", "list"], ["orders", "list"], ["serve"]], ids=" ".join)
def test_a_damaged_credential_file_ends_in_one_line_naming_it(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    how: str,
) -> None:
    _one_store(cli)
    for store_id in range(2002, 2040):  # more than one page, so a cut-off file is missing some
        cli("stores", "add", "--tenant", "acme", "--store-id", str(store_id), stdin=CANARY)
    for var in ("ORDERDESK_STORE_ID", "ORDERDESK_API_KEY", "ORDERDESK_CACHE_URL", "ORDERDESK_TENANT"):
        monkeypatch.delenv(var, raising=False)
    db = tmp_path / "credentials.sqlite3"
    reason = _damage(db, how)
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        f"orderdesk-mcp: {db} is not a readable SQLite database ({reason}); restore it from a backup, or "
        "move it aside and add the tenants and stores again (orderdesk-mcp tenants add, orderdesk-mcp "
        "stores add)\n",
    )
