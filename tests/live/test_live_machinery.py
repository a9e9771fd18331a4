"""The live suite's own machinery, on the simulator: variables, the one skip, the write guard, the
request budget, the stop at a refused key, cleanup after failures, and ``make test-live``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.errors import OutcomeUnknown
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.entrypoints.settings import DEFAULT_BASE_URL, SIMULATOR_API_KEY, SIMULATOR_STORE_ID
from tests.fakes import FakeClock
from tests.live.config import (
    MAX_REQUESTS,
    SKIP_REASON,
    LiveConfig,
    LiveConfigError,
    live_skip_reason,
    with_live,
)
from tests.live.gateway import open_target
from tests.live.guard import check_write
from tests.live.run import RequestBudget, TestRun, new_source_id, simulated_run
from tests.live.shapes import own_order_doc
from tests.live.wire import OrderDeskWire, open_wire
from tests.upstream_harness import API_KEY, STORE_ID, served_simulator

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
ENABLED = {
    "ORDERDESK_TEST_ENABLED": "true",
    "ORDERDESK_TEST_STORE_ID": "12345",
    "ORDERDESK_TEST_API_KEY": "k",
}


@pytest.fixture
def state() -> SimulatorState:
    sim = SimulatorState(clock=FakeClock())
    sim.add_store(STORE_ID, API_KEY)
    sim.seed_samples(STORE_ID, 3)
    return sim


@pytest.fixture
async def base_url(state: SimulatorState) -> AsyncIterator[str]:
    async with served_simulator(state) as url:
        yield url


def _own_orders(state: SimulatorState) -> list[str]:
    return [i for i, d in state.orders(STORE_ID).items() if str(d.get("source_id")).startswith("odmcp-live-")]


# -- the variables and the one skip -----------------------------------------------------------
@pytest.mark.parametrize(
    "env", [{}, {"ORDERDESK_TEST_ENABLED": "false"}, ENABLED | {"ORDERDESK_TEST_ENABLED": "1"}]
)
def test_the_live_run_is_off_unless_enabled_is_true(env: dict[str, str]) -> None:
    assert LiveConfig.from_env(env) is None


def test_an_enabled_run_reads_its_store_key_url_and_writes_switch() -> None:
    assert LiveConfig.from_env(ENABLED) == LiveConfig(
        store_id="12345", api_key="k", base_url=DEFAULT_BASE_URL
    )
    more = ENABLED | {"ORDERDESK_TEST_BASE_URL": "http://127.0.0.1:9/api/", "ORDERDESK_TEST_WRITES": "TRUE"}
    config = LiveConfig.from_env(more)
    assert config == LiveConfig(store_id="12345", api_key="k", base_url="http://127.0.0.1:9/api", writes=True)
    assert "'k'" not in repr(config)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ORDERDESK_TEST_ENABLED": "true"},
            "ORDERDESK_TEST_ENABLED=true needs ORDERDESK_TEST_STORE_ID and ORDERDESK_TEST_API_KEY as well",
        ),
        (
            ENABLED | {"ORDERDESK_TEST_API_KEY": " "},
            "ORDERDESK_TEST_ENABLED=true needs ORDERDESK_TEST_API_KEY as well",
        ),
        (
            ENABLED | {"ORDERDESK_TEST_BASE_URL": "app.orderdesk.me"},
            "ORDERDESK_TEST_BASE_URL must be an http:// or https:// URL, got 'app.orderdesk.me'",
        ),
    ],
)
def test_an_incomplete_live_configuration_names_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(LiveConfigError) as caught:
        LiveConfig.from_env(env)
    assert str(caught.value) == message


def _live_case(params: list[Any]) -> Any:
    [live] = [p for p in params if not isinstance(p, str)]
    return live


def test_without_the_variables_every_live_case_is_skipped_with_the_one_reason() -> None:
    for writes in (False, True):
        params = with_live("simulated", writes=writes, live=None, problem=None)
        live = _live_case(params)
        assert params[0] == "simulated"
        assert live.values == ("live",)
        assert [m.name for m in live.marks] == ["live"]  # the conftest hook skips what is marked live
    assert live_skip_reason(live=None, problem=None) == SKIP_REASON
    assert SKIP_REASON == (
        "live OrderDesk tests need ORDERDESK_TEST_ENABLED=true, ORDERDESK_TEST_STORE_ID and "
        "ORDERDESK_TEST_API_KEY (optional: ORDERDESK_TEST_BASE_URL, ORDERDESK_TEST_WRITES=true)"
    )


def test_reads_always_run_live_and_writes_only_when_asked_for() -> None:
    reads_only = LiveConfig(store_id="1", api_key="k")
    assert [m.name for m in _live_case(with_live("simulated", live=reads_only)).marks] == ["live"]
    assert live_skip_reason(live=reads_only, problem=None) is None
    assert with_live("simulated", writes=True, live=reads_only) == ["simulated"]
    writing = LiveConfig(store_id="1", api_key="k", writes=True)
    assert [m.name for m in _live_case(with_live("simulated", writes=True, live=writing)).marks] == ["live"]
    assert live_skip_reason(live=writing, problem=None) is None
    # enabled but incomplete: the live cases run, and fail naming the missing variable
    assert live_skip_reason(live=None, problem="x") is None


# -- the write guard ----------------------------------------------------------------------------
NOT_OWN = "the suite changes only orders it created in this run; order 123 is not one of them"
NOT_PREFIXED = "the suite creates only orders whose source_id starts with 'odmcp-live-' (got {})"
NOT_MOVED = "the suite moves only orders it created; {} not among them"
NEVER = "the live suite never sends this request"


@pytest.mark.parametrize(
    ("method", "path", "body", "why"),
    [
        ("PUT", "/orders/123", {}, NOT_OWN),
        ("DELETE", "/orders/123", None, NOT_OWN),
        ("POST", "/orders/123/shipments", {}, NOT_OWN),
        ("POST", "/orders/123/order-history", {}, NOT_OWN),
        ("POST", "/orders", {"source_id": "shop-1"}, NOT_PREFIXED.format("'shop-1'")),
        ("POST", "/orders", {"source_id": "odmcp-live-"}, NOT_PREFIXED.format("'odmcp-live-'")),
        ("POST", "/orders", {}, NOT_PREFIXED.format("None")),
        ("POST", "/move-orders", {"order_id_list": [7, 8, 9]}, NOT_MOVED.format("8, 9 are")),
        ("POST", "/move-orders", {"order_id_list": [8]}, NOT_MOVED.format("8 is")),
        ("POST", "/move-orders", {}, "the suite moves only orders it created, named in order_id_list"),
        ("POST", "/orders/7", {}, NEVER),
        ("PUT", "/inventory-items/7", {}, NEVER),
        ("PUT", "/batch-inventory-items", [], NEVER),
    ],
)
def test_the_guard_refuses_every_write_to_what_the_run_did_not_create(
    method: str, path: str, body: Any, why: str
) -> None:
    with pytest.raises(pytest.fail.Exception) as caught:
        check_write(method, path, body, own={"7"}, writes=True)
    assert str(caught.value) == f"{method} {path} refused: {why}"


def test_the_guard_refuses_every_write_when_writes_are_off_and_lets_reads_through() -> None:
    check_write("GET", "/orders/123", None, own=(), writes=False)
    with pytest.raises(pytest.fail.Exception) as caught:
        check_write("POST", "/orders", {"source_id": new_source_id()}, own=(), writes=False)
    assert str(caught.value) == (
        "POST /orders refused: live writes are off (set ORDERDESK_TEST_WRITES=true to let the suite "
        "create, change and delete its own odmcp-live- orders)"
    )


def test_the_guard_lets_the_run_write_its_own_orders() -> None:
    own = {"7"}
    check_write("POST", "/orders", {"source_id": new_source_id()}, own=own, writes=True)
    writes = [("PUT", "/orders/7"), ("DELETE", "/orders/7"), ("POST", "/orders/7/shipments"),
              ("DELETE", "/orders/7/shipments/3"), ("POST", "/orders/7/order-history")]  # fmt: skip
    for method, path in writes:
        check_write(method, path, {}, own=own, writes=True)
    check_write("POST", "/move-orders", {"order_id_list": [7]}, own=own, writes=True)


def test_new_source_ids_carry_the_prefix_and_a_random_suffix() -> None:
    ids = {new_source_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"odmcp-live-[0-9a-f]{12}", i) for i in ids)


# -- the budget ----------------------------------------------------------------------------------
def test_the_budget_refuses_the_request_past_the_limit_with_a_clear_failure() -> None:
    budget = RequestBudget(3)
    for _ in range(3):
        budget.spend("GET /test")
    with pytest.raises(pytest.fail.Exception) as caught:
        budget.spend("GET /orders")
    assert str(caught.value) == (
        "The live run sends at most 3 requests to OrderDesk; it has sent 3 and keeps 0 to delete "
        "what it created, so GET /orders was refused."
    )
    assert RequestBudget().limit == MAX_REQUESTS == 60


def test_the_budget_always_keeps_room_to_delete_what_the_run_created() -> None:
    budget = RequestBudget(4)
    budget.spend("POST /orders", reserve=2)  # a look-up and a delete, in case the answer is lost
    budget.release()  # the answer named the order: only its delete is still needed
    budget.spend("GET /orders/1")
    budget.spend("GET /orders/2")
    with pytest.raises(pytest.fail.Exception):
        budget.spend("GET /orders/3")
    budget.spend("DELETE /orders/1", from_reserve=True)
    assert (len(budget.sent), budget.reserved) == (4, 0)


async def test_a_whole_run_stays_within_its_budget(base_url: str) -> None:
    run = simulated_run(clock=FakeClock(), base_url=base_url)
    run.budget = RequestBudget(5)

    async def spend_it_all() -> None:
        async with open_wire(run) as wire:
            await wire.create_order(own_order_doc(new_source_id()))  # 1 sent, 1 kept for its delete
            for _ in range(4):
                await wire.get("/test")

    with pytest.raises(pytest.fail.Exception) as caught:
        await spend_it_all()
    assert "it has sent 4 and keeps 1 to delete what it created, so GET /test was refused" in str(
        caught.value
    )
    assert run.outstanding() == []  # the delete still went out
    assert len(run.budget.sent) == 5


# -- the first refused key stops the run ---------------------------------------------------------
async def test_a_refused_key_stops_the_run_with_a_message_about_the_key(base_url: str) -> None:
    run = simulated_run(clock=FakeClock(), base_url=base_url, api_key="not-the-key")
    async with open_wire(run) as wire:
        with pytest.raises(pytest.exit.Exception) as caught:
            await wire.get("/orders")
        answer = await wire.send("GET", "/test", api_key="also-wrong")  # a test's own wrong key: no stop
    assert answer.status == 401
    assert caught.value.returncode == 3
    assert str(caught.value) == (
        f"OrderDesk refused the API key for store {STORE_ID} (HTTP 401). Check ORDERDESK_TEST_API_KEY "
        "and ORDERDESK_TEST_STORE_ID (OrderDesk: Store Settings > API). The live run stopped at this "
        "first refusal."
    )


@pytest.mark.parametrize("kind", ["simulated", "http"])
async def test_the_contract_target_stops_at_a_refused_key_too(kind: str) -> None:
    other = SimulatorState(clock=FakeClock())
    other.add_store("777", API_KEY)  # not the run's store: the simulator refuses the run's credentials
    async with open_target(kind, other) as target:
        with pytest.raises(pytest.exit.Exception) as caught:
            await target.known_order()
    assert str(caught.value).startswith(f"OrderDesk refused the API key for store {STORE_ID} (")


# -- cleanup -------------------------------------------------------------------------------------
async def test_a_test_that_fails_still_deletes_the_orders_it_created(
    state: SimulatorState, base_url: str
) -> None:
    run = simulated_run(clock=FakeClock(), base_url=base_url)
    created: list[str] = []

    async def failing_test() -> None:
        async with open_wire(run) as wire:
            created.append((await wire.create_order(own_order_doc(new_source_id())))["id"])
            assert _own_orders(state) == created
            raise AssertionError("the test failed here")

    with pytest.raises(AssertionError, match="the test failed here"):
        await failing_test()
    assert _own_orders(state) == []
    assert run.deleted == set(created)


async def test_a_create_whose_answer_was_lost_is_found_by_source_id_and_deleted(
    state: SimulatorState, base_url: str
) -> None:
    run = simulated_run(clock=FakeClock(), base_url=base_url)
    state.faults.drop_next(1, after_processing=True)

    async def lose_the_answer() -> None:
        async with open_wire(run) as wire:
            await wire.create_order(own_order_doc(new_source_id()))

    with pytest.raises(aiohttp.ClientError):
        await lose_the_answer()
    assert _own_orders(state) == []
    assert [r.method for r in state.requests] == ["POST", "GET", "DELETE"]
    assert (run.pending, run.budget.reserved, run.left_behind) == (set(), 0, [])


async def test_the_contract_target_finds_a_lost_create_by_source_id_and_deletes_it(
    state: SimulatorState,
) -> None:
    state.faults.drop_next(1, after_processing=True)
    async with open_target("http", state) as target:
        with pytest.raises(OutcomeUnknown):
            await target.gateway.create(target.store, target.new_order())
        assert len(_own_orders(state)) == 1
    assert _own_orders(state) == []


async def test_cleanup_names_each_order_it_could_not_delete(state: SimulatorState, base_url: str) -> None:
    run = simulated_run(clock=FakeClock(), base_url=base_url)

    async def create_then_break_the_delete() -> str:
        async with open_wire(run) as wire:
            order = await wire.create_order(own_order_doc(new_source_id()))
            state.faults.fail_next(1, status=500)
        return str(order["id"])

    with pytest.raises(pytest.fail.Exception) as caught:
        await create_then_break_the_delete()
    [order_id] = run.created
    left = f"order {order_id} ({run.created[order_id]}): HTTP 500"
    assert str(caught.value) == f"could not delete what the test created: {left}"
    assert run.summary()[-1] == f"LEFT BEHIND, delete by hand: {left}"


# -- make test-live ------------------------------------------------------------------------------
def _env_without_live_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ORDERDESK_TEST_", "COV_CORE_"))}


def test_make_test_live_without_the_variables_prints_one_line_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.live"], cwd=ROOT, env=_env_without_live_variables(),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"make test-live: nothing run; {SKIP_REASON}\n",
        "",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the simulator did not listen on port {port} within 20 s")


async def _orders_on(base_url: str) -> list[dict[str, Any]]:
    run = TestRun(
        store=StoreRef(tenant="default", store_id=SIMULATOR_STORE_ID), api_key=SIMULATOR_API_KEY,
        base_url=base_url, writes=False, clock=FakeClock(),
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        body = (await OrderDeskWire(run, session).get("/orders", limit="500")).obj()
    orders: list[dict[str, Any]] = body["orders"]
    return orders


@pytest.mark.slow
async def test_the_live_run_passes_against_a_simulator_on_loopback_and_leaves_nothing_behind() -> None:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).with_name("orderdesk-mcp")
    simulator = subprocess.Popen(
        [str(script), "simulator", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port)
        env = _env_without_live_variables() | {
            "ORDERDESK_TEST_ENABLED": "true", "ORDERDESK_TEST_STORE_ID": SIMULATOR_STORE_ID,
            "ORDERDESK_TEST_API_KEY": SIMULATOR_API_KEY, "ORDERDESK_TEST_BASE_URL": base_url,
            "ORDERDESK_TEST_WRITES": "true",
        }  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "tests.live", "-p", "no:cacheprovider"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        first = done.stdout.splitlines()[0]
        assert first == (
            f"make test-live: the live cases against {base_url}, store {SIMULATOR_STORE_ID} "
            f"(reads, and writes on its own odmcp-live- orders; at most 60 requests)"
        )
        sent = re.search(rf"live run against {base_url}, store {SIMULATOR_STORE_ID}: (\d+) requests sent "
                         r"\(at most 60\), writes on", done.stdout)  # fmt: skip
        assert sent is not None, done.stdout[-3000:]
        assert 30 <= int(sent[1]) <= 60
        assert re.search(r"\n=+ 24 passed, \d+ deselected in ", done.stdout), done.stdout[-1500:]
        assert "LEFT BEHIND" not in done.stdout
        orders = await _orders_on(base_url)
        assert len(orders) == 25
        assert not [o for o in orders if str(o.get("source_id")).startswith("odmcp-live-")]
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
