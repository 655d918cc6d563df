"""The thin entry point every experiment shares (DESIGN.md, "Contracts: CLI").

``python -m experiments.<name> --config configs/<name>.py[:preset] --config.key=value
--workdir results/<name>``. Bad input (unknown key, unknown activation, impossible value,
missing data set) is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import jax
import ml_collections

from . import config as kit_config
from . import manifest, perf, results
from .data import DataMissing
from .experiment import Experiment

ROOT = Path(__file__).resolve().parents[2]
USER_ERRORS = (kit_config.ConfigError, DataMissing, ValueError, KeyError, AttributeError, TypeError, FileNotFoundError)


def _last_error(message: str) -> str:
    """The final exception line of a message that embeds a traceback (config-file errors)."""
    if "Traceback" not in message:
        return message.replace("\n", " ")
    tail = re.split(r"\b\w*(?:Error|Exception): ", message)[-1]
    return " ".join(tail.split())


def fail(message: str, status: int = 2) -> None:
    """Print one line to stderr and exit with ``status``."""
    first = " ".join(str(message).strip().splitlines()[:1]) or "error"
    print(f"error: {first}", file=sys.stderr)
    sys.exit(status)


def interrupted(workdir: str | Path) -> None:
    """Ctrl-C: one line, exit 130; ``os._exit`` so that no JAX thread can crash the teardown."""
    print(f"interrupted; previous results in {workdir} are intact", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(130)


def execute(experiment: Experiment, config: ml_collections.ConfigDict, workdir: str | Path) -> results.Result:
    """Validate ``config``, run it, and write the results with their manifest (importable)."""
    name = experiment.name
    kit_config.validate(config)
    experiment.selected(config)  # an unknown part is an error before any work
    results.check_workdir(workdir)
    perf.reset()
    start = time.perf_counter()
    result = experiment.run(config)
    wall = time.perf_counter() - start
    config_json = config.to_dict()
    counters = {**perf.snapshot(), "compile_cache": jax.config.jax_compilation_cache_dir if jax.config.jax_enable_compilation_cache else None}
    info = manifest.build(name, str(config.get("preset", "default")), config_json, wall, counters)
    results.write(result, workdir, config_json, info)
    return result


def main(experiment: Experiment, argv: list[str] | None = None) -> results.Result:
    """Parse flags, run, write ``results/<name>/`` (or ``experiment.default_workdir(config)``), print the verdicts."""
    from absl import flags
    from ml_collections import config_flags

    name = experiment.name
    argv = list(sys.argv if argv is None else argv)
    values = flags.FlagValues()
    try:
        config_flags.DEFINE_config_file(
            "config", str(ROOT / "configs" / f"{name}.py"), "experiment config[:preset]",
            flag_values=values, lock_config=True, sys_argv=argv,
        )
        flags.DEFINE_string("workdir", str(ROOT / "results" / name), "where the results are written", flag_values=values)
        flags.DEFINE_string(
            "compile_cache", None,
            f"persistent compilation cache folder, or 'off' (default: ${perf.CACHE_ENV} or {perf.CACHE_DIR})",
            flag_values=values,
        )
        values(argv)
        config = values.config
        list(config.keys())  # a config file that failed to load raises here, not later
    except OSError as err:
        missing = re.search(r"No such file or directory: '(.+?)'", str(err))
        fail(f"config file not found: {missing.group(1)}" if missing else _last_error(str(err)))
    except (KeyError, AttributeError) as err:
        fail(f"unknown config key {err}; the valid keys are those of configs/{name}.py")
    except (flags.Error, *USER_ERRORS) as err:
        fail(_last_error(str(err)))
    perf.enable_compile_cache(values.compile_cache)
    workdir = values.workdir
    try:
        if experiment.default_workdir is not None and not values["workdir"].present:
            workdir = str(experiment.default_workdir(config))
        result = execute(experiment, config, workdir)
    except (kit_config.ConfigError, DataMissing, results.WorkdirError) as err:
        fail(str(err))
    except KeyboardInterrupt:
        interrupted(workdir)
    for v in result.verdicts:
        value = "" if v.value is None else f" value={v.value:.4g}"
        ci = "" if not v.ci else f" ci=[{v.ci[0]:.4g}, {v.ci[1]:.4g}]"
        print(f"{v.claim}: {v.verdict}{value}{ci}")
    print(f"wrote {workdir}")
    return result
