"""When do the paper's premises hold? One generator knob at a time, with the mechanism that knob should matter for.

Each mechanism of DMM-CNN rests on a premise about the data:

- the adaptive thresholds (Eq. 6) correct for **imbalance** (an attribute with few positives gets more false
  negatives than false positives at tau = 0);
- the landmark task teaches the shared trunk **face geometry**, which helps only when attributes depend on it;
- the dynamic weights (Eq. 4) follow each attribute's **validation-loss trend**, which needs labels that are not
  too noisy and a validation set large enough for the trend to be more than noise.

The synthetic generator has a knob for each (:func:`dmmlib.data.synthetic.generate`: ``imbalance``,
``geometry_strength``, ``label_noise``, ``split_fractions``). A study trains the pair of variants that isolates the
mechanism (e.g. DMM-EQ-AT vs DMM-EQ-FIX for the thresholds) on data made with one knob changed, at the same seeds,
and compares the paired difference with the one at the suite's default data (from the stored sweep record, which
trained the same pairs on the default data with the same preset). Nothing here is tuned for the paper's method to
win: the knob values are fixed in :data:`KNOBS` before any run, and every result is reported.

The runs are sweep points: notebook 06 with ``KNOB=<name>`` trains that knob's pair on its data
(:func:`with_knob`, :func:`variants_of`), so the study is the sweep ``sweeps/knobs-teach.yml`` (the knob a grid
axis beside the seed) and gets ``--jobs``, resume and ``--shard`` from it; then

    python -m dmmlib.suite sweep sweeps/knobs-teach.yml --jobs 2
    python -m dmmlib.suite.knobs knobs-teach

writes ``evidence/knobs-<preset>/values.csv`` from the collected sweep (rows of knobs not in the sweep are kept) and
``about.json``, the record notebook 06 reads (:func:`load`, :func:`compare`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dmmlib.data.synthetic import CELEBA_SPLIT
from dmmlib.files import atomic
from dmmlib.suite import evidence, provenance, stats
from dmmlib.suite.session import Session
from dmmlib.suite.stats import Claim


@dataclass(frozen=True)
class Knob:
    """A generator knob, the value the study sets it to, and the mechanism (a pair of variants) it tests."""

    name: str
    value: float  #: the changed value (the suite's default data is the other point)
    default: float
    mechanism: Claim  #: better - worse isolates the mechanism
    premise: str
    #: the sign of the change in the mechanism's effect (better - worse) that the premise predicts for the changed
    #: value: +1 a rise, -1 a fall. It restates the premise's sentence, which was fixed before any run.
    expected: int

    def generator_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :func:`dmmlib.data.synthetic.generate` for the changed value."""
        if self.name == "valid_fraction":  # move images between train and valid, the test split unchanged
            test = CELEBA_SPLIT[2]
            return {"split_fractions": (round(1 - test - self.value, 6), self.value, test)}
        return {self.name: self.value}


KNOBS: dict[str, Knob] = {k.name: k for k in (
    Knob("imbalance", 2.0, 1.0, Claim("adaptive thresholds (Eq. 6)", "DMM-EQ-AT", "DMM-EQ-FIX", "06"),
         "thresholds matter more when rare attributes are rarer (frequencies pushed away from 1/2 on the logit "
         "scale)", expected=1),
    Knob("geometry_strength", 0.0, 1.0, Claim("the landmark task", "DMM-CNN", "DMM-FAC", "06"),
         "the landmark task can help only attributes whose cue is the face's geometry; at 0 they have none",
         expected=-1),
    Knob("label_noise", 0.25, 0.10, Claim("dynamic weights (Eq. 4)", "DMM-DW-FIX", "DMM-EQ-FIX", "06"),
         "Eq. 4 reads each attribute's validation-loss trend, which label noise blurs", expected=-1),
    Knob("valid_fraction", 0.3, round(CELEBA_SPLIT[1], 6),
         Claim("dynamic weights (Eq. 4)", "DMM-DW-FIX", "DMM-EQ-FIX", "06"),
         "Eq. 4's trend is a ratio of two validation losses: a larger validation set makes it less noisy (the "
         "extra validation images come out of the training split, so both runs also train on fewer images)",
         expected=1),
)}  # fmt: skip
RECORD = "knobs-{preset}"
VALUES_CSV, ABOUT_JSON = "values.csv", "about.json"


def knob_of(name: str) -> Knob | None:
    """The knob called ``name`` (None for "", the suite's data); an unknown name raises, listing the knobs."""
    if name in ("", None):
        return None
    if name not in KNOBS:
        raise ValueError(f"parameter KNOB={name!r}: not a knob of the study; choose from {', '.join(KNOBS)} (or \"\")")
    return KNOBS[name]


def with_knob(ctx: Session, name: str) -> Session:
    """``ctx`` with its synthetic data made with knob ``name`` changed (its own folder,
    ``runs/<preset>/knobs/<knob>=<value>/``); ``ctx`` itself for "". Notebook 06's ``KNOB`` parameter."""
    knob = knob_of(name)
    if knob is None:
        return ctx
    if ctx.preset.data != "synthetic":
        raise ValueError(f"parameter KNOB={name!r}: the knobs change the synthetic generator, and the "
                         f"{ctx.preset.name} preset trains on real data")  # fmt: skip
    return dataclasses.replace(ctx, data_knobs=knob.generator_arguments())


def variants_of(name: str) -> str:
    """The variants a knob's points train (its mechanism's pair, better first), as notebook 06's ``ONLY``; "" (all
    seven) for no knob."""
    knob = knob_of(name)
    return "" if knob is None else f"{knob.mechanism.better},{knob.mechanism.worse}"


def sweep_values(name: str, folder: Path | None = None) -> tuple[pd.DataFrame, dict[str, list[dict[str, Any]]]]:
    """The knob rows of a collected sweep whose grid has ``KNOB`` (per knob, seed and run: the mean metrics of
    :data:`evidence.KEPT_METRICS` per scope, as :func:`dmmlib.suite.stats.point_values` gives them) and, per knob,
    the runs that diverged (seed, run and what the run recorded)."""
    collected = stats.collect(name, folder, write=False, quiet=True)
    results = collected.results
    if "KNOB" not in results:
        raise ValueError(f"sweep {name}: its points have no KNOB parameter; a knob study is a sweep of notebook 06 "
                         "with KNOB in its grid (sweeps/knobs-teach.yml)")  # fmt: skip
    results = results[results["KNOB"].astype(str).isin(list(KNOBS))]
    values = stats.point_values(results, ["KNOB", "SEED"])
    values = values[values["metric"].isin(evidence.KEPT_METRICS)]
    values = values.assign(knob=values["KNOB"], knob_value=values["KNOB"].map(lambda k: KNOBS[k].value),
                           seed=values["SEED"].astype(int), point=values["SEED"].map(lambda s: f"SEED={int(s)}"),
                           value=values["value"].round(6))  # fmt: skip
    runs = {r: i for k in KNOBS.values() for i, r in enumerate((k.mechanism.better, k.mechanism.worse))}
    rank = {"knob": list(KNOBS), "run": list(runs), "metric": list(evidence.KEPT_METRICS), "scope": list(stats.SCOPES)}
    values = values.sort_values(["knob", "seed", "run", "metric", "scope"], kind="stable",
                                key=lambda col: col.map(lambda v: _rank(rank.get(str(col.name)), v)))  # fmt: skip
    columns = ["knob", "knob_value", "seed", "point", "notebook", "run", "metric", "scope", "value"]
    diverged: dict[str, list[dict[str, Any]]] = {}
    for point_dir in sorted(collected.folder.glob("KNOB=*")):
        job = json.loads((point_dir / "point.json").read_text()) if (point_dir / "point.json").is_file() else {}
        knob, seed = job.get("values", {}).get("KNOB"), job.get("values", {}).get("SEED")
        for results_dir in point_dir.glob("runs/*/knobs/*/results"):
            diverged.setdefault(knob, []).extend({"seed": seed, **{k: v for k, v in entry.items() if k != "notebook"}}
                                                 for entry in evidence._divergences(results_dir))  # fmt: skip
    return values[columns].reset_index(drop=True), diverged


def record_dir(preset: str) -> Path:
    return evidence.evidence_root() / RECORD.format(preset=preset)


def save(preset: str, knob: Knob, values: pd.DataFrame, out: Path | None = None,
         diverged: Sequence[dict[str, Any]] = ()) -> Path:  # fmt: skip
    """Merge one knob's values into the record (replacing that knob's earlier rows); ``diverged`` (from
    :func:`run`) is kept in ``about.json`` beside the knob.

    The record holds one preset's settings for all its rows. When the stored knobs were made under other settings
    (the preset changed since), they are dropped, with a line naming them: they must be run again, and a record
    stamped with today's settings must not carry their rows.
    """
    out = out or record_dir(preset)
    out.mkdir(parents=True, exist_ok=True)
    path = out / VALUES_CSV
    about_path = out / ABOUT_JSON
    about = json.loads(about_path.read_text()) if about_path.is_file() else {}
    kept = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    if about and evidence.stale_settings({**about, "preset": preset}):
        dropped = sorted(set(about.get("knobs", {})) - {knob.name})
        if dropped:
            print(f"knobs: the stored {', '.join(dropped)} were made under other {preset} settings; dropped from the "
                  f"record (run them again)", flush=True)  # fmt: skip
        kept, about = pd.DataFrame(), {}
    if len(kept):
        kept = kept[kept["knob"] != knob.name]
    merged = pd.concat([kept, values], ignore_index=True)
    atomic.write_text(path, merged.to_csv(index=False))
    about.update({"preset": preset, "preset_settings": evidence.preset_settings(preset),
                  "updated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                  "commit": provenance.git_commit() or None})  # fmt: skip
    about.setdefault("knobs", {})[knob.name] = {"value": knob.value, "default": knob.default,
                                                "seeds": sorted(int(s) for s in values["seed"].unique()),
                                                "mechanism": f"{knob.mechanism.better} - {knob.mechanism.worse}",
                                                "diverged": list(diverged)}  # fmt: skip
    atomic.write_json(about_path, about)
    return out


def load(preset: str = "teach", root: Path | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stored knob record of ``preset``: (values, about); a clear error when it is missing."""
    out = root or record_dir(preset)
    if not (out / VALUES_CSV).is_file():
        raise FileNotFoundError(f"{out}: no knob study stored; make it with `python -m dmmlib.suite sweep "
                                f"sweeps/knobs-{preset}.yml` and then `python -m dmmlib.suite.knobs knobs-{preset}`")  # fmt: skip
    return pd.read_csv(out / VALUES_CSV), json.loads((out / ABOUT_JSON).read_text())


def compare(values: pd.DataFrame, default: evidence.Evidence, metric: str = "accuracy",
            scope: str = "all") -> pd.DataFrame:  # fmt: skip
    """Per knob: the mechanism's paired difference (points, 95% interval) at the default data and at the changed
    value, at the same seeds, with a sentence."""
    rows = []
    for name in dict.fromkeys(values["knob"]):
        knob = KNOBS[name]
        changed = values[values["knob"] == name]
        seeds = sorted(int(s) for s in changed["seed"].unique())
        base = default.values[default.values["seed"].isin(seeds)]
        per_seed = {}
        for label, frame in (("default", base), ("changed", changed)):
            (row,) = evidence.effects(_as_evidence(frame, default), [knob.mechanism], metric, scope).to_dict("records")
            rows.append({"knob": name, "data": label,
                         "knob value": knob.default if label == "default" else knob.value, **row})  # fmt: skip
            per_seed[label] = seed_effects(frame, knob.mechanism, metric, scope)
        moved = stats.interval((per_seed["changed"] - per_seed["default"]).dropna())
        for row in rows[-2:]:
            row.update({"change": moved["mean"], "change_low": moved["ci_low"], "change_high": moved["ci_high"],
                        "premise": premise_verdict(knob, moved["ci_low"], moved["ci_high"])})  # fmt: skip
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["sentence"] = [_sentence(name, group) for name, group in table.groupby("knob", sort=False)
                         for _ in range(len(group))]  # fmt: skip
    return table


def premise_verdict(knob: Knob, low: float, high: float) -> str:
    """Whether the interval of the change bears out the premise: "as predicted" (it excludes 0 on the predicted
    side), "against the prediction" (it excludes 0 on the other side) or "not resolved" (it contains 0)."""
    if not (low > 0 or high < 0):
        return "not resolved"
    return "as predicted" if (low > 0) == (knob.expected > 0) else "against the prediction"


def seed_effects(values: pd.DataFrame, claim: Claim, metric: str = "accuracy", scope: str = "all") -> pd.Series:
    """Per seed, the paired difference ``better - worse`` of ``claim`` in points (seeds where both ran)."""
    part = evidence.select(values, claim.notebook, metric, scope)
    wide = part.pivot_table(index="seed", columns="run", values="value", aggfunc="first")
    if claim.better not in wide or claim.worse not in wide:
        return pd.Series(dtype=float)
    return 100 * (wide[claim.better] - wide[claim.worse])


def _as_evidence(frame: pd.DataFrame, like: evidence.Evidence) -> evidence.Evidence:
    return evidence.Evidence(like.name, like.folder, frame, [], like.about)


def _sentence(name: str, group: pd.DataFrame) -> str:
    knob = KNOBS[name]
    by = group.set_index("data")
    parts = [f"{knob.mechanism.claim} ({knob.mechanism.better} - {knob.mechanism.worse}) with {name} = "
             f"{by.loc[label, 'knob value']:g}: {by.loc[label, 'mean']:+.2f} points [{by.loc[label, 'ci_low']:+.2f}, "
             f"{by.loc[label, 'ci_high']:+.2f}] ({by.loc[label, 'effect']})" for label in ("default", "changed")]  # fmt: skip
    change = by.loc["changed"]
    return "; ".join(parts) + (f". The knob moved the effect by {change['change']:+.2f} points "
                               f"[{change['change_low']:+.2f}, {change['change_high']:+.2f}] (paired over "
                               f"{int(by['n'].min())} seeds). The premise predicts a "
                               f"{'rise' if knob.expected > 0 else 'fall'}: {change['premise']}.")  # fmt: skip


def _rank(order: list[str] | None, value: Any) -> Any:
    if order is None:
        return value
    return order.index(value) if value in order else len(order)


def export(name: str, folder: Path | None = None, out: Path | None = None) -> Path:
    """Write the knob record of the collected sweep ``name`` (:func:`sweep_values`), one knob at a time (:func:`save`:
    rows of knobs that are not in the sweep are kept); returns the record's folder."""
    folder = folder or stats.sweep_dir(name)
    preset = json.loads((folder / stats.SWEEP_FILE).read_text())["resolved_preset"]
    values, diverged = sweep_values(name, folder)
    if values.empty:
        raise ValueError(f"sweep {name}: no point with results yet (run it first: python -m dmmlib.suite sweep SPEC)")
    for knob in dict.fromkeys(values["knob"]):
        out = save(preset, KNOBS[knob], values[values["knob"] == knob], out, diverged.get(knob, []))
        print(f"knobs: {knob}={KNOBS[knob].value:g}, seeds {sorted(set(values.loc[values['knob'] == knob, 'seed']))}: "
              f"wrote {out / VALUES_CSV}")  # fmt: skip
    return out or record_dir(preset)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.knobs", description=__doc__.splitlines()[0])
    parser.add_argument("sweep", help="a finished knob sweep (its folder under build/sweeps/), e.g. knobs-teach")
    args = parser.parse_args(argv)
    try:
        export(args.sweep)
    except (FileNotFoundError, ValueError) as error:
        print(f"knobs: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
