"""Which OrderDesk the live cases talk to, read once from the environment, and how tests ask for it.

The live target exists when ``ORDERDESK_TEST_ENABLED=true`` and both ``ORDERDESK_TEST_STORE_ID``
and ``ORDERDESK_TEST_API_KEY`` are set. Without them every live case is skipped with
:data:`SKIP_REASON`, the one skip the project allows: tests mark their live case ``live`` (see
:func:`with_live`), :func:`live_skip_reason` decides, and one hook in ``tests/conftest.py`` skips,
so the run reports all of them on one line. Write tests get a live case only when
``ORDERDESK_TEST_WRITES=true`` too; otherwise they simply have none (nothing is skipped).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from orderdesk_mcp.entrypoints.settings import DEFAULT_BASE_URL

__all__ = [
    "API_KEY_VAR",
    "BASE_URL_VAR",
    "ENABLED_VAR",
    "LIVE",
    "LIVE_PROBLEM",
    "MAX_REQUESTS",
    "SKIP_REASON",
    "STORE_ID_VAR",
    "WRITES_VAR",
    "LiveConfig",
    "LiveConfigError",
    "live_skip_reason",
    "with_live",
]

ENABLED_VAR = "ORDERDESK_TEST_ENABLED"
STORE_ID_VAR = "ORDERDESK_TEST_STORE_ID"
API_KEY_VAR = "ORDERDESK_TEST_API_KEY"
BASE_URL_VAR = "ORDERDESK_TEST_BASE_URL"
WRITES_VAR = "ORDERDESK_TEST_WRITES"
MAX_REQUESTS = 60

SKIP_REASON = (
    f"live OrderDesk tests need {ENABLED_VAR}=true, {STORE_ID_VAR} and {API_KEY_VAR} "
    f"(optional: {BASE_URL_VAR}, {WRITES_VAR}=true)"
)


class LiveConfigError(Exception):
    """The live run was asked for but its variables are incomplete or wrong (names them)."""


@dataclass(frozen=True)
class LiveConfig:
    """The store a live run talks to; the key never appears in a repr."""

    store_id: str
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    writes: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LiveConfig | None:
        """The live configuration in ``env``; None when the live run is not enabled.

        Raises:
            LiveConfigError: enabled, but the store id or key is missing, or the URL is not http(s).
        """
        if env.get(ENABLED_VAR, "").strip().lower() != "true":
            return None
        store_id, api_key = env.get(STORE_ID_VAR, "").strip(), env.get(API_KEY_VAR, "").strip()
        missing = [var for var, value in ((STORE_ID_VAR, store_id), (API_KEY_VAR, api_key)) if not value]
        if missing:
            raise LiveConfigError(f"{ENABLED_VAR}=true needs {' and '.join(missing)} as well")
        base_url = env.get(BASE_URL_VAR, "").strip() or DEFAULT_BASE_URL
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise LiveConfigError(f"{BASE_URL_VAR} must be an http:// or https:// URL, got {base_url!r}")
        writes = env.get(WRITES_VAR, "").strip().lower() == "true"
        return cls(store_id=store_id, api_key=api_key, base_url=base_url.rstrip("/"), writes=writes)


def _load() -> tuple[LiveConfig | None, str | None]:
    try:
        return LiveConfig.from_env(os.environ), None
    except LiveConfigError as exc:
        return None, str(exc)


LIVE, LIVE_PROBLEM = _load()


def live_skip_reason(*, live: LiveConfig | None = LIVE, problem: str | None = LIVE_PROBLEM) -> str | None:
    """Why the live cases cannot run: :data:`SKIP_REASON` when the live run is not configured.

    None when it is, and also when it is enabled but incomplete: then the live cases run and fail
    naming the missing variable (``tests.live.run.live_run``).
    """
    return SKIP_REASON if live is None and problem is None else None


def with_live(
    *kinds: Any, writes: bool = False, live: LiveConfig | None = LIVE, problem: str | None = LIVE_PROBLEM
) -> list[Any]:
    """Parameters for a target fixture: ``kinds`` (names or ``pytest.param``s) plus the live target,
    marked ``live``.

    The live case is skipped with :data:`SKIP_REASON` when the live run is not configured (by the
    hook in ``tests/conftest.py``, for every test marked ``live``). A write test (``writes=True``)
    has no live case at all when the run is configured without ``ORDERDESK_TEST_WRITES=true``:
    reads always run live, writes only when asked for.
    """
    if writes and live is not None and not live.writes:
        return list(kinds)
    return [*kinds, pytest.param("live", marks=pytest.mark.live)]
