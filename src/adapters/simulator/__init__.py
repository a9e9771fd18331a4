"""The OrderDesk simulator: test double for the HTTP client and built-in default for staging."""

from adapters.simulator._app import create_app
from adapters.simulator._faults import Faults
from adapters.simulator._state import DEFAULT_FOLDERS, RequestRecord, SimError, SimulatorState

__all__ = [
    "DEFAULT_FOLDERS",
    "Faults",
    "RequestRecord",
    "SimError",
    "SimulatorState",
    "create_app",
    "default_state",
]


def default_state(
    *, store_id: str = "100001", api_key: str = "sim-key", sample_count: int = 25
) -> SimulatorState:
    """A simulator with one store seeded with ``sample_count`` deterministic sample orders."""
    state = SimulatorState()
    state.add_store(store_id, api_key)
    state.seed_samples(store_id, sample_count)
    return state
