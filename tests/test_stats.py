"""Verdicts that hold: Holm's correction, the paired interval and t-test against scipy, and "cannot decide" where
the seeds cannot decide (zero variance, fewer than 3 seeds, or a comparison that clears zero only before Holm)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from dmmlib.suite import stats


def test_holm_adjusts_a_hand_example():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_is_capped_at_one_keeps_nans_out_of_the_family_and_is_monotone():
    got = stats.holm([0.5, math.nan, 0.2, 0.01])  # a family of 3: 0.01*3, 0.2*2, 0.5*1 -> 0.03, 0.4, 0.5
    assert got[[0, 2, 3]] == pytest.approx([0.5, 0.4, 0.03]) and math.isnan(got[1])
    assert stats.holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    p = np.random.default_rng(0).uniform(size=12)
    adjusted = stats.holm(p)
    assert (adjusted >= p).all() and (np.diff(adjusted[np.argsort(p)]) >= 0).all()
    assert stats.holm([]).shape == (0,)


def test_the_paired_interval_and_p_agree_with_scipy():
    a = np.array([0.81, 0.84, 0.79, 0.86, 0.83])
    b = np.array([0.80, 0.81, 0.78, 0.82, 0.80])
    got = stats.paired_interval(a, b)
    d = a - b
    low, high = st.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=st.sem(d))
    assert got["n"] == 5 and got["mean"] == pytest.approx(d.mean())
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((low, high))
    assert got["p_value"] == pytest.approx(st.ttest_rel(a, b).pvalue)


def test_zero_variance_and_two_seeds_cannot_decide():
    same = stats.paired_interval([0.82, 0.83, 0.84], [0.80, 0.81, 0.82])  # +2 points at every seed
    assert same["ci_low"] == same["ci_high"] and math.isnan(same["p_value"])
    assert stats.verdict(same["ci_low"], same["ci_high"], same["p_value"], same["n"]) == "cannot decide"
    assert stats.verdict(same["ci_low"], same["ci_high"]) == "cannot decide"  # an old caller too
    two = stats.paired_interval([0.90, 0.91], [0.80, 0.80])
    assert two["ci_low"] > 0 and stats.verdict(two["ci_low"], two["ci_high"], n=two["n"]) == "cannot decide"
    frame = stats.with_verdicts(pd.DataFrame([same, two]))
    assert list(frame["verdict"]) == ["cannot decide", "cannot decide"]


def test_old_callers_of_verdict_still_read_the_interval():
    assert stats.verdict(0.1, 0.3) == "supports" and stats.verdict(-0.3, -0.1) == "contradicts"
    assert stats.verdict(-0.1, 0.3) == "cannot decide"


def _values(differences: dict[str, list[float]], base: float = 0.80) -> pd.DataFrame:
    rows = [{"point": f"SEED={s}", "notebook": "06_run_ablations", "run": run, "metric": "accuracy", "scope": "all",
             "value": base + d} for run, ds in {"Baseline": [0.0] * 3, **differences}.items() for s, d in enumerate(ds)]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_verdict_that_passes_alone_fails_after_holm():
    # alone: p = 0.026 (t = 6.0, 2 df), the interval clears zero; among four comparisons Holm multiplies it by 3 or 4
    claims = [stats.Claim("c", run, "Baseline", "06") for run in ("A", "B", "C", "D")]
    values = _values({"A": [0.02, 0.035, 0.025], "B": [0.01, 0.012, 0.011], "C": [0.0, 0.01, -0.01],
                      "D": [0.005, -0.01, 0.0]})  # fmt: skip
    alone = stats.claims(values, claim_list=claims[:1]).iloc[0]
    assert alone["p_value"] < 0.05 and alone["ci_low"] > 0 and alone["verdict"] == "supports"
    together = stats.claims(values, claim_list=claims).set_index("comparison")
    a = together.loc["A - Baseline"]
    assert a["p_value"] == pytest.approx(alone["p_value"]) and a["p_holm"] >= 0.05 and a["ci_low"] > 0
    assert a["verdict"] == "cannot decide"
    assert "n = 3 seeds" in a["sentence"] and "p (Holm)" in a["sentence"] and "Holm's correction" in a["sentence"]
    assert together["p_holm"].tolist() == pytest.approx(list(stats.holm(together["p_value"])))
    # the same comparison judged in a family given explicitly (what a notebook prints) fails likewise
    within = stats.claims(values, claim_list=claims[:1], family=claims).iloc[0]
    assert within["p_holm"] == pytest.approx(a["p_holm"]) and within["verdict"] == "cannot decide"


def _pair(a: list[float], b: list[float]) -> pd.DataFrame:
    return pd.DataFrame([{"point": f"SEED={s}", "notebook": "06_run_ablations", "run": run, "metric": "accuracy",
                          "scope": "all", "value": v} for run, vs in (("A", a), ("B", b)) for s, v in enumerate(vs)])  # fmt: skip


def test_paired_is_narrower_is_said_only_where_the_record_shows_it():
    claim = stats.Claim("c", "A", "B", "06")
    together = _pair([0.80, 0.85, 0.90], [0.79, 0.845, 0.888])  # the runs rise and fall together
    widths = stats.pairing_widths(together, claim)
    assert widths is not None and widths["paired"] < min(widths["better"], widths["worse"])
    assert "Pairing narrows it:" in stats.pairing_sentence(together, claim)
    apart = _pair([0.80, 0.85, 0.90], [0.90, 0.84, 0.80])  # one rises where the other falls
    widths = stats.pairing_widths(apart, claim)
    assert widths is not None and widths["paired"] > max(widths["better"], widths["worse"])
    said = stats.pairing_sentence(apart, claim)
    assert "does not narrow" in said and "narrows it:" not in said and "varies more than either run" in said
    assert stats.pairing_sentences(apart, [claim, claim]) == [said]  # once per comparison
    assert stats.pairing_sentences(apart, [stats.Claim("c", "A", "Z", "06")]) == []  # not measured: nothing said
