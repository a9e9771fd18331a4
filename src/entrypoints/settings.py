"""Settings: one frozen Struct read from the environment at start-up (never at import).

Every variable is part of the interface; README lists them. A bad value stops start-up with
one line naming the variable (:class:`SettingsError`), never a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from orderdesk_mcp.adapters.credential_admin import has_control_character

__all__ = [
    "DEFAULT_BASE_URL",
    "MIN_HTTP_TOKEN_LENGTH",
    "Settings",
    "SettingsError",
    "load_settings",
    "mask_url",
]

DEFAULT_BASE_URL = "https://app.orderdesk.me/api/v2"
SIMULATOR_STORE_ID = "100001"
SIMULATOR_API_KEY = "simulator-api-key"  # a public, fake key the built-in simulator accepts


MIN_HTTP_TOKEN_LENGTH = 32
_USERINFO_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*?:)[^/?#@]*@")
_QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pass)=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with its password (``user:PASSWORD@`` or ``?password=``) shown as ``***``."""
    masked = _USERINFO_PASSWORD.sub(r"\1***@", url)
    return _QUERY_PASSWORD.sub(r"\1***", masked)


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable, never its secret value."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything the container needs to choose and build adapters."""

    store_id: str | None = None
    api_key: str | None = msgspec.field(default=None)
    base_url: str = DEFAULT_BASE_URL
    gateway: Literal["simulator", "http"] = "simulator"
    credentials: Literal["env", "sqlite", "simulator"] = "simulator"
    cache_url: str | None = None
    cache_prefix: str = "orderdesk:"
    cache_ttl: float = 15.0
    cache_max_entries: int = 10_000
    cache_max_bytes: int = 64 * 1024 * 1024
    rate_burst: int = 18  # 90% of OrderDesk's documented burst of 20: an exact copy overran it
    rate_per_second: float = 2.7  # 90% of the documented 3 a second
    call_timeout: float = 30.0
    max_response_bytes: int = 10_000_000
    read_only: bool = False
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    data_dir: str = ""
    http_token: str | None = None
    simulator_orders: int = 25
    audit_values: Literal["full", "masked", "none"] = "masked"
    max_result_chars: int = 20_000
    tenant: str = ""  # the tenant stdio and the CLI serve from the encrypted store ("" = the only one)
    allowed_hosts: str = ""  # comma list: Host names HTTP answers besides loopback (behind a proxy)

    def __repr__(self) -> str:  # keep secrets out of any accidental log line
        shown = f"gateway={self.gateway!r}, credentials={self.credentials!r}, store_id={self.store_id!r}"
        return f"Settings({shown})"


_ENV: dict[str, str] = {
    "ORDERDESK_STORE_ID": "store_id",
    "ORDERDESK_API_KEY": "api_key",
    "ORDERDESK_BASE_URL": "base_url",
    "ORDERDESK_GATEWAY": "gateway",
    "ORDERDESK_CREDENTIALS": "credentials",
    "ORDERDESK_CACHE_URL": "cache_url",
    "ORDERDESK_CACHE_PREFIX": "cache_prefix",
    "ORDERDESK_CACHE_TTL": "cache_ttl",
    "ORDERDESK_CACHE_MAX_ENTRIES": "cache_max_entries",
    "ORDERDESK_CACHE_MAX_BYTES": "cache_max_bytes",
    "ORDERDESK_RATE_BURST": "rate_burst",
    "ORDERDESK_RATE_PER_SECOND": "rate_per_second",
    "ORDERDESK_CALL_TIMEOUT": "call_timeout",
    "ORDERDESK_MAX_RESPONSE_BYTES": "max_response_bytes",
    "ORDERDESK_READ_ONLY": "read_only",
    "ORDERDESK_LOG_FORMAT": "log_format",
    "ORDERDESK_LOG_LEVEL": "log_level",
    "ORDERDESK_DATA_DIR": "data_dir",
    "ORDERDESK_HTTP_TOKEN": "http_token",
    "ORDERDESK_SIMULATOR_ORDERS": "simulator_orders",
    "ORDERDESK_AUDIT_VALUES": "audit_values",
    "ORDERDESK_MAX_RESULT_CHARS": "max_result_chars",
    "ORDERDESK_TENANT": "tenant",
    "ORDERDESK_ALLOWED_HOSTS": "allowed_hosts",
}
_SECRET_FIELDS = {"api_key", "http_token"}
_EXPECTED = {
    "gateway": "simulator or http",
    "credentials": "simulator, env or sqlite",
    "log_format": "text or json",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "cache_ttl": "a number of seconds",
    "call_timeout": "a number of seconds",
    "rate_per_second": "a number",
    "rate_burst": "a whole number",
    "cache_max_entries": "a whole number",
    "cache_max_bytes": "a whole number of bytes",
    "max_response_bytes": "a whole number of bytes",
    "simulator_orders": "a whole number",
    "audit_values": "masked, full or none",
    "max_result_chars": "a whole number of characters",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw_values(env: Mapping[str, str]) -> dict[str, object]:
    raw: dict[str, object] = {}
    for var, field in _ENV.items():
        value = env.get(var)
        if value is None or (value.strip() == "" and field not in {"read_only"}):
            continue
        value = value.strip()
        if field == "read_only":
            lowered = value.lower()
            if lowered not in _TRUE | _FALSE:
                raise SettingsError(f"{var} must be 1 or 0 (true/false), got {value!r}")
            raw[field] = lowered in _TRUE
        elif field in {"log_format", "gateway", "credentials", "audit_values"}:
            raw[field] = value.lower()
        elif field == "log_level":
            raw[field] = value.upper()
        else:
            raw[field] = value
    return raw


def _check_url(var: str, url: str, schemes: set[str]) -> None:
    wanted = " or ".join(sorted(f"{s}://" for s in schemes))
    try:
        parts = urlsplit(url)
        # unix:///path/redis.sock names a socket file: a path and no host.
        located = bool(parts.path.strip("/")) if parts.scheme == "unix" else bool(parts.netloc)
        valid = parts.scheme in schemes and located and (parts.port or 0) >= 0
    except ValueError:  # an unbalanced "[" or a port that is not a number
        valid = False
    if not valid:
        raise SettingsError(f"{var} must be a {wanted} URL, got {mask_url(url)!r}")


def _field_var(field: str) -> str:
    return next(var for var, name in _ENV.items() if name == field)


def load_settings(env: Mapping[str, str] | None = None, *, sqlite_available: bool = False) -> Settings:
    """Read settings from ``env`` (default ``os.environ``).

    Gateway and credentials default to the simulator when no credentials are configured:
    ``ORDERDESK_STORE_ID``+``ORDERDESK_API_KEY`` select the HTTP gateway with environment
    credentials; an existing encrypted credential database (``sqlite_available``) selects the
    HTTP gateway with it. ``ORDERDESK_GATEWAY`` / ``ORDERDESK_CREDENTIALS`` override.

    Raises:
        SettingsError: naming the variable that is wrong.
    """
    source = os.environ if env is None else env
    raw = _raw_values(source)
    has_env_creds = "store_id" in raw or "api_key" in raw
    if has_env_creds and not ("store_id" in raw and "api_key" in raw):
        missing = "ORDERDESK_API_KEY" if "store_id" in raw else "ORDERDESK_STORE_ID"
        raise SettingsError(
            f"{missing} must be set too (ORDERDESK_STORE_ID and ORDERDESK_API_KEY go together)"
        )
    if "credentials" not in raw:
        raw["credentials"] = "env" if has_env_creds else ("sqlite" if sqlite_available else "simulator")
    if "gateway" not in raw:
        raw["gateway"] = "simulator" if raw["credentials"] == "simulator" else "http"
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("`$.", 1)[-1].rstrip("`") if "`$." in str(exc) else ""
        var = _field_var(field) if field in _ENV.values() else "an ORDERDESK_* variable"
        if field in _SECRET_FIELDS:
            raise SettingsError(f"{var} is not valid") from None
        expected = _EXPECTED.get(field, "valid")
        raise SettingsError(f"{var} must be {expected}, got {raw.get(field)!r}") from None
    _validate(settings)
    if "base_url" in raw and settings.credentials == "simulator":
        raise SettingsError(
            "ORDERDESK_BASE_URL is set but no credentials are: set ORDERDESK_STORE_ID and ORDERDESK_API_KEY "
            "too (or add a store: orderdesk-mcp stores add), or unset ORDERDESK_BASE_URL to use the "
            "built-in simulator"
        )
    return settings


def _validate(s: Settings) -> None:
    _check_url("ORDERDESK_BASE_URL", s.base_url, {"http", "https"})
    if s.cache_url is not None:
        _check_url("ORDERDESK_CACHE_URL", s.cache_url, {"redis", "rediss", "unix"})
    if s.http_token is not None and (
        len(s.http_token) < MIN_HTTP_TOKEN_LENGTH or any(ch.isspace() for ch in s.http_token)
    ):
        raise SettingsError(
            f"ORDERDESK_HTTP_TOKEN must be at least {MIN_HTTP_TOKEN_LENGTH} characters with no spaces "
            "(tokens made by `orderdesk-mcp tenants add` are)"
        )
    if s.store_id is not None and not (s.store_id.isascii() and s.store_id.isdigit()):
        # Never echoed: with the two variables swapped, the value here is the API key.
        raise SettingsError(
            "ORDERDESK_STORE_ID must be OrderDesk's numeric store id (digits only); the value set has "
            f"{len(s.store_id)} characters, not all digits (not shown, in case it is the API key: check that "
            "ORDERDESK_STORE_ID and ORDERDESK_API_KEY are not swapped)"
        )
    if s.api_key is not None and has_control_character(s.api_key):
        raise SettingsError(
            "ORDERDESK_API_KEY contains a control character (a line break, tab or similar); set it to the "
            "API key alone, on one line"
        )
    checks: list[tuple[bool, str, float]] = [
        (s.cache_ttl >= 0, "ORDERDESK_CACHE_TTL must be 0 or more seconds", s.cache_ttl),
        (s.cache_max_entries >= 1, "ORDERDESK_CACHE_MAX_ENTRIES must be at least 1", s.cache_max_entries),
        (s.cache_max_bytes >= 1024, "ORDERDESK_CACHE_MAX_BYTES must be at least 1024", s.cache_max_bytes),
        (s.rate_burst >= 1, "ORDERDESK_RATE_BURST must be at least 1", s.rate_burst),
        (s.rate_per_second > 0, "ORDERDESK_RATE_PER_SECOND must be more than 0", s.rate_per_second),
        (s.call_timeout > 0, "ORDERDESK_CALL_TIMEOUT must be more than 0 seconds", s.call_timeout),
        (
            s.max_response_bytes >= 1024,
            "ORDERDESK_MAX_RESPONSE_BYTES must be at least 1024",
            s.max_response_bytes,
        ),
        (
            0 <= s.simulator_orders <= 1_000_000,
            "ORDERDESK_SIMULATOR_ORDERS must be 0 to 1000000",
            s.simulator_orders,
        ),
        (s.max_result_chars >= 1000, "ORDERDESK_MAX_RESULT_CHARS must be at least 1000", s.max_result_chars),
    ]
    for ok, message, given in checks:
        if not ok:  # the value as read, like the parse errors beside these ("got 'soon'")
            shown = f"{given:g}" if isinstance(given, float) else str(given)  # 0.0 reads as it was set: 0
            raise SettingsError(f"{message}, got {shown}")
    if s.gateway == "http" and s.credentials == "simulator":
        raise SettingsError(
            "ORDERDESK_GATEWAY=http needs credentials: set ORDERDESK_STORE_ID and ORDERDESK_API_KEY "
            "(for a standalone simulator, use the store id and key it prints)"
        )
