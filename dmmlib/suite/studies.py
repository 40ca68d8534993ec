"""Notebook 11's seed study: which sweeps it reads, and the small sweep it runs itself when given none.

Notebook 11 shows Tables 1 and 2 as means over seeds with 95% intervals, paired differences and verdicts on the
paper's claims. :func:`study` gathers its input: the finished sweeps it is given (``SWEEP``, collected from their
points by :func:`dmmlib.suite.stats.collect`), the repository's stored record for presets that have one
(:data:`STORED_STUDIES`, read with :func:`dmmlib.suite.evidence.load`), or, for the smoke preset, a small seed sweep
of notebook 06 that it runs first (:data:`STUDY_PLANS`, resumable, through :func:`dmmlib.suite.sweep.run_sweep`).
The figures and tables are :mod:`dmmlib.lab.seed_study`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dmmlib.suite import evidence, stats, sweep
from dmmlib.suite.stats import SWEEP_FILE, sweep_dir, sweeps_root

#: The variants notebook 11's own sweeps train: enough for every family of the paper's Table 1 claims (landmark
#: task, dynamic weights, adaptive thresholds, each against Baseline); DMM-EQ-FIX and DMM-SPP are left out.
STUDY_VARIANTS = "Baseline,DMM-FAC,DMM-EQ-AT,DMM-DW-FIX,DMM-CNN"
#: What notebook 11 runs itself when it is given no sweep: a small seed sweep of notebook 06 that fits the preset's
#: budget (one epoch, five variants, three seeds: a demonstration of the method of the study, not the study; the
#: sweeps in sweeps/ are). The paper preset runs none (each point would be full trainings): give it a finished sweep.
STUDY_PLANS: dict[str, dict[str, Any]] = {
    "smoke": {"notebooks": ["06"], "seeds": 3, "fixed": {"EPOCHS": 1, "ONLY": STUDY_VARIANTS}},
}  # fmt: skip
#: What notebook 11 reads when given no sweep, for presets whose full study is stored in the repository
#: (``evidence/<name>/``, :mod:`dmmlib.suite.evidence`): the teach preset's Tables 1 and 2 over seeds at the
#: preset's whole budget, instead of a one-epoch demonstration.
STORED_STUDIES: dict[str, str] = {"teach": "evidence-teach"}
#: The reference run of each notebook's paired differences in a stored record.
RECORD_REFERENCES: dict[str, str] = {"05": "DMM-CNN", "06": "Baseline", "07": "ours"}


def check_study_parameters(sweeps: Any, seeds: Any, preset: str | None = None) -> None:
    """Notebook 11's SWEEP and SEEDS, checked before any work (a clear message naming the parameter).

    ``SEEDS`` sets the seeds of the sweep the notebook trains itself (:data:`STUDY_PLANS`, given no ``SWEEP``). With
    ``preset`` given, a ``SEEDS`` that nothing would use, because the study reads finished sweeps or a stored
    record whose seeds are fixed, is refused with the ways to get more seeds, instead of being silently ignored.
    """
    if not isinstance(sweeps, str):
        raise ValueError(f"parameter SWEEP must name sweeps as text (e.g. 'table1-seeds'), got {sweeps!r}")
    names = [n.strip() for n in sweeps.split(",") if n.strip()]
    for name in names:
        if not sweep._NAME.match(name):
            raise ValueError(f"parameter SWEEP: {name!r} is not a sweep name (letters, digits, '.', '_', '-')")
    if seeds == 1:
        raise ValueError("parameter SEEDS must be 0 (the preset's plan) or at least 2: an interval needs two seeds")
    if preset is None or not seeds or (not names and preset in STUDY_PLANS):
        return
    if names:
        reads = f"the sweeps named in SWEEP ({', '.join(names)}), whose seeds their specs fixed"
    elif preset in STORED_STUDIES:
        reads = f"the repository's stored record evidence/{STORED_STUDIES[preset]}/, whose seeds are fixed"
    else:
        reads = f"the finished {preset} sweeps under build/sweeps/, whose seeds their specs fixed"
    live = ", ".join(sorted(STUDY_PLANS))
    raise ValueError(
        f"parameter SEEDS={seeds}: only the seed sweep this notebook trains itself takes a number of seeds, and with "
        f"preset {preset} it trains none: it reads {reads}. For more seeds, run it with PRESET={live!r} and SWEEP "
        f"empty (it trains its sweep live, keeping the seeds it has), or run a sweep with more seeds "
        f"(`make sweep SPEC=sweeps/table1-seeds.yml`, its grid's SEED list) and pass its name as SWEEP with SEEDS=0."
    )


def finished_sweeps(preset: str) -> list[str]:
    """Names of the sweeps under ``build/sweeps/`` that ran with ``preset`` and have at least one finished point."""
    found = []
    root = sweeps_root()
    for info_path in sorted(root.glob(f"*/{SWEEP_FILE}")) if root.is_dir() else []:
        info = json.loads(info_path.read_text())
        if info.get("resolved_preset") == preset and any(info_path.parent.glob(f"*/{sweep.DONE_FILE}")):
            found.append(info_path.parent.name)
    return found


def study_spec(preset: str, seeds: int = 0, first_seed: int = 0) -> sweep.Spec:
    """The small sweep of :data:`STUDY_PLANS` for ``preset`` (``seeds`` 0: the plan's number)."""
    if preset not in STUDY_PLANS:
        raise ValueError(f"the {preset} preset runs no seed sweep itself (it would take too long): run one with "
                         f"`make sweep SPEC=sweeps/<spec>.yml` and pass its name as SWEEP")  # fmt: skip
    plan = STUDY_PLANS[preset]
    count = seeds or plan["seeds"]
    data = {"name": f"seed-study-{preset}", "preset": preset, "notebooks": plan["notebooks"],
            "grid": {"SEED": list(range(first_seed, first_seed + count))}, "fixed": dict(plan["fixed"]),
            "reference": "Baseline",
            "description": f"notebook 11's own seed sweep for the {preset} preset"}  # fmt: skip
    return sweep.parse_spec(data, f"<notebook 11 plan for {preset}>")


@dataclass
class Study:
    """One or more collected sweeps, stacked (a ``sweep`` column tells them apart)."""

    names: list[str]
    results: Any
    values: Any
    summary: Any
    paired: Any
    description: list[str]

    @property
    def empty(self) -> bool:
        return self.results.empty


def study(preset: str, sweeps: str = "", *, seeds: int = 0, first_seed: int = 0, jobs: int = 0,
          progress: bool = True) -> Study:  # fmt: skip
    """The seed study of notebook 11: the named sweeps (comma-separated; collected from their points), or, when
    ``sweeps`` is empty, the preset's small sweep of :data:`STUDY_PLANS`, run first (resumably) with ``jobs``
    points at once (0: one per core). A failed point raises, naming it."""
    import pandas as pd

    names = [n.strip() for n in sweeps.split(",") if n.strip()]
    if not names and preset in STORED_STUDIES:
        names = [STORED_STUDIES[preset]]
    if not names and preset not in STUDY_PLANS:
        names = finished_sweeps(preset)
        if not names:
            return Study([], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                         [f"no sweep with the {preset} preset under {sweeps_root()} yet, and this preset runs "
                          "none itself: run one (README, 'Batch sweeps') and pass its name as SWEEP"])  # fmt: skip
    if not names:
        spec = study_spec(preset, seeds, first_seed)
        outcome = sweep.run_sweep(spec, jobs=jobs, progress=progress, collect_results=False)
        if not outcome.ok:
            raise RuntimeError("the seed sweep had failed points:\n" + "\n".join(map(str, outcome.failed)))
        names = [spec.name]
    parts: dict[str, list[Any]] = {"results": [], "values": [], "summary": [], "paired": []}
    description = []
    for name in names:
        if not (sweep_dir(name) / SWEEP_FILE).is_file() and _stored_record(name) is not None:
            record = _stored_record(name)
            values = record.values.assign(sweep=name)
            for key, frame in (("results", values), ("values", values),
                               ("summary", stats.summarise(record.values).assign(sweep=name)),
                               ("paired", _record_paired(record.values).assign(sweep=name))):  # fmt: skip
                parts[key].append(frame)
            description.append(f"{name}: {record.describe()} (the repository's stored record: per-seed means, "
                               "no per-attribute rows)")  # fmt: skip
            continue
        if not (sweep_dir(name) / SWEEP_FILE).is_file():
            raise FileNotFoundError(f"SWEEP={name!r}: no sweep of that name under {sweeps_root()}; run "
                                    f"`make sweep SPEC=sweeps/{name}.yml` first")  # fmt: skip
        got = stats.collect(name)
        info = json.loads((sweep_dir(name) / SWEEP_FILE).read_text())
        conditions = stats.conditions_of(got.parameters, list(info.get("grid", {})))
        parts["results"].append(got.results.assign(sweep=name))
        parts["values"].append(stats.point_values(got.results, conditions).assign(sweep=name))
        parts["summary"].append(got.summary.assign(sweep=name))
        parts["paired"].append(got.paired.assign(sweep=name))
        description.append(f"{name}: preset {info['resolved_preset']}, notebooks {', '.join(info['notebooks'])}, "
                           f"grid {info['grid']}, fixed {info['fixed'] or 'none'}; {got.points_with_results} of "
                           f"{got.points_total} points with results")  # fmt: skip
    frames = {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in parts.items()}
    return Study(names, frames["results"], frames["values"], frames["summary"], frames["paired"], description)


def _stored_record(name: str) -> Any:
    """The stored record ``evidence/<name>/`` when there is one (None otherwise)."""
    try:
        return evidence.load(name)
    except FileNotFoundError:
        return None


def _record_paired(values: Any) -> Any:
    """Paired differences of a stored record, each notebook against its reference run (RECORD_REFERENCES)."""
    import pandas as pd

    frames = [stats.paired(values[values["notebook"].astype(str).str.startswith(prefix)], reference)
              for prefix, reference in RECORD_REFERENCES.items()]  # fmt: skip
    return pd.concat([f for f in frames if not f.empty], ignore_index=True) if frames else pd.DataFrame()
