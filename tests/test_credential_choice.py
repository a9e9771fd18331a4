"""Which credentials serve and the CLI use, and the one line that says so (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from orderdesk_mcp.adapters.keyring import MASTER_KEY_ENV, Keyring
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore
from orderdesk_mcp.entrypoints.cli import main
from orderdesk_mcp.entrypoints.credential_choice import choose_credentials
from orderdesk_mcp.entrypoints.settings import SettingsError, load_settings
from tests.server_process import CLI, clean_env
from tests.upstream_harness import API_KEY, STORE_ID, served_simulator

pytestmark = pytest.mark.anyio

MASTER_KEY = Keyring.new_key_text()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"ORDERDESK_DATA_DIR": str(tmp_path), MASTER_KEY_ENV: MASTER_KEY, **extra}


def _add(tmp_path: Path, tenants: dict[str, list[str]]) -> Path:
    db = tmp_path / "credentials.sqlite3"
    with SqliteCredentialStore(path=db, keyring=Keyring.load(tmp_path, _env(tmp_path))) as store:
        for tenant, stores in tenants.items():
            store.add_tenant(tenant)
            for store_id in stores:
                store.add_store(tenant, store_id, API_KEY)
    return db


def _choose(tmp_path: Path, *, mode: str = "stdio", tenant: str | None = None, **env: str) -> tuple[str, str]:
    full = _env(tmp_path, **env)
    db_exists = (tmp_path / "credentials.sqlite3").exists()
    settings = load_settings(full, sqlite_available=db_exists)
    choice = choose_credentials(settings, mode=mode, tenant=tenant, env=full)  # type: ignore[arg-type]
    return choice.tenant, choice.line


def test_environment_credentials_are_named_with_the_reason(tmp_path: Path) -> None:
    _, line = _choose(tmp_path, ORDERDESK_STORE_ID="12345", ORDERDESK_API_KEY="k" * 20)
    assert line == (
        "orderdesk-mcp: credentials: environment variables, because ORDERDESK_STORE_ID and "
        "ORDERDESK_API_KEY are set: store 12345 at https://app.orderdesk.me/api/v2"
    )


def test_the_simulator_is_named_with_the_reason(tmp_path: Path) -> None:
    _, line = _choose(tmp_path)
    assert line == (
        "orderdesk-mcp: credentials: the built-in simulator (store 100001, 25 sample orders; nothing "
        "reaches OrderDesk), because ORDERDESK_STORE_ID and ORDERDESK_API_KEY are not set and there is "
        f"no {tmp_path / 'credentials.sqlite3'}"
    )


def test_the_only_tenant_of_the_encrypted_store_is_used_and_named(tmp_path: Path) -> None:
    db = _add(tmp_path, {"acme": ["111", "222"]})
    tenant, line = _choose(tmp_path)
    assert tenant == "acme"
    assert line == (
        f"orderdesk-mcp: credentials: the encrypted store {db} (1 tenant, 2 stores), because it exists "
        "and ORDERDESK_STORE_ID and ORDERDESK_API_KEY are not set; serving tenant 'acme' (the only one)"
    )


def test_several_tenants_and_none_chosen_is_one_line_naming_them_and_both_fixes(tmp_path: Path) -> None:
    db = _add(tmp_path, {"acme": ["111"], "beta": ["222"]})
    with pytest.raises(SettingsError) as caught:
        _choose(tmp_path)
    assert str(caught.value) == (
        f"the encrypted store {db} has 2 tenants (acme, beta); choose one with ORDERDESK_TENANT=NAME "
        "or --tenant NAME"
    )


def test_orderdesk_tenant_chooses_and_the_flag_wins_over_it(tmp_path: Path) -> None:
    _add(tmp_path, {"acme": ["111"], "beta": ["222"]})
    tenant, line = _choose(tmp_path, ORDERDESK_TENANT="beta")
    assert (tenant, line.rsplit("; ", 1)[1]) == ("beta", "serving tenant 'beta' (chosen by ORDERDESK_TENANT)")
    tenant, line = _choose(tmp_path, tenant="acme", ORDERDESK_TENANT="beta")
    assert (tenant, line.rsplit("; ", 1)[1]) == ("acme", "serving tenant 'acme' (chosen by --tenant)")


def test_an_unknown_tenant_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    db = _add(tmp_path, {"acme": ["111"]})
    with pytest.raises(SettingsError) as caught:
        _choose(tmp_path, tenant="acne")
    assert str(caught.value) == (
        f"--tenant names tenant 'acne', which the encrypted store {db} does not have (its tenants: acme)"
    )


def test_over_http_each_token_chooses_its_tenant(tmp_path: Path) -> None:
    _add(tmp_path, {"acme": ["111"], "beta": ["222"]})
    _, line = _choose(tmp_path, mode="http")
    assert line.endswith(
        "(2 tenants, 2 stores), because it exists and ORDERDESK_STORE_ID and ORDERDESK_API_KEY are not "
        "set; each request's bearer token chooses its tenant"
    )


def test_a_tenant_without_an_encrypted_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        _choose(tmp_path, ORDERDESK_TENANT="acme")
    assert str(caught.value) == (
        "ORDERDESK_TENANT chooses a tenant of the encrypted credential store, but credentials come from "
        "the built-in simulator; unset it, or add tenants with: orderdesk-mcp tenants add NAME"
    )


def test_an_encrypted_store_without_tenants_says_how_to_add_one(tmp_path: Path) -> None:
    db = _add(tmp_path, {})
    with pytest.raises(SettingsError) as caught:
        _choose(tmp_path)
    assert str(caught.value) == (
        f"the encrypted store {db} has no tenants; add one (orderdesk-mcp tenants add NAME, "
        "then orderdesk-mcp stores add --tenant NAME --store-id ID), or set ORDERDESK_STORE_ID and "
        "ORDERDESK_API_KEY to use one store from the environment"
    )


def test_a_base_url_without_credentials_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env(tmp_path, ORDERDESK_BASE_URL="http://127.0.0.1:8765"))
    assert str(caught.value) == (
        "ORDERDESK_BASE_URL is set but no credentials are: set ORDERDESK_STORE_ID and ORDERDESK_API_KEY "
        "too (or add a store: orderdesk-mcp stores add), or unset ORDERDESK_BASE_URL to use the built-in "
        "simulator"
    )


def _set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for var in ("ORDERDESK_STORE_ID", "ORDERDESK_API_KEY", "ORDERDESK_CACHE_URL", "ORDERDESK_TENANT"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)


def test_orders_cli_with_several_tenants_and_none_chosen_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _add(tmp_path, {"acme": ["111"], "beta": ["222"]})
    _set_env(monkeypatch, _env(tmp_path))
    assert main(["orders", "list"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        f"orderdesk-mcp: configuration error: the encrypted store {db} has 2 tenants (acme, beta); choose "
        "one with ORDERDESK_TENANT=NAME or --tenant NAME\n",
    )


def test_orders_cli_says_on_stderr_that_it_runs_on_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_env(monkeypatch, _env(tmp_path))
    assert main(["orders", "list", "--limit", "1"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["total_count"] == 25
    assert captured.err.startswith("orderdesk-mcp: credentials: the built-in simulator (store 100001, ")


async def test_orders_cli_and_stdio_serve_the_tenant_chosen_with_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add(tmp_path, {"acme": ["300001"], "beta": [STORE_ID]})
    state = SimulatorState()
    state.add_store(STORE_ID, API_KEY)
    state.seed_samples(STORE_ID, 3)
    async with served_simulator(state) as url:
        env = _env(tmp_path, ORDERDESK_BASE_URL=url)
        _set_env(monkeypatch, env)
        code = await anyio.to_thread.run_sync(main, ["orders", "list", "--tenant", "beta"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert json.loads(captured.out)["total_count"] == 3
        said = [line for line in captured.err.splitlines() if line.startswith("orderdesk-mcp: credentials:")]
        assert said[0].endswith("serving tenant 'beta' (chosen by --tenant)")

        params = StdioServerParameters(
            command=CLI, args=["serve"], env=clean_env(tmp_path, **env, ORDERDESK_TENANT="beta")
        )
        with anyio.fail_after(30):
            async with Client(params) as client:
                listed = await client.call_tool("orders_list", {"limit": 5})
    assert listed.structured_content is not None
    assert listed.structured_content["total_count"] == 3
