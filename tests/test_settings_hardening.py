"""Start-up errors never show a URL's password, and a weak HTTP token stops start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from orderdesk_mcp.adapters.redis_cache import redis_client_from_url
from orderdesk_mcp.entrypoints.settings import SettingsError, load_settings, mask_url

CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))
STRONG = "A" * 31 + "b"


def _error(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    return str(caught.value)


def test_a_bad_cache_url_is_shown_without_its_password() -> None:
    message = _error({"ORDERDESK_CACHE_URL": "http://u:S3cretPW@cache.example:6379/0"})
    assert message == (
        "ORDERDESK_CACHE_URL must be a redis:// or rediss:// or unix:// URL, got 'http://u:***@cache.example:6379/0'"
    )
    assert "S3cretPW" not in message


def test_a_bad_base_url_is_shown_without_its_password() -> None:
    message = _error({"ORDERDESK_BASE_URL": "ftp://admin:hunter2@orderdesk.example/api"})
    assert message == (
        "ORDERDESK_BASE_URL must be a http:// or https:// URL, got 'ftp://admin:***@orderdesk.example/api'"
    )


def test_a_malformed_url_with_a_password_is_refused_with_it_masked() -> None:
    message = _error({"ORDERDESK_CACHE_URL": "redis://:pw0rd@[::1:6379/0"})
    assert message == (
        "ORDERDESK_CACHE_URL must be a redis:// or rediss:// or unix:// URL, got 'redis://:***@[::1:6379/0'"
    )


def test_a_password_in_the_query_string_is_masked_too() -> None:
    assert (
        mask_url("unix:///run/redis.sock?db=0&password=pw&x=1")
        == "unix:///run/redis.sock?db=0&password=***&x=1"
    )
    assert mask_url("redis://cache:6379/0") == "redis://cache:6379/0"


@pytest.mark.parametrize("token", ["short-token", "A" * 20 + " " + "B" * 20, "A" * 31])
def test_a_short_or_spaced_http_token_stops_start_up(token: str) -> None:
    message = _error({"ORDERDESK_HTTP_TOKEN": token})
    assert message == (
        "ORDERDESK_HTTP_TOKEN must be at least 32 characters with no spaces "
        "(tokens made by `orderdesk-mcp tenants add` are)"
    )


def test_a_32_character_http_token_is_accepted() -> None:
    assert load_settings({"ORDERDESK_HTTP_TOKEN": STRONG}).http_token == STRONG


def test_the_served_command_stops_with_one_line_on_a_weak_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERDESK_")}
    env |= {"ORDERDESK_DATA_DIR": str(tmp_path), "ORDERDESK_HTTP_TOKEN": "letmein"}
    proc = subprocess.run(
        [CLI, "serve", "--transport", "http", "--port", "1"],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "orderdesk-mcp: configuration error: ORDERDESK_HTTP_TOKEN must be at least 32 characters with no "
        "spaces (tokens made by `orderdesk-mcp tenants add` are)\n"
    )
    assert b"letmein" not in proc.stderr


def test_audit_values_default_to_masked_and_take_full_or_none() -> None:
    assert load_settings({}).audit_values == "masked"
    assert load_settings({"ORDERDESK_AUDIT_VALUES": "FULL"}).audit_values == "full"
    assert load_settings({"ORDERDESK_AUDIT_VALUES": "none"}).audit_values == "none"


def test_an_unknown_audit_values_setting_stops_start_up() -> None:
    assert _error({"ORDERDESK_AUDIT_VALUES": "partial"}) == (
        "ORDERDESK_AUDIT_VALUES must be masked, full or none, got 'partial'"
    )


@pytest.mark.anyio
async def test_a_unix_socket_cache_url_is_accepted_and_reaches_redis(tmp_path: Path) -> None:
    # Regression: unix:///path/redis.sock was refused with "must be a redis:// or rediss:// or
    # unix:// URL": the check wanted a host, which a socket URL does not have.
    socket_path = tmp_path / "redis.sock"
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(socket_path), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        settings = load_settings({"ORDERDESK_CACHE_URL": f"unix://{socket_path}"})
        assert settings.cache_url == f"unix://{socket_path}"
        client = redis_client_from_url(settings.cache_url)
        try:
            with anyio.fail_after(10):
                while not socket_path.exists():  # redis-server offers no ready signal
                    await anyio.sleep(0.01)
                assert await client.ping() is True
        finally:
            await client.aclose()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_unix_cache_url_without_a_socket_path_is_refused() -> None:
    assert _error({"ORDERDESK_CACHE_URL": "unix://"}) == (
        "ORDERDESK_CACHE_URL must be a redis:// or rediss:// or unix:// URL, got 'unix://'"
    )
