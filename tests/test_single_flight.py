"""SingleFlight: one call per key among concurrent callers, shared errors, safe cancellation."""

from __future__ import annotations

import anyio
import pytest

from orderdesk_mcp.domain.single_flight import SingleFlight


class _Upstream:
    """Counts calls; each call waits for ``release`` and then returns or raises."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = anyio.Event()
        self.release = anyio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return f"result {self.calls}"


@pytest.mark.anyio
async def test_concurrent_callers_of_one_key_share_one_call() -> None:
    flights: SingleFlight[str] = SingleFlight()
    upstream = _Upstream()
    results: list[str] = []

    async def call() -> None:
        results.append(await flights.run("k", upstream))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(call)
            await upstream.started.wait()
            await anyio.wait_all_tasks_blocked()
            upstream.release.set()
    assert upstream.calls == 1
    assert results == ["result 1"] * 20
    assert flights.in_flight == 0


@pytest.mark.anyio
async def test_different_keys_do_not_share_a_call() -> None:
    flights: SingleFlight[str] = SingleFlight()
    upstream = _Upstream()
    upstream.release.set()
    assert await flights.run("a", upstream) == "result 1"
    assert await flights.run("b", upstream) == "result 2"


@pytest.mark.anyio
async def test_an_error_reaches_every_waiter_and_is_not_remembered() -> None:
    flights: SingleFlight[str] = SingleFlight()
    upstream = _Upstream()
    upstream.error = RuntimeError("upstream broke")
    errors: list[str] = []

    async def call() -> None:
        try:
            await flights.run("k", upstream)
        except RuntimeError as exc:
            errors.append(str(exc))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(call)
            await upstream.started.wait()
            await anyio.wait_all_tasks_blocked()
            upstream.release.set()
    assert errors == ["upstream broke"] * 5
    upstream.error = None
    assert await flights.run("k", upstream) == "result 2"


@pytest.mark.anyio
async def test_a_cancelled_waiter_leaves_the_others_their_result() -> None:
    flights: SingleFlight[str] = SingleFlight()
    upstream = _Upstream()
    results: list[str] = []

    async def call() -> None:
        results.append(await flights.run("k", upstream))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await upstream.started.wait()
            with anyio.CancelScope() as doomed:
                async with anyio.create_task_group() as waiter:
                    waiter.start_soon(call)
                    await anyio.wait_all_tasks_blocked()
                    doomed.cancel()
            tg.start_soon(call)
            await anyio.wait_all_tasks_blocked()
            upstream.release.set()
    assert results == ["result 1", "result 1"]
    assert upstream.calls == 1


@pytest.mark.anyio
async def test_when_the_leader_is_cancelled_a_waiter_runs_the_call_itself() -> None:
    flights: SingleFlight[str] = SingleFlight()
    upstream = _Upstream()
    results: list[str] = []

    async def call() -> None:
        results.append(await flights.run("k", upstream))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            with anyio.CancelScope() as leader_scope:
                async with anyio.create_task_group() as leader:
                    leader.start_soon(call)
                    await upstream.started.wait()
                    tg.start_soon(call)  # the waiter, outside the leader's scope
                    await anyio.wait_all_tasks_blocked()
                    leader_scope.cancel()
            upstream.release.set()
    assert results == ["result 2"]
    assert upstream.calls == 2
    assert flights.in_flight == 0
