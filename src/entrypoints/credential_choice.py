"""Which credentials a process uses, and why, said in one line at start-up.

Settings already pick the source (environment variables, the encrypted store, or the
built-in simulator). This module adds what stdio and the CLI need on top: the tenant they
serve from the encrypted store (``ORDERDESK_TENANT`` or ``--tenant``; the only tenant when
there is one), and the start-up line naming the source, the reason, and the tenant. Every
refusal is a :class:`SettingsError` whose message is one line naming both fixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.domain.tenancy import DEFAULT_TENANT
from orderdesk_mcp.entrypoints.paths import credentials_db, data_dir_from
from orderdesk_mcp.entrypoints.settings import SIMULATOR_STORE_ID, Settings, SettingsError, mask_url

__all__ = ["CredentialChoice", "Mode", "choose_credentials"]

Mode = Literal["stdio", "http", "cli"]
_ENV_PAIR = "ORDERDESK_STORE_ID and ORDERDESK_API_KEY"


class CredentialChoice(msgspec.Struct, frozen=True, kw_only=True):
    """``tenant`` is the tenant stdio and the CLI serve; ``line`` is the start-up line (no newline)."""

    source: Literal["env", "sqlite", "simulator"]
    tenant: str
    line: str


def _tenants_and_stores(db: Path, env: Mapping[str, str]) -> tuple[list[str], int]:
    """Active tenants (plus ``default`` when stores were added without a tenant) and their store count."""
    from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore  # only when it exists

    with SqliteCredentialStore(path=db, keyring=Keyring.load(db.parent, env)) as store:
        active = {t.name for t in store.list_tenants() if t.revoked is None}
        rows = store.list_stores()
    if any(r.tenant == DEFAULT_TENANT for r in rows):
        active.add(DEFAULT_TENANT)
    return sorted(active), sum(1 for r in rows if r.tenant in active)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def choose_credentials(
    settings: Settings, *, mode: Mode, tenant: str | None = None, env: Mapping[str, str]
) -> CredentialChoice:
    """The credential source, the tenant to serve, and the line that says so.

    Args:
        settings: the loaded settings (they already chose the source).
        mode: ``stdio`` and ``cli`` serve one tenant; over ``http`` each request's token chooses.
        tenant: ``--tenant`` from the command line; wins over ``settings.tenant`` (ORDERDESK_TENANT).
        env: the environment, to say whether ORDERDESK_CREDENTIALS forced the source.

    Raises:
        SettingsError: a tenant chosen without an encrypted store, an unknown tenant, or several
            tenants and none chosen over stdio or the CLI.
    """
    wanted, named_by = (tenant, "--tenant") if tenant else (settings.tenant, "ORDERDESK_TENANT")
    db = credentials_db(data_dir_from(settings.data_dir or None))
    forced = env.get("ORDERDESK_CREDENTIALS", "").strip()
    if settings.credentials != "sqlite":
        if wanted and mode != "http":
            where = "environment variables" if settings.credentials == "env" else "the built-in simulator"
            raise SettingsError(
                f"{named_by} chooses a tenant of the encrypted credential store, but credentials come from "
                f"{where}; unset it, or add tenants with: orderdesk-mcp tenants add NAME"
            )
        if settings.credentials == "env":
            why = f"ORDERDESK_CREDENTIALS={forced}" if forced else f"{_ENV_PAIR} are set"
            line = (
                f"orderdesk-mcp: credentials: environment variables, because {why}: store "
                f"{settings.store_id} at {mask_url(settings.base_url)}"
            )
            return CredentialChoice(source="env", tenant=DEFAULT_TENANT, line=line)
        why = f"ORDERDESK_CREDENTIALS={forced}" if forced else f"{_ENV_PAIR} are not set and there is no {db}"
        line = (
            f"orderdesk-mcp: credentials: the built-in simulator (store {SIMULATOR_STORE_ID}, "
            f"{settings.simulator_orders} sample orders; nothing reaches OrderDesk), because {why}"
        )
        return CredentialChoice(source="simulator", tenant=DEFAULT_TENANT, line=line)

    tenants, stores = _tenants_and_stores(db, env)
    why = f"ORDERDESK_CREDENTIALS={forced}" if forced else f"it exists and {_ENV_PAIR} are not set"
    head = (
        f"orderdesk-mcp: credentials: the encrypted store {db} "
        f"({_plural(len(tenants), 'tenant')}, {_plural(stores, 'store')}), because {why}"
    )
    if mode == "http":
        line = f"{head}; each request's bearer token chooses its tenant"
        return CredentialChoice(source="sqlite", tenant=DEFAULT_TENANT, line=line)
    if wanted:
        if wanted not in tenants:
            known = ", ".join(tenants) or "none"
            raise SettingsError(
                f"{named_by} names tenant {wanted!r}, which the encrypted store {db} does not have "
                f"(its tenants: {known})"
            )
        return CredentialChoice(
            source="sqlite", tenant=wanted, line=f"{head}; serving tenant {wanted!r} (chosen by {named_by})"
        )
    if len(tenants) == 1:
        return CredentialChoice(
            source="sqlite", tenant=tenants[0], line=f"{head}; serving tenant {tenants[0]!r} (the only one)"
        )
    if not tenants:
        raise SettingsError(
            f"the encrypted store {db} has no tenants; add one (orderdesk-mcp tenants add NAME, "
            "then orderdesk-mcp stores add --tenant NAME --store-id ID), or set "
            f"{_ENV_PAIR} to use one store from the environment"
        )
    raise SettingsError(
        f"the encrypted store {db} has {len(tenants)} tenants ({', '.join(tenants)}); choose one with "
        "ORDERDESK_TENANT=NAME or --tenant NAME"
    )
