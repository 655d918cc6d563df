"""The verdict contract (experiments/kit/claim.py) for every registered claim.

On the smoke runs: valid verdicts, parts aggregated per DECISIONS.md R2, the key number is a part's
(R5), the evidence is a produced file, the ID is catalogued, the criterion quotes the config's
thresholds, and every part decided against a config threshold follows that threshold when it is
moved to just either side of the part's interval. On the committed default results: each claim,
decided again from the committed tables, gives exactly the committed ``verdicts.json``.
"""

from __future__ import annotations

import copy
import json
import math

import pytest

from experiments.kit import claim as kc
from experiments.kit import ledger, registry, results, verdicts
from experiments.kit.experiment import Tables

EXPERIMENTS = registry.names()
CATALOGUE = {cid for cid, _ in ledger.claims()}


def _smoke_config(name):
    from experiments.kit import config as kit_config

    return kit_config.validate(registry.config(name, "smoke"))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_smoke_verdicts_keep_the_contract(smoke, name):
    result = smoke(name)
    experiment = registry.experiment(name)
    produced = set(result.tables) | set(result.figures)
    assert result.verdicts, f"{name} decides no claim"
    for v in result.verdicts:
        assert v.claim in CATALOGUE
        assert v.verdict in verdicts.VERDICTS and v.rules == verdicts.RULES
        assert v.parts, f"{v.claim} has no parts"
        assert v.verdict == verdicts.aggregate([p["verdict"] for p in v.parts]), v.claim
        key = (verdicts.clean(v.value), v.ci and [verdicts.clean(c) for c in v.ci], v.n_seeds, v.unit, v.condition)
        as_parts = [(p["value"], p["ci"], p["n_seeds"], p["unit"], p["condition"]) for p in v.parts]
        assert key in as_parts, f"{v.claim}: key number {key} is no part's"
        assert v.evidence.rsplit(".", 1)[0] in produced, f"{v.claim}: evidence {v.evidence} not produced"
    config = _smoke_config(name)
    for c in experiment.claims:
        for path, value in c.thresholds(config):
            record = next(v for v in result.verdicts if v.claim == c.id)
            assert kc.quotes(record.criterion, value), f"{c.id}: criterion does not quote {path} = {value}"


def _moved(config, path: str, value: float):
    out = copy.deepcopy(config)
    out.unlock()
    *parents, leaf = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    with node.ignore_type():
        node[leaf] = value
    return out


def _step(x: float) -> float:
    return max(1e-9, 1e-6 * abs(x))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_parts_follow_their_threshold(smoke, name):
    """Each part compared with a config threshold flips when the threshold crosses its interval."""
    result, config = smoke(name), _smoke_config(name)
    t = Tables(result.tables)
    checked = 0
    for c in registry.experiment(name).claims:
        if not all(r in t for r in c.reads):
            continue
        for p in c.fn(t, config).parts:
            if p.threshold is None or p.ci is None:
                continue
            lo, hi = p.ci
            if not (math.isfinite(lo) and math.isfinite(hi)):
                continue
            upper = p.side.startswith(">")
            inside = lo - _step(lo) if upper else hi + _step(hi)  # the whole CI on the claim's side
            outside = hi + _step(hi) if upper else lo - _step(lo)  # the whole CI on the other side
            for thr, want_supported in ((inside, True), (outside, False)):
                moved = {q.part: q for q in c.fn(t, _moved(config, p.threshold, thr)).parts}
                got = moved[p.part].verdict
                assert (got == "supported") == want_supported, (
                    f"{c.id} part {p.part!r}: {p.threshold} = {thr:g} against CI [{lo:g}, {hi:g}] gave {got}"
                )
            checked += 1
    assert checked, f"{name}: no part is decided against a config threshold"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_committed_verdicts_follow_from_committed_tables(name):
    folder = registry.ROOT / "results" / name
    if not (folder / "verdicts.json").exists():
        pytest.skip(f"no committed results for {name}")
    committed = json.loads((folder / "verdicts.json").read_text())
    again = results.to_jsonable([v.to_json() for v in registry.experiment(name).redecide(folder)])
    assert json.loads(json.dumps(again)) == committed


# --- the kit's rules, at their thresholds -------------------------------------------------------


@pytest.mark.parametrize("side", kc.SIDES)
def test_on_interval_at_threshold_plus_minus_epsilon(side):
    eps, thr = 1e-9, 0.25
    above, below = (thr + eps, thr + 1), (thr - 1, thr - eps)
    straddle = (thr - eps, thr + eps)
    want_above = "supported" if side.startswith(">") else "refuted"
    want_below = "refuted" if side.startswith(">") else "supported"
    assert kc.on_interval(*above, thr, side) == want_above
    assert kc.on_interval(*below, thr, side) == want_below
    assert kc.on_interval(*straddle, thr, side) == "inconclusive"
    assert kc.on_interval(float("nan"), 1.0, thr, side) == "inconclusive"


def test_on_interval_touching_the_threshold_depends_on_strictness():
    assert kc.on_interval(0.25, 0.3, 0.25, ">=") == "supported"
    assert kc.on_interval(0.25, 0.3, 0.25, ">") == "inconclusive"
    assert kc.on_interval(0.2, 0.25, 0.25, "<=") == "supported"
    assert kc.on_interval(0.2, 0.25, 0.25, "<") == "inconclusive"


def test_on_interval_middle_band():
    # H1-like: supported if lo >= 1.5, qualified if 1 < lo < 1.5, refuted if hi < 1, else inconclusive
    assert kc.on_interval(1.6, 2.0, 1.5, ">=", floor=1.0) == "supported"
    assert kc.on_interval(1.2, 2.0, 1.5, ">=", floor=1.0) == "qualified"
    assert kc.on_interval(0.5, 0.9, 1.5, ">=", floor=1.0) == "refuted"
    assert kc.on_interval(0.9, 1.2, 1.5, ">=", floor=1.0) == "inconclusive"


def test_aggregate_follows_r2():
    assert verdicts.aggregate(["supported", "supported"]) == "supported"
    assert verdicts.aggregate(["refuted", "refuted"]) == "refuted"
    assert verdicts.aggregate(["inconclusive"]) == "inconclusive"
    assert verdicts.aggregate(["supported", "refuted"]) == "qualified"
    assert verdicts.aggregate(["inconclusive", "supported"]) == "qualified"
    with pytest.raises(ValueError):
        verdicts.aggregate([])
    with pytest.raises(ValueError):
        verdicts.aggregate(["maybe"])


def test_deciding_part_is_the_first_that_is_not_supported_unless_named():
    a, b, c = (kc.part(n, v, value=i) for i, (n, v) in enumerate([("a", "supported"), ("b", "refuted"), ("c", "qualified")]))
    assert kc.Decision([a, b, c], "s", "c").deciding_part() is b
    assert kc.Decision([a], "s", "c").deciding_part() is a
    assert kc.Decision([a, b, c], "s", "c", key="c").deciding_part() is c
    with pytest.raises(ValueError):
        kc.Decision([a], "s", "c", key="nope").deciding_part()


def test_quotes():
    assert kc.quotes("CI lo >= 1.5", 1.5) and kc.quotes("ratio <= 10", 10.0) and kc.quotes("< 1e-06", 1e-6)
    assert not kc.quotes("CI lo >= 1.4", 1.5)


def test_claim_contract_errors():
    import ml_collections

    with pytest.raises(kc.ClaimError):
        kc.claim("Z9")(lambda t, config: None)
    config = ml_collections.ConfigDict({"criteria": {"a1": {"tol": 0.02}}})

    def fn(t, config, text="within 0.02"):
        return kc.Decision([kc.part("p", "supported", 0.0, (0.0, 0.0), 5)], "s", text)

    ok = kc.claim("A1", reads=("tab",))(fn)
    assert ok.decide({}, config, {"tab"}).verdict == "supported"
    with pytest.raises(kc.ClaimError, match="evidence"):
        ok.decide({}, config, {"other"})
    unquoted = kc.claim("A1", reads=("tab",))(lambda t, c: fn(t, c, text="within a tolerance"))
    with pytest.raises(kc.ClaimError, match="quote"):
        unquoted.decide({}, config, {"tab"})


@pytest.mark.parametrize("name", ["linear_collapse"])  # the experiment whose tables it reads (its xdist work group)
def test_readme_example_claim_runs(smoke, name):
    """The README's "Extending" example: one function in claims.py and its criteria in the config."""
    text = (registry.ROOT / "README.md").read_text()
    block = text.split("<!-- example:claim -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) <= 14
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 (the README example is the test input)
    new_claim = next(v for v in namespace.values() if isinstance(v, kc.Claim))
    result = smoke(name)
    record = new_claim.decide(Tables(result.tables), _smoke_config(name), set(result.tables))
    assert record.verdict in verdicts.VERDICTS and record.parts
