"""``orderdesk-mcp keys|tenants|stores``, driven through argparse in-process on a temporary data directory."""

from __future__ import annotations

import argparse
import base64
import io
import stat
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType

import pytest

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.domain.errors import AuthenticationFailed
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.entrypoints.cli_admin import ConnectionChecker, register
from orderdesk_mcp.ports.credentials import CredentialStore

CANARY = "CANARY-cli-api-key-51d0c3"


class FakeOrderDesk:
    """Accepts exactly one API key per store id, like OrderDesk's /test."""

    def __init__(self, accepted: dict[str, str]) -> None:
        self.accepted = accepted
        self.checked: list[StoreRef] = []

    def __call__(self, credentials: CredentialStore) -> AbstractAsyncContextManager[ConnectionChecker]:
        return _FakeGateway(self, credentials)


class _FakeGateway:
    def __init__(self, desk: FakeOrderDesk, credentials: CredentialStore) -> None:
        self._desk, self._credentials = desk, credentials

    async def __aenter__(self) -> _FakeGateway:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def check_connection(self, store: StoreRef) -> object:
        self._desk.checked.append(store)
        if self._desk.accepted.get(store.store_id) != await self._credentials.api_key(store):
            raise AuthenticationFailed(store.store_id)
        return {"status": "success"}


class Cli:
    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], desk: FakeOrderDesk
    ):
        self._monkeypatch, self._capsys = monkeypatch, capsys
        parser = argparse.ArgumentParser(prog="orderdesk-mcp")
        register(parser.add_subparsers(dest="command", required=True), gateway_factory=desk)
        self.parser = parser

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self._monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = self.parser.parse_args(argv)
        code = args.handler(args)
        out, err = self._capsys.readouterr()
        return code, out, err


@pytest.fixture
def desk() -> FakeOrderDesk:
    return FakeOrderDesk({"1001": CANARY})


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], desk: FakeOrderDesk
) -> Cli:
    monkeypatch.setenv("ORDERDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ORDERDESK_MASTER_KEY", raising=False)
    return Cli(monkeypatch, capsys, desk)


def test_keys_generate_creates_a_private_key_file_once(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("keys", "generate")
    assert code == 0
    assert out == (
        f"Created master key version 1 in {tmp_path / 'master.key'} (readable only by you). "
        "Back it up: without it the stored API keys cannot be decrypted.\n"
    )
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    code, _, err = cli("keys", "generate")
    assert code == 2
    assert err == (
        f"orderdesk-mcp: {tmp_path / 'master.key'} already exists; "
        "use `orderdesk-mcp keys rotate` to add a new key\n"
    )


def test_keys_generate_print_gives_a_key_for_the_environment_and_saves_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    code, out, err = cli("keys", "generate", "--print")
    assert code == 0
    assert len(base64.b64decode(out.strip(), validate=True)) == 32
    assert err == "Set this as ORDERDESK_MASTER_KEY; it was not saved anywhere.\n"
    assert not (tmp_path / "master.key").exists()


def test_without_a_master_key_commands_say_how_to_make_one(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("stores", "list")
    assert (code, out) == (2, "")
    assert err == (
        "orderdesk-mcp: no master key: set ORDERDESK_MASTER_KEY (32 random bytes, base64) or run "
        f"`orderdesk-mcp keys generate` to create {tmp_path / 'master.key'}\n"
    )


def test_tenants_add_prints_the_token_once_and_keeps_only_its_hash(cli: Cli, tmp_path: Path) -> None:
    cli("keys", "generate")
    code, out, err = cli("tenants", "add", "acme")
    token = out.strip()
    assert code == 0
    assert out == token + "\n"
    assert len(token) >= 43
    assert (
        err == "Tenant acme added. Its bearer token follows; it is shown only once (only its hash is kept).\n"
    )
    assert token.encode() not in (tmp_path / "credentials.sqlite3").read_bytes()
    code, out, _ = cli("tenants", "list")
    assert out.startswith("acme\tactive\t0 stores\tcreated ")
    assert token not in out
    assert cli("tenants", "revoke", "acme")[1] == (
        "Tenant acme revoked; its token no longer works and its stores are hidden.\n"
    )
    assert "acme\trevoked " in cli("tenants", "list")[1]
    assert cli("tenants", "revoke", "acme")[:3] == (2, "", "orderdesk-mcp: no active tenant named 'acme'\n")


def test_stores_add_reads_the_key_from_stdin_and_never_shows_it(cli: Cli, tmp_path: Path) -> None:
    cli("keys", "generate")
    code, out, err = cli(
        "stores", "add", "--store-id", "1001", "--name", "Main", "--read-only", stdin=CANARY + "\n"
    )
    assert (code, err) == (0, "")
    assert out == "Stored the API key for store 1001 (read-only) of tenant default, encrypted.\n"
    code, out, err = cli("stores", "list")
    assert out == "default\t1001\tMain\tread-only\tkey version 1\n"
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert CANARY.encode() not in raw


def test_the_api_key_is_never_accepted_on_the_command_line(cli: Cli) -> None:
    with pytest.raises(SystemExit):
        cli("stores", "add", "--store-id", "1001", "--api-key", CANARY)


def test_stores_add_without_a_key_on_stdin_is_refused(cli: Cli) -> None:
    cli("keys", "generate")
    assert cli("stores", "add", "--store-id", "1001", stdin="\n") == (
        2,
        "",
        "orderdesk-mcp: no API key given (pipe it on standard input or type it at the prompt)\n",
    )


def test_stores_test_reports_success_or_the_clear_reason(cli: Cli, desk: FakeOrderDesk) -> None:
    cli("keys", "generate")
    cli("stores", "add", "--store-id", "1001", stdin=CANARY)
    cli("stores", "add", "--store-id", "2002", "--name", "Outlet", stdin="wrong-key")
    code, out, err = cli("stores", "test", "--store", "1001")
    assert (code, out, err) == (0, "Store 1001 of tenant default: OK, OrderDesk accepted the API key.\n", "")
    code, out, err = cli("stores", "test", "--store", "Outlet")
    assert (code, out) == (1, "")
    assert err == (
        "Store 2002 of tenant default: FAILED: OrderDesk refused the credentials for store 2002; "
        "check the store id and API key (Store Settings → API in OrderDesk).\n"
    )
    code, _, err = cli("stores", "test")
    assert code == 1
    assert err == "orderdesk-mcp: Several stores are available; pass store as one of: 1001, Outlet.\n"
    assert desk.checked == [
        StoreRef(tenant="default", store_id="1001"),
        StoreRef(tenant="default", store_id="2002"),
    ]


def test_stores_belong_to_their_tenant(cli: Cli) -> None:
    cli("keys", "generate")
    cli("tenants", "add", "acme")
    assert cli("stores", "add", "--tenant", "ghost", "--store-id", "1", stdin="k")[2] == (
        "orderdesk-mcp: no active tenant named 'ghost'; add it with `tenants add`\n"
    )
    cli("stores", "add", "--tenant", "acme", "--store-id", "1001", stdin=CANARY)
    assert cli("stores", "list", "--tenant", "acme")[1] == "acme\t1001\t-\tread-write\tkey version 1\n"
    assert cli("stores", "test", "--tenant", "default", "--store", "1001")[2] == (
        "orderdesk-mcp: Store '1001' does not exist or is not available to you.\n"
    )
    assert (
        cli("stores", "remove", "--tenant", "acme", "--store", "1001")[1]
        == "Removed store 1001 of tenant acme.\n"
    )
    assert cli("stores", "list")[1] == (
        "No stores yet; add one with `orderdesk-mcp stores add --store-id ID` (key on standard input).\n"
    )


def test_rotation_drill_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    cli("keys", "generate")
    cli("stores", "add", "--store-id", "1001", stdin=CANARY)
    assert cli("keys", "rotate")[1] == (
        "Re-encrypted 1 stored API key under master key version 2.\n"
        "Older versions still decrypt until retired: orderdesk-mcp keys retire 1\n"
    )
    assert cli("keys", "list")[1] == (
        f"version 1: 0 stored API keys  [{tmp_path / 'master.key'}]\n"
        f"version 2 (current): 1 stored API key  [{tmp_path / 'master.key'}]\n"
    )
    assert cli("keys", "retire", "1")[1] == "Retired master key version 1.\n"
    assert cli("stores", "test")[0] == 0  # still decrypts under version 2 alone
    cli("keys", "rotate")
    cli("stores", "add", "--store-id", "2002", stdin="k2")
    assert cli("keys", "retire", "2")[2] == ""
    assert cli("keys", "retire", "3")[2] == (
        "orderdesk-mcp: master key version 3 is the current one and cannot be retired\n"
    )


def test_a_version_still_in_use_is_not_retired(cli: Cli, tmp_path: Path) -> None:
    cli("keys", "generate")
    cli("stores", "add", "--store-id", "1001", stdin=CANARY)
    Keyring.load(tmp_path, {}).add_version()  # as if a rotation stopped after saving the new key
    assert cli("keys", "retire", "1") == (
        2,
        "",
        "orderdesk-mcp: master key version 1 still encrypts 1 stored API key; "
        "run `orderdesk-mcp keys rotate` first\n",
    )
    assert cli("keys", "retire", "9")[2] == (
        "orderdesk-mcp: master key version 9 does not exist (versions: (1, 2))\n"
    )
    assert Keyring.load(tmp_path, {}).versions == (1, 2)


def test_rotation_with_an_environment_key_is_done_by_editing_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = base64.b64encode(b"o" * 32).decode()
    new = base64.b64encode(b"n" * 32).decode()
    monkeypatch.setenv("ORDERDESK_MASTER_KEY", old)
    cli("stores", "add", "--store-id", "1001", stdin=CANARY)
    code, _, err = cli("keys", "rotate")
    assert code == 2
    assert err == (
        "orderdesk-mcp: the master key comes from ORDERDESK_MASTER_KEY: "
        'set it to "2:<new>,1:<old>" (make a key with `orderdesk-mcp keys generate --print`), '
        "run `orderdesk-mcp keys rotate` again, then drop the old key\n"
    )
    monkeypatch.setenv("ORDERDESK_MASTER_KEY", f"2:{new},1:{old}")
    assert cli("keys", "rotate")[1] == "Re-encrypted 1 stored API key under master key version 2.\n"
    monkeypatch.setenv("ORDERDESK_MASTER_KEY", f"2:{new}")
    assert cli("stores", "test")[0] == 0
    assert old not in cli("keys", "list")[1]


def test_stores_test_checks_the_tenant_orderdesk_tenant_names(
    cli: Cli, desk: FakeOrderDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It ignored ORDERDESK_TENANT and looked in tenant "default", where the store is not.
    cli("keys", "generate")
    cli("tenants", "add", "acme")
    cli("stores", "add", "--tenant", "acme", "--store-id", "1001", stdin=CANARY)
    monkeypatch.setenv("ORDERDESK_TENANT", "acme")
    code, out, _ = cli("stores", "test")
    assert (code, out) == (0, "Store 1001 of tenant acme: OK, OrderDesk accepted the API key.\n")
    assert desk.checked == [StoreRef(tenant="acme", store_id="1001")]
