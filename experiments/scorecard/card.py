"""The score card: one row per measure, one column per activation (scored first, then the references).

Each row reads one number (with its 95% CI where it has one) from a section's table; ``card_values``
keeps the numbers (section, measure, activation, value, lo, hi, text) and ``card`` their text.
:data:`MEANINGS` says in one line what each row measures (the README's legend).
"""

from __future__ import annotations

import math

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit.experiment import Tables

from .common import activations

INITS = (("Xavier", "xavier_normal", "xavier"), ("He", "he_normal", "he"), ("critical", "critical", "critical"))


def fmt(x: object) -> str:
    """A number in 3 significant digits; inf as ∞, NaN as —."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    x = float(x)
    return ("∞" if x > 0 else "-∞") if math.isinf(x) else f"{x:.3g}"


def _ci_text(v, lo, hi) -> str:
    if not np.isfinite(v):
        return fmt(v)
    return fmt(v) if not (np.isfinite(lo) and np.isfinite(hi)) or lo == hi else f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]"


def _row(df: pd.DataFrame | None, activation: str, **where) -> pd.Series | None:
    if df is None or not len(df):
        return None
    sel = df.activation == activation
    for k, v in where.items():
        sel &= df[k] == v
    return df[sel].iloc[0] if sel.any() else None


def _get(r, col, default=np.nan):
    return float(r[col]) if r is not None and col in r and r[col] is not None and not pd.isna(r[col]) else default


def _ci(r, col: str, prefix: str = "", suffix: str = "") -> tuple:
    v, lo, hi = _get(r, col), _get(r, f"{col}_lo"), _get(r, f"{col}_hi")
    return v, lo, hi, (prefix + _ci_text(v, lo, hi) + suffix) if r is not None else "—"


def _value(r, col: str, suffix: str = "") -> tuple:
    v = _get(r, col)
    return v, np.nan, np.nan, (fmt(v) + suffix) if r is not None else "—"


def _properties_rows(t, a) -> list[tuple]:
    p, d = _row(t.get("properties"), a), _row(t.get("derivative"), a)
    if p is None:
        return []
    hi = "∞)" if not p.bounded_above else f"{fmt(p.f_max)}]"
    lo = "(-∞" if not p.bounded_below else f"[{fmt(p.f_min)}"
    given = d is not None and not str(d.source).startswith("none")
    return [
        ("properties", "range of f", (np.nan, np.nan, np.nan, f"{lo}, {hi}")),
        ("properties", "E[f(z)], z ~ N(0,1)", _value(p, "gaussian_mean", " (zero-centred)" if p.zero_centred else "")),
        ("properties", "monotonic", (float(p.monotonic), np.nan, np.nan, fmt(bool(p.monotonic)))),
        ("properties", "smooth (C¹)", (float(p.smooth), np.nan, np.nan, fmt(bool(p.smooth)))),
        ("properties", "f′(0)", _value(p, "df0")),
        ("properties", "max |f′| (at x)", _value(p, "max_abs_derivative", f" (x = {fmt(p.argmax_abs_derivative)})")),
        ("properties", "f′ formula − autodiff, max |err|",
         _value(d, "max_abs_err", " (agrees)" if given and bool(d.agrees) else " (disagrees)") if given
         else (np.nan, np.nan, np.nan, "none given")),
    ]


def _theory_rows(t, a) -> list[tuple]:
    s, cm = t.get("signal_theory"), t.get("correlation_map")
    x, h, c = (_row(s, a, init=i) for i in ("xavier", "he", "critical"))
    conv = lambda r: "" if r is None or bool(r.get("q_converged", True)) else " (no fixed point)"
    m = _row(cm, a)
    return [
        ("theory", "χ₁ at Xavier (σ_w² = 1)", _value(x, "chi_1")),
        ("theory", "q* at Xavier", _value(x, "q_star", conv(x))),
        ("theory", "χ₁ at He (σ_w² = 2)", _value(h, "chi_1")),
        ("theory", "q* at He", _value(h, "q_star", conv(h))),
        ("theory", "critical σ_w² (σ_b² = 0.05)", _value(c, "sigma_w2") if np.isfinite(_get(c, "sigma_w2"))
         else (np.nan, np.nan, np.nan, "none in range")),
        ("theory", "ξ_c at the critical init", _value(c, "xi_c")),
        ("theory", "ξ_c at He", _value(h, "xi_c")),
        ("theory", "c-map slope at c = 1", _value(m, "slope_at_1", f" (χ₁ {fmt(_get(m, 'chi_1'))}, {m.init})" if m is not None else "")),
    ]


def _profile_rows(t, a) -> list[tuple]:
    g, rows = t.get("gradient_profile"), []
    for label, init, _ in INITS:
        r = _row(g, a, init=init)
        rows.append(("profile", f"log-gain / layer, {label} (theory)",
                     _ci(r, "log_gain", suffix=f" ({fmt(_get(r, 'log_gain_theory'))})")))
    for label, init, _ in INITS:
        rows.append(("profile", f"log10 ‖dL/dh₁‖/‖dL/dh_L‖, {label}", _ci(_row(g, a, init=init), "log10_ratio")))
    return rows


def _units_rows(t, a) -> list[tuple]:
    d, c = _row(t.get("dead_units"), a), _row(t.get("centring"), a)
    if d is None and c is None:
        return []
    lr = (np.nan, np.nan, np.nan, "—") if d is None else (
        _get(d, "learning_rate"), np.nan, np.nan,
        f"{fmt(_get(d, 'learning_rate'))} (acc {fmt(_get(d, 'final_train_acc'))}, {d.init})" if d.status == "ok" else str(d.status))
    return [
        ("units", "dead at init", _ci(d, "born_dead")),
        ("units", "highest SGD lr that learns", lr),
        ("units", "dead after SGD there", _ci(d, "final_dead")),
        ("units", "stuck on the negative branch there", _ci(d, "final_stuck")),
        ("units", "|mean output| at init", _ci(c, "abs_median_unit_mean")),
    ]


def _training_rows(t, a, config) -> list[tuple]:
    tr, rows = t.get("training"), []
    for ds in config.training.datasets:
        r = _row(tr, a, dataset=ds)
        if r is None:
            continue
        edge = " (grid edge)" if bool(r.at_grid_edge) else ""
        bound = "≥ " if r.status in ("censored", "never reached") else ""
        rows += [("training", f"{ds}: best lr (init)", (_get(r, "learning_rate"), np.nan, np.nan,
                  f"{fmt(_get(r, 'learning_rate'))}{edge} ({r.init})" if r.status != "diverged" else "all diverged")),
                 ("training", f"{ds}: steps to train error ≤ {fmt(_get(r, 'threshold'))}", _ci(r, "steps", prefix=bound)),
                 ("training", f"{ds}: test accuracy", _ci(r, "test_acc"))]
    return rows


def _cost_rows(t, a) -> list[tuple]:
    al, st = _row(t.get("cost_alone"), a), t.get("cost_steps")
    if al is None:
        return []
    return [
        ("cost", "alone fwd: time / ReLU's", _ci(al, "fwd_gross_ratio")),
        ("cost", "alone fwd+bwd: time / ReLU's", _ci(al, "fwd_bwd_gross_ratio")),
        ("cost", "alone fwd+bwd: ns / element over the identity", _value(al, "fwd_bwd_excess_ns_per_elem")),
        ("cost", "transcendentals / element (fwd+bwd)", _value(al, "fwd_bwd_transcendentals_per_elem")),
        ("cost", "MLP step: time / ReLU's − 1", _ci(_row(st, a, model="mlp"), "overhead_vs_relu")),
        ("cost", "CNN step: time / ReLU's − 1", _ci(_row(st, a, model="cnn"), "overhead_vs_relu")),
        ("cost", "MLP step: time / identity's − 1", _value(_row(st, a, model="mlp"), "overhead_vs_identity")),
    ]


def card_values(t: Tables, config: ml_collections.ConfigDict) -> pd.DataFrame:
    """The long table: one row per (measure, activation)."""
    rows = []
    for a in activations(config):
        for section, measure, (v, lo, hi, text) in (_properties_rows(t, a) + _theory_rows(t, a) + _profile_rows(t, a)
                                                    + _units_rows(t, a) + _training_rows(t, a, config) + _cost_rows(t, a)):
            rows.append({"section": section, "measure": measure, "activation": a, "value": v, "lo": lo, "hi": hi, "text": text})
    return pd.DataFrame(rows)


def card(values: pd.DataFrame, config: ml_collections.ConfigDict) -> pd.DataFrame:
    """The wide table: measures down, activations across (the scored one first)."""
    if not len(values):
        return pd.DataFrame(columns=["section", "measure"])
    wide = values.pivot_table(index=["section", "measure"], columns="activation", values="text", aggfunc="first", sort=False)
    wide = wide.reindex(columns=[a for a in activations(config) if a in wide.columns]).reset_index()
    wide.columns.name = None
    return wide.fillna("—")


def measure_card(config: ml_collections.ConfigDict, t: Tables) -> dict:
    """Tables ``card_values`` and ``card`` from whatever sections ran."""
    values = card_values(t, config)
    return {"card_values": values, "card": card(values, config)}
