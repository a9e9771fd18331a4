"""``orderdesk-mcp keys|tenants|stores ...``: manage master keys, tenants and stored OrderDesk stores.

Everything lives in the data directory (:func:`orderdesk_mcp.entrypoints.paths.default_data_dir`): the
encrypted ``credentials.sqlite3`` and, unless ``ORDERDESK_MASTER_KEY`` is set, ``master.key``.
API keys are read from standard input or a hidden prompt, never from the command line (argv
shows up in ``ps`` and shell history). Nothing here prints a stored API key; a tenant's
bearer token is printed once, on standard output, when the tenant is added.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import wraps
from typing import Protocol, TypeAlias

import anyio

from orderdesk_mcp.adapters.credential_admin import CredentialAdminError
from orderdesk_mcp.adapters.keyring import KeyringError
from orderdesk_mcp.domain.errors import OrderDeskError
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import DEFAULT_TENANT, choose_store
from orderdesk_mcp.entrypoints.cli_admin_support import (
    Handler,
    key_lock,
    open_store,
    read_api_key,
    say,
    warn,
)
from orderdesk_mcp.entrypoints.cli_keys import keys_generate, keys_list, keys_retire, keys_rotate
from orderdesk_mcp.entrypoints.paths import default_data_dir
from orderdesk_mcp.ports.credentials import CredentialStore

__all__ = ["ConnectionChecker", "GatewayFactory", "register"]

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # not subscriptable at runtime


class ConnectionChecker(Protocol):
    async def check_connection(self, store: StoreRef, /) -> object: ...


GatewayFactory = Callable[[CredentialStore], AbstractAsyncContextManager[ConnectionChecker]]


def _http_gateway(credentials: CredentialStore) -> AbstractAsyncContextManager[ConnectionChecker]:
    from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
    from orderdesk_mcp.entrypoints.settings import DEFAULT_BASE_URL

    base_url = os.environ.get("ORDERDESK_BASE_URL", "").strip() or DEFAULT_BASE_URL
    return HttpOrderGateway(base_url=base_url, credentials=credentials)


def _friendly(handler: Handler) -> Handler:
    """Management mistakes end as one line on stderr and exit status 2, never a traceback."""

    @wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (KeyringError, CredentialAdminError) as exc:
            warn(f"orderdesk-mcp: {exc}")
            return 2
        except OrderDeskError as exc:
            warn(f"orderdesk-mcp: {exc}")
            return 1

    return run


# -- tenants -----------------------------------------------------------------------------------


def _tenants_add(args: argparse.Namespace) -> int:
    with open_store() as store:
        token = store.add_tenant(args.name)
    warn(
        f"Tenant {args.name} added. Its bearer token follows; it is shown only once (only its hash is kept)."
    )
    say(token)
    return 0


def _tenants_list(args: argparse.Namespace) -> int:
    with open_store() as store:
        tenants = store.list_tenants()
    if not tenants:
        say("No tenants yet; add one with `orderdesk-mcp tenants add NAME`.")
    for t in tenants:
        status = f"revoked {t.revoked}" if t.revoked else "active"
        say(f"{t.name}\t{status}\t{t.stores} stores\tcreated {t.created}")
    return 0


def _tenants_revoke(args: argparse.Namespace) -> int:
    with open_store() as store:
        store.revoke_tenant(args.name)
    say(f"Tenant {args.name} revoked; its token no longer works and its stores are hidden.")
    return 0


# -- stores ------------------------------------------------------------------------------------


def _stores_add(args: argparse.Namespace) -> int:
    api_key = read_api_key(args.store_id)
    if not api_key:
        raise CredentialAdminError("no API key given (pipe it on standard input or type it at the prompt)")
    # The keyring is loaded once the lock is held, so a rotation and retire cannot slip in between
    # and leave this key sealed under a version that is gone.
    with key_lock(default_data_dir()), open_store() as store:
        store.add_store(
            args.tenant,
            args.store_id,
            api_key,
            alias=args.name or "",
            read_only=args.read_only,
            replace=args.replace,
        )
    mode = " (read-only)" if args.read_only else ""
    say(f"Stored the API key for store {args.store_id}{mode} of tenant {args.tenant}, encrypted.")
    return 0


def _stores_list(args: argparse.Namespace) -> int:
    with open_store() as store:
        rows = store.list_stores(args.tenant)
    if not rows:
        say("No stores yet; add one with `orderdesk-mcp stores add --store-id ID` (key on standard input).")
    for r in rows:
        mode = "read-only" if r.read_only else "read-write"
        say(f"{r.tenant}\t{r.store_id}\t{r.alias or '-'}\t{mode}\tkey version {r.key_version}")
    return 0


def _stores_remove(args: argparse.Namespace) -> int:
    with open_store() as store:
        store_id = store.remove_store(args.tenant, args.store)
    say(f"Removed store {store_id} of tenant {args.tenant}.")
    return 0


def _stores_test(factory: GatewayFactory) -> Handler:
    async def check(args: argparse.Namespace) -> int:
        async with open_store() as store:
            # As the stdio server and the orders commands choose it: --tenant, else ORDERDESK_TENANT.
            tenant = args.tenant or os.environ.get("ORDERDESK_TENANT", "").strip() or DEFAULT_TENANT
            ref = choose_store(await store.stores(tenant), args.store).ref
            try:
                async with factory(store) as gateway:
                    await gateway.check_connection(ref)
            except OrderDeskError as exc:
                warn(f"Store {ref.store_id} of tenant {ref.tenant}: FAILED: {exc}")
                return 1
        say(f"Store {ref.store_id} of tenant {ref.tenant}: OK, OrderDesk accepted the API key.")
        return 0

    def run(args: argparse.Namespace) -> int:
        return anyio.run(check, args)

    return run


# -- wiring ------------------------------------------------------------------------------------


def _command(group: Subparsers, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=help_text)
    parser.set_defaults(handler=_friendly(handler))
    return parser


def register(subparsers: Subparsers, *, gateway_factory: GatewayFactory | None = None) -> None:
    """Add the ``keys``, ``tenants`` and ``stores`` commands.

    Args:
        subparsers: the top-level ``add_subparsers()`` of the ``orderdesk-mcp`` parser.
        gateway_factory: builds the gateway ``stores test`` checks with (default: the HTTP gateway
            at ``ORDERDESK_BASE_URL``).
    """
    keys = subparsers.add_parser("keys", help="master keys that encrypt the stored API keys")
    ks = keys.add_subparsers(dest="keys_command", required=True)
    gen = _command(ks, "generate", keys_generate, "create the master key file in the data directory")
    gen.add_argument("--print", action="store_true", help="print a new key for ORDERDESK_MASTER_KEY instead")
    _command(ks, "rotate", keys_rotate, "add a new master key and re-encrypt every stored API key")
    retire = _command(ks, "retire", keys_retire, "forget old master key versions no stored key uses")
    retire.add_argument("version", type=int, nargs="+")
    _command(ks, "list", keys_list, "show master key versions and how many stored keys use each")

    tenants = subparsers.add_parser("tenants", help="tenants and their bearer tokens (HTTP transport)")
    ts = tenants.add_subparsers(dest="tenants_command", required=True)
    _command(ts, "add", _tenants_add, "add a tenant and print its bearer token once").add_argument("name")
    _command(ts, "list", _tenants_list, "list tenants (no tokens)")
    _command(ts, "revoke", _tenants_revoke, "revoke a tenant's token").add_argument("name")

    stores = subparsers.add_parser("stores", help="OrderDesk stores and their encrypted API keys")
    ss = stores.add_subparsers(dest="stores_command", required=True)
    add = _command(ss, "add", _stores_add, "add a store; the API key is read from standard input or a prompt")
    add.add_argument("--tenant", default=DEFAULT_TENANT)
    add.add_argument("--store-id", required=True)
    add.add_argument("--name", help="an alias the tools' store argument accepts")
    add.add_argument("--read-only", action="store_true", help="refuse writes to this store")
    add.add_argument(
        "--replace", action="store_true", help="replace the key (and settings) of an existing store"
    )
    lst = _command(ss, "list", _stores_list, "list stores (no secrets)")
    lst.add_argument("--tenant")
    remove = _command(ss, "remove", _stores_remove, "remove a store and its key")
    remove.add_argument("--tenant", default=DEFAULT_TENANT)
    remove.add_argument("--store", required=True, help="store id or alias")
    test = _command(
        ss, "test", _stores_test(gateway_factory or _http_gateway), "check a store's key with OrderDesk"
    )
    test.add_argument("--tenant", default=None, help="the tenant (default: ORDERDESK_TENANT, else default)")
    test.add_argument("--store", help="store id or alias (optional when the tenant has one store)")
