"""The HTTP surface: MCP at ``/mcp`` (stateless), plus ``/healthz``, ``/readyz`` and ``/metrics``.

MCP runs in the SDK's stateless streamable HTTP mode: every POST is served on its own, with no
server-side session, so any replica behind any load balancer can answer any request. What is
lost is the server-to-client request in the middle of a call: a handshake-era client is not
asked before a delete (``confirm`` decides); a 2026-07-28 client is asked through the call's
result (``confirmation.py``).

- ``GET /healthz``: 200 while the process serves requests. No authentication.
- ``GET /readyz``: 200 when the credential store reads (and, encrypted, its master keys open
  the stored API keys) and Redis (when configured) answers a PING, else 503 naming the failing
  dependency (``credentials`` or ``redis``). OrderDesk is never called. No authentication, and
  no tenant or store in the answer.
- ``GET /metrics``: this server's Prometheus metrics. It needs the bearer token (the same check
  as ``/mcp``) unless the server is bound to loopback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from orderdesk_mcp.domain.tenancy import DEFAULT_TENANT
from orderdesk_mcp.entrypoints.call_metrics import METRICS_CONTENT_TYPE
from orderdesk_mcp.entrypoints.call_telemetry import CallTelemetry
from orderdesk_mcp.ports.credentials import CredentialStore

__all__ = ["READY_TIMEOUT", "Probe", "ServiceRouter", "readiness_probes"]

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds each readiness probe may take
Probe = Callable[[], Awaitable[object]]


def readiness_probes(credentials: CredentialStore, redis: object | None) -> dict[str, Probe]:
    """One probe per dependency: the credential store reads; Redis (if any) answers PING."""

    async def credentials_read() -> object:
        stores = await credentials.stores(DEFAULT_TENANT)
        # The encrypted store also checks that its master keys open the stored keys: a replica
        # started with a wrong master key would fail every call.
        check_keys = getattr(credentials, "check_keys", None)
        if check_keys is not None:
            await check_keys()
        return stores

    probes: dict[str, Probe] = {"credentials": credentials_read}
    ping = getattr(redis, "ping", None)
    if ping is not None:
        probes["redis"] = ping
    return probes


async def _json(send: Send, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _host_in(scope: Scope, hosts: frozenset[str]) -> bool:
    """Whether the request's ``Host`` header names one of ``hosts`` (port ignored, any case)."""
    raw = next((v for k, v in scope.get("headers", ()) if k == b"host"), b"").decode("latin-1").lower()
    if not raw:  # no Host at all (HTTP/1.0 from a local tool): no name a page could have rebound
        return True
    # An IPv6 literal keeps its brackets ([::1] or [::1]:8000); any other name drops its port.
    name = raw[: raw.find("]") + 1] if raw.startswith("[") else raw.split(":", 1)[0]
    return name in hosts


class ServiceRouter:
    """Pure ASGI: the three service endpoints, everything else (and lifespan) to ``mcp``.

    Args:
        mcp: the MCP app, already wrapped in authentication when the server needs it.
        telemetry: the server's metrics.
        probes: the readiness probes (built once the lifespan opened the adapters).
        protect_metrics: wraps the metrics endpoint in the same authentication as ``mcp``
            (None when reachable from this machine only: metrics are open there).
        local_hosts: when metrics are open, the ``Host`` names (any port) they answer; any other
            is 421, so a page that rebinds its own name to loopback cannot read them.
    """

    def __init__(
        self,
        mcp: ASGIApp,
        *,
        telemetry: CallTelemetry,
        probes: Callable[[], dict[str, Probe]],
        protect_metrics: Callable[[ASGIApp], ASGIApp] | None,
        local_hosts: frozenset[str] | None = None,
    ) -> None:
        self._mcp = mcp
        self._telemetry = telemetry
        self._probes = probes
        self._local_hosts = local_hosts
        metrics: ASGIApp = self._serve_metrics
        self._metrics = protect_metrics(metrics) if protect_metrics else metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path not in ("/healthz", "/readyz", "/metrics"):
            await self._mcp(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            await _json(send, 405, {"error": "method not allowed"})
            return
        if path == "/metrics" and self._local_hosts is not None and not _host_in(scope, self._local_hosts):
            await _json(send, 421, {"error": "misdirected request"})
            return
        if path == "/healthz":
            await _json(send, 200, {"status": "ok"})
        elif path == "/readyz":
            await self._serve_ready(send)
        else:
            await self._metrics(scope, receive, send)

    async def failing(self) -> list[str]:
        """The names of the readiness checks that fail now (each logged once), as ``/readyz`` runs them."""
        failing: list[str] = []
        for name, probe in self._probes().items():
            try:
                with anyio.fail_after(READY_TIMEOUT):
                    await probe()
            except Exception as exc:
                log.warning("not ready: %s check failed (%s)", name, type(exc).__name__)
                failing.append(name)
        return failing

    async def _serve_ready(self, send: Send) -> None:
        failing = await self.failing()
        if failing:
            await _json(send, 503, {"status": "not ready", "failing": failing})
        else:
            await _json(send, 200, {"status": "ready"})

    async def _serve_metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        payload = self._telemetry.exposition()
        headers = [
            (b"content-type", METRICS_CONTENT_TYPE.encode()),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
