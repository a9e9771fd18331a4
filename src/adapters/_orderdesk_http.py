"""OrderDesk over HTTP: one aiohttp session per process, credentials as headers, answers checked.

The transport under :class:`~orderdesk_mcp.adapters.http_gateway.HttpOrderGateway`. Credentials
are fetched (and decrypted) per request from the credential store and set as headers; they are
never logged. Success needs HTTP 2xx *and* ``"status": "success"``; everything else is mapped
to the domain error tree by :mod:`orderdesk_mcp.adapters._orderdesk_wire`. Bodies larger than
``max_response_bytes`` are refused without being read whole. aiohttp itself is imported by the
first request, so a server answers ``initialize`` and ``tools/list`` without it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from orderdesk_mcp.adapters._orderdesk_wire import Answer, check_answer, decode_body, retry_after_of
from orderdesk_mcp.domain.context import current_call, record_upstream
from orderdesk_mcp.domain.errors import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.credentials import CredentialStore
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["USER_AGENT", "OrderDeskHttp"]

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)
USER_AGENT = "orderdesk-mcp/0.1 (+https://github.com/orderdesk-mcp/orderdesk-mcp)"


# Methods aiohttp re-sends by itself, once, when a kept-alive connection drops before the answer
# (RFC 9112's retry of idempotent requests). For a read that is right; for these writes it is not:
# OrderDesk may have applied the first one, and re-sending a full-document PUT would overwrite
# blind whatever changed in between. Their lost answers go to the caller, whose retry reads first.
_NOT_RESENT = frozenset({"PUT", "DELETE"})


class _WriteAnswerLost(Exception):
    """A PUT or DELETE whose answer never came; not an aiohttp error, so aiohttp does not re-send it."""


async def _note_lost_answers(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Record every sent request whose answer never came, including a read aiohttp re-sends by
    itself on a dropped keep-alive connection (otherwise invisible), and stop that re-send for
    the writes in :data:`_NOT_RESENT`."""
    import aiohttp

    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # nothing was sent
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        record_upstream(request.method, 0)
        if request.method in _NOT_RESENT:
            raise _WriteAnswerLost(str(exc)) from exc
        raise


class OrderDeskHttp:
    """Requests to one OrderDesk base URL; ``request`` returns the checked answer body."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: CredentialStore,
        limiter: RateLimiter | None = None,
        connect_timeout: float = 15.0,
        read_timeout: float = 60.0,
        max_response_bytes: int = 10_000_000,
        user_agent: str = USER_AGENT,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = credentials
        self._limiter = limiter
        self._timeouts = (connect_timeout, read_timeout)
        self._max_bytes = max_response_bytes
        self._user_agent = user_agent
        self._entered = False
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        # The session (and aiohttp itself, about 120 ms of imports and TLS contexts) waits for the
        # first request, so a server answers initialize and tools/list without it.
        self._entered = True
        return self

    def _open_session(self) -> aiohttp.ClientSession:
        import aiohttp

        connect, read = self._timeouts
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read),
            raise_for_status=False,
            middlewares=(_note_lost_answers,),
        )
        return self._session

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._entered = False
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        store: StoreRef,
        method: str,
        path: str,
        *,
        order_id: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        creates: bool = False,
    ) -> dict[str, Any]:
        if not self._entered:
            raise RuntimeError("HttpOrderGateway used outside its 'async with' block")
        import aiohttp

        session = self._session or self._open_session()
        api_key = await self._credentials.api_key(store)
        headers = {
            "ORDERDESK-STORE-ID": store.store_id,
            "ORDERDESK-API-KEY": api_key,
            "User-Agent": self._user_agent,
            "Accept": "application/json",
        }
        call = current_call()
        if call is not None:
            headers["X-Correlation-ID"] = call.correlation_id
        try:
            async with session.request(
                method, f"{self._base}{path}", params=params, json=body, headers=headers
            ) as response:
                record_upstream(method, response.status)
                if response.status >= 400:
                    log.warning("OrderDesk answered %d to %s %s", response.status, method, path)
                raw = await self._read_capped(response)
                answer = Answer(
                    status=response.status,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=decode_body(raw),
                )
        except aiohttp.ClientConnectorError as exc:
            log.warning("%s %s failed: could not connect to OrderDesk", method, path)
            raise UpstreamUnavailable("could not connect") from exc
        except (aiohttp.ClientError, TimeoutError, _WriteAnswerLost) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else "connection lost"
            noted = aiohttp.ClientOSError | aiohttp.ServerDisconnectedError | _WriteAnswerLost
            if not isinstance(exc, noted):
                record_upstream(method, 0)  # those were recorded by _note_lost_answers
            cause = exc.__cause__ if isinstance(exc, _WriteAnswerLost) else exc
            log.warning("%s %s failed: %s", method, path, type(cause).__name__)
            if creates:
                raise OutcomeUnknown("order creation", reason) from exc
            raise UpstreamUnavailable(reason, maybe_sent=True) from exc
        if self._limiter is not None:
            await self._observe(store, answer)
        try:
            return check_answer(answer, store=store, order_id=order_id, secrets=(api_key,))
        except UpstreamUnavailable as exc:
            if creates:  # a 5xx after the POST arrived: it may have been created
                raise OutcomeUnknown("order creation", exc.reason) from exc
            raise

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        declared = response.content_length
        if declared is not None and declared > self._max_bytes:
            raise UpstreamRejected(
                f"response of {declared} bytes is larger than the {self._max_bytes} byte limit"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max_bytes:
                raise UpstreamRejected(f"response larger than the {self._max_bytes} byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _observe(self, store: StoreRef, answer: Answer) -> None:
        assert self._limiter is not None
        tokens = answer.headers.get("x-tokens-remaining", "")
        retry_after = retry_after_of(answer.headers) if answer.status == 429 else None
        await self._limiter.observe(
            store, tokens_remaining=int(tokens) if tokens.isdigit() else None, retry_after=retry_after
        )
