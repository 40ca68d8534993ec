"""The stored teach runs whose learning rate the plateau rule cut, trained again under one shared schedule.

The teach preset keeps the paper's plateau rule (lr x 0.1 when the validation loss has not fallen for
``lr_patience`` updates) on top of a scheduled cut of the last fifth of the iterations. The rule reacts to the
mechanism: in the stored record (``evidence/evidence-teach/``) it cut the rate of every DMM-DW-FIX run and of most
runs with Eq. 4, never that of Baseline or the uniform-weight variants before the scheduled tail. A difference
between two variants is then partly a difference of schedules.

This module finds every stored run whose final rate is below the scheduled one (:func:`cut_runs`: the plateau rule
cut it at least once), trains it again with the plateau rule off and the same scheduled cut (the schedule every
uncut run already had), and stores the result as its own record, ``evidence/evidence-teach-shared-schedule/``.
Notebooks 06 and 07 print both schedules side by side. One run that the rule never cut (:data:`MACHINE_CHECK`) is
trained again too: its schedule does not change, so the gap between its new and stored accuracy is the machine's
(CPU kernels, bf16 or float32), the yardstick for the other gaps.

    python -m dmmlib.suite.shared_schedule run --jobs 2
    python -m dmmlib.suite.shared_schedule record
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dmmlib.files import atomic
from dmmlib.lab import schedule
from dmmlib.suite import evidence, parallel, paths, provenance, stats

RECORD = "evidence-teach-shared-schedule"
VALUES_CSV, ATTRIBUTES_CSV, HISTORIES_JSON, ABOUT_JSON = "values.csv", "attributes.csv", "histories.json", "about.json"
#: the plateau rule off: a patience no run reaches
NO_PLATEAU = {"lr_patience": 10**6}
#: (seed, label) of a run the plateau rule never cut in the record, trained again as the machine's yardstick
MACHINE_CHECK = (0, "DMM-EQ-FIX")


@dataclass(frozen=True)
class StoredRun:
    seed: int
    label: str  #: as the record's values.csv names it (variant, or "DMM-CNN, Eq. 4 as printed", or "DMM-CNN-dwa")
    variant: str
    weighting: str | None
    dynamic_normalise: bool
    final_lr: float
    first_cut: int | None  #: the first update at which the rate fell below the base rate

    def overrides(self) -> dict[str, Any]:
        return {"dynamic_normalise": self.dynamic_normalise, **NO_PLATEAU}


def stored_runs(histories: list[dict[str, Any]]) -> list[StoredRun]:
    out = []
    for entry in histories:
        updates = entry["updates"]
        base = updates[0]["lr"]
        first_cut = next((u["iteration"] for u in updates if u["lr"] < base), None)
        out.append(StoredRun(int(entry["seed"]), schedule.run_label(entry), entry["variant"], entry.get("weighting"),
                             bool(entry.get("dynamic_normalise")), float(updates[-1]["lr"]), first_cut))  # fmt: skip
    return out


def cut_runs(histories: list[dict[str, Any]], lr: float, lr_factor: float) -> list[StoredRun]:
    """The stored runs whose final rate is below the scheduled tail's ``lr * lr_factor``: the plateau rule cut
    them at least once (before the tail, or on top of it)."""
    return [run for run in stored_runs(histories) if schedule.cut_by_plateau(run.final_lr, lr * lr_factor)]


def plan(record: str = evidence.TEACH_RECORD) -> list[StoredRun]:
    """The runs to train again: the machine check first (the yardstick every other change is read against), then
    every cut run of the record, by seed."""
    from dmmlib.suite import presets

    teach = presets.PRESETS["teach"].train
    histories = json.loads((evidence.evidence_root() / record / evidence.HISTORIES_JSON).read_text())
    runs = cut_runs(histories, teach["lr"], 0.1)
    check = next(r for r in stored_runs(histories) if (r.seed, r.label) == MACHINE_CHECK)
    return [check] + runs


def run_one(run: StoredRun) -> dict[str, Any]:
    """Train ``run`` again under the shared schedule (teach preset, its seed) and summarise it."""
    import torch

    from dmmlib import metrics
    from dmmlib.suite import pipeline, session

    torch.set_num_threads(1)
    ctx = session.start("shared_schedule", PRESET="teach", SEED=run.seed)
    trained = pipeline.ensure_trained(ctx, run.variant, weighting=run.weighting, progress=False, **run.overrides())
    table = pipeline.evaluate(ctx, trained)
    means = metrics.mean_table(table)
    first = schedule.first_dynamic_update(trained.history)
    last = trained.history[-1]
    attributes = [{"seed": run.seed, "run": run.label, "attribute": name,
                   "accuracy": round(float(table.loc[name, "accuracy"]), 6),
                   "balanced_accuracy": round(float(table.loc[name, "balanced_accuracy"]), 6),
                   "lambda_first": round(float(first["lambda"][j]), 6) if first else None,
                   "lambda_last": round(float(last["lambda"][j]), 6) if last.get("lambda") else None}
                  for j, name in enumerate(table.index)]  # fmt: skip
    values = [{"seed": run.seed, "run": run.label, "metric": m, "scope": s, "value": round(float(means.loc[s, m]), 6)}
              for s in stats.SCOPES for m in evidence.KEPT_METRICS if m in means]  # fmt: skip
    return {
        "seed": run.seed, "run": run.label, "name": trained.name, "values": values, "attributes": attributes,
        "updates": evidence._history_record(trained.history),
        "arithmetic": provenance.arithmetic(trained.cfg),
        "stored_final_lr": run.final_lr, "stored_first_cut": run.first_cut,
        "machine_check": (run.seed, run.label) == MACHINE_CHECK,
    }  # fmt: skip


def run_all(jobs: int = 1, runs: Sequence[StoredRun] | None = None) -> list[dict[str, Any]]:
    """Train every planned run (``jobs`` side by side, one thread each) and return their summaries (finished runs
    are loaded, so a second call resumes); the command line keeps them in ``runs/teach/shared_schedule.json``."""
    from dmmlib.suite import pipeline, session

    todo = list(runs if runs is not None else plan())
    pipeline.celeba_root(session.start("shared_schedule", PRESET="teach"), progress=False)  # draw the data once
    return parallel.map_runs(run_one, todo, jobs, "shared schedule")


def _scratch() -> Path:
    return paths.runs_dir("teach") / "shared_schedule.json"


def write_record(results: list[dict[str, Any]], name: str = RECORD, seconds: float | None = None) -> Path:
    """``evidence/<name>/``: values.csv (as the teach record's, without notebooks), attributes.csv (per attribute:
    test accuracy, balanced accuracy, lambda at the first Eq. 4 update and the last), histories.json, about.json."""
    from dmmlib.suite import presets

    folder = evidence.evidence_root() / name
    folder.mkdir(parents=True, exist_ok=True)
    values = pd.DataFrame([row for r in results for row in r["values"]])
    attributes = pd.DataFrame([row for r in results for row in r["attributes"]])
    atomic.write_text(folder / VALUES_CSV, values.to_csv(index=False))
    atomic.write_text(folder / ATTRIBUTES_CSV, attributes.to_csv(index=False))
    atomic.write_json(folder / HISTORIES_JSON, [
        {"seed": r["seed"], "run": r["run"], "name": r["name"], "machine_check": r["machine_check"],
         "stored_final_lr": r["stored_final_lr"], "stored_first_cut": r["stored_first_cut"], "updates": r["updates"]}
        for r in results
    ])  # fmt: skip
    arithmetic = sorted({r["arithmetic"] for r in results})
    about = {
        "name": name,
        "description": "the runs of evidence-teach whose learning rate the plateau rule cut, trained again with the "
                       "plateau rule off and the scheduled cut of the last fifth kept (the schedule every uncut run "
                       f"had); plus {MACHINE_CHECK[1]} at seed {MACHINE_CHECK[0]}, never cut, as the machine's "
                       "yardstick (dmmlib.suite.shared_schedule)",
        "preset": "teach",
        "dataset": "synthetic CelebA-format data (the suite's embedded default)",
        "compared_with": evidence.TEACH_RECORD,
        "overrides": NO_PLATEAU,
        "seeds": sorted({int(r["seed"]) for r in results}),
        "runs": [{"seed": r["seed"], "run": r["run"]} for r in results],
        "preset_settings": evidence.preset_settings("teach"),
        "teach_lr": presets.PRESETS["teach"].train["lr"],
        "machine_seconds": seconds,
        "hardware": provenance.hardware(),
        "arithmetic": arithmetic[0] if len(arithmetic) == 1 else "mixed",
        "versions": provenance.versions(),
        "commit": provenance.git_commit() or None,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m dmmlib.suite.shared_schedule run --jobs 2; python -m dmmlib.suite.shared_schedule record",
    }  # fmt: skip
    atomic.write_json(folder / ABOUT_JSON, about)
    return folder


@dataclass
class SharedSchedule:
    values: pd.DataFrame
    attributes: pd.DataFrame
    histories: list[dict[str, Any]]
    about: dict[str, Any]


def load(name: str = RECORD) -> SharedSchedule | None:
    """The stored record, or None where there is none."""
    folder = evidence.evidence_root() / name
    if not (folder / ABOUT_JSON).is_file():
        return None
    return SharedSchedule(pd.read_csv(folder / VALUES_CSV), pd.read_csv(folder / ATTRIBUTES_CSV),
                          json.loads((folder / HISTORIES_JSON).read_text()),
                          json.loads((folder / ABOUT_JSON).read_text()))  # fmt: skip


#: how notebook 07 names the runs of Table 2 that the shared-schedule record names by variant
TABLE2_NAMES = {"DMM-EQ-AT": "UW", "DMM-CNN-dwa": "DWA", "DMM-CNN-aw": "AW", "DMM-CNN": "ours"}


def as_table2(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` with the run labels notebook 07 uses (UW, DWA, AW, ours)."""
    return values.assign(run=values["run"].replace(TABLE2_NAMES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.shared_schedule", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train the cut runs again under the shared schedule")
    run.add_argument("--jobs", type=int, default=1)
    run.add_argument("--list", action="store_true", help="only list the runs it would train")
    run.add_argument("--seeds", default="", help="comma-separated seeds to train now (default: all); the machine "
                                                "check always runs")
    rec = sub.add_parser("record", help="write evidence/evidence-teach-shared-schedule/")
    rec.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    if args.command == "run":
        chosen = plan()
        if args.seeds:
            wanted = {int(x) for x in args.seeds.split(",") if x.strip()}
            chosen = [r for r in chosen if r.seed in wanted or (r.seed, r.label) == MACHINE_CHECK]
        if args.list:
            for r in chosen:
                print(f"seed {r.seed} {r.label}: final lr {r.final_lr:g}, first cut at iteration {r.first_cut}")
            return 0
        previous = json.loads(_scratch().read_text()) if _scratch().is_file() else []
        done = run_all(args.jobs, chosen)
        keys = {(r["seed"], r["run"]) for r in done}
        atomic.write_json(_scratch(), [r for r in previous if (r["seed"], r["run"]) not in keys] + done)
        return 0
    if not _scratch().is_file():
        print(f"error: {_scratch()} does not exist; run `python -m dmmlib.suite.shared_schedule run` first",
              file=sys.stderr)  # fmt: skip
        return 2
    print(write_record(json.loads(_scratch().read_text()), seconds=args.seconds))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
