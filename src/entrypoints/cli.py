"""The ``orderdesk-mcp`` command: serve MCP, run the simulator, and call use cases from a shell."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from orderdesk_mcp.adapters.keyring import KeyringError
from orderdesk_mcp.domain.commands import GetOrderCommand, ListOrdersCommand
from orderdesk_mcp.domain.errors import OrderDeskError
from orderdesk_mcp.domain.tenancy import choose_store
from orderdesk_mcp.entrypoints.about import package_version
from orderdesk_mcp.entrypoints.settings import Settings, SettingsError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _load() -> Settings:
    from orderdesk_mcp.entrypoints.paths import credentials_db, default_data_dir
    from orderdesk_mcp.entrypoints.settings import load_settings

    return load_settings(sqlite_available=credentials_db(default_data_dir()).exists())


def _setup() -> Settings:
    from orderdesk_mcp.entrypoints.logging_setup import setup_logging

    settings = _load()
    setup_logging(settings)
    return settings


def _serve(args: argparse.Namespace) -> int:
    from orderdesk_mcp.entrypoints.serve import serve

    if args.transport not in ("stdio", "http"):  # argparse checks choices on the command line, not defaults
        raise SettingsError(f"ORDERDESK_TRANSPORT must be stdio or http, got {args.transport!r}")
    if isinstance(args.port, _NotAPort):  # only the variable can be one: --port abc is argparse's to refuse
        raise SettingsError(f"ORDERDESK_PORT must be a number from 0 to 65535, got {args.port.text!r}")
    settings = _setup()
    serve(settings, transport=args.transport, host=args.host, port=args.port, tenant=args.tenant)
    return 0


def _simulator(args: argparse.Namespace) -> int:
    from orderdesk_mcp.entrypoints.simulator_cli import run_simulator

    run_simulator(host=args.host, port=args.port, orders=args.orders, latency=args.latency)
    return 0


_NO_BUDGET = 10**12  # a person at a terminal reads whole pages; the budget is for models


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


async def _with_services(action: Callable[[Any, Any], Any], args: argparse.Namespace) -> Any:
    from orderdesk_mcp.domain.context import CallContext, call_context, new_correlation_id
    from orderdesk_mcp.entrypoints.container import Container, open_services
    from orderdesk_mcp.entrypoints.credential_choice import choose_credentials
    from orderdesk_mcp.entrypoints.logging_setup import announce

    settings = _setup()
    choice = choose_credentials(settings, mode="cli", tenant=args.tenant, env=os.environ)
    announce(choice.line)  # says so when the answer comes from the simulator, not OrderDesk
    container = Container(settings=settings)
    async with open_services(container) as app:
        ref = choose_store(await app.credentials.stores(choice.tenant), args.store).ref
        deadline = app.clock.monotonic() + settings.call_timeout
        with call_context(CallContext(correlation_id=new_correlation_id(), deadline=deadline, tool="cli")):
            return await action(app, ref)


def _orders_get(args: argparse.Namespace) -> int:
    from orderdesk_mcp.entrypoints.mcp_convert import get_out
    from orderdesk_mcp.entrypoints.tools_orders import folders_or_none

    async def action(app: Any, ref: Any) -> Any:
        order = await app.get_order(GetOrderCommand.parse(ref, args.order_id))
        return get_out(order, fields=None, folders=await folders_or_none(app, ref), budget=_NO_BUDGET)

    _print_json(anyio.run(_with_services, action, args))
    return 0


def _orders_list(args: argparse.Namespace) -> int:
    from orderdesk_mcp.entrypoints.mcp_convert import list_out
    from orderdesk_mcp.entrypoints.tools_orders import folders_or_none

    async def action(app: Any, ref: Any) -> Any:
        cmd = ListOrdersCommand.parse(
            ref,
            limit=args.limit,
            offset=args.offset,
            folder_id=args.folder_id,
            folder_name=args.status,
            source_id=args.source_id,
            email=args.email,
        )
        page = await app.list_orders(cmd)
        folders = await folders_or_none(app, ref)
        return list_out(page, view="full", fields=None, folders=folders, budget=_NO_BUDGET)

    _print_json(anyio.run(_with_services, action, args))
    return 0


def _env_default(variable: str, fallback: str) -> str:
    return os.environ.get(variable, "").strip() or fallback


class _NotAPort:
    """``ORDERDESK_PORT`` that is no whole number: kept as given (not a str, so argparse does not
    convert it and stop with its two-line usage error) until ``serve`` says what is wrong in one line."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _env_port() -> int | _NotAPort:
    text = _env_default("ORDERDESK_PORT", "8000")
    try:
        return int(text)
    except ValueError:
        return _NotAPort(text)


_TENANT_HELP = (
    "tenant of the encrypted credential store to serve (needed when it has several) "
    "(default: the only tenant; env: ORDERDESK_TENANT)"
)


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the MCP server (stdio by default)",
        description="Run the MCP server. Every ORDERDESK_* variable (see the README) applies too.",
    )
    serve.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default=_env_default("ORDERDESK_TRANSPORT", "stdio"),
        help="stdio for one local client; http for streamable HTTP at /mcp, with /healthz, /readyz and "
        "/metrics (default: %(default)s; env: ORDERDESK_TRANSPORT)",
    )
    serve.add_argument(
        "--host",
        default=_env_default("ORDERDESK_HOST", "127.0.0.1"),
        help="address to listen on over http; anything but loopback needs a bearer token "
        "(default: %(default)s; env: ORDERDESK_HOST)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=_env_port(),
        help="TCP port to listen on over http; 0 picks a free one "
        "(default: %(default)s; env: ORDERDESK_PORT)",
    )
    serve.add_argument("--tenant", default=None, help=_TENANT_HELP)
    serve.set_defaults(handler=_serve)


def _parser(*, serve_only: bool = False) -> argparse.ArgumentParser:
    """The command line; ``serve_only`` leaves out every command but ``serve``.

    ``main`` asks for that when the first argument is ``serve``: it is what every MCP client
    spawns, and the other commands' modules (key and tenant management, the audit log reader)
    and their parsers are a few milliseconds of the server's start-up otherwise.
    """
    parser = argparse.ArgumentParser(prog="orderdesk-mcp", description="OrderDesk for AI agents, over MCP.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    if serve_only:
        return parser
    from orderdesk_mcp.entrypoints import cli_admin, cli_audit

    sim = sub.add_parser("simulator", help="run the OrderDesk simulator as an HTTP server")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument("--orders", type=int, default=25, help="sample orders to seed")
    sim.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    sim.set_defaults(handler=_simulator)

    orders = sub.add_parser("orders", help="read orders from a shell (prints JSON)")
    orders_sub = orders.add_subparsers(dest="orders_command", required=True)
    get = orders_sub.add_parser("get", help="print one order")
    get.add_argument("order_id")
    get.add_argument("--store", help="store id or alias (default: the tenant's only store)")
    get.add_argument("--tenant", default=None, help=_TENANT_HELP)
    get.set_defaults(handler=_orders_get)
    lst = orders_sub.add_parser("list", help="print one page of orders")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--offset", type=int, default=0)
    lst.add_argument("--folder-id")
    lst.add_argument("--status", help="folder name, e.g. New")
    lst.add_argument("--source-id")
    lst.add_argument("--email")
    lst.add_argument("--store", help="store id or alias (default: the tenant's only store)")
    lst.add_argument("--tenant", default=None, help=_TENANT_HELP)
    lst.set_defaults(handler=_orders_list)

    cli_audit.register(sub)
    cli_admin.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; errors print one clear line on stderr and exit non-zero."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = _parser(serve_only=arguments[:1] == ["serve"]).parse_args(arguments)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (SettingsError, KeyringError) as exc:
        sys.stderr.write(f"orderdesk-mcp: configuration error: {exc}\n")
        return 2
    except OrderDeskError as exc:
        sys.stderr.write(f"orderdesk-mcp: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
