"""Time every database call of a store: a light wrapper the ops metrics read (db latency)."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

# Called with the call's name (the store method) and how long it took, in seconds.
Observer = Callable[[str, float], None]

# Lifecycle, not database calls: never timed.
_SKIP = frozenset({"open", "close"})


def _timed(name: str, call: Callable[..., Awaitable[Any]], observe: Observer) -> Any:
    @functools.wraps(call)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            observe(name, time.perf_counter() - started)

    timed.__briefbot_timed__ = True  # type: ignore[attr-defined]
    return timed


def instrument(store: object, observe: Observer) -> list[str]:
    """Time every public coroutine method of `store` (this instance only); their names.

    Each call costs two clock reads and the observer (bench/store_timing.py measures it).
    Instrumenting twice does not time twice.
    """
    names = []
    for name, _member in inspect.getmembers(type(store), inspect.iscoroutinefunction):
        if name.startswith("_") or name in _SKIP:
            continue
        bound = getattr(store, name)
        if getattr(bound, "__briefbot_timed__", False):
            continue
        setattr(store, name, _timed(name, bound, observe))
        names.append(name)
    return names
