"""The premise experiments: definitions fixed before their runs (the record's hashes), verdicts as defined, and the
sentences chosen by the numbers."""

import dataclasses
import math

import pandas as pd
import pytest

from dmmlib.suite import premises


def test_the_record_was_made_with_the_shipped_definitions():
    """A changed regime, control, prediction or scale needs a new record (never a quiet edit after the result)."""
    record = premises.load()
    assert record is not None, "evidence/premises-teach/ is missing: python -m dmmlib.suite.premises run, then record"
    entries, values, about = record
    assert premises.changed_definitions(entries) == []
    assert [e["mechanism"] for e in entries] == ["landmark task", "SPP branches", "Eq. 4", "Eq. 6"]
    for entry in entries:
        assert len(entry["seeds"]) >= 5
        assert entry["verdict"] in premises.VERDICTS
        assert set(entry["regime_effect"]) >= {"mean", "ci_low", "ci_high"}
    assert about["hardware"]["cpu_count"] >= 1 and about["arithmetic"] in ("float32", "bf16 autocast", "mixed (some runs bf16)")


def test_a_changed_definition_is_detected():
    entries = [{"mechanism": p.mechanism, "definition_sha256": p.sha256()} for p in premises.PREMISES]
    changed = list(premises.PREMISES)
    changed[3] = dataclasses.replace(changed[3], min_effect=0.5)
    assert premises.changed_definitions(entries, changed) == ["Eq. 6"]


def test_every_premise_compares_two_runs_one_switch_apart_on_two_datasets():
    for p in premises.PREMISES:
        assert p.regime != p.control and len(p.seeds) >= 5
        a, b = p.with_mechanism, p.without_mechanism
        assert (a.variant, a.overrides) != (b.variant, b.overrides)
    assert len(premises.tasks()) == sum(4 * len(p.seeds) for p in premises.PREMISES)


def _effect(values, direction="+"):
    sign = 1 if direction == "+" else -1
    return premises.stats.paired_interval([sign * v + 50 for v in values], [50] * len(values))


@pytest.mark.parametrize("values, p_holm, expected", [
    ([2.0, 2.5, 3.0, 2.2, 2.8], 0.001, "supported"),
    ([0.2, 0.25, 0.3, 0.22, 0.28], 0.001, "not supported"),  # too small to count (min 0.5)
    ([2.0, 2.5, 3.0, 2.2, 2.8], 0.2, "not supported"),  # does not survive Holm
    ([-1.0, 1.0, 0.5, -0.5, 0.1], 0.9, "not supported"),  # interval contains 0
    ([-2.0, -2.5, -3.0, -2.2, -2.8], 0.001, "against"),
    ([1.0, 1.0, 1.0, 1.0, 1.0], 0.001, "cannot decide"),  # zero variance
    ([2.0, 3.0], 0.001, "cannot decide"),  # two seeds
])  # fmt: skip
def test_verdicts_follow_their_definition(values, p_holm, expected):
    word, reason = premises.verdict(_effect(values), p_holm, "+", 0.5)
    assert word == expected, reason


def test_a_negative_prediction_is_supported_by_a_fall():
    word, _ = premises.verdict(_effect([2.0, 2.5, 3.0, 2.2, 2.8], "-"), 0.001, "-", 0.5)
    assert word == "supported"


def _values(mechanism, condition, with_values, without_values, metric="accuracy", scope="all"):
    premise = premises.by_mechanism(mechanism)
    rows = []
    for seed, (a, b) in enumerate(zip(with_values, without_values)):
        for arm, value in ((premise.with_mechanism.label, a), (premise.without_mechanism.label, b)):
            rows.append({"mechanism": mechanism, "condition": condition, "arm": arm, "seed": seed,
                         "metric": metric, "scope": scope, "value": value})
    return rows


def test_effects_are_paired_by_seed_in_points():
    p = premises.by_mechanism("landmark task")
    values = pd.DataFrame(_values("landmark task", p.regime.name, [0.80, 0.82, 0.81], [0.79, 0.80, 0.80]))
    effect = premises.effects(values, p, p.regime.name)
    assert effect["per_seed"] == pytest.approx([1.0, 2.0, 1.0])
    assert effect["mean"] == pytest.approx(4 / 3)
    assert effect["seeds"] == [0, 1, 2]


def _judged(regime_with, control_with):
    rows = []
    for p in premises.PREMISES:
        base = [0.8, 0.81, 0.79, 0.8, 0.82]
        rows += _values(p.mechanism, p.regime.name, [b + d for b, d in zip(base, regime_with)], base,
                        p.metric, p.scope)
        rows += _values(p.mechanism, p.control.name, [b + d for b, d in zip(base, control_with)], base,
                        p.metric, p.scope)
    return premises.judge(pd.DataFrame(rows))


def test_the_meaning_sentence_follows_the_verdicts_both_ways():
    helps_where_it_should = _judged([0.03, 0.031, 0.029, 0.032, 0.03], [0.001, -0.002, 0.0, 0.002, -0.001])
    entry = helps_where_it_should[0]
    assert entry["verdict"] == "supported" and entry["control_verdict"] != "supported"
    assert "helped where its premise holds and not where it does not" in premises.meaning_sentence(entry)
    hurts = _judged([-0.03, -0.031, -0.029, -0.032, -0.03], [0.0, 0.001, -0.001, 0.0, 0.002])[0]
    assert hurts["verdict"] == "against"
    assert "hurt where its premise says it should help" in premises.meaning_sentence(hurts)
    assert "AGAINST" in premises.verdict_sentence(hurts) and "n = 5 seeds" in premises.verdict_sentence(hurts)
    nothing = _judged([0.001, -0.002, 0.0, 0.002, -0.001], [0.0] * 5)[0]
    assert nothing["verdict"] == "not supported"
    assert "did not help measurably" in premises.meaning_sentence(nothing)


def test_holm_runs_over_the_four_regime_effects():
    judged = _judged([0.03, 0.031, 0.029, 0.032, 0.03], [0.0] * 5)
    ps = [e["p"] for e in judged]
    expected = premises.stats.holm(ps)
    assert [e["p_holm"] for e in judged] == pytest.approx(list(expected))
    assert all(not math.isnan(p) for p in ps)


def test_a_small_effect_in_the_predicted_direction_is_told_apart_from_none():
    small = _judged([0.003, 0.0032, 0.0029, 0.0031, 0.003], [0.0, 0.0001, -0.0001, 0.0, 0.0002])[0]
    assert small["verdict"] == "not supported" and small["regime_effect"]["ci_low"] > 0
    assert "moved the predicted way" in premises.meaning_sentence(small)
    assert "and not in the control" in premises.meaning_sentence(small)
