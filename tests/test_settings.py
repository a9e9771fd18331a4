"""Settings from the environment: defaults, adapter choice, and one clear line per bad value."""

from __future__ import annotations

import pytest

from orderdesk_mcp.entrypoints.settings import Settings, SettingsError, load_settings


def test_no_credentials_means_the_simulator() -> None:
    settings = load_settings({})
    assert (settings.gateway, settings.credentials) == ("simulator", "simulator")
    assert settings.base_url == "https://app.orderdesk.me/api/v2"
    assert (settings.rate_burst, settings.rate_per_second, settings.cache_ttl) == (18, 2.7, 15.0)


def test_store_id_and_api_key_select_the_http_gateway() -> None:
    settings = load_settings({"ORDERDESK_STORE_ID": "12345", "ORDERDESK_API_KEY": "k" * 40})
    assert (settings.gateway, settings.credentials) == ("http", "env")


def test_an_existing_credential_database_selects_it() -> None:
    settings = load_settings({}, sqlite_available=True)
    assert (settings.gateway, settings.credentials) == ("http", "sqlite")


def test_values_are_parsed_from_strings() -> None:
    settings = load_settings(
        {
            "ORDERDESK_CACHE_URL": "redis://127.0.0.1:6379/2",
            "ORDERDESK_CACHE_TTL": "2.5",
            "ORDERDESK_RATE_BURST": "10",
            "ORDERDESK_READ_ONLY": "true",
            "ORDERDESK_LOG_FORMAT": "JSON",
        }
    )
    assert settings.cache_url == "redis://127.0.0.1:6379/2"
    assert (settings.cache_ttl, settings.rate_burst, settings.read_only) == (2.5, 10, True)
    assert settings.log_format == "json"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ORDERDESK_BASE_URL": "ftp://x"},
            "ORDERDESK_BASE_URL must be a http:// or https:// URL, got 'ftp://x'",
        ),
        (
            {"ORDERDESK_CACHE_URL": "localhost:6379"},
            "ORDERDESK_CACHE_URL must be a redis:// or rediss:// or unix:// URL, got 'localhost:6379'",
        ),
        ({"ORDERDESK_CACHE_TTL": "soon"}, "ORDERDESK_CACHE_TTL must be a number of seconds, got 'soon'"),
        ({"ORDERDESK_RATE_PER_SECOND": "0"}, "ORDERDESK_RATE_PER_SECOND must be more than 0, got 0"),
        ({"ORDERDESK_READ_ONLY": "maybe"}, "ORDERDESK_READ_ONLY must be 1 or 0 (true/false), got 'maybe'"),
        ({"ORDERDESK_LOG_FORMAT": "xml"}, "ORDERDESK_LOG_FORMAT must be text or json, got 'xml'"),
        (
            {"ORDERDESK_STORE_ID": "12345"},
            "ORDERDESK_API_KEY must be set too (ORDERDESK_STORE_ID and ORDERDESK_API_KEY go together)",
        ),
        (
            {"ORDERDESK_STORE_ID": "shop", "ORDERDESK_API_KEY": "k"},
            "ORDERDESK_STORE_ID must be OrderDesk's numeric store id (digits only); the value set has 4 "
            "characters, not all digits (not shown, in case it is the API key: check that ORDERDESK_STORE_ID "
            "and ORDERDESK_API_KEY are not swapped)",
        ),
        (
            {"ORDERDESK_GATEWAY": "http"},
            "ORDERDESK_GATEWAY=http needs credentials: set ORDERDESK_STORE_ID and ORDERDESK_API_KEY "
            "(for a standalone simulator, use the store id and key it prints)",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert str(caught.value) == message


def test_the_api_key_never_appears_in_the_settings_repr() -> None:
    settings = Settings(store_id="1", api_key="canary-secret-key-123", gateway="http", credentials="env")
    assert "canary-secret-key-123" not in repr(settings)
