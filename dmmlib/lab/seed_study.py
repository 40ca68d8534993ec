"""Figures and tables of a seed study (notebook 11): means with 95% intervals over seeds, paired differences.

Inputs are the frames a sweep's collection writes (``summary.csv``, ``paired.csv``, and the per-point values of
:func:`dmmlib.suite.stats.point_values`); nothing here computes a statistic.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

SCOPES = ("all", "objective", "subjective")
VERDICT_COLOURS = {"supports": "#2a9d4b", "contradicts": "#c0392b", "cannot decide": "#7f7f7f",
                   "not measured": "#c8c8c8"}  # fmt: skip

sns.set_theme(context="notebook", style="whitegrid")


def _runs_in_order(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["run"]))


def mean_ci_table(summary: pd.DataFrame, notebook: str, metric: str = "accuracy") -> pd.DataFrame:
    """Runs x scopes of ``notebook`` (a stem prefix): "mean [low, high]" in percent, and n."""
    part = summary[summary["notebook"].astype(str).str.startswith(notebook) & (summary["metric"] == metric)]
    rows = {}
    for run in _runs_in_order(part):
        row: dict[str, str | int] = {}
        for scope in SCOPES:
            hit = part[(part["run"] == run) & (part["scope"] == scope)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            interval = "" if np.isnan(r["ci_low"]) else f" [{100 * r['ci_low']:.2f}, {100 * r['ci_high']:.2f}]"
            row[f"{scope} (%)"] = f"{100 * r['mean']:.2f}{interval}"
            row["n"] = int(r["n"])
        rows[run] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def mean_ci_figure(summary: pd.DataFrame, notebook: str, *, metric: str = "accuracy", values: pd.DataFrame | None = None,
                   title: str = "") -> plt.Figure:  # fmt: skip
    """One panel per scope: each run's mean over points with its 95% interval as an error bar (percent); the
    single points' values, when given, as small dots."""
    part = summary[summary["notebook"].astype(str).str.startswith(notebook) & (summary["metric"] == metric)]
    runs = _runs_in_order(part)
    fig, axes = plt.subplots(1, len(SCOPES), figsize=(4.2 * len(SCOPES), 3.8), sharey=True, squeeze=False)
    for ax, scope in zip(axes[0], SCOPES):
        rows = part[part["scope"] == scope].set_index("run").reindex(runs)
        x = np.arange(len(runs))
        mean = 100 * rows["mean"].to_numpy(dtype=float)
        low = 100 * rows["ci_low"].to_numpy(dtype=float)
        high = 100 * rows["ci_high"].to_numpy(dtype=float)
        errors = np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)])
        ax.errorbar(x, mean, yerr=errors, fmt="o", color="#4c72b0", ecolor="#4c72b0", capsize=4, lw=1.5,
                    label="mean, 95% CI")  # fmt: skip
        if values is not None and not values.empty:
            dots = values[values["notebook"].astype(str).str.startswith(notebook) & (values["metric"] == metric)
                          & (values["scope"] == scope)]  # fmt: skip
            for i, run in enumerate(runs):
                seeds = 100 * dots.loc[dots["run"] == run, "value"].to_numpy(dtype=float)
                ax.scatter(np.full(len(seeds), i + 0.18), seeds, s=10, color="#dd8452", zorder=3,
                           label="single seeds" if i == 0 else None)  # fmt: skip
        ax.set_xticks(x, runs, rotation=60, ha="right")
        ax.set_title(f"{scope} attributes")
        ax.set_xlim(-0.6, len(runs) - 0.4)
    axes[0][0].set_ylabel(f"{metric.replace('_', ' ')} (%)")
    axes[0][0].legend(fontsize=8, loc="best")
    fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def interval_figure(frame: pd.DataFrame, *, label: str = "comparison", colour_by: str | None = "verdict",
                    title: str = "", unit: str = "points") -> plt.Figure:  # fmt: skip
    """Horizontal 95% intervals of differences (``mean``, ``ci_low``, ``ci_high``; fractions shown x 100) with the
    zero line: an interval clear of zero is a difference the seeds resolve."""
    rows = frame.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(rows) + 1.4))
    for i, row in rows.iterrows():
        colour = VERDICT_COLOURS.get(row[colour_by], "#4c72b0") if colour_by and colour_by in row else "#4c72b0"
        mean, low, high = (100 * float(row[k]) for k in ("mean", "ci_low", "ci_high"))
        if not np.isnan(low):
            ax.plot([low, high], [i, i], color=colour, lw=2.5, solid_capstyle="butt")
        if not np.isnan(mean):
            ax.plot([mean], [i], "o", color=colour)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)), rows[label])
    ax.invert_yaxis()
    ax.set_xlabel(f"difference ({unit}), 95% CI")
    if colour_by and colour_by in rows:
        for word in dict.fromkeys(rows[colour_by]):
            ax.plot([], [], lw=2.5, color=VERDICT_COLOURS.get(word, "#4c72b0"), label=word)
        ax.legend(fontsize=8, loc="best")
    ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    return fig
