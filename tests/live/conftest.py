"""The assumption tests' target: raw HTTP to the simulator on loopback, or to the real OrderDesk.

The simulator case serves a store whose bucket holds 4 tokens (OrderDesk's holds 20) on a fake
clock shared with the client-side bucket, so a test can drain it in a few requests and waits
cost no time. At the end of a session that used the live target, a section says what the run
sent and created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.adapters.simulator._inventory import sample_items
from tests.fakes import FakeClock
from tests.live.run import live_run, simulated_run, used_live_run
from tests.live.wire import OrderDeskWire, open_wire
from tests.upstream_harness import API_KEY, STORE_ID, served_simulator

SIMULATED_BURST = 4


@pytest.fixture
def simulator() -> SimulatorState:
    """The simulated store the ``orderdesk`` fixture serves (rate limit on, a small bucket)."""
    clock = FakeClock()
    state = SimulatorState(clock=clock, burst=SIMULATED_BURST)
    state.add_store(STORE_ID, API_KEY)
    state.seed_samples(STORE_ID, 6)
    state.seed_inventory(STORE_ID, sample_items())  # a real store has items to list and filter
    return state


@pytest.fixture
async def orderdesk(
    request: pytest.FixtureRequest, simulator: SimulatorState
) -> AsyncIterator[OrderDeskWire]:
    """Raw HTTP to the target named by the test's ``orderdesk`` parameter ("simulator" or "live")."""
    if request.param == "live":
        async with open_wire(live_run()) as wire:
            yield wire
        return
    async with (
        served_simulator(simulator) as base_url,
        open_wire(simulated_run(clock=simulator.clock, base_url=base_url)) as wire,
    ):
        yield wire


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    run = used_live_run()
    if run is not None:
        terminalreporter.section("live OrderDesk run")
        for line in run.summary():
            terminalreporter.write_line(line)
