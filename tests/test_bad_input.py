"""Bad input, as a new user types it (issue 17): one line on stderr and exit 2, before any compile.

The CLI runs in this process (``cli.main``) with the start of the run replaced by a sentinel
(:func:`experiments.kit.perf.reset`, the first thing :func:`cli.execute` does after its checks):
a probe that reaches it "started"; a bad value must instead end in ``SystemExit(2)`` with one
line on stderr that names the key. Three families: the probes the issue lists (and more), one
generated probe per config key and per violated domain for every experiment, and random overrides
drawn by hypothesis (the run starts or exits 2 in one line, never a traceback). The scripts are
run in this process too (``runpy``), and ``results/`` and the README are checked unchanged.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import math
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.kit import checks, cli, data, registry
from experiments.kit import config as kc

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = registry.names()


class Started(Exception):
    """The run got past every check."""


def _started():
    raise Started


@pytest.fixture
def probe(monkeypatch, tmp_path):
    """``probe(name, *flags, workdir=...) -> (outcome, stderr lines)``: "started", or the exit status."""
    monkeypatch.setattr(cli.perf, "reset", _started)

    def run(name: str, *flags: str, workdir: str | None = None, preset: str = "smoke"):
        argv = [f"experiments.{name}", "--config", f"configs/{name}.py:{preset}", *flags,
                "--workdir", str(tmp_path / "wd" / name) if workdir is None else workdir]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                cli.main(registry.experiment(name), argv)
                outcome = "finished"
            except Started:
                outcome = "started"
            except SystemExit as e:
                outcome = e.code
        return outcome, err.getvalue().strip().splitlines()

    return run


def _one_line_exit_2(outcome, lines, *expected):
    assert outcome == 2, (outcome, lines)
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for text in expected:
        assert text in lines[0], (text, lines[0])


def _has_key(name: str, key: str) -> bool:
    node = registry.config(name, "smoke")
    try:
        for part in key.split("."):
            node = node[part]
    except (KeyError, AttributeError):
        return False
    return True


# (experiment, override flags, text the one line must contain). Keys renamed since are skipped.
PROBES = [
    # the issue's examples
    ("derivatives", ["--config.learning_rate=inf"], "learning_rate"),
    ("linear_collapse", ["--config.criteria.a1.equiv_margin=-1"], "equiv_margin"),
    ("vanishing", ["--config.parts=('profile','bogus')"], "bogus"),
    ("linear_collapse", ["--config.nonlinear=('relu','swishy')"], "swishy"),
    ("linear_collapse", ["--config.initializer=bogus"], "bogus"),
    ("linear_collapse", ["--config.optimizer=adamw"], "adamw"),
    ("linear_collapse", ["--config.loss=hinge"], "hinge"),
    ("linear_collapse", ["--config.learning_rates=()"], "learning_rates"),
    ("vanishing", ["--config.profile.activations=()"], "profile.activations"),
    ("linear_collapse", ["--config.linear_c=nan"], "linear_c"),
    ("linear_collapse", ["--config.batch_size=100000"], "batch_size"),
    ("linear_collapse", ["--config.batch_size=2000"], "larger than the training set"),
    # names under other keys
    ("derivatives", ["--config.mlp_activations=('step','swishy')"], "swishy"),
    ("derivatives", ["--config.step_activation=bogus"], "bogus"),
    ("derivatives", ["--config.mlp_dataset=cifar"], "cifar"),
    ("derivatives", ["--config.optimizer=rmsprop"], "rmsprop"),
    ("derivatives", ["--config.loss=hinge"], "hinge"),
    ("convexity", ["--config.losses=('mse','hinge')"], "hinge"),
    ("convexity", ["--config.dataset=imagenet"], "imagenet"),
    ("convexity", ["--config.activations=('relu','relu')"], "twice"),
    ("dead_relu", ["--config.roles.f2_inits=('he_normal','bogus')"], "bogus"),
    ("dead_relu", ["--config.roles.f4_optimizers=('sgd','adamw')"], "adamw"),
    ("dead_relu", ["--config.roles.activation=swishy"], "swishy"),
    ("convergence", ["--config.baseline=swishy"], "swishy"),
    ("convergence", ["--config.grid.datasets=('two_moons',)"], "threshold"),
    ("convergence", ["--config.h4.variants=('relu','bogus')"], "bogus"),
    ("vanishing", ["--config.parts=()"], "parts"),
    ("vanishing", ["--config.parts=('profile','profile')"], "twice"),
    ("vanishing", ["--config.depth_sweep.inits=('glorot',)"], "glorot"),
    ("zigzag", ["--config.e2.arms.unit.scaling=sideways"], "sideways"),
    ("zigzag", ["--config.e4.activations=()"], "e4.activations"),
    ("initialization", ["--config.profile.inits=('normal','bogus')"], "bogus"),
    ("cost", ["--config.reference=gelu", "--config.activations=('relu','tanh','identity')"], "reference"),
    # numbers: finite, positive, whole, in range, <= the data
    ("linear_collapse", ["--config.learning_rates=(0.01,nan)"], "finite"),
    ("linear_collapse", ["--config.learning_rates=(0.01,-1.0)"], "> 0"),
    ("linear_collapse", ["--config.learning_rates=(0.01,'a')"], "learning_rates"),
    ("linear_collapse", ["--config.seeds=0"], "seeds"),
    ("linear_collapse", ["--config.seeds=-3"], "seeds"),
    ("linear_collapse", ["--config.seeds=2.5"], "seeds"),
    ("linear_collapse", ["--config.depth=0"], "depth"),
    ("linear_collapse", ["--config.width=0"], "width"),
    ("linear_collapse", ["--config.steps=0"], "steps"),
    ("linear_collapse", ["--config.steps=210"], "log_every"),
    ("linear_collapse", ["--config.log_every=0"], "log_every"),
    ("linear_collapse", ["--config.n_train=16"], "larger than the training set"),
    ("linear_collapse", ["--config.linear_c=0.0"], "linear_c"),
    ("linear_collapse", ["--config.linear_c=inf"], "linear_c"),
    ("linear_collapse", ["--config.criteria.a1.collapse_rel_tol=-1e-5"], "collapse_rel_tol"),
    ("linear_collapse", ["--config.criteria.a1.better_margin=nan"], "better_margin"),
    ("convergence", ["--config.momentum=1.5"], "momentum"),
    ("convergence", ["--config.criteria.threshold.digits=1.5"], "threshold.digits"),
    ("convergence", ["--config.criteria.f5.alpha=0.0"], "alpha"),
    ("convergence", ["--config.criteria.h3.confidence=1.0"], "confidence"),
    ("convergence", ["--config.h4.rrelu_lower=9.0"], "rrelu_lower"),
    ("dead_relu", ["--config.criteria.f1.min_dead=2.0"], "min_dead"),
    ("dead_relu", ["--config.batch_size=5000"], "larger than the training set"),
    ("dead_relu", ["--config.g3.widths=(2,0)"], "g3.widths"),
    ("derivatives", ["--config.grid_lo=40.0"], "grid_lo"),
    ("derivatives", ["--config.grid_n=-1"], "grid_n"),
    ("derivatives", ["--config.criteria.formula.rtol=-1.0"], "rtol"),
    ("derivatives", ["--config.edges=(0.0,inf)"], "edges"),
    ("vanishing", ["--config.chaos.sigma_w2=(1.0,-2.0)"], "sigma_w2"),
    ("vanishing", ["--config.profile.fit_skip=-1"], "fit_skip"),
    ("vanishing", ["--config.criteria.d3.vanish_log10_ratio=-inf"], "vanish_log10_ratio"),
    ("zigzag", ["--config.e1.x_range=(1.0,0.1)"], "x_range"),
    ("zigzag", ["--config.e1.x_range=(0.1,)"], "x_range"),
    ("zigzag", ["--config.e1.batch_sizes=(1,0)"], "batch_sizes"),
    ("zigzag", ["--config.censor_factor=0.5"], "censor_factor"),
    ("initialization", ["--config.he.weight_scales=(0.0,1.0)"], "weight_scales"),
    ("convexity", ["--config.weight_scales=(0.5,nan)"], "weight_scales"),
    ("convexity", ["--config.criteria.c3.holds_below=-0.1"], "holds_below"),
    ("cost", ["--config.n_elements=0"], "n_elements"),
    # types and spelling of the flags themselves
    ("linear_collapse", ["--config.nosuch=1"], "nosuch"),
    ("linear_collapse", ["--config.criteria.a9.x=1"], "a9"),
    ("linear_collapse", ["--config", "configs/nosuch.py"], "nosuch.py"),
    ("linear_collapse", ["--config", "configs/linear_collapse.py:huge"], "huge"),
    ("linear_collapse", ["--config.seeds"], "seeds"),
    ("linear_collapse", ["--nosuchflag"], "nosuchflag"),
    ("linear_collapse", ["--config.nonlinear=relu,"], "nonlinear"),
    ("linear_collapse", ["--config.nonlinear=(1,2)"], "nonlinear"),
    ("linear_collapse", ["--config.datasets=('xor',)", "--config.batch_size=1700"], "larger than the training set"),
    ("linear_collapse", ["--config.nonlinear=('relu','no_such_module:fn')"], "no_such_module"),
    ("linear_collapse", ["--config.nonlinear=('relu','math:nosuchfn')"], "nosuchfn"),
]


@pytest.mark.parametrize("name, flags, expected", PROBES, ids=[f"{n}:{' '.join(f)}" for n, f, _ in PROBES])
def test_issue_probes_are_one_line_and_exit_2(probe, name, flags, expected):
    keys = [f.split("=", 1)[0][len("--config."):] for f in flags if f.startswith("--config.") and "=" in f]
    if expected in ("", None) or any(not _has_key(name, k) for k in keys if k.split(".")[0] not in ("nosuch", "criteria")):
        pytest.skip(f"{name} has no key {keys} any more (renamed)")
    _one_line_exit_2(*probe(name, *flags), expected)


def test_smoke_presets_start(probe):
    """The sentinel is reached by valid input: the probes above fail for their bad value, not by accident."""
    for name in EXPERIMENTS:
        outcome, lines = probe(name)
        assert outcome == "started", (name, lines)


# --- one generated probe per key and per violated domain ------------------------------------------
def _bad_values(dom: kc.Domain | None, value) -> list[str]:
    """Override strings that break ``dom`` (the key's domain) or, without one, the default checks."""
    seq = isinstance(value, (list, tuple))
    wrap = (lambda s: f"({s},)") if seq else (lambda s: s)
    out = ["()"] if seq and not (dom and dom.empty_ok) else []
    if dom is None or dom.kind == "any":
        if isinstance(value, float) or (seq and value and isinstance(value[0], float)):
            out.append(wrap("nan"))
        return out
    if dom.kind == "name":
        return out + [wrap("'no_such_name_17'")]
    if dom.kind not in ("int", "real"):
        return out
    if dom.kind == "real":
        out.append(wrap("nan"))
    if dom.lo is not None:
        bad = dom.lo if dom.lo_open else dom.lo - 1
        out.append(wrap(str(int(bad)) if dom.kind == "int" else repr(float(bad))))
    if dom.hi is not None:
        out.append(wrap(repr(float(dom.hi if dom.hi_open else dom.hi + 1))))
    if dom.nonzero:
        out.append(wrap("0.0"))
    return out


def _generated(name: str) -> list[tuple[str, str]]:
    config = registry.config(name, "smoke")
    tables = [kc.config_domains(ROOT / "configs" / f"{name}.py"), kc.PENDING.get(name, {}), kc.DOMAINS]
    probes = []
    for path, value in checks.walk(config):
        if path.split(".")[0] in ("published", "preset") or isinstance(value, bool):
            continue
        dom = kc.lookup(path, tables, kinds=("int", "real", "name", "text", "any"))
        probes += [(path, bad) for bad in _bad_values(dom, value)]
    return probes


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_key_rejects_values_outside_its_domain(probe, name):
    failures = []
    for path, bad in _generated(name):
        outcome, lines = probe(name, f"--config.{path}={bad}")
        if outcome != 2 or len(lines) != 1 or path.rsplit(".", 1)[-1] not in lines[0]:
            failures.append(f"--config.{path}={bad}: {outcome} {lines[-1:] if lines else ''}")
    assert not failures, "\n".join(failures)


# --- random overrides (hypothesis) ----------------------------------------------------------------
_TEXT = st.text(alphabet="abcxyz_:.()',-0123456789 e", max_size=12)
_RAW = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "0", "-1", "1", "2", "1e9", "-1e-9", "0.5", "()", "(,)", "None", "True",
                     "''", "'relu'", "'bogus'", "('relu',)", "('bogus',)", "(0,)", "(-1,)", "(nan,)", "(1,2,3)",
                     "((1,2),)", "{'a': 1}", "[1, 2]", "'digits'", "'fashion_mnist'", "'he_normal'", "'sgd'", "1e400"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**12, 10**12).map(str),
    _TEXT,
    st.lists(st.one_of(st.floats(-1e3, 1e3).map(repr), st.integers(-5, 5).map(str), _TEXT.map(repr)), max_size=3)
    .map(lambda items: "(" + ",".join(items) + ("," if len(items) == 1 else "") + ")"),
)


def _keys(name: str) -> list[str]:
    return [p for p, _ in checks.walk(registry.config(name, "smoke")) if not p.startswith("published")]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_random_overrides_start_or_exit_2_in_one_line(probe, name):
    keys = _keys(name)

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.sampled_from(keys), _RAW), min_size=1, max_size=3))
    def check(overrides):
        try:
            outcome, lines = probe(name, *(f"--config.{k}={v}" for k, v in overrides))
        except BaseException as err:  # noqa: BLE001 (a traceback: what this test forbids)
            raise AssertionError(f"{overrides}: {type(err).__name__}: {err}") from None
        assert outcome == "started" or (outcome == 2 and len(lines) == 1 and lines[0].startswith("error: ")), (overrides, outcome, lines)

    check()


# --- data sets --------------------------------------------------------------------------------------
def _fashion_dir(tmp_path: Path, damage: str) -> Path:
    folder = tmp_path / f"fashion-{damage}"
    folder.mkdir()
    real = Path(data.FASHION_DEFAULT_DIR)
    for stem in data.FASHION_FILES:
        target = folder / f"{stem}.gz"
        if damage == "empty":
            target.write_bytes(b"")
        elif damage == "garbage":
            target.write_bytes(os.urandom(4096))
        elif damage == "not_gzip_idx":
            (folder / stem).write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") * 3 + b"\x01" * 7)
        elif damage == "truncated":
            raw = (real / f"{stem}.gz").read_bytes() if (real / f"{stem}.gz").exists() else gzip.compress(b"\x00" * 4096)
            target.write_bytes(raw[: len(raw) // 2])
        elif damage == "header_only":
            target.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (60000).to_bytes(4, "big")))
    return folder


@pytest.mark.parametrize("damage", ["missing", "empty", "garbage", "not_gzip_idx", "truncated", "header_only"])
def test_broken_fashion_mnist_is_one_line(probe, tmp_path, monkeypatch, damage):
    folder = tmp_path / "nowhere" if damage == "missing" else _fashion_dir(tmp_path, damage)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    data._raw.cache_clear()
    outcome, lines = probe("linear_collapse", "--config.datasets=('fashion_mnist',)")
    _one_line_exit_2(outcome, lines, "fashion")
    with pytest.raises((data.DataMissing, data.DataError)):
        data.load("fashion_mnist")  # the loader says the same, should anything call it directly
    data._raw.cache_clear()


def test_train_sizes_are_what_load_gives():
    from mnist1d.data import get_dataset_args

    args = get_dataset_args()  # generating mnist1d takes long; its split is arithmetic
    assert data.TRAIN_SIZES["mnist1d"] == int(args.num_samples * args.train_split)
    for name in ("gaussian", "xor", "two_moons", "digits"):
        assert len(data.load(name).x_train) == data.TRAIN_SIZES[name], name


# --- the workdir ------------------------------------------------------------------------------------
def test_bad_workdirs_are_one_line_and_touch_nothing(probe, tmp_path):
    user_file = tmp_path / "notes.txt"
    user_file.write_text("mine\n")
    user_folder = tmp_path / "documents"
    user_folder.mkdir()
    (user_folder / "thesis.tex").write_text("mine\n")
    for workdir, expected in [(str(user_file), "is a file"), ("/proc/x", "cannot write"), (str(user_folder), "not results"),
                              ("", "empty"), (" ", "empty"), ("/", "folder of its own"), (f"{user_file}/sub", "cannot write")]:
        _one_line_exit_2(*probe("linear_collapse", workdir=workdir), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents", "notes.txt"]
    assert user_file.read_text() == "mine\n" and [p.name for p in user_folder.iterdir()] == ["thesis.tex"]


# --- the scripts ------------------------------------------------------------------------------------
def _tree_digest(*roots: Path) -> str:
    h = hashlib.sha256()
    for root in roots:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for f in files:
            if f.is_file():
                h.update(str(f).encode() + f.read_bytes())
    return h.hexdigest()


@pytest.fixture
def script(monkeypatch):
    """``script(name, *args) -> (exit status, stderr lines)``, run in this process; joining a cluster fails the test."""
    import jax

    def joined(*_, **__):
        raise AssertionError("scripts/distributed joined a cluster on bad input")

    monkeypatch.setattr(jax.distributed, "initialize", joined)

    def run(name: str, *args: str):
        monkeypatch.setattr(sys, "argv", [str(ROOT / "scripts" / name), *args])
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                runpy.run_path(str(ROOT / "scripts" / name), run_name="__main__")
                code = 0
            except SystemExit as e:
                code = e.code
        return code, err.getvalue().strip().splitlines()

    return run


SCRIPT_PROBES = [
    ("distributed", ["notahost:abc", "1", "0", "linear_collapse"], "notahost:abc"),
    ("distributed", ["notahost:1234", "2", "0", "linear_collapse"], "does not resolve"),
    ("distributed", ["127.0.0.1:99999", "2", "0", "linear_collapse"], "port"),
    ("distributed", ["127.0.0.1", "2", "0", "linear_collapse"], "host:port"),
    ("distributed", ["127.0.0.1:1234", "2", "2", "linear_collapse"], "PROCESS_ID"),
    ("distributed", ["127.0.0.1:1234", "0", "0", "linear_collapse"], "NUM_PROCESSES"),
    ("distributed", ["127.0.0.1:1234", "x", "0", "linear_collapse"], "NUM_PROCESSES"),
    ("distributed", ["127.0.0.1:1234", "2", "0", "nosuch"], "nosuch"),
    ("distributed", ["127.0.0.1:1234", "2", "1", "linear_collapse", "--config.seeds=0"], "seeds"),
    ("distributed", ["127.0.0.1:1234", "2", "0", "linear_collapse", "--workdir=/proc/x"], "cannot write"),
    ("distributed", [], "usage"),
    ("regression", ["nosuch"], "nosuch"),
    ("regression", ["--update", "--default"], "not allowed"),
    ("regression", ["--rounding", "--update"], "not allowed"),
    ("regression", ["--frobnicate"], "frobnicate"),
    ("reproduce", ["nosuch"], "nosuch"),
    ("reproduce", ["--preset", "huge"], "huge"),
    ("bench", ["--matmul-size", "0"], "matmul-size"),
    ("bench", ["--matmul-size", "abc"], "matmul-size"),
    ("bench", ["--matmul-size", "-5"], "matmul-size"),
    ("bench", ["--timeout", "0"], "timeout"),
    ("bench", ["--timeout", "nan"], "timeout"),
    ("bench", ["--names", "nosuch"], "nosuch"),
    ("bench", ["--output", "/proc/x/BENCH.md"], "cannot write"),
    ("bench", ["--output", "/tmp"], "folder"),
    ("report", ["--results", "/nonexistent/results"], "not a folder"),
    ("report", ["--unknown"], "unknown"),
]


def test_scripts_bad_arguments_are_one_line_exit_2_and_write_nothing(script):
    before = _tree_digest(ROOT / "results", ROOT / "README.md")
    failures = []
    for name, args, expected in SCRIPT_PROBES:
        code, lines = script(name, *args)
        if code != 2 or len(lines) != 1 or not lines[0].startswith("error: ") or expected not in lines[0]:
            failures.append(f"scripts/{name} {' '.join(args)}: exit {code}, {lines}")
    assert not failures, "\n".join(failures)
    assert _tree_digest(ROOT / "results", ROOT / "README.md") == before


def test_report_names_an_unreadable_verdicts_file_and_skips_other_folders(script, tmp_path):
    results_dir = tmp_path / "results"
    (results_dir / "linear_collapse").mkdir(parents=True)
    good = (ROOT / "results" / "linear_collapse" / "verdicts.json").read_text()
    (results_dir / "linear_collapse" / "verdicts.json").write_text(good)
    for junk in ("linear_collapse.tmp-x1", ".linear_collapse.staging-1-x", "notes", "zigzag_old"):
        (results_dir / junk).mkdir()
        (results_dir / junk / "verdicts.json").write_text("")  # empty: would crash a reader that looked
    code, lines = script("report", "--results", str(results_dir))
    assert code == 0, lines
    from experiments.kit import ledger

    found = ledger.verdicts(results_dir)  # what the report was built from: the one real folder, once per claim
    assert found and all(len(records) == 1 and records[0]["experiment"] == "linear_collapse" for records in found.values())
    (results_dir / "REPORT.md").unlink()
    for broken in (good[: len(good) // 2], "", "{}", "[1, 2]", '[{"verdict": "supported"}]'):
        (results_dir / "linear_collapse" / "verdicts.json").write_text(broken)
        code, lines = script("report", "--results", str(results_dir))
        _one_line_exit_2(code, lines, str(results_dir / "linear_collapse" / "verdicts.json"))
        assert not (results_dir / "REPORT.md").exists()


# --- the real entry points, end to end --------------------------------------------------------------
def test_python_m_and_scripts_exit_2_in_one_line_in_a_fresh_process(tmp_path):
    """The same through ``python -m`` and the script files (once each: they pay for importing JAX)."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    for cmd, expected in [
        ([sys.executable, "-m", "experiments.linear_collapse", "--config", "configs/linear_collapse.py:smoke",
          "--config.learning_rates=()", "--workdir", str(tmp_path / "wd")], "learning_rates"),
        ([sys.executable, "scripts/distributed", "notahost:abc", "1", "0", "linear_collapse"], "notahost:abc"),
    ]:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 2, (cmd, proc.returncode, proc.stderr[-2000:])
        lines = [line for line in proc.stderr.strip().splitlines() if line]
        assert len(lines) == 1 and expected in lines[0], lines
    assert not (tmp_path / "wd").exists()


def test_no_probe_value_is_silently_finite():
    """Sanity of the generator: every numeric domain has a violating value it draws."""
    assert _bad_values(kc.count(), 3) == ["0"]
    assert _bad_values(kc.positive(seq=True), (0.1,)) == ["()", "(nan,)", "(0.0,)"]
    assert math.isnan(float(_bad_values(kc.finite(), 1.0)[0]))
