"""CI regression of figures and the verdicts.json contract, for every experiment's smoke preset."""

from __future__ import annotations

import json
import re

import pytest

from experiments.kit import ledger, registry, regression

CLAIM_IDS = {cid for cid, _ in ledger.claims()}
EXPERIMENTS = registry.names()


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_smoke_matches_reference(smoke, name):
    reference = regression.load(name)
    assert reference is not None, f"no reference for {name}: run scripts/regression --update {name}"
    problems = regression.compare(smoke(name), reference)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_verdicts_follow_contract(smoke, name):
    result = smoke(name)
    assert result.verdicts, f"{name} decides no claim"
    produced = set(result.tables) | set(result.figures)
    for v in result.verdicts:
        record = v.to_json()
        assert set(record) == {
            "claim", "verdict", "statement", "criterion", "value", "ci", "n_seeds", "evidence", "published",
            "unit", "condition", "parts", "rules", "revised_by",
        }
        assert record["claim"] in CLAIM_IDS, record["claim"]
        assert record["verdict"] in ("supported", "qualified", "refuted", "inconclusive")
        assert record["rules"] == "revision 2" and record["published"]
        for p in record["parts"]:
            assert set(p) == {"part", "verdict", "value", "ci", "n_seeds", "unit", "condition"}
        assert record["statement"] and record["criterion"]
        stem = record["evidence"].rsplit(".", 1)[0]
        assert stem in produced, f"{name}: evidence {record['evidence']} is not one of its tables/figures"
        json.dumps(record)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_summary_is_numeric(smoke, name):
    for key, value in smoke(name).summary.items():
        assert value is None or isinstance(value, (int, float)), (key, value)


def _catalogue_ids() -> set[str]:
    """Claim IDs read from the specification's table rows here, independently of ledger.claims()."""
    text = (registry.ROOT / "configs" / "CLAIMS.md").read_text()
    return set(re.findall(r"^\| ?([A-Z][0-9]+) ?\|", text, flags=re.MULTILINE))


def test_ledger_lists_every_claim(tmp_path):
    ids = _catalogue_ids()
    assert len(ids) >= 20 and ids == CLAIM_IDS  # ledger.claims() reads every row of the catalogue
    text = ledger.report(tmp_path)
    for cid in ids:
        assert f"| {cid} |" in text
