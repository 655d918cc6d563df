"""One CPU device per core, so that independent runs use every core (issue 16).

XLA on CPU runs one program's small matmuls (the experiments' widths) on one core: measured on
2 cores, the default edge-of-chaos map takes the same time with Eigen's thread pool or without
it. Forced host devices (``--xla_force_host_platform_device_count``) run concurrently, one thread
each, and the kit lays independent work over them (``sharding.run_chunks``,
``sharding.on_devices``) so that every run is the same one-device program at any device count:
the numbers do not depend on how many devices there are (tests/test_scaleout.py).

:func:`enable` must run before JAX creates its CPU backend; ``experiments/__init__.py`` calls it,
so ``python -m experiments.<name>``, the scripts and the tests all get it. ``SUITE_HOST_DEVICES``
set to a count overrides the default (the cores this process may run on, at most
:data:`MAX_DEVICES`); a device count already in ``XLA_FLAGS`` always wins.
"""

from __future__ import annotations

import os

ENV = "SUITE_HOST_DEVICES"
FLAG = "--xla_force_host_platform_device_count"
MAX_DEVICES = 8


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def wanted(setting: str | None = None) -> int:
    """The host device count: ``setting`` (or ``$SUITE_HOST_DEVICES``) if given, else one per core (at most 8)."""
    setting = os.environ.get(ENV, "") if setting is None else setting
    if setting.strip():
        try:
            count = int(setting)
        except ValueError:
            raise ValueError(f"{ENV} must be a whole number of devices, not {setting!r}") from None
        if count < 1:
            raise ValueError(f"{ENV} must be >= 1, not {count}")
        return count
    return max(1, min(cores(), MAX_DEVICES))


def enable(setting: str | None = None) -> None:
    """Add the host device count to ``XLA_FLAGS`` unless it names one already (before JAX's CPU backend starts)."""
    flags = os.environ.get("XLA_FLAGS", "").split()
    if any(f.startswith(FLAG) for f in flags):
        return
    try:
        count = wanted(setting)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    if count > 1:
        os.environ["XLA_FLAGS"] = " ".join([*flags, f"{FLAG}={count}"])
