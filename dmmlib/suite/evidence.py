"""Stored evidence: the small per-seed record of a finished sweep, kept in the repository under ``evidence/<name>/``.

A sweep's folder (``build/sweeps/<name>/``) holds checkpoints and executed notebooks: too large to keep, and gone
on a fresh clone. Notebooks 05-07 state rankings and effects *over seeds*, so they need the sweep's numbers in a
form the repository can carry. ``python -m dmmlib.suite evidence <name>`` (after ``make sweep``) writes:

- ``values.csv``: per seed, notebook, run, metric and scope (all / objective / subjective), the mean over the
  attributes in scope (:func:`dmmlib.suite.stats.point_values`): a few hundred rows.
- ``histories.json``: per seed and trained run, the per-update scalars that explain the results: the gradient
  norms at the trunk output of the two parts of Eq. 3 (``grad_norm_attributes``, ``grad_norm_landmarks``), the
  mean, smallest and largest lambda (Eq. 4), the mean |tau| (Eq. 6), and the validation accuracy.
- ``about.json``: the sweep spec, the preset's settings at the time (so a later retune is detected, not silently
  compared), the seeds, the commit and the date.

Notebooks load it with :func:`load`, turn it into sentences with :func:`ranking_sentences` and :func:`effects`
(numbers are never typed into markdown), and say when it is stale (:meth:`Evidence.stale`), i.e. when the preset
has changed since the sweep ran.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from dmmlib.files import atomic
from dmmlib.suite import paths, presets, provenance, stats
from dmmlib.suite.stats import Claim

#: The record notebooks 05-07 read: the teach preset over seeds (``sweeps/evidence-teach.yml``).
TEACH_RECORD = "evidence-teach"
VALUES_CSV, HISTORIES_JSON, ABOUT_JSON = "values.csv", "histories.json", "about.json"
#: the file that marks a run folder whose training diverged (written by :func:`dmmlib.suite.pipeline._train_once`)
DIVERGED_MARKER = "diverged.json"
#: Metrics kept: mean accuracy and the two reference rows that frame it.
KEPT_METRICS = ("accuracy", "majority_accuracy", "ceiling_accuracy", "balanced_accuracy")
#: Per-update history entries kept (scalars) and per-attribute ones reduced to mean / min / max.
_SCALARS = ("iteration", "epoch", "lr", "val_mean_accuracy", "val_mean_loss", "grad_norm_attributes",
            "grad_norm_landmarks")  # fmt: skip


def evidence_root() -> Path:
    """``evidence/`` at the repository root: one folder per exported sweep."""
    return paths.repo_root() / "evidence"


# ------------------------------------------------------------------------------------------------ components
#: Table 1 decomposed into the paper's components: each is a paired difference of two variants that differ in that
#: component only (or, for the first, in everything the DMM heads add at once), at the same seeds.
TABLE1_COMPONENTS: tuple[Claim, ...] = (
    Claim("DMM heads (SPP + FC branches, landmark task, grouping) vs a pooled linear head", "DMM-EQ-FIX", "Baseline",
          "06"),
    Claim("dynamic weights (Eq. 4, as the preset runs it) vs uniform, fixed thresholds", "DMM-DW-FIX", "DMM-EQ-FIX",
          "06"),
    Claim("dynamic weights (Eq. 4, as the preset runs it) vs uniform, adaptive thresholds", "DMM-CNN", "DMM-EQ-AT",
          "06"),
    Claim("adaptive thresholds (Eq. 6) vs fixed, uniform weights", "DMM-EQ-AT", "DMM-EQ-FIX", "06"),
    Claim("adaptive thresholds (Eq. 6) vs fixed, dynamic weights", "DMM-CNN", "DMM-DW-FIX", "06"),
    Claim("the landmark task (beta L_FLD in Eq. 3)", "DMM-CNN", "DMM-FAC", "06"),
    Claim("attribute grouping (two SPP branches vs one)", "DMM-CNN", "DMM-SPP", "06"),
)  # fmt: skip
#: Table 2: the paper's Eq. 4 against each other scheme on the same network.
TABLE2_COMPONENTS: tuple[Claim, ...] = tuple(
    Claim(f"Eq. 4 (ours, as the preset runs it) vs {other}", "ours", other, "07") for other in ("UW", "DWA", "AW")
)
#: Notebook 05: the two readings of Eq. 4 on DMM-CNN.
EQ4_COMPONENTS: tuple[Claim, ...] = (
    Claim("Eq. 4 rescaled to mean 1 vs Eq. 4 as printed", "DMM-CNN", "DMM-CNN, Eq. 4 as printed", "05"),
    Claim("Eq. 4 as printed vs uniform weights", "DMM-CNN, Eq. 4 as printed", "DMM-EQ-AT", "05"),
)


# -------------------------------------------------------------------------------------------------- the record
@dataclass
class Evidence:
    """A sweep's stored record (see the module docstring)."""

    name: str
    folder: Path
    values: pd.DataFrame
    histories: list[dict[str, Any]]
    about: dict[str, Any]

    @property
    def preset(self) -> str:
        return str(self.about["preset"])

    @property
    def seeds(self) -> list[int]:
        return [int(s) for s in self.about["seeds"]]

    def stale(self) -> list[str]:
        """Why the record no longer describes today's preset (empty: it does): every setting that changed."""
        return stale_settings(self.about)

    @property
    def diverged(self) -> list[dict[str, Any]]:
        """The runs whose training diverged (loss NaN or inf): seed, notebook, run label and what
        :func:`dmmlib.suite.pipeline.divergence_info` recorded. They have no values at that seed."""
        return list(self.about.get("diverged", []))

    @cached_property
    def updates(self) -> pd.DataFrame:
        """The stored per-update scalars as one long table (built once per record): seed, notebook run name,
        variant, weighting, rescaled, and the kept scalars of each update. Runs that diverged are left out: their
        last update is not where training ended (:func:`divergence_sentence` reads them)."""
        rows = []
        for run in self.histories:
            if run.get("diverged"):
                continue
            ids = {k: run[k] for k in ("seed", "run", "variant", "weighting", "dynamic_normalise")}
            rows += [{**ids, **update} for update in run["updates"]]
        return pd.DataFrame(rows)

    def summary(self, notebook: str, metric: str = "accuracy", scope: str = "all") -> pd.DataFrame:
        """Per run of ``notebook`` (a stem prefix): n, mean, sd and 95% interval over seeds, best first."""
        part = select(self.values, notebook, metric, scope)
        table = stats.summarise(part)
        return table.sort_values("mean", ascending=False).set_index("run")[["n", "mean", "ci_low", "ci_high"]]

    def describe(self) -> str:
        """One line: what ran, where, when."""
        a = self.about
        return (f"stored evidence {self.name!r}: {len(self.seeds)} seeds ({', '.join(map(str, self.seeds))}) of the "
                f"{a['preset']} preset on {a['dataset']}, notebooks {', '.join(a['notebooks'])}, commit "
                f"{a.get('commit') or 'unknown'}, {a.get('created', '')[:10]}")  # fmt: skip


def stale_settings(about: dict[str, Any]) -> list[str]:
    """Every setting of the record's preset (``about["preset_settings"]``) that differs from today's preset."""
    now = preset_settings(str(about["preset"]))
    then = about.get("preset_settings", {})
    return [f"{key}: {then.get(key)!r} when the record was made, {now.get(key)!r} now"
            for key in sorted(set(now) | set(then)) if now.get(key) != then.get(key)]  # fmt: skip


def select(values: pd.DataFrame, notebook: str, metric: str, scope: str) -> pd.DataFrame:
    """The rows of stored values for notebooks whose stem starts with ``notebook``, one metric and scope."""
    keep = (values["notebook"].astype(str).str.startswith(notebook) & (values["metric"] == metric)
            & (values["scope"] == scope))  # fmt: skip
    return values[keep]


def preset_settings(name: str) -> dict[str, Any]:
    """What of a preset changes results (sizes and training settings), as JSON-comparable values."""
    preset = presets.PRESETS[name]
    settings = {"num_images": preset.num_images, "num_lfwa_images": preset.num_lfwa_images,
                "data_seed": presets.DATA_SEED}  # fmt: skip
    settings.update({f"train.{k}": _plain(v) for k, v in sorted(preset.train.items())})
    settings.update({f"finetune.{k}": _plain(v) for k, v in sorted(preset.finetune.items())})
    return settings


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# ------------------------------------------------------------------------------------------------- sentences
def ranking_sentences(evidence: Evidence, notebook: str, metric: str = "accuracy") -> list[str]:
    """The runs of ``notebook`` ranked by mean test ``metric`` over seeds, with 95% intervals, and the majority
    class and ceiling of the same seeds; plus which neighbours in the ranking the intervals separate."""
    table = evidence.summary(notebook, metric)
    if table.empty:
        return [f"{evidence.name}: no results of notebook {notebook} stored"]
    n = int(table["n"].min())
    ranked = " > ".join(f"{run} {100 * row['mean']:.2f} [{100 * row['ci_low']:.2f}, {100 * row['ci_high']:.2f}]"
                        for run, row in table.iterrows())  # fmt: skip
    lines = [f"Mean test {metric.replace('_', ' ')} over {n} seeds ({evidence.preset} preset), best first, with 95% "
             f"intervals (%): {ranked}."]  # fmt: skip
    bounds = []
    for label, reference in (("always answering the majority class", "majority_accuracy"),
                             ("the ceiling (the best any model can reach)", "ceiling_accuracy")):  # fmt: skip
        ref = select(evidence.values, notebook, reference, "all")["value"]
        if len(ref) and not ref.isna().all():
            bounds.append(f"{label} scores {100 * ref.mean():.2f}")
    if bounds:
        lines.append("On the same test splits, " + " and ".join(bounds) + " (%).")
    gone = divergence_sentence(evidence, notebook)
    if gone:
        lines.append(gone)
    return lines


def divergence_sentence(evidence: Evidence, notebook: str = "") -> str:
    """Which stored runs of ``notebook`` (all: "") diverged, at which seed and iteration, and how large the largest
    Eq. 4 weight was at the update before; "" when none did. Their means and paired effects rest on the other seeds."""
    parts = []
    for entry in evidence.diverged:
        if not str(entry.get("notebook", "")).startswith(notebook):
            continue
        text = f"{entry['run']} at seed {entry['seed']} (iteration {entry.get('iteration', '?')}"
        if "lambda_max" in entry:
            text += f"; largest Eq. 4 weight {entry['lambda_max']:.3g} at the update before"
        parts.append(text + ")")
    if not parts:
        return ""
    return ("Training diverged (loss NaN or inf), so these runs have no result at that seed and their means and "
            "paired effects rest on the other seeds: " + "; ".join(parts) + ".")  # fmt: skip


def effects(evidence: Evidence, components: Sequence[Claim], metric: str = "accuracy", scope: str = "all",
            family: Sequence[Claim] | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per component: the paired difference ``better - worse`` over seeds (points), its interval, the paired
    t-test's p value and its Holm adjustment over ``family`` (the components a notebook prints together; by default
    ``components``), and ``effect`` ("raises", "lowers" or "no clear effect" on mean accuracy), with a sentence."""
    rows = stats.claims(evidence.values, metric=metric, scope=scope, claim_list=list(components), family=family)
    words = {"supports": "raises", "contradicts": "lowers", "cannot decide": "no clear effect",
             "not measured": "not measured"}  # fmt: skip
    rows = rows.rename(columns={"claim": "component"})
    rows["effect"] = rows["verdict"].map(words)
    family_size = int(rows["p_holm"].notna().sum()) if family is None else None
    reasons = [_reason(rows, i, family_size) for i in range(len(rows))]
    for column in ("mean", "ci_low", "ci_high"):
        rows[column] = 100 * rows[column]
    rows["sentence"] = [_effect_sentence(r, metric, why) for r, why in zip(rows.itertuples(), reasons)]
    return rows[["component", "comparison", "n", "mean", "ci_low", "ci_high", "p_value", "p_holm", "effect", "verdict",
                 "sentence"]]  # fmt: skip


def _reason(rows: pd.DataFrame, i: int, family_size: int | None) -> str:
    row = rows.iloc[i]
    if row["verdict"] != "cannot decide":
        return ""
    numbers = {"n": row["n"], "sd": 0.0 if row["ci_low"] == row["ci_high"] else 1.0, "ci_low": row["ci_low"],
               "ci_high": row["ci_high"], **({"family": family_size} if family_size else {})}  # fmt: skip
    return stats.undecided_reason(numbers)


def _effect_sentence(row: Any, metric: str, why: str = "") -> str:
    if row.effect == "not measured":
        return f"{row.component}: {row.comparison} was not run - not measured."
    label = metric.replace("_", " ")
    verdict = {"raises": f"it raises mean {label}", "lowers": f"it lowers mean {label}",
               "no clear effect": f"{why or 'the interval contains zero'}: no clear effect"}[row.effect]  # fmt: skip
    return (f"{row.component}: {row.comparison} = {row.mean:+.2f} points [{row.ci_low:+.2f}, {row.ci_high:+.2f}] "
            f"(n = {row.n} seeds, p = {stats.p_text(row.p_value)}, p (Holm) = {stats.p_text(row.p_holm)}); {verdict}.")  # fmt: skip


def largest_effect_sentence(table: pd.DataFrame) -> str:
    """Which measured component moves mean accuracy the most, from an :func:`effects` table."""
    measured = table[table["effect"].isin(["raises", "lowers"])]
    if measured.empty:
        return ("No component has an effect whose interval excludes zero with a Holm-adjusted p below "
                f"{stats.ALPHA:g} at these seeds.")  # fmt: skip
    top = measured.loc[measured["mean"].abs().idxmax()]
    return (f"The largest effect whose interval excludes zero (Holm-adjusted p below {stats.ALPHA:g}): "
            f"{top['component']} ({top['comparison']} = {top['mean']:+.2f} points).")  # fmt: skip


# ------------------------------------------------------------------------------------------------- histories
def history_frame(evidence: Evidence) -> pd.DataFrame:
    """The stored per-update scalars as one long table (:attr:`Evidence.updates`)."""
    return evidence.updates


def _runs(frame: pd.DataFrame, variant: str, weighting: str | None = None, rescaled: bool | None = None) -> pd.DataFrame:
    part = frame[frame["variant"] == variant]
    part = part[part["weighting"].isna()] if weighting is None else part[part["weighting"] == weighting]
    if rescaled is not None:
        part = part[part["dynamic_normalise"] == rescaled]
    return part


def _preset_run(evidence: Evidence, frame: pd.DataFrame, variant: str) -> pd.DataFrame:
    """The updates of ``variant`` trained with the preset's own reading of Eq. 4 (not notebook 05's other one)."""
    rescaled = bool(evidence.about.get("preset_settings", {}).get("train.dynamic_normalise", False))
    return _runs(frame, variant, rescaled=rescaled)


def _last(part: pd.DataFrame) -> pd.DataFrame:
    """The last update of each seed's run."""
    return part.sort_values("iteration").groupby("seed").tail(1)


def late_gain_sentence(evidence: Evidence, variants: Sequence[str] = ("Baseline", "DMM-EQ-FIX", "DMM-CNN"),
                       updates: int = 3) -> str:  # fmt: skip
    """How much validation mean accuracy still rose over each run's last ``updates`` updates (mean over seeds):
    a run still rising when training stopped had not converged, so a table at this budget partly measures speed."""
    gains = {variant: _late_gain(evidence, variant, updates) for variant in variants}
    parts = [f"{variant} {gain:+.2f}" for variant, gain in gains.items() if not math.isnan(gain)]
    if not parts:
        return "No stored history to read the end of training from."
    return (f"Validation mean accuracy over the last {updates} updates of training (points, mean over "
            f"{len(evidence.seeds)} seeds): " + ", ".join(parts) + ".")  # fmt: skip


def weight_spread_sentence(evidence: Evidence) -> str:
    """The spread of Eq. 4's weights at the end of DMM-CNN's training: largest and smallest lambda (mean over
    seeds), for the reading of Eq. 4 the preset runs and, where stored, the literal one."""
    frame = history_frame(evidence)
    parts = []
    for label, rescaled in (("rescaled to mean 1", True), ("as printed", False)):
        last = _last(_runs(frame, "DMM-CNN", rescaled=rescaled))
        if last.empty or "lambda_max" not in last:
            continue
        parts.append(f"Eq. 4 {label}: largest lambda {last['lambda_max'].mean():.3g}, smallest "
                     f"{last['lambda_min'].mean():.3g}, mean {last['lambda_mean'].mean():.3g}")  # fmt: skip
    if not parts:
        return "No stored DMM-CNN history with Eq. 4 weights."
    return (f"At DMM-CNN's last update (mean over {len(evidence.seeds)} seeds): " + "; ".join(parts) + ".")


def gradient_share_sentence(evidence: Evidence, variants: Sequence[str] = ("DMM-CNN", "DMM-EQ-FIX")) -> str:
    """How strongly the landmark task drives the shared features: the median over updates and seeds of the ratio
    of the gradient norms that ``beta L_FLD`` and ``sum_j lambda_j L_j`` send to the trunk's output."""
    frame = history_frame(evidence)
    if "grad_norm_landmarks" not in frame:
        return "No stored gradient norms (runs made before they were recorded)."
    ratios = {variant: _gradient_ratio(evidence, variant) for variant in variants}
    parts = [f"{variant} {ratio:.3g}" for variant, ratio in ratios.items() if not math.isnan(ratio)]
    if not parts:
        return "No stored gradient norms for these variants."
    return ("Gradient norm at the trunk output of beta L_FLD divided by that of the attribute terms of Eq. 3 "
            f"(median over updates and {len(evidence.seeds)} seeds): " + ", ".join(parts) + ".")  # fmt: skip


def threshold_sentence(evidence: Evidence, variants: Sequence[str] = ("DMM-EQ-AT", "DMM-CNN")) -> str:
    """Where the adaptive thresholds of Eq. 6 end: mean |tau| over the 40 attributes at the last update."""
    frame = history_frame(evidence)
    parts = []
    for variant in variants:
        last = _last(_preset_run(evidence, frame, variant))
        if "tau_mean_abs" in last and len(last):
            parts.append(f"{variant} {last['tau_mean_abs'].mean():.3g}")
    if not parts:
        return "No stored thresholds."
    return ("Mean |tau| over the 40 attributes at the last update (mean over seeds; outputs are trained towards "
            "-1 and +1): " + ", ".join(parts) + ".")  # fmt: skip


def collapse_sentence(evidence: Evidence, below: float = 0.01) -> str:
    """When Eq. 4 as printed collapsed in the stored runs: the first iteration at which the mean lambda fell below
    ``below`` in each seed, and the literal run's final accuracy beside the majority class."""
    frame = _runs(history_frame(evidence), "DMM-CNN", rescaled=False)
    if frame.empty:
        return "No stored run of Eq. 4 as printed."
    firsts = []
    for seed, g in frame.sort_values("iteration").groupby("seed"):
        low = g[g["lambda_mean"] < below]
        firsts.append(f"seed {seed}: " + (f"iteration {int(low['iteration'].iloc[0])}" if len(low) else "never"))
    text = f"Eq. 4 as printed: mean lambda first below {below} at " + "; ".join(firsts) + "."
    accuracy = select(evidence.values, "05", "accuracy", "all")
    literal = accuracy[accuracy["run"] == "DMM-CNN, Eq. 4 as printed"]["value"]
    majority = select(evidence.values, "05", "majority_accuracy", "all")["value"]
    if len(literal) and len(majority):
        text += (f" Its mean test accuracy: {100 * literal.mean():.2f}% (mean over {len(literal)} seeds), against "
                 f"{100 * majority.mean():.2f}% for always answering the majority class.")  # fmt: skip
    return text


#: Reading the diagnostics: a weight ratio (largest / smallest lambda) above this means a few attributes carry the
#: attribute term; a gradient ratio (landmark / attributes) below this means the landmark task barely moves the
#: shared features; a mean |tau| below this (outputs are trained towards +-1) means the thresholds move few
#: decisions; a late gain above this (points over the last updates) means a run was still improving.
WIDE_WEIGHTS, WEAK_GRADIENT, SMALL_TAU, STILL_RISING = 10.0, 0.1, 0.1, 0.3


def _effect(table: pd.DataFrame, comparison: str) -> str:
    rows = table[table["comparison"] == comparison]
    return str(rows["effect"].iloc[0]) if len(rows) else "not measured"


def _late_gain(evidence: Evidence, variant: str, updates: int = 3) -> float:
    part = _preset_run(evidence, history_frame(evidence), variant)
    rises = [100 * (g["val_mean_accuracy"].iloc[-1] - g["val_mean_accuracy"].iloc[-1 - updates])
             for _, g in part.sort_values("iteration").groupby("seed") if len(g) > updates]  # fmt: skip
    return sum(rises) / len(rises) if rises else math.nan


def _gradient_ratio(evidence: Evidence, variant: str) -> float:
    """Median over updates and seeds of |grad of beta L_FLD| / |grad of sum_j lambda_j L_j| at the trunk output."""
    part = _preset_run(evidence, history_frame(evidence), variant)
    if "grad_norm_landmarks" not in part:
        return math.nan
    part = part.dropna(subset=["grad_norm_landmarks", "grad_norm_attributes"])
    return float((part["grad_norm_landmarks"] / part["grad_norm_attributes"]).median()) if len(part) else math.nan


def _last_mean(evidence: Evidence, variant: str, column: str, rescaled: bool | None = None) -> float:
    frame = history_frame(evidence)
    part = _preset_run(evidence, frame, variant) if rescaled is None else _runs(frame, variant, rescaled=rescaled)
    last = _last(part)
    return float(last[column].mean()) if column in last and len(last) else math.nan


def table1_explanation(evidence: Evidence) -> list[str]:
    """What the stored evidence supports about Table 1, one sentence per component, chosen by the numbers (the
    paired effects and the diagnostics of the histories), so that it changes when the evidence does."""
    table = effects(evidence, TABLE1_COMPONENTS)
    lines = []
    heads = _effect(table, "DMM-EQ-FIX - Baseline")
    gain_dmm, gain_base = _late_gain(evidence, "DMM-EQ-FIX"), _late_gain(evidence, "Baseline")
    if heads in ("raises", "lowers"):
        verb = {"raises": "raise", "lowers": "lower"}[heads]
        line = f"The DMM heads {verb} mean accuracy against Baseline's pooled linear head."
        if heads == "lowers" and gain_dmm > max(gain_base, STILL_RISING):
            line += (" DMM-EQ-FIX was still improving faster than Baseline when training stopped, so at this budget "
                     "the difference partly measures how fast each head type trains from scratch, not only what it "
                     "can reach.")  # fmt: skip
        elif heads == "lowers":
            line += " Neither run was still improving much at the end, so the gap is not only a matter of speed."
        lines.append(line)
    dynamic = {_effect(table, "DMM-DW-FIX - DMM-EQ-FIX"), _effect(table, "DMM-CNN - DMM-EQ-AT")}
    spread = _last_mean(evidence, "DMM-CNN", "lambda_max") / _last_mean(evidence, "DMM-CNN", "lambda_min")
    if "lowers" in dynamic:
        line = "Eq. 4, as this preset runs it, lowers mean accuracy in at least one pairing."
        if spread > WIDE_WEIGHTS:
            line += (f" Its weights end spread by a factor of {spread:.3g}: a few attributes carry the attribute "
                     "term of Eq. 3 and the others are barely trained. Each weight is the relative change of one "
                     "attribute's validation loss between two passes, a noisy ratio on a small validation set.")  # fmt: skip
        lines.append(line)
    elif "raises" in dynamic:
        lines.append("Eq. 4 raises mean accuracy in at least one pairing.")
    else:
        lines.append("Eq. 4's effect is within the seeds' noise in both pairings.")
    thresholds = {_effect(table, "DMM-EQ-AT - DMM-EQ-FIX"), _effect(table, "DMM-CNN - DMM-DW-FIX")}
    tau = _last_mean(evidence, "DMM-EQ-AT", "tau_mean_abs")
    if thresholds <= {"no clear effect"} and tau < SMALL_TAU:
        line = (f"The adaptive thresholds end near zero (mean |tau| {tau:.3g}, against outputs trained towards +-1), "
                "so they change few decisions, and their effect on accuracy is within the seeds' noise.")  # fmt: skip
    else:
        line = "Adaptive thresholds: " + " / ".join(sorted(thresholds)) + f" (mean |tau| at the end {tau:.3g})."
    balanced = effects(evidence, TABLE1_COMPONENTS, metric="balanced_accuracy")
    row = balanced[balanced["comparison"] == "DMM-EQ-AT - DMM-EQ-FIX"]
    if len(row) and row["effect"].iloc[0] in ("raises", "lowers"):
        line += (" In balanced accuracy (the mean of the true-positive and true-negative rates, which Eq. 6 trades "
                 "against each other), they "
                 f"{ {'raises': 'raise', 'lowers': 'lower'}[row['effect'].iloc[0]]} it by {row['mean'].iloc[0]:+.2f} "
                 f"points [{row['ci_low'].iloc[0]:+.2f}, {row['ci_high'].iloc[0]:+.2f}].")  # fmt: skip
    lines.append(line)
    landmark = _effect(table, "DMM-CNN - DMM-FAC")
    ratio = _gradient_ratio(evidence, "DMM-CNN")
    if landmark == "no clear effect" and ratio < WEAK_GRADIENT:
        lines.append(f"The landmark task sends the shared features a gradient {ratio:.3g} times that of the attribute "
                     "terms (median), too little to change the trunk much: its effect is within the seeds' noise.")  # fmt: skip
    else:
        lines.append(f"The landmark task: {landmark} (gradient ratio, landmarks / attributes, median {ratio:.3g}).")
    return lines


def table2_explanation(evidence: Evidence) -> list[str]:
    """What the stored evidence supports about Table 2 (the paper's Eq. 4 against UW, DWA and AW), judged in the
    family notebook 07 prints (:data:`TABLE2_COMPONENTS` and :data:`EQ4_COMPONENTS`)."""
    table = effects(evidence, TABLE2_COMPONENTS, family=TABLE2_COMPONENTS + EQ4_COMPONENTS)
    beats = [r.comparison.split(" - ")[1] for r in table.itertuples() if r.effect == "raises"]
    loses = [r.comparison.split(" - ")[1] for r in table.itertuples() if r.effect == "lowers"]
    ties = [r.comparison.split(" - ")[1] for r in table.itertuples() if r.effect == "no clear effect"]
    lines = [f"Eq. 4 (ours) beats: {', '.join(beats) or 'none'}; loses to: {', '.join(loses) or 'none'}; "
             f"cannot be told apart from: {', '.join(ties) or 'none'} (95% paired intervals over seeds, Holm-adjusted "
             "p values)."]
    spread = _last_mean(evidence, "DMM-CNN", "lambda_max") / _last_mean(evidence, "DMM-CNN", "lambda_min")
    if loses and spread > WIDE_WEIGHTS:
        lines.append(f"Where it loses, its weights end spread by a factor of {spread:.3g} while UW keeps every weight "
                     "at 1 and DWA and AW keep their mean at 1 with a temperature or a window: Eq. 4 concentrates the "
                     "loss on a few attributes.")  # fmt: skip
    lines.append(collapse_sentence(evidence))
    return lines


def _history_record(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    updates = []
    for entry in history:
        update = {k: _round(entry[k]) for k in _SCALARS if k in entry}
        lam = entry.get("lambda")
        if lam:
            update.update(lambda_mean=_round(sum(lam) / len(lam)), lambda_min=_round(min(lam)),
                          lambda_max=_round(max(lam)))  # fmt: skip
        tau = entry.get("tau")
        if tau:
            update["tau_mean_abs"] = _round(sum(abs(t) for t in tau) / len(tau))
        updates.append(update)
    return updates


def _round(value: Any) -> Any:
    return float(f"{value:.5g}") if isinstance(value, float) and math.isfinite(value) else value


# ---------------------------------------------------------------------------------------------------- export
def export(name: str, sweep_folder: Path | None = None, out_root: Path | None = None) -> Path:
    """Write ``evidence/<name>/`` from the finished sweep ``build/sweeps/<name>/``; returns the folder."""
    folder = sweep_folder or stats.sweep_dir(name)
    collected = stats.collect(name, folder, write=False, quiet=True)
    if collected.results.empty:
        raise ValueError(f"sweep {name!r} in {folder} has no results yet: run it first (make sweep SPEC=...)")
    info = json.loads((folder / stats.SWEEP_FILE).read_text())
    values = stats.point_values(collected.results)
    values = values[values["metric"].isin(KEPT_METRICS)].copy()
    seed_of = {point: _seed(folder / point) for point in values["point"].unique()}
    values.insert(0, "seed", values["point"].map(seed_of))
    values["value"] = values["value"].round(6)
    histories = []
    for point, seed in sorted(seed_of.items(), key=lambda item: item[1]):
        models = folder / point / "runs" / info["resolved_preset"] / "models"
        for run_dir in sorted(p for p in models.iterdir() if (p / "history.json").is_file()):
            cfg = json.loads((run_dir / "config.json").read_text())
            histories.append({"seed": seed, "run": run_dir.name, "variant": cfg.get("variant"),
                              "weighting": cfg.get("weighting"), "dynamic_normalise": cfg.get("dynamic_normalise"),
                              "diverged": (run_dir / DIVERGED_MARKER).is_file(),
                              "updates": _history_record(json.loads((run_dir / "history.json").read_text()))})  # fmt: skip
    diverged = [{"seed": seed, **entry} for point, seed in sorted(seed_of.items(), key=lambda item: item[1])
                for entry in _divergences(folder / point / "runs" / info["resolved_preset"] / "results")]  # fmt: skip
    about = {
        "name": name,
        "description": info.get("description", ""),
        "preset": info["resolved_preset"],
        "dataset": "synthetic CelebA-format data (the suite's embedded default)"
                   if presets.PRESETS[info["resolved_preset"]].data == "synthetic" else "real CelebA/LFWA",
        "notebooks": [Path(n).stem for n in info["notebooks"]],
        "seeds": sorted(seed_of.values()),
        "diverged": diverged,
        "preset_settings": preset_settings(info["resolved_preset"]),
        "commit": provenance.git_commit() or None,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": f"python -m dmmlib.suite sweep sweeps/{name}.yml; python -m dmmlib.suite evidence {name}",
    }  # fmt: skip
    out = (out_root or evidence_root()) / name
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / VALUES_CSV, values.drop(columns=["point"]).to_csv(index=False))
    atomic.write_json(out / HISTORIES_JSON, histories)
    atomic.write_json(out / ABOUT_JSON, about)
    return out


def _divergences(results_dir: Path) -> list[dict[str, Any]]:
    """The runs a point's notebooks reported as diverged (the ``diverged`` entry of their results files)."""
    found = []
    for path in sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []:
        reported = json.loads(path.read_text()).get("results", {}).get("diverged") or {}
        found += [{"notebook": path.stem, "run": run, **divergence_record(details)}
                  for run, details in reported.items()]  # fmt: skip
    return found


def divergence_record(info: dict[str, Any]) -> dict[str, Any]:
    """What a record keeps of a divergence (:attr:`dmmlib.suite.pipeline.RunDiverged.info`): every figure, rounded,
    without the message (it names a folder on the machine that trained)."""
    return {k: _round(v) for k, v in info.items() if k != "error"}


def _seed(point_dir: Path) -> int:
    return int(json.loads((point_dir / "point.json").read_text())["values"]["SEED"])


def load(name: str, root: Path | None = None) -> Evidence:
    """The stored record ``evidence/<name>/``; a clear error naming the folder when it is missing."""
    folder = (root or evidence_root()) / name
    missing = [f for f in (VALUES_CSV, HISTORIES_JSON, ABOUT_JSON) if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: no stored evidence ({', '.join(missing)} missing); make it with "
                                f"`make sweep SPEC=sweeps/{name}.yml` then `python -m dmmlib.suite evidence {name}`")  # fmt: skip
    values = pd.read_csv(folder / VALUES_CSV)
    values["point"] = "SEED=" + values["seed"].astype(str)  # the pairing key of dmmlib.suite.stats
    return Evidence(name, folder, values, json.loads((folder / HISTORIES_JSON).read_text()),
                    json.loads((folder / ABOUT_JSON).read_text()))  # fmt: skip


# ----------------------------------------------------------------------------------------------- command line
COMMANDS = ("evidence",)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``evidence`` on the suite's command line."""
    command = sub.add_parser("evidence", help="keep a finished sweep's per-seed summary under evidence/<name>/")
    command.add_argument("name", help="the sweep's name (its folder under build/sweeps/)")
    command.set_defaults(handler=_command)


def _command(args: argparse.Namespace) -> int:
    try:
        out = export(args.name)
    except (ValueError, FileNotFoundError) as error:
        print(f"evidence: {error}", file=sys.stderr)
        return 2
    print(f"evidence {args.name}: wrote {', '.join((VALUES_CSV, HISTORIES_JSON, ABOUT_JSON))} in {out}")
    return 0

