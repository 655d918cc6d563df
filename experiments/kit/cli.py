"""The thin entry point every experiment shares (DESIGN.md, "Contracts: CLI").

``python -m experiments.<name> --config configs/<name>.py[:preset] --config.key=value
--workdir results/<name>``. Bad input (unknown key, unknown name, impossible value, missing or
unreadable data set, a workdir that cannot be written) is one line on stderr and exit status 2,
found before any training or compile (:func:`check`). Ctrl-C is one line and exit 130, never a
traceback: a watcher thread sees the signal even while the main thread is inside an XLA compile,
waits for a results swap in progress to finish, and leaves by ``os._exit``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import jax
import ml_collections

from . import config as kit_config
from . import manifest, perf, results
from .data import DataError, DataMissing
from .experiment import Experiment

ROOT = Path(__file__).resolve().parents[2]
USER_ERRORS = (kit_config.ConfigError, DataMissing, ValueError, KeyError, AttributeError, TypeError, FileNotFoundError)
RUN_ERRORS = (kit_config.ConfigError, DataMissing, DataError, results.WorkdirError)


def _last_error(message: str) -> str:
    """The final exception line of a message that embeds a traceback (config-file errors)."""
    if "Traceback" not in message:
        return message.replace("\n", " ")
    tail = re.split(r"\b\w*(?:Error|Exception): ", message)[-1]
    return " ".join(tail.split())


def fail(message: str, status: int = 2) -> None:
    """Print one line to stderr and exit with ``status``."""
    first = " ".join(str(message).strip().splitlines()[:1]) or "error"
    print(f"error: {first}", file=sys.stderr, flush=True)
    sys.exit(status)


def interrupted(workdir: str | Path) -> None:
    """Ctrl-C: one line, exit 130; ``os._exit`` so that no JAX thread can crash the teardown."""
    with contextlib.suppress(Exception):
        print(f"interrupted; previous results in {workdir} are intact", file=sys.stderr, flush=True)
        sys.stdout.flush()
    os._exit(130)


@contextlib.contextmanager
def interrupts_exit(workdir: str | Path):
    """While inside: SIGINT prints one line and exits 130 (after a results swap in progress).

    Python runs signal handlers in the main thread only between bytecodes, so a Ctrl-C during a
    long XLA compile would wait for it (and JAX's teardown could then crash). Instead the signal's
    wakeup byte goes to a pipe that a daemon thread reads; the Python-level handler does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def watch():
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                results.SWAP_LOCK.acquire(timeout=120)  # a swap in progress completes first
                interrupted(workdir)

    previous_handler = signal.signal(signal.SIGINT, lambda *_: None)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    thread = threading.Thread(target=watch, name="interrupt-watcher", daemon=True)
    thread.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_fd)
        signal.signal(signal.SIGINT, previous_handler)
        os.close(write_fd)  # the watcher reads end-of-file and returns
        thread.join(timeout=5)
        os.close(read_fd)


def check(experiment: Experiment, config: ml_collections.ConfigDict, workdir: str | Path,
          domains: dict | None = None, like: ml_collections.ConfigDict | None = None) -> Path:
    """Everything that can be checked before any work: values, parts, data sets, the workdir."""
    kit_config.validate(config, experiment=experiment, domains=domains, like=like)
    experiment.selected(config)  # an unknown part is an error before any work
    return results.check_workdir(workdir)


def execute(experiment: Experiment, config: ml_collections.ConfigDict, workdir: str | Path,
            domains: dict | None = None, like: ml_collections.ConfigDict | None = None) -> results.Result:
    """Check ``config`` and ``workdir``, run, and write the results with their manifest (importable)."""
    check(experiment, config, workdir, domains, like)
    perf.reset()
    start = time.perf_counter()
    result = experiment.run(config)
    wall = time.perf_counter() - start
    config_json = config.to_dict()
    counters = {**perf.snapshot(), "compile_cache": jax.config.jax_compilation_cache_dir if jax.config.jax_enable_compilation_cache else None}
    info = manifest.build(experiment.name, str(config.get("preset", "default")), config_json, wall, counters)
    results.write(result, workdir, config_json, info)
    return result


def parse(experiment: Experiment, argv: list[str]):
    """``(config, workdir, compile_cache, checks)`` from the command line (``checks``: the keyword
    arguments of :func:`check` that the config file gives: its DOMAINS and its preset as written);
    one line and exit 2 on bad input."""
    from absl import flags
    from ml_collections import config_flags

    name = experiment.name
    values = flags.FlagValues()
    try:
        config_flags.DEFINE_config_file(
            "config", str(ROOT / "configs" / f"{name}.py"), "experiment config[:preset]",
            flag_values=values, lock_config=True, sys_argv=argv,
        )
        flags.DEFINE_string("workdir", str(ROOT / "results" / name),
                            "where the results are written (default: results/<name>, results/paper/<name> for the paper preset)",
                            flag_values=values)
        flags.DEFINE_string(
            "compile_cache", None,
            f"persistent compilation cache folder, or 'off' (default: ${perf.CACHE_ENV} or {perf.CACHE_DIR})",
            flag_values=values,
        )
        values(argv)
        config = values.config
        list(config.keys())  # a config file that failed to load raises here, not later
        workdir = values.workdir
        default_workdir = getattr(experiment, "default_workdir", None)
        if default_workdir is not None and not values["workdir"].present:
            workdir = str(default_workdir(config))
        elif not values["workdir"].present and config.get("preset") == "paper":
            workdir = str(ROOT / "results" / "paper" / name)  # never over the committed default results
        config_file = config_flags.get_config_filename(values["config"])
        checks = {"domains": kit_config.config_domains(config_file), "like": kit_config.preset_config(config_file)}
    except OSError as err:
        missing = re.search(r"No such file or directory: '(.+?)'", str(err))
        fail(f"config file not found: {missing.group(1)}" if missing else _last_error(str(err)))
    except (KeyError, AttributeError) as err:
        key = err.args[0] if err.args else err
        fail(f"unknown config key {key!r}; the valid keys are those of configs/{name}.py")
    except (flags.Error, *USER_ERRORS) as err:
        fail(_last_error(str(err)))
    except SyntaxError as err:
        fail(f"cannot read the config: {err}")
    return config, workdir, values.compile_cache, checks


def main(experiment: Experiment, argv: list[str] | None = None) -> results.Result:
    """Parse flags, check, run, write ``results/<name>/`` and print the verdicts."""
    argv = list(sys.argv if argv is None else argv)
    workdir: str | Path = ROOT / "results" / experiment.name
    try:
        config, workdir, cache, checks = parse(experiment, argv)
        perf.enable_compile_cache(cache)
        with interrupts_exit(workdir):
            result = execute(experiment, config, workdir, **checks)
    except RUN_ERRORS as err:
        fail(str(err))
    except KeyboardInterrupt:
        interrupted(workdir)
    for v in result.verdicts:
        value = "" if v.value is None else f" value={v.value:.4g}"
        ci = "" if not v.ci else f" ci=[{v.ci[0]:.4g}, {v.ci[1]:.4g}]"
        print(f"{v.claim}: {v.verdict}{value}{ci}")
    print(f"wrote {workdir}")
    return result
