"""What the learning-rate schedule and Eq. 4 did to each run: lr traces, the two schedules side by side, and the
attributes Eq. 4 left at chance.

Two findings of the stored teach record that a class should see rather than be told:

- **The plateau rule reacts to the mechanism.** It cut the rate of most runs with Eq. 4 before the scheduled tail,
  and of none with uniform weights (:func:`lr_traces`, :func:`plateau_cuts`). The runs it cut were trained again
  under one shared schedule (:mod:`dmmlib.suite.shared_schedule`); :func:`side_by_side` puts both schedules'
  results next to each other and :func:`schedule_sentences` says, from the numbers, how much the schedule moved
  each variant against how much the machine alone moves a run.
- **Eq. 4 starves the attributes that have not started learning.** Its weight is the relative fall of an
  attribute's validation loss since the last update, so an attribute whose loss has not moved gets a weight near 0,
  learns nothing with it, and its loss stays put: a trap. :func:`starved_attributes` lists, per Eq. 4 run, the
  attributes left at chance (test balanced accuracy below :data:`CHANCE`), their lambda from the first Eq. 4 update
  on, and the same attributes under uniform weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

#: test balanced accuracy below which an attribute counts as "left at chance"
CHANCE = 0.55
#: points between two machines' results for the same commit and seed (the largest measured for the teach record:
#: DMM-SPP, seed 0); the yardstick where a record has no machine-check run of its own
BETWEEN_MACHINES = 1.4


# ------------------------------------------------------------------------------------------------ lr traces
def run_label(entry: Mapping[str, Any]) -> str:
    """How results name a stored run (a ``histories.json`` entry): its variant, "-<weighting>" for a Table 2 scheme,
    and "DMM-CNN, Eq. 4 as printed" (:data:`dmmlib.suite.pipeline.EQ4_AS_PRINTED`) for DMM-CNN without rescaling."""
    if entry.get("variant") == "DMM-CNN" and entry.get("dynamic_normalise") is False:
        return "DMM-CNN, Eq. 4 as printed"
    return str(entry.get("variant") or entry.get("run")) + (f"-{entry['weighting']}" if entry.get("weighting") else "")


def lr_traces(histories: Sequence[Mapping[str, Any]], schedule: str = "as stored") -> pd.DataFrame:
    """One row per (seed, run, update): the learning rate in force at that update (a record's ``histories.json``)."""
    rows = []
    for entry in histories:
        label = entry.get("run") if "variant" not in entry else run_label(entry)
        for update in entry["updates"]:
            rows.append({"seed": int(entry["seed"]), "run": label, "iteration": int(update["iteration"]),
                         "lr": float(update["lr"]), "schedule": schedule})  # fmt: skip
    return pd.DataFrame(rows)


def live_traces(runs: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """The lr traces of runs trained in this notebook (name -> :class:`~dmmlib.suite.pipeline.Run`), as
    :func:`lr_traces` gives them for a record."""
    return lr_traces([{"seed": seed, "run": name, "updates": run.history} for name, run in runs.items()],
                     schedule="this run")  # fmt: skip


def cut_by_plateau(final_lr: float, scheduled_lr: float) -> bool:
    """Whether a run that ended at ``final_lr`` was cut by the plateau rule: below the scheduled tail's rate."""
    return final_lr < scheduled_lr * (1 - 1e-6)


def plateau_cuts(traces: pd.DataFrame, scheduled_lr: float) -> pd.DataFrame:
    """Per (seed, run): the first iteration whose rate is below the base rate, the final rate, and whether the
    plateau rule cut it (final rate below ``scheduled_lr``, the rate of the scheduled tail alone)."""
    out = []
    for (seed, run), part in traces.groupby(["seed", "run"], sort=True):
        part = part.sort_values("iteration")
        base = part["lr"].iloc[0]
        below = part[part["lr"] < base]
        out.append({"seed": seed, "run": run, "first lower rate at iteration": int(below["iteration"].iloc[0])
                    if len(below) else None, "final lr": float(part["lr"].iloc[-1]),
                    "cut by the plateau rule": cut_by_plateau(float(part["lr"].iloc[-1]), scheduled_lr)})  # fmt: skip
    return pd.DataFrame(out)


def lr_figure(traces: pd.DataFrame, runs: Sequence[str] | None = None, title: str = "") -> plt.Figure:
    """The learning rate over iterations (log scale), one panel per seed, one line per run (and a dashed line for
    the shared schedule where ``traces`` has it)."""
    chosen = traces if runs is None else traces[traces["run"].isin(runs)]
    seeds = sorted(chosen["seed"].unique())
    fig, axes = plt.subplots(1, max(1, len(seeds)), figsize=(4.2 * max(1, len(seeds)), 3.2), sharey=True,
                             squeeze=False)  # fmt: skip
    names = sorted(chosen["run"].unique())
    colours = {name: plt.get_cmap("tab10")(k % 10) for k, name in enumerate(names)}
    for ax, seed in zip(axes[0], seeds):
        for (run, schedule), part in chosen[chosen["seed"] == seed].groupby(["run", "schedule"], sort=True):
            style = "--" if schedule == "shared" else "-"
            ax.step(part["iteration"], part["lr"], where="post", linestyle=style, color=colours[run],
                    label=f"{run} ({schedule})")  # fmt: skip
        ax.set_yscale("log")
        ax.set_title(f"seed {seed}")
        ax.set_xlabel("iteration")
    axes[0][0].set_ylabel("learning rate")
    handles, labels = axes[0][-1].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    fig.legend(unique.values(), unique.keys(), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ both schedules
def side_by_side(stored: pd.DataFrame, shared: pd.DataFrame, runs: Sequence[str], metric: str = "accuracy",
                 scope: str = "all", machine_check: tuple[int, str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Per run label: the mean over seeds as stored, and under the shared schedule (the retrained value where the
    plateau rule had cut that seed's run, the stored one where it had not: that run already had the shared
    schedule), in points, with the seeds retrained. ``stored`` is a record's values.csv (one notebook's rows, or
    rows deduplicated by seed and run), ``shared`` the shared-schedule record's values.csv. The machine-check run
    is not a retrained cut run and is left out of the shared column."""
    keep = (stored["metric"] == metric) & (stored["scope"] == scope)
    base = stored[keep].drop_duplicates(["seed", "run"]).set_index(["seed", "run"])["value"]
    redone = shared[(shared["metric"] == metric) & (shared["scope"] == scope)]
    if machine_check is not None:
        redone = redone[~((redone["seed"] == machine_check[0]) & (redone["run"] == machine_check[1]))]
    redone = redone.set_index(["seed", "run"])["value"]
    rows = []
    for run in runs:
        seeds = sorted(s for s, r in base.index if r == run)
        if not seeds:
            continue
        before = [base[(s, run)] for s in seeds]
        after = [redone.get((s, run), base[(s, run)]) for s in seeds]
        retrained = [s for s in seeds if (s, run) in redone.index]
        rows.append({"run": run, "as stored": 100 * float(np.mean(before)),
                     "shared schedule": 100 * float(np.mean(after)),
                     "change (points)": 100 * float(np.mean(after) - np.mean(before)),
                     "seeds retrained": ", ".join(map(str, retrained)) or "none", "seeds": len(seeds)})  # fmt: skip
    return pd.DataFrame(rows).set_index("run")


def machine_gap(stored: pd.DataFrame, shared: pd.DataFrame, check: tuple[int, str], metric: str = "accuracy",
                scope: str = "all") -> float | None:  # fmt: skip
    """Points between the machine-check run retrained here and its stored value (same schedule, same seed and
    code): what the machine alone changes. None where either is missing."""
    def pick(frame: pd.DataFrame) -> pd.Series:
        return frame[(frame["seed"] == check[0]) & (frame["run"] == check[1]) & (frame["metric"] == metric)
                     & (frame["scope"] == scope)]["value"]  # fmt: skip

    a, b = pick(shared), pick(stored)
    if a.empty or b.empty:
        return None
    return 100 * float(a.iloc[0] - b.iloc[0])


def schedule_sentences(table: pd.DataFrame, gap: float | None, pairs: Sequence[tuple[str, str]] = ()) -> list[str]:
    """What the shared schedule changed, in words chosen by the numbers: per retrained run, whether its change is
    larger than the machine's own gap (``gap``, points); then, per (better, worse) pair, the difference under each
    schedule."""
    lines = []
    if gap is None:
        tolerance, yardstick = BETWEEN_MACHINES, "the spread between machines"
        lines.append(f"No machine check was retrained, so the yardstick is {yardstick} measured for the same seed "
                     f"(up to {BETWEEN_MACHINES} points).")  # fmt: skip
    else:
        tolerance, yardstick = abs(gap), "the machine's own gap"
        lines.append(f"The machine alone: a run the plateau rule never cut, retrained here with its own schedule, "
                     f"ends {gap:+.2f} points from its stored value; changes smaller than that are not the schedule's.")
    for run, row in table.iterrows():
        if row["seeds retrained"] == "none":
            continue
        change = row["change (points)"]
        if abs(change) <= tolerance:
            lines.append(f"{run}: the shared schedule changes its mean by {change:+.2f} points (seeds "
                         f"{row['seeds retrained']} retrained), within {yardstick}: the plateau cuts did "
                         "not make its result.")  # fmt: skip
        else:
            word = "raises" if change > 0 else "lowers"
            lines.append(f"{run}: the shared schedule {word} its mean by {abs(change):.2f} points (seeds "
                         f"{row['seeds retrained']} retrained), more than {yardstick}: part of its stored "
                         "result was the plateau rule's doing.")  # fmt: skip
    for better, worse in pairs:
        if better in table.index and worse in table.index:
            before = table.loc[better, "as stored"] - table.loc[worse, "as stored"]
            after = table.loc[better, "shared schedule"] - table.loc[worse, "shared schedule"]
            lines.append(f"{better} - {worse}: {before:+.2f} points as stored, {after:+.2f} under one shared schedule "
                         f"(the schedule accounts for {before - after:+.2f} of it).")  # fmt: skip
    return lines


# --------------------------------------------------------------------------------------- Eq. 4's trap
def first_dynamic_update(history: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first update at which Eq. 4 set the weights (they differ from each other), or None."""
    return next((h for h in history if h.get("lambda") and len(set(h["lambda"])) > 1), None)


def starved_attributes(runs: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
                       uniform: str = "DMM-EQ-FIX") -> pd.DataFrame:  # fmt: skip
    """Per run with Eq. 4 (``runs``: name -> :class:`~dmmlib.suite.pipeline.Run`; ``tables``: its test table of
    :func:`~dmmlib.suite.pipeline.evaluate`): the attributes it left at chance, with their lambda at the first Eq. 4
    update and at the end, the median lambda of all attributes at that first update, and the same attribute's
    balanced accuracy under ``uniform`` weights (where that run is in ``tables``)."""
    from dmmlib.attributes import ATTRIBUTES

    rows = []
    for name, run in runs.items():
        first = first_dynamic_update(run.history)
        if first is None or name not in tables:
            continue
        last = run.history[-1]
        median_first = float(np.median(first["lambda"]))
        table = tables[name]
        for attribute in table.index[table["balanced_accuracy"] < CHANCE]:
            j = ATTRIBUTES.index(attribute)
            rows.append({"run": name, "attribute": attribute,
                         "balanced accuracy": float(table.loc[attribute, "balanced_accuracy"]),
                         "lambda at first Eq. 4 update": float(first["lambda"][j]),
                         "median lambda then": median_first, "lambda at the end": float(last["lambda"][j]),
                         "median lambda at the end": float(np.median(last["lambda"])),
                         f"balanced accuracy under {uniform}": float(tables[uniform].loc[attribute, "balanced_accuracy"])
                         if uniform in tables else float("nan")})  # fmt: skip
    return pd.DataFrame(rows)


def starved_from_record(attributes: pd.DataFrame) -> pd.DataFrame:
    """The same list from the shared-schedule record's ``attributes.csv`` (per seed and retrained run)."""
    at_chance = attributes[(attributes["balanced_accuracy"] < CHANCE) & attributes["lambda_first"].notna()]
    grouped = attributes.groupby(["seed", "run"])
    medians = pd.concat([grouped["lambda_first"].median().rename("median lambda then"),
                         grouped["lambda_last"].median().rename("median lambda at the end")], axis=1)
    return at_chance.join(medians, on=["seed", "run"]).rename(columns={
        "balanced_accuracy": "balanced accuracy", "lambda_first": "lambda at first Eq. 4 update",
        "lambda_last": "lambda at the end"})[["seed", "run", "attribute", "balanced accuracy",
                                              "lambda at first Eq. 4 update", "median lambda then",
                                              "lambda at the end", "median lambda at the end"]].reset_index(drop=True)  # fmt: skip


def trap_sentence(starved: pd.DataFrame, uniform: str = "DMM-EQ-FIX") -> str:
    """Eq. 4's trap in words, chosen by the table of :func:`starved_attributes` (or :func:`starved_from_record`):
    how many attributes left at chance had started with a weight under a quarter of the median at the first Eq. 4
    update (the trap), naming them, and how many started with an ordinary weight (something else left those at
    chance)."""
    if starved.empty:
        return (f"No run with Eq. 4 left an attribute at chance (balanced accuracy below {CHANCE}) here: the trap "
                "did not spring in these runs.")  # fmt: skip
    low_start = starved["lambda at first Eq. 4 update"] < 0.25 * starved["median lambda then"]
    runs = starved["run"].nunique()
    text = f"{len(starved)} attribute-runs were left at chance by {runs} run(s) with Eq. 4."
    if not low_start.any():
        return text + (" None of them had started with a low weight, so the trap does not explain these: look at "
                       "their validation loss and their threshold instead.")  # fmt: skip
    trapped = starved[low_start]
    names = ", ".join(sorted(trapped["attribute"].unique()))
    text += (f" {int(low_start.sum())} of them started with a weight under a quarter of the median at the first "
             f"Eq. 4 update ({names})")  # fmt: skip
    still = trapped["lambda at the end"] < 0.25 * trapped["median lambda at the end"]
    text += (f", and {int(still.sum())} of those still had one at the end" if still.any() else
             ", though all had an ordinary weight by the end")  # fmt: skip
    text += ": the trap, a weight proportional to recent progress cannot start an attribute that has made none."
    column = f"balanced accuracy under {uniform}"
    if column in trapped and (trapped[column] >= CHANCE).any():
        text += f" Under uniform weights ({uniform}) {int((trapped[column] >= CHANCE).sum())} of those were learnt."
    others = int((~low_start).sum())
    if others:
        text += (f" The other {others} started with an ordinary weight: something else left them at chance (often a "
                 "rare attribute that a threshold of 0 never predicts).")  # fmt: skip
    return text
