"""The data directory: ORDERDESK_DATA_DIR, else the XDG per-user directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderdesk_mcp.entrypoints.paths import credentials_db, data_dir_from, default_data_dir


def test_the_explicit_setting_wins() -> None:
    env = {"ORDERDESK_DATA_DIR": "/srv/orderdesk", "XDG_DATA_HOME": "/x"}
    assert default_data_dir(env) == Path("/srv/orderdesk")


def test_xdg_data_home_is_used_when_absolute() -> None:
    assert default_data_dir({"XDG_DATA_HOME": "/home/u/.data"}) == Path("/home/u/.data/orderdesk-mcp")


def test_a_relative_xdg_data_home_is_ignored_as_the_spec_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/u")
    assert default_data_dir({"XDG_DATA_HOME": "rel/dir"}) == Path("/home/u/.local/share/orderdesk-mcp")
    assert default_data_dir({}) == Path("/home/u/.local/share/orderdesk-mcp")


def test_a_configured_directory_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERDESK_DATA_DIR", "/from/env")
    assert data_dir_from(" /configured ") == Path("/configured")
    assert data_dir_from(None) == Path("/from/env")
    assert data_dir_from("") == Path("/from/env")
    assert credentials_db(Path("/d")) == Path("/d/credentials.sqlite3")
