"""Start-up loads only what the configuration uses (the writes issue's start-up target).

A server configured for the real OrderDesk over stdio answers ``initialize`` and ``tools/list``
without the HTTP client (loaded by the first upstream request), Redis, the simulator, the
credential store's cryptography or prometheus-client (HTTP ``/metrics`` only). Checked in a
fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations
import __future__

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from orderdesk_mcp import entrypoints

ROOT = Path(__file__).parent.parent
HEAVY = [
    "aiohttp",
    "redis",
    "prometheus_client",
    "orderdesk_mcp.adapters.simulator",
    "orderdesk_mcp.adapters.sqlite_credentials",
]

_SCRIPT = """
import json, os, sys
import anyio, mcp
from orderdesk_mcp.entrypoints.container import Container
from orderdesk_mcp.entrypoints.serve import create_server
from orderdesk_mcp.entrypoints.settings import load_settings

async def main():
    async with mcp.Client(create_server(Container(settings=load_settings(os.environ)))) as client:
        listed = len((await client.list_tools()).tools)
        before = {m: m in sys.modules for m in HEAVY}
        await client.call_tool("orders_get", {"order_id": "1"})  # the first request needs the client
        return listed, before, "aiohttp" in sys.modules

print(json.dumps(anyio.run(main)))
"""


def test_tools_list_needs_no_http_client_redis_simulator_or_metrics_and_the_first_call_loads_the_client(
    tmp_path: Path,
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "ORDERDESK_GATEWAY": "http",
        "ORDERDESK_CREDENTIALS": "env",
        "ORDERDESK_STORE_ID": "100001",
        "ORDERDESK_API_KEY": "a-key-for-a-port-nothing-listens-on",
        "ORDERDESK_BASE_URL": "http://127.0.0.1:9",  # discard port: the get fails fast, as it should
        "ORDERDESK_DATA_DIR": str(tmp_path),
        "ORDERDESK_CALL_TIMEOUT": "2",
    }
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{_SCRIPT}"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    listed, before, client_loaded = json.loads(done.stdout.splitlines()[-1])
    assert listed == 15
    assert before == dict.fromkeys(HEAVY, False)
    assert client_loaded is True


_CLI_SCRIPT = """
import contextlib, io, json, sys
from orderdesk_mcp.entrypoints import cli

def run(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        cli.main(argv)
    return out.getvalue()

serve_help = run(["serve", "--help"])
MANAGEMENT = ("orderdesk_mcp.entrypoints.cli_admin", "orderdesk_mcp.entrypoints.cli_audit")
admin = [m for m in MANAGEMENT if m in sys.modules]
print(json.dumps([serve_help, admin, run(["--help"])]))
"""


def test_the_serve_command_parses_without_loading_the_management_commands_which_help_still_lists() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CLI_SCRIPT], cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    serve_help, admin_loaded, top_help = json.loads(done.stdout.splitlines()[-1])
    assert serve_help.startswith("usage: orderdesk-mcp serve [-h] [--transport {stdio,http}]")
    assert admin_loaded == []
    assert "{serve,simulator,orders,audit,keys,tenants,stores}" in top_help


def test_tool_and_schema_modules_keep_annotations_evaluated_so_registering_tools_evals_no_strings() -> None:
    # With ``from __future__ import annotations`` every parameter and TypedDict key is a string that
    # the SDK (inspect.signature(eval_str=True)) and pydantic (get_type_hints) evaluate again at
    # registration: about 7 of the 38 ms the fifteen tools took, on every start.
    names = [
        info.name
        for info in pkgutil.iter_modules(entrypoints.__path__)
        if info.name.startswith(("tools_", "mcp_schemas"))
    ]
    assert len(names) >= 8
    postponed = [
        name
        for name in names
        if getattr(importlib.import_module(f"orderdesk_mcp.entrypoints.{name}"), "annotations", None)
        is __future__.annotations
    ]
    assert postponed == []
