"""When does each mechanism of DMM-CNN help? Four pre-registered premise experiments on the synthetic data.

Each mechanism of the paper rests on a premise about the data or the training. For each, this module fixes *in
code, before any of its runs* (a :class:`Premise`):

- the premise in one sentence, with the section of the paper it comes from;
- the **regime**, data (a generator knob, :func:`dmmlib.data.synthetic.generate`) where the premise holds, derived
  from the mechanism's theory, and a **control** where it does not;
- the two runs compared (the model with the mechanism, and the same model without it: one switch apart);
- the predicted direction of (with - without) in the regime, the metric and scope, and the smallest effect that
  counts, in points;
- the seeds (at least 5; the two runs of a seed are paired).

The record (``evidence/premises-teach/premises.json``) stores each definition's SHA-256 as it was when its runs were
made; ``tests/test_premises.py`` fails when a shipped definition differs from the recorded one, so a changed
regime needs a new record, never a quiet edit after its result is known. Nothing here is tuned for the paper's
method to win, and every verdict is reported as it falls (:func:`verdict`).

All four share one training scale (:data:`SCALE`): the teach preset's network and recipe at 64 x 52 pixels and
about :data:`ITERATIONS` iterations of batch 32 (smaller than teach, so 80 runs fit about an hour of 2 cores),
with the plateau rule off and the teach preset's scheduled cut of the last fifth: one schedule shared by every
run, so that no comparison is a difference of learning-rate schedules (the plateau rule reacts to the mechanism:
see :mod:`dmmlib.suite.shared_schedule`).

Run it (``--jobs 2``: two runs side by side, one thread each), then write the record::

    python -m dmmlib.suite.premises run --jobs 2
    python -m dmmlib.suite.premises record

Notebook 12 ("When each mechanism helps") reads the record (:func:`load`) and shows each verdict beside a live toy
version of the mechanism (:mod:`dmmlib.lab.mechanism_toys`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dmmlib.files import atomic
from dmmlib.suite import evidence, parallel, paths, provenance, stats

RECORD = "premises-teach"
PREMISES_JSON, VALUES_CSV, ABOUT_JSON = "premises.json", "values.csv", "about.json"
#: iterations of batch 32 per run (each condition's epochs are chosen to reach it: :func:`epochs_for`)
ITERATIONS = 720
BATCH = 32
#: The training every premise run shares: the teach preset's network and recipe at a smaller input and budget,
#: under one schedule (plateau rule off; the last fifth of the iterations at a tenth of the lr).
SCALE: dict[str, Any] = dict(
    backbone="resnet-small", input_size=(64, 52), objective_hidden=(256,), subjective_hidden=(512, 256),
    landmark_hidden=(256,), batch_size=BATCH, lr=0.003, update_interval=40, val_batch_size=256,
    lr_patience=10**6, final_lr_fraction=0.2, dynamic_normalise=True, checkpoint_interval=10**6, amp="native",
)  # fmt: skip
SEEDS = (0, 1, 2, 3, 4)
#: a run whose test balanced accuracy on an attribute stays below this is "left at chance" on it
CHANCE_BALANCED = 0.55


@dataclass(frozen=True)
class Condition:
    """Data for one side of a premise: the generator's image count, split and knobs."""

    name: str
    num_images: int
    split: tuple[float, float, float]  #: train / valid / test fractions
    knobs: dict[str, float] = field(default_factory=dict)  #: other :func:`~dmmlib.data.synthetic.generate` knobs
    why: str = ""

    def split_sizes(self) -> dict[str, int]:
        from dmmlib.data.synthetic import split_ids

        ids = split_ids(self.num_images, self.split)
        return {name: int((ids == k).sum()) for k, name in enumerate(("train", "valid", "test"))}


@dataclass(frozen=True)
class Arm:
    """One of the two runs compared: a Table 1 variant and the TrainConfig overrides that make it."""

    label: str
    variant: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Premise:
    mechanism: str
    section: str  #: where the paper states the mechanism
    premise: str  #: the premise, one sentence
    regime: Condition
    control: Condition
    with_mechanism: Arm
    without_mechanism: Arm
    direction: str  #: "+" or "-": the predicted sign of (with - without) in the regime
    min_effect: float  #: points: a smaller effect in the predicted direction does not count
    metric: str  #: "accuracy" or "balanced_accuracy"
    scope: str  #: "all", "objective" or "subjective"
    seeds: tuple[int, ...] = SEEDS

    def definition(self) -> dict[str, Any]:
        """Everything that defines the experiment (and the shared :data:`SCALE` it trains at), as JSON values."""
        body = dataclasses.asdict(self)
        body["scale"] = {**SCALE, "iterations": ITERATIONS}
        return json.loads(json.dumps(body, sort_keys=True, default=list))

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.definition(), sort_keys=True).encode()).hexdigest()


_CELEBA_LIKE = (0.7, 0.1, 0.2)
PREMISES: tuple[Premise, ...] = (
    Premise(
        mechanism="landmark task",
        section="Sec. 3.1-3.2 (facial landmark detection as an auxiliary task that gives the shared trunk "
                "geometric information)",
        premise="An auxiliary task whose targets share a latent factor with the attributes (the landmarks follow the "
                "face's geometry, which many attributes change) helps the attributes most when their own labels are "
                "too few to learn that factor alone (Caruana 1997).",
        regime=Condition("few training images", 6000, (0.1, 0.2, 0.7),
                         why="600 labelled training images: the attribute labels alone are scarce"),
        control=Condition("many training images", 10000, (0.54, 0.12, 0.34),
                          why="5,400 labelled training images: enough labels to learn the geometry from the attributes"),
        with_mechanism=Arm("with the landmark term (beta 0.5)", "DMM-EQ-FIX"),
        without_mechanism=Arm("without it (beta 0)", "DMM-EQ-FIX", {"beta": 0.0}),
        direction="+", min_effect=0.5, metric="accuracy", scope="all",
    ),
    Premise(
        mechanism="SPP branches",
        section="Sec. 3.2 (a 3-level spatial pyramid for the subjective branch, 1 level for the objective one)",
        premise="Spatial pyramid bins keep where in the image a feature fired, which global pooling discards; that "
                "helps when an attribute's cue sits at the same place in every image (aligned faces).",
        regime=Condition("aligned faces", 6000, _CELEBA_LIKE,
                         why="faces move by at most 2.5 px, as in aligned CelebA: every cue has a fixed place"),
        control=Condition("faces at random positions", 6000, _CELEBA_LIKE, {"shift_jitter": 30.0},
                          why="faces move by up to 30 px each way: where a cue sits says nothing"),
        with_mechanism=Arm("subjective branch with 3-level SPP", "DMM-EQ-FIX"),
        without_mechanism=Arm("subjective branch with 1 level (global max pooling)", "DMM-EQ-FIX",
                              {"spp_levels_subjective": 1}),
        direction="+", min_effect=0.5, metric="accuracy", scope="subjective",
    ),
    Premise(
        mechanism="Eq. 4",
        section="Sec. 3.3, Eq. 4 (dynamic weights from the trend of each attribute's validation loss)",
        premise="Weighting each attribute by the recent fall of its validation loss helps when that fall is "
                "measured precisely, on a validation set as large as the paper's relative to its noise.",
        regime=Condition("large validation set (3,000 images)", 10000, (0.42, 0.3, 0.28),
                         why="V = 3,000: each attribute's loss trend is measured on many images"),
        control=Condition("small validation set (300 images)", 6000, (0.7, 0.05, 0.25),
                          why="V = 300: each loss trend is mostly sampling noise"),
        with_mechanism=Arm("Eq. 4 (rescaled to mean 1, as teach)", "DMM-DW-FIX"),
        without_mechanism=Arm("uniform weights", "DMM-EQ-FIX"),
        direction="+", min_effect=0.5, metric="accuracy", scope="all",
    ),
    Premise(
        mechanism="Eq. 6",
        section="Sec. 3.4, Eqs. 5-6 (adaptive thresholds moved by the false-positive and false-negative counts)",
        premise="Moving each threshold until false positives and false negatives balance helps imbalanced "
                "attributes, whose threshold of 0 favours the majority class; it should raise balanced accuracy.",
        regime=Condition("strong imbalance (imbalance 2)", 6000, _CELEBA_LIKE, {"imbalance": 2.0},
                         why="attribute frequencies pushed twice as far from 1/2 on the logit scale"),
        control=Condition("no imbalance (every attribute 50/50)", 6000, _CELEBA_LIKE, {"imbalance": 0.0},
                          why="every attribute positive half the time: a threshold of 0 is already balanced"),
        with_mechanism=Arm("adaptive thresholds (Eq. 6)", "DMM-EQ-AT"),
        without_mechanism=Arm("tau = 0", "DMM-EQ-FIX"),
        direction="+", min_effect=1.0, metric="balanced_accuracy", scope="all",
    ),
)  # fmt: skip


def by_mechanism(name: str) -> Premise:
    for premise in PREMISES:
        if premise.mechanism == name:
            return premise
    raise ValueError(f"no premise for mechanism {name!r}; choose from {[p.mechanism for p in PREMISES]}")


def epochs_for(condition: Condition) -> int:
    """Epochs that give about :data:`ITERATIONS` iterations of batch :data:`BATCH` on the condition's train split."""
    per_epoch = math.ceil(condition.split_sizes()["train"] / BATCH)
    return max(1, round(ITERATIONS / per_epoch))


# ------------------------------------------------------------------------------------------------------ runs
def session_for(condition: Condition, seed: int, name: str = "premises") -> Any:
    """A :class:`~dmmlib.suite.session.Session` whose preset trains at :data:`SCALE` on the condition's data
    (kept under ``runs/<name>/knobs/...``: the record's runs under "premises", a live slice elsewhere)."""
    from dmmlib.suite import presets
    from dmmlib.suite.session import Session

    base = presets.PRESETS["teach"]
    preset = dataclasses.replace(
        base, name=name, num_images=condition.num_images, description="premise experiments",
        train={**base.train, **SCALE, "epochs": epochs_for(condition)},
    )  # fmt: skip
    knobs = {"split_fractions": tuple(condition.split), **condition.knobs}
    return Session(name, preset, seed, None, None, data_knobs=knobs)


def tasks(premises: Sequence[Premise] = PREMISES, seeds: Sequence[int] | None = None) -> list[tuple[str, str, str, int]]:
    """(mechanism, condition, arm label, seed) of every run, seeds outermost so that a partial record is balanced."""
    out = []
    chosen = list(seeds) if seeds is not None else list(SEEDS)
    for seed in chosen:
        for premise in premises:
            for condition in (premise.regime, premise.control):
                for arm in (premise.with_mechanism, premise.without_mechanism):
                    if seed in premise.seeds:
                        out.append((premise.mechanism, condition.name, arm.label, seed))
    return out


def _condition(premise: Premise, name: str) -> Condition:
    return premise.regime if name == premise.regime.name else premise.control


def _arm(premise: Premise, label: str) -> Arm:
    return premise.with_mechanism if label == premise.with_mechanism.label else premise.without_mechanism


def run_one(task: tuple[str, str, str, int]) -> list[dict[str, Any]]:
    """Train (or load) one run and return its rows for ``values.csv``: mean accuracy and balanced accuracy per scope,
    the attributes it left at chance, and the arithmetic it trained in."""
    import torch

    from dmmlib import metrics
    from dmmlib.suite import pipeline

    torch.set_num_threads(1)
    mechanism, condition_name, label, seed = task
    premise = by_mechanism(mechanism)
    condition, arm = _condition(premise, condition_name), _arm(premise, label)
    ctx = session_for(condition, seed)
    run = pipeline.ensure_trained(ctx, arm.variant, progress=False, **arm.overrides)
    table = pipeline.evaluate(ctx, run)
    means = metrics.mean_table(table)
    at_chance = sorted(table.index[table["balanced_accuracy"] < CHANCE_BALANCED])
    arithmetic = provenance.arithmetic(run.cfg)
    base = {"mechanism": mechanism, "condition": condition_name, "arm": label, "seed": seed, "run": run.name}
    rows = [{**base, "metric": m, "scope": s, "value": float(means.loc[s, m])}
            for s in stats.SCOPES for m in ("accuracy", "balanced_accuracy", "majority_accuracy")]  # fmt: skip
    rows.append({**base, "metric": "attributes_at_chance", "scope": "all", "value": float(len(at_chance))})
    rows.append({**base, "metric": "arithmetic_bf16", "scope": "all", "value": float(arithmetic == "bf16")})
    return rows


def _prepare_data(premises: Sequence[Premise]) -> None:
    """Draw every condition's dataset first, in this process (runs side by side then only read them)."""
    from dmmlib.suite import pipeline

    for premise in premises:
        for condition in (premise.regime, premise.control):
            pipeline.celeba_root(session_for(condition, 0), progress=False)


def run_all(jobs: int = 1, premises: Sequence[Premise] = PREMISES, seeds: Sequence[int] | None = None,
            out: Path | None = None) -> pd.DataFrame:  # fmt: skip
    """Train every run not trained yet (``jobs`` side by side, one thread each) and write their rows to
    ``runs/premises/values.csv`` (or ``out``); finished runs are loaded, so an interrupted call resumes."""
    _prepare_data(premises)
    todo = tasks(premises, seeds)
    rows = [row for rows_of_run in parallel.map_runs(run_one, todo, jobs, "premise runs") for row in rows_of_run]
    frame = pd.DataFrame(rows)
    target = out or paths.runs_dir("premises") / VALUES_CSV
    atomic.write_text(target, frame.to_csv(index=False))
    return frame


# --------------------------------------------------------------------------------------------------- verdicts
def effects(values: pd.DataFrame, premise: Premise, condition: str) -> dict[str, Any]:
    """The paired effect (with - without) in points over the seeds both runs have: n, mean, sd, interval and p
    (:func:`dmmlib.suite.stats.paired_interval`), plus the per-seed differences."""
    rows = values[(values["mechanism"] == premise.mechanism) & (values["condition"] == condition)
                  & (values["metric"] == premise.metric) & (values["scope"] == premise.scope)]  # fmt: skip
    wide = rows.pivot_table(index="seed", columns="arm", values="value")
    with_label, without_label = premise.with_mechanism.label, premise.without_mechanism.label
    if with_label not in wide or without_label not in wide:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "p_value": math.nan, "seeds": [], "per_seed": []}  # fmt: skip
    wide = wide.dropna(subset=[with_label, without_label])
    out: dict[str, Any] = dict(stats.paired_interval(100 * wide[with_label].to_numpy(),
                                                     100 * wide[without_label].to_numpy()))
    out["seeds"] = [int(s) for s in wide.index]
    out["per_seed"] = [float(x) for x in 100 * (wide[with_label] - wide[without_label])]
    return out


VERDICTS = ("supported", "not supported", "against", "cannot decide")


def verdict(effect: dict[str, Any], p_holm: float, direction: str, min_effect: float,
            alpha: float = stats.ALPHA) -> tuple[str, str]:  # fmt: skip
    """(verdict, reason) for a premise's regime effect, as the issue defines them:

    - "cannot decide": fewer than :data:`~dmmlib.suite.stats.MIN_SEEDS` seeds, or differences that do not vary;
    - "against": the interval excludes 0 on the side opposite to the prediction;
    - "supported": the interval excludes 0 on the predicted side, Holm's adjusted p (over the family of premises)
      is below ``alpha``, and the mean effect is at least ``min_effect`` points;
    - "not supported": anything else (the interval contains 0, or the effect is too small or does not survive Holm).
    """
    n, sd, low, high, mean = effect["n"], effect["sd"], effect["ci_low"], effect["ci_high"], effect["mean"]
    if n < stats.MIN_SEEDS:
        return "cannot decide", f"n = {n} seeds, fewer than {stats.MIN_SEEDS}"
    if not (sd > 0) or math.isnan(low) or low == high:
        return "cannot decide", "the paired differences do not vary (zero variance), so they give no interval"
    sign = 1.0 if direction == "+" else -1.0
    low_s, high_s = sorted((sign * low, sign * high))
    if high_s < 0:
        return "against", "the interval excludes 0 on the side opposite to the prediction"
    if low_s <= 0:
        return "not supported", "the interval contains 0"
    short = []
    if not (p_holm < alpha):
        short.append(f"it does not survive Holm's correction (p (Holm) {p_holm:.3g})")
    if sign * mean < min_effect:
        short.append(f"the effect ({mean:+.2f} points) is smaller than the {min_effect:g} that counts")
    if short:
        return "not supported", "the interval excludes 0 on the predicted side, but " + " and ".join(short)
    return "supported", "the interval excludes 0 on the predicted side, after Holm's correction, by enough"


def judge(values: pd.DataFrame, premises: Sequence[Premise] = PREMISES) -> list[dict[str, Any]]:
    """One entry per premise (the record's ``premises.json``): the definition, both effects, p, p (Holm over the
    regime effects of all premises), the verdict and, for the control, its own verdict against the same
    prediction (expected: not supported)."""
    regime = [effects(values, p, p.regime.name) for p in premises]
    control = [effects(values, p, p.control.name) for p in premises]
    p_holm = stats.holm([e["p_value"] for e in regime])
    p_holm_control = stats.holm([e["p_value"] for e in control])
    out = []
    for k, premise in enumerate(premises):
        word, reason = verdict(regime[k], float(p_holm[k]), premise.direction, premise.min_effect)
        control_word, control_reason = verdict(control[k], float(p_holm_control[k]), premise.direction,
                                               premise.min_effect)  # fmt: skip
        out.append({
            "mechanism": premise.mechanism,
            "section": premise.section,
            "premise": premise.premise,
            "regime": {"name": premise.regime.name, "why": premise.regime.why, **_data(premise.regime)},
            "control": {"name": premise.control.name, "why": premise.control.why, **_data(premise.control)},
            "variants": [_arm_text(premise.with_mechanism), _arm_text(premise.without_mechanism)],
            "prediction": {"direction": premise.direction, "min_effect": premise.min_effect,
                           "metric": premise.metric, "scope": premise.scope},
            "seeds": list(premise.seeds),
            "regime_effect": _effect_fields(regime[k]),
            "control_effect": _effect_fields(control[k]),
            "p": _num(regime[k]["p_value"]),
            "p_holm": _num(p_holm[k]),
            "verdict": word,
            "reason": reason,
            "control_p": _num(control[k]["p_value"]),
            "control_p_holm": _num(p_holm_control[k]),
            "control_verdict": control_word,
            "control_reason": control_reason,
            "definition_sha256": premise.sha256(),
        })  # fmt: skip
    return out


def _data(condition: Condition) -> dict[str, Any]:
    return {"num_images": condition.num_images, "split_sizes": condition.split_sizes(), "knobs": dict(condition.knobs),
            "epochs": epochs_for(condition)}  # fmt: skip


def _arm_text(arm: Arm) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in arm.overrides.items())
    return f"{arm.variant} ({arm.label}{'; ' + extra if extra else ''})"


def _num(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _effect_fields(effect: dict[str, Any]) -> dict[str, Any]:
    return {"mean": _num(effect["mean"]), "ci_low": _num(effect["ci_low"]), "ci_high": _num(effect["ci_high"]),
            "n": int(effect["n"]), "sd": _num(effect["sd"]), "per_seed": effect["per_seed"]}  # fmt: skip


# ----------------------------------------------------------------------------------------------------- record
def record_dir(name: str = RECORD) -> Path:
    return evidence.evidence_root() / name


def write_record(values: pd.DataFrame, name: str = RECORD, command: str = "", seconds: float | None = None) -> Path:
    """``evidence/<name>/``: ``premises.json`` (:func:`judge`), ``values.csv`` (per run) and ``about.json``."""
    folder = record_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    judged = judge(values)
    atomic.write_text(folder / PREMISES_JSON, json.dumps(judged, indent=2) + "\n")
    atomic.write_text(folder / VALUES_CSV, values.to_csv(index=False))
    bf16 = values[values["metric"] == "arithmetic_bf16"]["value"]
    arithmetic = "bf16 autocast" if len(bf16) and bf16.min() == 1 else "float32" if len(bf16) and bf16.max() == 0 \
        else "mixed (some runs bf16)"
    about = {
        "name": name,
        "description": "pre-registered premise experiments: each mechanism where its premise holds and where it "
                       "does not (dmmlib.suite.premises)",
        "dataset": "synthetic CelebA-format data (the suite's generator, data seed 0, knobs per condition)",
        "scale": {**SCALE, "iterations": ITERATIONS},
        "runs": int(values.groupby(["mechanism", "condition", "arm", "seed"]).ngroups),
        "machine_seconds": seconds,
        "hardware": provenance.hardware(),
        "arithmetic": arithmetic,
        "versions": provenance.versions(),
        "commit": provenance.git_commit(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command or "python -m dmmlib.suite.premises run --jobs 2; python -m dmmlib.suite.premises record",
    }  # fmt: skip
    atomic.write_text(folder / ABOUT_JSON, json.dumps(about, indent=2) + "\n")
    return folder


def load(name: str = RECORD) -> tuple[list[dict[str, Any]], pd.DataFrame, dict[str, Any]] | None:
    """(premises.json, values.csv, about.json) of the stored record, or None where there is none."""
    folder = record_dir(name)
    if not (folder / PREMISES_JSON).is_file():
        return None
    return (json.loads((folder / PREMISES_JSON).read_text()), pd.read_csv(folder / VALUES_CSV),
            json.loads((folder / ABOUT_JSON).read_text()))  # fmt: skip


def changed_definitions(recorded: list[dict[str, Any]], premises: Sequence[Premise] = PREMISES) -> list[str]:
    """Mechanisms whose shipped definition differs from the one the record's runs were made with (or that the
    record lacks): each needs a new record."""
    stored = {entry["mechanism"]: entry["definition_sha256"] for entry in recorded}
    return [p.mechanism for p in premises if stored.get(p.mechanism) != p.sha256()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.premises", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train every premise run not trained yet")
    run.add_argument("--jobs", type=int, default=1)
    run.add_argument("--seeds", default="", help="comma-separated seeds (default: each premise's)")
    run.add_argument("--mechanism", default="", help="one mechanism only")
    rec = sub.add_parser("record", help="write evidence/premises-teach/ from the trained runs")
    rec.add_argument("--seconds", type=float, default=None, help="machine time the runs took, for about.json")
    args = parser.parse_args(argv)
    chosen = [by_mechanism(args.mechanism)] if getattr(args, "mechanism", "") else list(PREMISES)
    if args.command == "run":
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()] or None
        frame = run_all(args.jobs, chosen, seeds)
        print(f"{frame.groupby(['mechanism', 'condition', 'arm', 'seed']).ngroups} runs in "
              f"{paths.runs_dir('premises') / VALUES_CSV}")  # fmt: skip
        return 0
    values_file = paths.runs_dir("premises") / VALUES_CSV
    if not values_file.is_file():
        print(f"error: {values_file} does not exist; run `python -m dmmlib.suite.premises run` first", file=sys.stderr)
        return 2
    folder = write_record(pd.read_csv(values_file), seconds=args.seconds)
    for entry in json.loads((folder / PREMISES_JSON).read_text()):
        effect = entry["regime_effect"]
        print(f"{entry['mechanism']}: {entry['verdict']} ({effect['mean']:+.2f} points, n = {effect['n']} seeds)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


# ------------------------------------------------------------------------------------------------ in words
def _effect_text(effect: dict[str, Any], metric: str, scope: str) -> str:
    if effect["mean"] is None:
        return "no runs"
    interval = ("no interval" if effect["ci_low"] is None or effect["ci_low"] == effect["ci_high"]
                else f"95% CI [{effect['ci_low']:+.2f}, {effect['ci_high']:+.2f}]")  # fmt: skip
    what = metric.replace("_", " ") + ("" if scope == "all" else f" ({scope} attributes)")
    return f"{effect['mean']:+.2f} points of mean {what} ({interval}, n = {effect['n']} seeds)"


def verdict_sentence(entry: dict[str, Any]) -> str:
    """The verdict on one premise in words, from its record entry: both effects, p and p (Holm), the reason."""
    prediction = entry["prediction"]
    p = "nan" if entry["p"] is None else stats.p_text(entry["p"])
    p_holm = "nan" if entry["p_holm"] is None else stats.p_text(entry["p_holm"])
    return (f"{entry['mechanism']}: where its premise holds ({entry['regime']['name']}), with - without = "
            f"{_effect_text(entry['regime_effect'], prediction['metric'], prediction['scope'])}, p = {p}, "
            f"p (Holm, over the {4} premises) = {p_holm}: {entry['verdict'].upper()} ({entry['reason']}; the "
            f"prediction was {prediction['direction']}{prediction['min_effect']:g} points or more). In the control "
            f"({entry['control']['name']}): {_effect_text(entry['control_effect'], prediction['metric'], prediction['scope'])}"
            f", {entry['control_verdict']}.")  # fmt: skip


def meaning_sentence(entry: dict[str, Any]) -> str:
    """What the verdict means for the paper's claim on real CelebA, chosen by the verdicts of regime and control."""
    mechanism, word, control = entry["mechanism"], entry["verdict"], entry["control_verdict"]
    if word == "supported" and control != "supported":
        return (f"{mechanism} helped where its premise holds and not where it does not: its gain on real CelebA "
                "depends on whether CelebA is in the premise's regime, which the paper does not measure.")
    if word == "supported":
        return (f"{mechanism} helped in the regime and in the control alike: the premise is not what makes it help "
                "here, so the paper's explanation of its gain is not the one these data support.")
    if word == "against":
        return (f"{mechanism} hurt where its premise says it should help. On these data the mechanism costs accuracy "
                "even in its best case; a gain on real CelebA would need a reason these data lack, or be chance "
                "(the paper reports one run per variant).")
    effect, sign = entry["regime_effect"], 1 if entry["prediction"]["direction"] == "+" else -1
    leaned = (word == "not supported" and effect["ci_low"] is not None
              and min(sign * effect["ci_low"], sign * effect["ci_high"]) > 0)  # fmt: skip
    if leaned:
        control_text = ("and not in the control" if entry["control_verdict"] != "supported"
                        else "and in the control too")  # fmt: skip
        return (f"{mechanism} moved the predicted way where its premise holds ({effect['mean']:+.2f} points, an "
                f"interval clear of 0 before the correction) {control_text}; it does not count as support because "
                f"{entry['reason'].split(', but ', 1)[-1]}: a small effect at this scale. Whether it is larger on real CelebA, with its stronger imbalance or more "
                "updates, the paper's single runs cannot say.")  # fmt: skip
    if word == "not supported":
        return (f"{mechanism} did not help measurably even where its premise holds (at this scale and with "
                f"{entry['regime_effect']['n']} seeds). The paper's gain, if real, needs more than the premise: "
                "a larger scale, another regime, or it is within the seed-to-seed spread of a single run.")
    return f"{mechanism}: the record cannot decide ({entry['reason']}); run more seeds before reading anything into it."


# ------------------------------------------------------------------------------------------- a live slice
def smoke_slice(premise: Premise, seed: int = 0, num_images: int = 300, iterations: int = 20) -> pd.DataFrame:
    """The premise's four runs (regime and control, with and without) at a toy size, trained live: a check of the
    code path the record's runs take, for the smoke preset. Its numbers say nothing about the premise."""
    from dmmlib import metrics
    from dmmlib.suite import pipeline

    rows = []
    for condition in (premise.regime, premise.control):
        small = dataclasses.replace(condition, num_images=num_images)
        ctx = session_for(small, seed, name=f"premises-slice-{num_images}")
        train_n = small.split_sizes()["train"]
        epochs = max(1, round(iterations / max(1, math.ceil(train_n / BATCH))))
        for arm in (premise.with_mechanism, premise.without_mechanism):
            run = pipeline.ensure_trained(ctx, arm.variant, progress=False, epochs=epochs, update_interval=10,
                                          **arm.overrides)  # fmt: skip
            means = metrics.mean_table(pipeline.evaluate(ctx, run))
            rows.append({"condition": condition.name, "arm": arm.label,
                         premise.metric: float(means.loc[premise.scope, premise.metric])})  # fmt: skip
    return pd.DataFrame(rows)
