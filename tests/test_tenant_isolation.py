"""Property tests: over random tenants, tokens and stores, no tenant ever reaches another's store or key."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from orderdesk_mcp.adapters.env_credentials import EnvCredentialStore
from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore
from orderdesk_mcp.domain.errors import (
    CredentialsMissing,
    NoStoreConfigured,
    StoreNotFound,
    StoreSelectionRequired,
)
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import StoreAccess, choose_store
from orderdesk_mcp.ports.credentials import CredentialStore

TENANTS = st.from_regex(r"[a-z][a-z0-9._-]{0,8}", fullmatch=True)
STORE_IDS = st.from_regex(r"[1-9][0-9]{0,3}", fullmatch=True)
ALIASES = st.one_of(st.just(""), st.from_regex(r"[A-C][a-c]{0,2}", fullmatch=True))
LAYOUTS = st.dictionaries(TENANTS, st.dictionaries(STORE_IDS, ALIASES, max_size=3), min_size=1, max_size=4)
Layout = dict[str, dict[str, str]]
# Phase.explain re-parses the test's source, which trips a CPython 3.11 AST bug while reporting a failure.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


def _key(tenant: str, store_id: str) -> str:
    return f"key:{tenant}:{store_id}"


def _unique_aliases(stores: dict[str, str]) -> dict[str, str]:
    seen: set[str] = set()
    cleaned = {}
    for store_id, alias in stores.items():
        cleaned[store_id] = "" if alias in seen else alias
        seen.add(alias)
    return cleaned


def _build(
    directory: Path, layout: Layout, revoked: set[str]
) -> tuple[SqliteCredentialStore, dict[str, str]]:
    store = SqliteCredentialStore(path=directory / "c.sqlite3", keyring=Keyring({1: b"\x07" * 32}))
    store.__enter__()
    tokens = {tenant: store.add_tenant(tenant) for tenant in layout}
    for tenant, stores in layout.items():
        for store_id, alias in stores.items():
            store.add_store(tenant, store_id, _key(tenant, store_id), alias=alias)
    for tenant in revoked:
        store.revoke_tenant(tenant)
    return store, tokens


def _selectors(layout: Layout) -> set[str]:
    return {s for stores in layout.values() for sid, alias in stores.items() for s in (sid, alias) if s}


async def _tool_call(port: CredentialStore, token: str, selector: str | None) -> tuple[str, str]:
    """What a tool call does: authenticate, pick the store, fetch its key (the HTTP adapter's job)."""
    tenant = await port.authenticate(token)
    if tenant is None:
        raise PermissionError("401")
    access = choose_store(await port.stores(tenant), selector)
    return tenant, await port.api_key(access.ref)


@pytest.mark.anyio
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=_PHASES)
@given(layout=LAYOUTS, data=st.data())
async def test_every_cross_tenant_access_is_denied(layout: Layout, data: st.DataObject) -> None:
    layout = {tenant: _unique_aliases(stores) for tenant, stores in layout.items()}
    revoked = data.draw(st.sets(st.sampled_from(sorted(layout))), label="revoked")
    with tempfile.TemporaryDirectory() as tmp:
        store, tokens = _build(Path(tmp), layout, revoked)
        try:
            for tenant, token in tokens.items():
                expected = None if tenant in revoked else tenant
                assert await store.authenticate(token) == expected
                visible = await store.stores(tenant)
                wanted = {} if tenant in revoked else layout[tenant]
                assert {a.ref.store_id: a.alias for a in visible} == wanted
                assert all(a.ref.tenant == tenant for a in visible)
                for selector in [None, *sorted(_selectors(layout))]:
                    await _check_call(
                        store, token, tenant=tenant, visible=visible, selector=selector, revoked=revoked
                    )
                for other, stores in layout.items():
                    for store_id in stores:
                        await _check_key(
                            store, StoreRef(tenant=tenant, store_id=store_id), layout, revoked, other
                        )
            garbage = data.draw(st.text(max_size=60), label="garbage token")
            if garbage not in tokens.values():
                assert await store.authenticate(garbage) is None
        finally:
            store.__exit__()


async def _check_call(
    store: SqliteCredentialStore,
    token: str,
    *,
    tenant: str,
    visible: tuple[StoreAccess, ...],
    selector: str | None,
    revoked: set[str],
) -> None:
    if tenant in revoked:
        with pytest.raises(PermissionError):
            await _tool_call(store, token, selector)
        return
    try:
        who, key = await _tool_call(store, token, selector)
    except (NoStoreConfigured, StoreNotFound, StoreSelectionRequired):
        own = {s for a in visible for s in (a.ref.store_id, a.alias) if s}
        assert selector not in own or selector is None
        return
    assert who == tenant
    assert key.startswith(f"key:{tenant}:")


async def _check_key(
    store: SqliteCredentialStore, ref: StoreRef, layout: Layout, revoked: set[str], owner: str
) -> None:
    if ref.tenant not in revoked and ref.store_id in layout[ref.tenant]:
        assert await store.api_key(ref) == _key(ref.tenant, ref.store_id)
        return
    with pytest.raises(CredentialsMissing) as caught:
        await store.api_key(ref)
    assert _key(owner, ref.store_id) not in str(caught.value)


@pytest.mark.anyio
@given(tenant=TENANTS, store_id=STORE_IDS, other=TENANTS, other_store=STORE_IDS, token=st.text(max_size=40))
async def test_the_environment_store_serves_only_its_own_tenant_and_store(
    tenant: str, store_id: str, other: str, other_store: str, token: str
) -> None:
    port = EnvCredentialStore(store_id=store_id, api_key="env-key", tenant=tenant)
    assert await port.authenticate(token) is None
    assert [a.ref for a in await port.stores(tenant)] == [StoreRef(tenant=tenant, store_id=store_id)]
    assert await port.api_key(StoreRef(tenant=tenant, store_id=store_id)) == "env-key"
    if other != tenant:
        assert await port.stores(other) == ()
    if (other, other_store) != (tenant, store_id):
        with pytest.raises(CredentialsMissing):
            await port.api_key(StoreRef(tenant=other, store_id=other_store))


@pytest.mark.anyio
async def test_an_empty_environment_key_reads_as_missing() -> None:
    port = EnvCredentialStore(store_id="1001", api_key="")
    with pytest.raises(CredentialsMissing, match=r"^No OrderDesk API key is configured for store 1001\.$"):
        await port.api_key(StoreRef(tenant="default", store_id="1001"))
    keyed = EnvCredentialStore(store_id="1001", api_key="CANARY-env-key")
    assert repr(keyed) == "EnvCredentialStore(tenant='default', store_id='1001')"
