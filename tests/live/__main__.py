"""``make test-live``: the live cases against the store the variables name, or one line saying which
variables it needs (exit 0). Extra arguments go to pytest."""

from __future__ import annotations

import sys

import pytest

from tests.live.config import LIVE, LIVE_PROBLEM, MAX_REQUESTS, SKIP_REASON


def main(argv: list[str]) -> int:
    if LIVE_PROBLEM is not None:
        sys.stderr.write(f"make test-live: {LIVE_PROBLEM}\n")
        return 2
    if LIVE is None:
        sys.stdout.write(f"make test-live: nothing run; {SKIP_REASON}\n")
        return 0
    scope = "reads, and writes on its own odmcp-live- orders" if LIVE.writes else "reads only"
    sys.stdout.write(
        f"make test-live: the live cases against {LIVE.base_url}, store {LIVE.store_id} "
        f"({scope}; at most {MAX_REQUESTS} requests)\n"
    )
    sys.stdout.flush()
    return int(pytest.main(["-m", "live", "-v", *argv, "tests"]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
