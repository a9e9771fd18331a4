"""NoOpLifespan: the async context manager of adapters that have nothing to open or close."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["NoOpLifespan"]


class NoOpLifespan:
    """Mixin for adapters that own no connection, file or task: entering yields the adapter itself.

    Every adapter is an async context manager (the lifespan enters them all in one
    ``AsyncExitStack``); for these, entering and leaving do nothing.
    """

    __slots__ = ()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None
