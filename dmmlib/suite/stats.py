"""Statistics across the points of a sweep: tidy results, means with 95% intervals, paired differences, verdicts.

``collect(name)`` reads ``<point>/runs/<preset>/results/<notebook stem>.json`` (under ``knobs/<knob>=<value>/``
for a point with a generator knob) of every point of ``build/sweeps/<name>/`` that has one (a partial sweep is fine)
and writes beside the points the tables below; ``collect_notebooks(folder)`` does the same for a folder of notebooks
executed by papermill outside a sweep (each carries its results as an output, its parameters in its cells):

- ``results.csv``: one row per point x notebook x run (variant or weighting scheme) x attribute x metric, with the
  point's parameters as columns and the attribute's ``group`` (objective/subjective, the paper's split);
- ``summary.csv``: per notebook x run x metric x scope (all attributes, objective, subjective): over the points,
  n, mean, sd and the 95% confidence interval (Student t); the value of a point is the mean over the attributes in
  scope. Grid parameters other than ``SEED`` split the summary (each of their values is summarised on its own);
- ``paired.csv``: per run, its difference from the spec's ``reference`` run at the same point (same seed), with
  n, mean, sd, 95% interval and the paired t-test's p value.

:func:`claims` turns paired intervals into verdicts on the paper's claims: an interval above zero *supports* the
claim, one below zero *contradicts* it, one that contains zero *cannot decide*. Beside each interval stands the
paired t-test's two-sided p value and its Holm-adjusted value over the family of verdicts printed together
(:func:`holm`); an interval clear of zero decides only when the adjusted p is below :data:`ALPHA` too. Fewer than
:data:`MIN_SEEDS` seeds, or paired differences that do not vary at all (a zero-width interval), *cannot decide*.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmmlib.attributes import PAPER_GROUPS
from dmmlib.files import atomic
from dmmlib.suite import paths
from dmmlib.variants import VARIANTS

#: Per-attribute metrics collected from results; the majority rate and the ceiling (synthetic data) are the same
#: for every run of a point, and are kept so that tables can show each run between them.
METRICS = ("accuracy", "balanced_accuracy", "f1", "average_precision", "majority_accuracy", "ceiling_accuracy")
SCOPES = ("all", "objective", "subjective")
#: Where notebooks 06 and 07 save their per-run, per-attribute metrics inside their results JSON.
RESULTS_KEY = "per attribute metrics"
#: Grid parameters whose values are replicates (averaged over), not conditions (summarised separately).
REPLICATE_KEYS = ("SEED",)
CONFIDENCE = 0.95
#: The family-wise error rate of a table of verdicts (Holm's step-down correction over the table's p values).
ALPHA = 0.05
#: The fewest seeds (paired points) a verdict rests on; fewer cannot decide.
MIN_SEEDS = 3
#: A standard deviation at most this (times max(1, |mean|)) is zero: values that agree up to float rounding (e.g.
#: 0.82 - 0.80 and 0.83 - 0.81) give no interval, not a vanishingly narrow one with an enormous t statistic.
ZERO_SD = 1e-9
RESULTS_CSV, SUMMARY_CSV, PAIRED_CSV = "results.csv", "summary.csv", "paired.csv"
SWEEP_FILE = "sweep.json"  #: the resolved spec a sweep writes into its folder when it starts
BASE_COLUMNS = ["point", "notebook", "run", "attribute", "group", "metric", "value"]


def sweeps_root() -> Path:
    """``build/sweeps/``: one folder per sweep."""
    return paths.build_dir() / "sweeps"


def sweep_dir(name: str) -> Path:
    """``build/sweeps/<name>/``: a sweep's points, shared data and collected tables."""
    return sweeps_root() / name


# ------------------------------------------------------------------------------------------------ intervals
def interval(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> dict[str, float]:
    """n, mean, sd and the Student-t confidence interval of the mean of ``values`` (NaNs dropped)."""
    from scipy import stats as st

    array = np.asarray(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    n = len(array)
    mean = float(array.mean()) if n else math.nan
    if n < 2:
        return {"n": n, "mean": mean, "sd": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    sd = float(array.std(ddof=1))
    if sd <= ZERO_SD * max(1.0, abs(mean)):
        return {"n": n, "mean": mean, "sd": 0.0, "ci_low": mean, "ci_high": mean}
    low, high = st.t.interval(confidence, n - 1, loc=mean, scale=sd / math.sqrt(n))
    return {"n": n, "mean": mean, "sd": sd, "ci_low": float(low), "ci_high": float(high)}


def paired_interval(values: Sequence[float], against: Sequence[float],
                    confidence: float = CONFIDENCE) -> dict[str, float]:  # fmt: skip
    """The interval of the mean paired difference ``values - against`` (pairs with a NaN dropped) and the two-sided
    paired t-test's p value (``scipy.stats.ttest_rel``; NaN for fewer than 2 pairs or differences that do not vary)."""
    from scipy import stats as st

    a, b = np.asarray(values, dtype=np.float64), np.asarray(against, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    out = interval(a - b, confidence)
    out["p_value"] = float(st.ttest_rel(a, b).pvalue) if len(a) >= 2 and out["sd"] > 0 else math.nan
    return out


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p values, in their order: the i-th smallest of m becomes
    ``max over j <= i of (m - j + 1) * p_(j)``, capped at 1 (monotone in p). NaNs stay NaN and do not count in m."""
    p = np.asarray(p_values, dtype=np.float64).ravel()
    out = np.full(p.shape, math.nan)
    known = np.flatnonzero(~np.isnan(p))
    m = len(known)
    if m:
        order = known[np.argsort(p[known], kind="stable")]
        steps = (m - np.arange(m)) * p[order]
        out[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    return out


def attribute_records(tables: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Run name -> per-attribute table (:func:`dmmlib.metrics.attribute_table`) as the JSON records notebooks save
    under :data:`RESULTS_KEY`: one per run x attribute with group, accuracy, balanced accuracy, F1 and AP."""
    records = []
    for run, table in tables.items():
        for attribute, row in table.iterrows():
            values = {m: (None if pd.isna(row[m]) else round(float(row[m]), 6)) for m in METRICS if m in row}
            records.append({"run": run, "attribute": attribute, "group": row.get("group"), **values})
    return records


# ----------------------------------------------------------------------------------------------- collection
@dataclass
class Collected:
    """A sweep's tidy results and statistics (frames may be empty for a sweep with no results yet)."""

    name: str
    folder: Path
    results: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame
    parameters: list[str]
    reference: str | None
    points_with_results: int
    points_total: int
    notes: list[str]


def _sweep_info(folder: Path) -> dict[str, Any]:
    path = folder / SWEEP_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} holds no sweep (no sweep.json): run `python -m dmmlib.suite sweep SPEC` "
                                "first")  # fmt: skip
    return json.loads(path.read_text())


def _results_file(run_dir: Path, stem: str) -> Path | None:
    """A point's results file of notebook ``stem``: ``<runs>/<preset>/results/<stem>.json``, or, for a point whose
    synthetic data were made with a generator knob (notebook 06's ``KNOB``), the one under ``knobs/<knob>=<value>/``."""
    path = run_dir / "results" / f"{stem}.json"
    if path.is_file():
        return path
    found = sorted(run_dir.glob(f"knobs/*/results/{stem}.json"))
    return found[0] if len(found) == 1 else None


def _point_rows(point_dir: Path, info: dict[str, Any], notes: list[str]) -> list[dict[str, Any]]:
    job_path = point_dir / "point.json"
    if not job_path.is_file():
        return []
    job = json.loads(job_path.read_text())
    parameters = {**info.get("fixed", {}), **job["values"]}
    preset = info["resolved_preset"]
    rows = []
    for file in info["notebooks"]:
        stem = Path(file).stem
        path = _results_file(point_dir / "runs" / preset, stem)
        if path is None:
            continue
        body = json.loads(path.read_text()).get("results", {})
        rows += _result_rows(point_dir.name, parameters, stem, body, notes, f"{point_dir.name}: {path.name}")
    return rows


def _result_rows(point: str, parameters: dict[str, Any], stem: str, body: dict[str, Any], notes: list[str],
                 where: str) -> list[dict[str, Any]]:  # fmt: skip
    """The tidy rows of one notebook's saved results (``body``: its ``results`` mapping)."""
    records = body.get(RESULTS_KEY)
    if not isinstance(records, list):
        notes.append(f"{where} has no {RESULTS_KEY!r} (saved by an older notebook, or one that saves none?)")
        return []
    rows = []
    for record in records:
        for metric in METRICS:
            if metric in record:
                value = record[metric]
                rows.append({"point": point, **parameters, "notebook": stem, "run": record["run"],
                             "attribute": record["attribute"], "group": PAPER_GROUPS.group_of(record["attribute"]),
                             "metric": metric, "value": math.nan if value is None else float(value)})  # fmt: skip
    return rows


def point_values(results: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Per point x notebook x run x metric x scope: the mean over the attributes in scope (column ``value``)."""
    ids = ["point", *keys, "notebook", "run", "metric"]
    if results.empty:
        return pd.DataFrame(columns=[*ids, "scope", "value"])
    parts = []
    for scope in SCOPES:
        part = results if scope == "all" else results[results["group"] == scope]
        means = part.groupby(ids, sort=False, dropna=False)["value"].mean().reset_index()
        parts.append(means.assign(scope=scope))
    return pd.concat(parts, ignore_index=True)[[*ids, "scope", "value"]]


def summarise(values: pd.DataFrame, conditions: Sequence[str] = ()) -> pd.DataFrame:
    """n, mean, sd, 95% interval over points, per condition x notebook x run x metric x scope."""
    by = [*conditions, "notebook", "run", "metric", "scope"]
    columns = [*by, "n", "mean", "sd", "ci_low", "ci_high"]
    if values.empty:
        return pd.DataFrame(columns=columns)
    rows = [{**dict(zip(by, key)), **interval(group["value"])}
            for key, group in values.groupby(by, sort=False, dropna=False)]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def paired(values: pd.DataFrame, reference: str, conditions: Sequence[str] = ()) -> pd.DataFrame:
    """Each run minus ``reference`` at the same point, per condition x notebook x metric x scope."""
    by = [*conditions, "notebook", "metric", "scope"]
    columns = [*by[:-2], "run", "reference", "metric", "scope", "n", "mean", "sd", "ci_low", "ci_high", "p_value"]
    rows = []
    for key, group in values.groupby(by, sort=False, dropna=False) if not values.empty else []:
        wide = group.pivot_table(index="point", columns="run", values="value", aggfunc="first", dropna=False)
        if reference not in wide:
            continue
        for run in [r for r in dict.fromkeys(group["run"]) if r != reference]:
            rows.append({**dict(zip(by, key)), "run": run, "reference": reference,
                         **paired_interval(wide[run], wide[reference])})  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def conditions_of(parameters: Sequence[str], grid: Sequence[str]) -> list[str]:
    """The grid parameters that split summaries (all but the replicate keys such as SEED)."""
    return [p for p in parameters if p in grid and p not in REPLICATE_KEYS]


def collect(name: str, folder: Path | None = None, write: bool = True, quiet: bool = False) -> Collected:
    """Gather a sweep's results and write results.csv, summary.csv and paired.csv into its folder."""
    folder = folder or sweep_dir(name)
    info = _sweep_info(folder)
    notes: list[str] = []
    point_names = info.get("points") or sorted(p.name for p in folder.iterdir() if (p / "point.json").is_file())
    rows: list[dict[str, Any]] = []
    with_results = 0
    for point in point_names:
        found = _point_rows(folder / point, info, notes)
        with_results += bool(found)
        rows.extend(found)
    grid = list(info.get("grid", {}))
    parameters = grid + [k for k in info.get("fixed", {}) if k not in grid]
    return _tables(name, folder, rows, parameters, grid, info.get("reference"), with_results, len(point_names), notes,
                   write, quiet)  # fmt: skip


def _tables(name: str, folder: Path, rows: list[dict[str, Any]], parameters: list[str], grid: list[str],
            reference: str | None, with_results: int, total: int, notes: list[str], write: bool,
            quiet: bool) -> Collected:  # fmt: skip
    """results, summary and paired tables of the rows of ``total`` points; written into ``folder`` when ``write``."""
    results = pd.DataFrame(rows, columns=["point", *parameters, *BASE_COLUMNS[1:]])
    conditions = conditions_of(parameters, grid)
    values = point_values(results, conditions)
    summary = summarise(values, conditions)
    paired_frame = paired(values, reference, conditions) if reference else pd.DataFrame()
    if reference and not results.empty and reference not in set(results["run"]):
        notes.append(f"reference run {reference!r} is in no result (runs: {', '.join(dict.fromkeys(results['run']))})")
    collected = Collected(name, folder, results, summary, paired_frame, parameters, reference, with_results, total,
                          notes)  # fmt: skip
    if write:
        atomic.write_text(folder / RESULTS_CSV, results.to_csv(index=False))
        atomic.write_text(folder / SUMMARY_CSV, summary.to_csv(index=False))
        atomic.write_text(folder / PAIRED_CSV, paired_frame.to_csv(index=False))
    if not quiet:
        for note in notes:
            print(f"collect {name}: note: {note}")
        print(f"collect {name}: {with_results} of {total} point(s) have results; wrote {RESULTS_CSV} "
              f"({len(results)} rows), {SUMMARY_CSV}, {PAIRED_CSV} in {folder}")  # fmt: skip
    return collected


# ------------------------------------------------------------------------- executed notebooks (plain papermill)
def notebook_parameters(nb: dict[str, Any]) -> dict[str, Any]:
    """The parameters an executed notebook ran with: the defaults of its ``parameters`` cell, then the values
    papermill injected (its ``injected-parameters`` cell, and ``metadata.papermill.parameters`` where present)."""
    found: dict[str, Any] = {}
    for tag in ("parameters", "injected-parameters"):
        for cell in nb.get("cells", []):
            if tag in cell.get("metadata", {}).get("tags", []):
                found.update(_literal_assignments(cell.get("source", "")))
    papermill = nb.get("metadata", {}).get("papermill", {})
    found.update(papermill.get("parameters") or {})
    return found


def _literal_assignments(source: str | list[str]) -> dict[str, Any]:
    import ast

    values: dict[str, Any] = {}
    text = source if isinstance(source, str) else "".join(source)
    for node in ast.parse(text).body:
        target, value = ((node.target, node.value) if isinstance(node, ast.AnnAssign)
                         else (node.targets[0], node.value) if isinstance(node, ast.Assign) else (None, None))  # fmt: skip
        if isinstance(target, ast.Name) and value is not None:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:  # not a literal: not a parameter we can read
                continue
    return values


def notebook_results(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """The results an executed notebook saved (outputs of type :data:`provenance.RESULTS_MIME`), in order."""
    from dmmlib.suite.provenance import RESULTS_MIME

    return [output["data"][RESULTS_MIME] for cell in nb.get("cells", []) for output in cell.get("outputs", [])
            if RESULTS_MIME in output.get("data", {})]  # fmt: skip


def collect_notebooks(folder: Path, reference: str | None = None, write: bool = True,
                      quiet: bool = False) -> Collected:  # fmt: skip
    """Gather the results of a folder of executed notebooks (``**/*.ipynb``, e.g. written by a papermill loop or a
    scheduler's job array of one's own) and write results.csv, summary.csv and paired.csv into it.

    Each notebook is a point named by its path in the folder; its parameters are read from the notebook (see
    :func:`notebook_parameters`), and those that differ between notebooks are the grid (``SEED`` a replicate, the
    others conditions). Paired differences need ``reference``, the run the others are compared with."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not files:
        raise FileNotFoundError(f"{folder}: no executed notebooks (*.ipynb) and no sweep.json: nothing to collect")
    notes: list[str] = []
    found: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for path in files:
        point = path.relative_to(folder).with_suffix("").as_posix()
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            notes.append(f"{point}: not a readable notebook ({error})")
            continue
        saved = notebook_results(nb)
        if not saved:
            notes.append(f"{point}: no saved results in its outputs (not executed, failed before saving, or saved by "
                         "an older dmmlib)")  # fmt: skip
        found[point] = (notebook_parameters(nb), saved)
    names = sorted({k for parameters, _ in found.values() for k in parameters})
    varying = [k for k in names if len({json.dumps(p.get(k), sort_keys=True) for p, _ in found.values()}) > 1]
    grid = [k for k in names if k in varying]
    parameters = grid + [k for k in names if k not in varying]
    rows: list[dict[str, Any]] = []
    with_results = 0
    for point, (values, saved) in found.items():
        point_rows = [row for entry in saved
                      for row in _result_rows(point, {k: values.get(k) for k in parameters}, entry.get("name", ""),
                                              entry.get("results", {}), notes, f"{point}: {entry.get('name')}")]  # fmt: skip
        with_results += bool(point_rows)
        rows += point_rows
    return _tables(folder.name, folder, rows, parameters, grid, reference, with_results, len(found), notes, write,
                   quiet)  # fmt: skip


def load(name: str, folder: Path | None = None) -> Collected:
    """A sweep's statistics, collected afresh from its points (nothing written)."""
    return collect(name, folder, write=False, quiet=True)


# --------------------------------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    """"``better`` beats ``worse``" in notebook ``notebook`` (a stem prefix), as the paper states it."""

    claim: str
    better: str
    worse: str
    notebook: str


def paper_claims() -> list[Claim]:
    """The paper's comparative claims (Table 1 ablations, Table 2 weighting schemes), one pair per row."""
    table1 = [Claim("every variant beats Baseline", name, "Baseline", "06") for name in VARIANTS if name != "Baseline"]
    table1 += [
        Claim("DMM-CNN beats DMM-FAC (the landmark task helps)", "DMM-CNN", "DMM-FAC", "06"),
        Claim("dynamic beats fixed weights", "DMM-CNN", "DMM-EQ-AT", "06"),
        Claim("dynamic beats fixed weights", "DMM-DW-FIX", "DMM-EQ-FIX", "06"),
        Claim("adaptive beats fixed thresholds", "DMM-CNN", "DMM-DW-FIX", "06"),
        Claim("adaptive beats fixed thresholds", "DMM-EQ-AT", "DMM-EQ-FIX", "06"),
    ]
    table2 = [Claim("Eq. 4 (ours) beats the other weighting schemes", "ours", other, "07")
              for other in ("UW", "DWA", "AW")]  # fmt: skip
    return table1 + table2


def verdict(low: float, high: float, p: float | None = None, n: float | None = None,
            alpha: float = ALPHA) -> str:  # fmt: skip
    """"supports" (interval above 0), "contradicts" (below 0) or "cannot decide": the interval contains 0, there is
    no interval, it has zero width (differences that do not vary), fewer than :data:`MIN_SEEDS` seeds (``n``, when
    given), or the (Holm-adjusted) p value ``p``, when given, is not below ``alpha`` (or is NaN)."""
    if math.isnan(low) or math.isnan(high) or low == high:
        return "cannot decide"
    if n is not None and (math.isnan(n) or n < MIN_SEEDS):
        return "cannot decide"
    if p is not None and not (p < alpha):
        return "cannot decide"
    if low > 0:
        return "supports"
    if high < 0:
        return "contradicts"
    return "cannot decide"


def with_verdicts(frame: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """``frame`` (with ``ci_low`` / ``ci_high`` of differences, and ``n`` / ``p_value`` where present, as
    paired.csv) plus ``p_holm`` (Holm over the frame's rows: select the rows a table prints first, they are the
    family) and a ``verdict`` column."""
    if frame.empty or "ci_low" not in frame:
        return frame.assign(p_holm=pd.Series(dtype=float), verdict=pd.Series(dtype=object))
    adjusted = holm(frame["p_value"]) if "p_value" in frame else [None] * len(frame)
    counts = frame["n"] if "n" in frame else [None] * len(frame)
    words = [verdict(lo, hi, p, n, alpha)
             for lo, hi, p, n in zip(frame["ci_low"], frame["ci_high"], adjusted, counts)]  # fmt: skip
    return frame.assign(p_holm=adjusted if "p_value" in frame else math.nan, verdict=words)


def shown(frame: pd.DataFrame, points: Sequence[str] = ("mean", "ci_low", "ci_high")) -> pd.DataFrame:
    """A verdict table for display: ``points`` columns to 2 decimals, p values to 4, and the columns named as the
    notebooks print them ("n (seeds)", "p", "p (Holm)")."""
    rounded = frame.round({**{c: 2 for c in points if c in frame}, "p_value": 4, "p_holm": 4})
    return rounded.rename(columns={"n": "n (seeds)", "p_value": "p", "p_holm": "p (Holm)"})


def claims(values: pd.DataFrame, metric: str = "accuracy", scope: str = "all",
           claim_list: Sequence[Claim] | None = None, family: Sequence[Claim] | None = None,
           alpha: float = ALPHA) -> pd.DataFrame:  # fmt: skip
    """One row per claim: the paired interval of ``better - worse`` over points, the paired t-test's p value, its
    Holm adjustment over ``family`` (the claims printed together; by default ``claim_list``) and the verdict, with a
    sentence.

    ``values`` is :func:`point_values` of one condition (for several conditions, select one first). Claims whose
    runs are not in ``values`` get the verdict "not measured" and stay out of the family.
    """
    chosen = list(claim_list or paper_claims())
    judged = list(dict.fromkeys([*chosen, *(family or [])]))
    measured: list[dict[str, float] | None] = [_paired_of(values, claim, metric, scope) for claim in judged]
    adjusted = holm([math.nan if m is None else m["p_value"] for m in measured])
    size = int(sum(m is not None and not math.isnan(m["p_value"]) for m in measured))
    rows = []
    for claim, found, p_holm in list(zip(judged, measured, adjusted))[:len(chosen)]:
        row = {"claim": claim.claim, "comparison": f"{claim.better} - {claim.worse}", "metric": metric,
               "scope": scope}  # fmt: skip
        if found is None:
            rows.append({**row, "n": 0, "mean": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                         "p_value": math.nan, "p_holm": math.nan, "verdict": "not measured",
                         "sentence": f"{claim.claim}: {claim.better} vs {claim.worse} was not run in this sweep "
                                     "- not measured."})  # fmt: skip
            continue
        found = {**found, "p_holm": float(p_holm), "family": size}
        word = verdict(found["ci_low"], found["ci_high"], found["p_holm"], found["n"], alpha)
        rows.append({**row, "n": found["n"], "mean": found["mean"], "ci_low": found["ci_low"],
                     "ci_high": found["ci_high"], "p_value": found["p_value"], "p_holm": found["p_holm"],
                     "verdict": word, "sentence": sentence(claim, found, word, metric)})  # fmt: skip
    return pd.DataFrame(rows)


def _paired_of(values: pd.DataFrame, claim: Claim, metric: str, scope: str) -> dict[str, float] | None:
    """The paired interval of ``claim.better - claim.worse`` in ``values``, or None where either was not run."""
    part = values[(values["metric"] == metric) & (values["scope"] == scope)
                  & values["notebook"].astype(str).str.startswith(claim.notebook)] if len(values) else values
    wide = part.pivot_table(index="point", columns="run", values="value", aggfunc="first") if len(part) else None
    if wide is None or claim.better not in wide or claim.worse not in wide:
        return None
    return paired_interval(wide[claim.better], wide[claim.worse])


def _points(x: float) -> str:
    return "nan" if math.isnan(x) else f"{100 * x:+.2f}"


def p_text(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.2g}" if x < 0.001 else f"{x:.3f}"


def undecided_reason(stats: dict[str, float], alpha: float = ALPHA) -> str:
    """Why a comparison "cannot decide", from its numbers (:func:`paired_interval`, with ``p_holm``)."""
    if stats["n"] < MIN_SEEDS:
        return f"fewer than {MIN_SEEDS} seeds"
    if stats["sd"] == 0.0:
        return "the paired differences do not vary (zero variance), so they give no interval"
    if math.isnan(stats["ci_low"]) or stats["ci_low"] <= 0 <= stats["ci_high"]:
        return "the interval contains zero"
    family = stats.get("family")
    over = f" over the {family} comparisons" if family else ""
    return f"the interval excludes zero, but not after Holm's correction{over} (p (Holm) >= {alpha:g})"


def sentence(claim: Claim, stats: dict[str, float], word: str, metric: str = "accuracy") -> str:
    """The verdict on one claim in words, from its numbers (``n = k seeds``, p and, where given, p (Holm))."""
    label = metric.replace("_", " ")
    if stats["n"] < 2:
        reason = f"only {stats['n']} paired point(s): no interval"
    else:
        reason = f"95% CI [{_points(stats['ci_low'])}, {_points(stats['ci_high'])}] points"
    reason += f"; n = {stats['n']} seeds, p = {p_text(stats.get('p_value', math.nan))}"
    if "p_holm" in stats:
        reason += f", p (Holm) = {p_text(stats['p_holm'])}"
    conclusion = {"supports": "the interval lies above zero: supports the claim",
                  "contradicts": "the interval lies below zero: contradicts the claim",
                  "cannot decide": f"{undecided_reason(stats)}: cannot decide"}[word]  # fmt: skip
    return (f"{claim.claim}: {claim.better} - {claim.worse} = {_points(stats['mean'])} points of mean {label} "
            f"({reason}); {conclusion}.")  # fmt: skip


# --------------------------------------------------------------------------------------- why pairing (or not)
def pairing_widths(values: pd.DataFrame, claim: Claim, metric: str = "accuracy",
                   scope: str = "all") -> dict[str, float] | None:  # fmt: skip
    """The 95% interval widths of ``claim.better`` and ``claim.worse`` over seeds, of their paired difference, and
    the two runs' correlation over seeds; None where either was not run or fewer than 2 seeds have both."""
    part = values[(values["metric"] == metric) & (values["scope"] == scope)
                  & values["notebook"].astype(str).str.startswith(claim.notebook)] if len(values) else values
    wide = part.pivot_table(index="point", columns="run", values="value", aggfunc="first") if len(part) else None
    if wide is None or claim.better not in wide or claim.worse not in wide:
        return None
    both = wide[[claim.better, claim.worse]].dropna()
    if len(both) < 2:
        return None
    better, worse = interval(both[claim.better]), interval(both[claim.worse])
    diff = paired_interval(both[claim.better], both[claim.worse])
    sds = both.std(ddof=1)
    correlation = float(both[claim.better].corr(both[claim.worse])) if (sds > 0).all() else math.nan
    return {"n": len(both), "better": better["ci_high"] - better["ci_low"], "worse": worse["ci_high"] - worse["ci_low"],
            "paired": diff["ci_high"] - diff["ci_low"], "correlation": correlation}  # fmt: skip


def pairing_sentence(values: pd.DataFrame, claim: Claim, metric: str = "accuracy", scope: str = "all") -> str:
    """Whether pairing by seed narrows the interval of ``better - worse``, from the record: narrower than both runs'
    own intervals only where the runs move together over seeds, as said; otherwise said to be wider."""
    w = pairing_widths(values, claim, metric, scope)
    name = f"{claim.better} - {claim.worse}"
    if w is None:
        return f"{name}: not measured at 2 seeds or more - no widths to compare."
    r = "nan" if math.isnan(w["correlation"]) else f"{w['correlation']:+.2f}"
    widths = (f"the paired interval is {100 * w['paired']:.2f} points wide, {claim.better}'s own "
              f"{100 * w['better']:.2f} and {claim.worse}'s {100 * w['worse']:.2f} (n = {w['n']} seeds; the runs "
              f"correlate {r} over seeds)")  # fmt: skip
    if w["paired"] < min(w["better"], w["worse"]):
        return (f"{name}: {widths}. Pairing narrows it: the two runs share much of each seed's luck, and the "
                "difference cancels it.")  # fmt: skip
    if w["paired"] > max(w["better"], w["worse"]):
        return (f"{name}: {widths}. Pairing does not narrow it here: the runs do not rise and fall together over "
                "these seeds, so their difference varies more than either run.")  # fmt: skip
    return (f"{name}: {widths}. Pairing narrows it against one run only: the runs share little of each seed's "
            "luck.")  # fmt: skip


def pairing_sentences(values: pd.DataFrame, claim_list: Sequence[Claim] | None = None, metric: str = "accuracy",
                      scope: str = "all") -> list[str]:  # fmt: skip
    """:func:`pairing_sentence` for each measured comparison of ``claim_list`` (default: the paper's), once each."""
    chosen = {(c.better, c.worse, c.notebook): c for c in (claim_list or paper_claims())}
    return [pairing_sentence(values, c, metric, scope) for c in chosen.values()
            if pairing_widths(values, c, metric, scope) is not None]  # fmt: skip
