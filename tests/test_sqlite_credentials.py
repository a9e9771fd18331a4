"""The encrypted SQLite credential store: sealing, tenants, rotation, and no key ever in clear."""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orderdesk_mcp.adapters.credential_admin import CredentialAdminError, StoreRow
from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.sqlite_credentials import CredentialsUnreadable, SqliteCredentialStore
from orderdesk_mcp.domain.errors import CredentialsMissing
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import StoreAccess
from orderdesk_mcp.ports.credentials import CredentialStore

CANARY = "CANARY-api-key-7f3a9c1e5b"
OTHER = "other-api-key-0000000000"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring({1: b"\x01" * 32})


@pytest.fixture
def store(tmp_path: Path, keyring: Keyring) -> Iterator[SqliteCredentialStore]:
    with SqliteCredentialStore(path=tmp_path / "creds.sqlite3", keyring=keyring, now=lambda: "T0") as opened:
        yield opened


def _ref(tenant: str, store_id: str) -> StoreRef:
    return StoreRef(tenant=tenant, store_id=store_id)


def test_the_store_satisfies_the_port(store: SqliteCredentialStore) -> None:
    port: CredentialStore = store
    assert port is store


def test_the_file_is_private(tmp_path: Path, store: SqliteCredentialStore) -> None:
    assert stat.S_IMODE((tmp_path / "creds.sqlite3").stat().st_mode) == 0o600


@pytest.mark.anyio
async def test_a_stored_key_comes_back_only_for_its_tenant(store: SqliteCredentialStore) -> None:
    store.add_tenant("acme")
    store.add_store("acme", "1001", CANARY, alias="Main", read_only=True)
    assert await store.api_key(_ref("acme", "1001")) == CANARY
    assert await store.stores("acme") == (
        StoreAccess(ref=_ref("acme", "1001"), alias="Main", read_only=True),
    )
    assert await store.stores("default") == ()
    with pytest.raises(CredentialsMissing, match=r"^No OrderDesk API key is configured for store 1001\.$"):
        await store.api_key(_ref("default", "1001"))


@pytest.mark.anyio
async def test_the_default_tenant_needs_no_token(store: SqliteCredentialStore) -> None:
    store.add_store("default", "1001", CANARY)
    assert [s.ref for s in await store.stores("default")] == [_ref("default", "1001")]
    assert await store.api_key(_ref("default", "1001")) == CANARY


@pytest.mark.anyio
async def test_a_ciphertext_swapped_between_rows_does_not_decrypt(
    tmp_path: Path, store: SqliteCredentialStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.add_tenant("acme")
    store.add_tenant("evil")
    store.add_store("acme", "1001", CANARY)
    store.add_store("evil", "1001", OTHER)
    store.add_store("evil", "2002", OTHER)
    with sqlite3.connect(tmp_path / "creds.sqlite3") as raw:
        victim = raw.execute("SELECT nonce, ciphertext FROM stores WHERE tenant='acme'").fetchone()
        raw.execute("UPDATE stores SET nonce=?, ciphertext=? WHERE tenant='evil'", victim)
    raw.close()
    caplog.set_level(logging.DEBUG)
    for target in (_ref("evil", "1001"), _ref("evil", "2002")):
        with pytest.raises(CredentialsUnreadable) as caught:
            await store.api_key(target)
        assert isinstance(caught.value, CredentialsMissing)
        assert str(caught.value) == (
            f"The stored OrderDesk API key for store {target.store_id} cannot be decrypted (wrong or retired "
            "master key, or a tampered row); add it again with `orderdesk-mcp stores add --replace`."
        )
        assert CANARY not in repr(caught.value)
        assert caught.value.__cause__ is None
    assert await store.api_key(_ref("acme", "1001")) == CANARY
    assert CANARY not in caplog.text
    assert "the stored API key of tenant evil store 1001 does not decrypt" in caplog.text


@pytest.mark.anyio
async def test_rotation_drill_add_key_rotate_retire_old(tmp_path: Path) -> None:
    keyring = Keyring.generate(tmp_path)
    with SqliteCredentialStore(path=tmp_path / "c.sqlite3", keyring=keyring) as store:
        store.add_tenant("acme")
        store.add_store("acme", "1001", CANARY)
        store.add_store("default", "2002", OTHER)
        assert store.key_versions_in_use() == {1: 2}
        assert keyring.add_version() == 2
        store.add_store("acme", "3003", "newer-key")  # new rows use the new current version at once
        assert store.key_versions_in_use() == {1: 2, 2: 1}
        assert await store.api_key(_ref("acme", "1001")) == CANARY  # the old key still decrypts
        assert store.rotate() == 3
        assert store.key_versions_in_use() == {2: 3}
        keyring.retire(1)
    reloaded = Keyring.load(tmp_path, {})
    assert reloaded.versions == (2,)
    async with SqliteCredentialStore(path=tmp_path / "c.sqlite3", keyring=reloaded) as store:
        assert await store.api_key(_ref("acme", "1001")) == CANARY
        assert await store.api_key(_ref("default", "2002")) == OTHER
        assert await store.api_key(_ref("acme", "3003")) == "newer-key"


@pytest.mark.anyio
async def test_retiring_a_key_too_early_makes_its_rows_unreadable_and_rotation_refuses(
    tmp_path: Path, keyring: Keyring
) -> None:
    with SqliteCredentialStore(path=tmp_path / "c.sqlite3", keyring=keyring) as store:
        store.add_store("default", "1001", CANARY)
        keyring.add_version()
        keyring.retire(1)
        with pytest.raises(CredentialsUnreadable):
            await store.api_key(_ref("default", "1001"))
        with pytest.raises(CredentialAdminError) as caught:
            store.rotate()
        assert str(caught.value) == (
            "store 1001 of tenant default does not decrypt; nothing was re-encrypted "
            "(remove it or add it again with --replace, then rotate again)"
        )
        assert store.key_versions_in_use() == {1: 1}


@pytest.mark.anyio
async def test_the_canary_key_never_appears_in_clear_in_the_file_or_the_logs(
    tmp_path: Path, keyring: Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "c.sqlite3"
    with SqliteCredentialStore(path=path, keyring=keyring) as store:
        token = store.add_tenant("acme")
        store.add_store("acme", "1001", CANARY, alias="Main")
        store.add_store("acme", "1001", CANARY + "-v2", alias="Main", replace=True)
        keyring.add_version()
        store.rotate()
        assert await store.api_key(_ref("acme", "1001")) == CANARY + "-v2"
        listed = [repr(row) for row in store.list_stores()] + [repr(t) for t in store.list_tenants()]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("c.sqlite3"))
    assert CANARY.encode() not in raw
    assert token.encode() not in raw
    assert CANARY not in caplog.text
    assert token not in caplog.text
    assert not any(CANARY in line for line in listed)


def test_stores_are_listed_without_secrets(store: SqliteCredentialStore) -> None:
    store.add_tenant("acme")
    store.add_store("acme", "1001", CANARY, alias="Main")
    store.add_store("default", "2002", OTHER, read_only=True)
    assert store.list_stores() == [
        StoreRow(tenant="acme", store_id="1001", alias="Main", read_only=False, key_version=1),
        StoreRow(tenant="default", store_id="2002", alias="", read_only=True, key_version=1),
    ]
    assert [r.store_id for r in store.list_stores("acme")] == ["1001"]


@pytest.mark.anyio
async def test_tokens_authenticate_their_tenant_until_revoked(store: SqliteCredentialStore) -> None:
    acme = store.add_tenant("acme")
    beta = store.add_tenant("beta")
    store.add_store("acme", "1001", CANARY)
    assert len(acme) >= 43
    assert acme != beta
    assert await store.authenticate(acme) == "acme"
    assert await store.authenticate(beta) == "beta"
    assert await store.authenticate(acme + "x") is None
    assert await store.authenticate("") is None
    store.revoke_tenant("acme")
    assert await store.authenticate(acme) is None
    assert await store.stores("acme") == ()
    with pytest.raises(CredentialsMissing):
        await store.api_key(_ref("acme", "1001"))
    assert [(t.name, t.revoked, t.stores) for t in store.list_tenants()] == [
        ("acme", "T0", 1),
        ("beta", None, 0),
    ]


_NAME_RULE = "a tenant name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
_ALIAS_RULE = "an alias is 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s: s.add_tenant("acme"), "tenant 'acme' already exists"),
        (lambda s: s.add_tenant("a|b"), _NAME_RULE),
        (lambda s: s.revoke_tenant("nobody"), "no active tenant named 'nobody'"),
        (
            lambda s: s.add_store("ghost", "1", "k"),
            "no active tenant named 'ghost'; add it with `tenants add`",
        ),
        (
            lambda s: s.add_store("acme", "12a", "k"),
            "a store id is OrderDesk's numeric store id (digits only)",
        ),
        (lambda s: s.add_store("acme", "2", "k", alias="9lives"), _ALIAS_RULE),
        (lambda s: s.add_store("acme", "2", "  "), "the API key is empty"),
        (
            lambda s: s.add_store("acme", "1001", "k"),
            "store 1001 is already configured for tenant acme; use --replace to change it",
        ),
        (
            lambda s: s.add_store("acme", "2", "k", alias="Main"),
            "alias 'Main' already names store 1001 of tenant acme",
        ),
        (lambda s: s.remove_store("acme", "Nope"), "tenant acme has no store 'Nope'"),
    ],
)
def test_management_mistakes_are_refused_with_clear_messages(
    store: SqliteCredentialStore, action: Callable[[SqliteCredentialStore], object], message: str
) -> None:
    store.add_tenant("acme")
    store.add_store("acme", "1001", CANARY, alias="Main")
    with pytest.raises(CredentialAdminError) as caught:
        action(store)
    assert str(caught.value) == message


def test_a_store_is_removed_by_alias(store: SqliteCredentialStore) -> None:
    store.add_store("default", "1001", CANARY, alias="Main")
    assert store.remove_store("default", "Main") == "1001"
    assert store.list_stores() == []
