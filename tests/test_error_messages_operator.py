"""The exact line an operator reads: refusals to serve, out-of-range settings, master keys, the audit log.

Each error goes through the installed ``orderdesk-mcp`` where that is what the operator runs, and
through ``load_settings`` where the pure function gives the same message (the CLI only prefixes it
with ``orderdesk-mcp: configuration error:``, see test_audit_and_cli.py).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from orderdesk_mcp.entrypoints.settings import SettingsError, load_settings
from tests.server_process import clean_env, run_cli

TOKEN = "operator-test-token-0123456789abcdef"  # long enough for ORDERDESK_HTTP_TOKEN
MASTER_KEY = base64.b64encode(b"o" * 32).decode()
CONFIG_ERROR = "orderdesk-mcp: configuration error: "
SERVE_HTTP = ("serve", "--transport", "http", "--port", "0")


# --- serve --transport http: refusals before anything listens -------------------------------------


@pytest.mark.parametrize(
    ("host", "extra", "message"),
    [
        pytest.param(
            "0.0.0.0",
            {},
            "refusing to serve without authentication on 0.0.0.0; set ORDERDESK_HTTP_TOKEN or add tenants "
            "(orderdesk-mcp tenants add NAME), or bind to 127.0.0.1",
            id="public-host-without-a-token",
        ),
        pytest.param(
            "no-such-host.invalid",
            {"ORDERDESK_HTTP_TOKEN": TOKEN},  # without a token the authentication refusal comes first
            "cannot listen on 'no-such-host.invalid': the host name does not resolve",
            id="host-that-does-not-resolve",
        ),
    ],
)
def test_serve_refuses_a_host_in_one_line(
    tmp_path: Path, host: str, extra: dict[str, str], message: str
) -> None:
    proc = run_cli(clean_env(tmp_path, **extra), *SERVE_HTTP, "--host", host)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"{CONFIG_ERROR}{message}\n")


def test_serve_on_an_address_not_of_this_machine_is_one_line_naming_it(tmp_path: Path) -> None:
    # 192.0.2.1 is TEST-NET-1: never a local address. The OS reason at the end varies by platform.
    env = clean_env(tmp_path, ORDERDESK_HTTP_TOKEN=TOKEN)
    proc = run_cli(env, *SERVE_HTTP, "--host", "192.0.2.1")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"{CONFIG_ERROR}cannot listen on 192.0.2.1 port 0: ")
    assert proc.stderr.endswith("\n")
    assert proc.stderr.count("\n") == 1
    assert len(proc.stderr) > len(f"{CONFIG_ERROR}cannot listen on 192.0.2.1 port 0: \n")  # a reason
    assert TOKEN not in proc.stderr


# --- settings out of range -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ORDERDESK_CACHE_MAX_ENTRIES", "0", "ORDERDESK_CACHE_MAX_ENTRIES must be at least 1, got 0"),
        ("ORDERDESK_CACHE_MAX_BYTES", "1000", "ORDERDESK_CACHE_MAX_BYTES must be at least 1024, got 1000"),
        ("ORDERDESK_RATE_BURST", "0", "ORDERDESK_RATE_BURST must be at least 1, got 0"),
        ("ORDERDESK_CALL_TIMEOUT", "0", "ORDERDESK_CALL_TIMEOUT must be more than 0 seconds, got 0"),
        ("ORDERDESK_MAX_RESPONSE_BYTES", "10", "ORDERDESK_MAX_RESPONSE_BYTES must be at least 1024, got 10"),
        ("ORDERDESK_SIMULATOR_ORDERS", "-1", "ORDERDESK_SIMULATOR_ORDERS must be 0 to 1000000, got -1"),
        (
            "ORDERDESK_SIMULATOR_ORDERS",
            "1000001",
            "ORDERDESK_SIMULATOR_ORDERS must be 0 to 1000000, got 1000001",
        ),
        ("ORDERDESK_MAX_RESULT_CHARS", "10", "ORDERDESK_MAX_RESULT_CHARS must be at least 1000, got 10"),
    ],
)
def test_a_setting_out_of_range_is_one_line_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value})
    assert str(caught.value) == message


# --- master keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "keys", "message"),
    [
        pytest.param(
            ("keys", "rotate"),
            MASTER_KEY,
            'the master key comes from ORDERDESK_MASTER_KEY: set it to "2:<new>,1:<old>" (make a key with '
            "`orderdesk-mcp keys generate --print`), run `orderdesk-mcp keys rotate` again, then drop the "
            "old key",
            id="rotate",
        ),
        # It said "remove the old one from it instead" where there was no old one (found in review).
        pytest.param(
            ("keys", "retire", "1"),
            MASTER_KEY,
            "master key version 1 is the current one and cannot be retired",
            id="retire-the-only-key",
        ),
        pytest.param(
            ("keys", "retire", "1"),
            f"2:{base64.b64encode(b'n' * 32).decode()},1:{MASTER_KEY}",
            "the master keys come from ORDERDESK_MASTER_KEY; remove version 1 from it instead",
            id="retire-an-old-key",
        ),
    ],
)
def test_key_commands_with_an_environment_key_say_to_edit_the_variable(
    tmp_path: Path, command: tuple[str, ...], keys: str, message: str
) -> None:
    proc = run_cli(clean_env(tmp_path, ORDERDESK_MASTER_KEY=keys), *command)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"orderdesk-mcp: {message}\n")
    assert not (tmp_path / "master.key").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param("garbage", "is not a readable master key file (expected JSON)", id="not-json"),
        pytest.param("{}", 'holds no keys (expected JSON like {"1": "<base64>"})', id="empty-object"),
    ],
)
def test_a_broken_key_file_is_one_line_naming_it(tmp_path: Path, content: str, problem: str) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(content, encoding="utf-8")
    os.chmod(key_file, 0o600)  # a private file: the mode check passes and the content is what fails
    proc = run_cli(clean_env(tmp_path), "keys", "list")
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"orderdesk-mcp: {key_file} {problem}\n")
    assert key_file.read_text(encoding="utf-8") == content  # left as it was


# --- audit log -----------------------------------------------------------------------------------


def test_audit_verify_reports_a_json_line_that_is_not_a_record(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    log.write_bytes(b"[1]\n")
    proc = run_cli(clean_env(tmp_path), "audit", "verify")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        1,
        f"audit log {log}: TAMPERED at line 1: not a record\n",
        "",
    )
