"""Seaborn figures of the suite: data, landmarks, the curves of Figs. 5-7, the accuracy bars of Figs. 3-4.

Every function draws into a new figure (or a given axes) and returns the figure, so a notebook cell shows it and
a script can save it. Nothing here computes a result: inputs are tables and histories made by dmmlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import SubFigure

from dmmlib.attributes import PAPER_GROUPS, AttributeGroups
from dmmlib.landmarks.schema import GROUPS as LANDMARK_GROUPS

sns.set_theme(context="notebook", style="whitegrid")


def attribute_frequencies(observed: pd.Series, reference: pd.Series, *, observed_label: str = "this dataset",
                          reference_label: str = "CelebA (published counts)") -> plt.Figure:
    """Positive rate per attribute of a dataset beside CelebA's published rates (attribute imbalance)."""
    frame = pd.DataFrame({observed_label: observed, reference_label: reference.reindex(observed.index)})
    long = frame.reset_index(names="attribute").melt("attribute", var_name="dataset", value_name="positive rate")
    fig, ax = plt.subplots(figsize=(12, 4))
    sns.barplot(long, x="attribute", y="positive rate", hue="dataset", ax=ax)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.tick_params(axis="x", rotation=90)
    ax.set_title("Attribute imbalance: fraction of positive labels")
    fig.tight_layout()
    return fig


def face_grid(images: Sequence[np.ndarray], captions: Sequence[str], ncols: int = 6,
              size: float = 1.9) -> plt.Figure:
    """A grid of face images with a short caption under each."""
    nrows = max(1, int(np.ceil(len(images) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.45), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        ax.imshow(image)
        ax.set_title(caption, fontsize=7)
    fig.tight_layout()
    return fig


def landmark_overlay(image: np.ndarray, points: Mapping[str, np.ndarray] | np.ndarray, ax: plt.Axes | None = None,
                     title: str = "", numbers: bool = False) -> plt.Figure | SubFigure:
    """An image with one or more 68-point sets drawn over it (a mapping label -> points (68, 2) in pixels); returns
    the figure drawn on (``ax``'s, a subfigure if ``ax`` lies in one)."""
    fig: plt.Figure | SubFigure
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.2, 3.9))
    else:
        fig = ax.figure
    sets = points if isinstance(points, Mapping) else {"landmarks": points}
    ax.imshow(image)
    for (label, pts), colour in zip(sets.items(), sns.color_palette("bright", len(sets))):
        pts = np.asarray(pts)
        for group in LANDMARK_GROUPS.values():
            ax.plot(pts[list(group), 0], pts[list(group), 1], "-", color=colour, lw=0.8)
        ax.scatter(pts[:, 0], pts[:, 1], s=5, color=colour, label=label)
        if numbers:
            for i, (x, y) in enumerate(pts):
                ax.annotate(str(i), (x, y), fontsize=5, color=colour)
    if len(sets) > 1:
        ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    return fig


def accuracy_bars(table: pd.DataFrame, *, metric: str = "accuracy", hue: str = "variant",
                  groups: AttributeGroups = PAPER_GROUPS, title: str = "") -> plt.Figure:
    """Per-attribute bars split into an objective and a subjective panel, as the paper's Figs. 3-4.

    ``table`` is long: one row per (attribute, ``hue`` value) with a ``metric`` column (fractions or %).
    """
    fig, axes = plt.subplots(2, 1, figsize=(13, 8.5), sharey=True)
    for ax, (label, names) in zip(axes, (("objective", groups.objective), ("subjective", groups.subjective))):
        part = table[table["attribute"].isin(names)]
        sns.barplot(part, x="attribute", y=metric, hue=hue, order=list(names), ax=ax)
        ax.set_title(f"{label} attributes ({len(names)})")
        ax.tick_params(axis="x", rotation=75)
        ax.set_xlabel("")
        low = float(np.nanmin(table[metric]))
        ax.set_ylim(max(0.0, low - 0.05 * abs(low)), None)
    for ax in axes:
        ax.get_legend().remove()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=min(len(labels), 7), fontsize=8, frameon=False)
    fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def difference_bars(differences: pd.DataFrame, *, title: str = "") -> plt.Figure:
    """One panel per ``measure`` of a long table of per-attribute differences in points
    (:func:`dmmlib.lab.bounds.per_attribute_differences`), bars coloured by attribute group, a line at zero."""
    measures = list(dict.fromkeys(differences["measure"]))
    fig, axes = plt.subplots(len(measures), 1, figsize=(12, 2.0 + 2.6 * len(measures)), sharex=True, squeeze=False)
    handles: list[Any] = []
    labels: list[str] = []
    for ax, measure in zip(axes[:, 0], measures):
        part = differences[differences["measure"] == measure]
        sns.barplot(part, x="attribute", y="points", hue="group", ax=ax, dodge=False)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel("points")
        ax.set_xlabel("")
        ax.set_title(measure, fontsize=10)
        ax.tick_params(axis="x", rotation=90)
        handles, labels = ax.get_legend_handles_labels()
        ax.get_legend().remove()
    fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.legend(handles, labels, loc="upper right", bbox_to_anchor=(1.0, 0.955), ncol=len(labels), fontsize=9,
               frameon=False)  # fmt: skip
    return fig


def line_panels(frame: pd.DataFrame, *, x: str, y: str, hue: str, col: str | None = None, title: str = "",
                logy: bool = False, ylabels: Mapping[str, str] | None = None, **kwargs: Any) -> plt.Figure:
    """Lines of ``y`` against ``x`` per ``hue`` (and one panel per ``col``): the curves of Figs. 5-7.

    ``ylabels``: the y label of the panels whose ``col`` value is a key, where a panel shows another quantity than
    ``y`` (e.g. the losses a weighting scheme reads beside the weights it gives); every panel then carries its label.
    """
    grid = sns.relplot(frame, x=x, y=y, hue=hue, col=col, kind="line", height=3.2, aspect=1.3,
                       facet_kws={"sharey": False}, **kwargs)
    if ylabels:
        for name, ax in grid.axes_dict.items():
            ax.set_ylabel(ylabels.get(name, y))
    if logy:
        grid.set(yscale="log")
    grid.figure.suptitle(title, y=1.03)
    return grid.figure


def learning_curves(curves: Mapping[str, pd.DataFrame], references: Mapping[str, float], *, y: str = "val_mean_accuracy",
                    title: str = "") -> plt.Figure:  # fmt: skip
    """Validation accuracy per update of each run (frames of :func:`dmmlib.lab.history.scalars`) with horizontal
    reference lines (e.g. the majority class and the ceiling): a curve still rising when it ends was stopped early;
    a flat one has learnt what the model can learn at the learning rate it ended with (read the lr beside it)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for label, frame in curves.items():
        ax.plot(frame["iteration"], frame[y], marker="o", ms=3, label=label)
    for (label, value), style in zip(references.items(), ("--", ":", "-.")):
        ax.axhline(value, color="grey", ls=style, lw=1, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel(y.replace("_", " "))
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    return fig


def landmark_groups(image: np.ndarray, points: np.ndarray, ax: plt.Axes | None = None, title: str = "",
                    numbers: Sequence[int] = ()) -> plt.Figure | SubFigure:  # fmt: skip
    """An image with its 68 points coloured by iBUG group (jaw, brows, nose, eyes, lips), with a legend.

    ``numbers``: point indices to label (e.g. 36 and 45, the outer eye corners, to follow them through a flip).
    Returns the figure drawn on (``ax``'s, a subfigure if ``ax`` lies in one).
    """
    fig: plt.Figure | SubFigure
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.6, 4.2))
    else:
        fig = ax.figure
    points = np.asarray(points)
    ax.imshow(image)
    for (group, index), colour in zip(LANDMARK_GROUPS.items(), sns.color_palette("husl", len(LANDMARK_GROUPS))):
        ax.scatter(points[list(index), 0], points[list(index), 1], s=9, color=colour, label=group)
    for i in numbers:
        ax.annotate(str(i), points[i], xytext=(3, -3), textcoords="offset points", fontsize=8, color="white",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "black", "alpha": 0.6})  # fmt: skip
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    return fig


def threshold_curves(sweep: pd.DataFrame, *, marks: Mapping[str, float] | None = None,
                     title: str = "") -> plt.Figure:  # fmt: skip
    """Two panels against tau: FP and FN counts, and accuracy and balanced accuracy (``widgets.threshold_sweep``).

    ``marks``: label -> tau drawn as vertical lines on both panels (e.g. the fixed 0.0 and Eq. 6's value).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    counts = sweep.melt("tau", ["FP", "FN"], var_name="count", value_name="images")
    sns.lineplot(counts, x="tau", y="images", hue="count", ax=axes[0])
    rates = sweep.melt("tau", ["accuracy", "balanced accuracy"], var_name="metric", value_name="value")
    sns.lineplot(rates, x="tau", y="value", hue="metric", ax=axes[1])
    for (label, tau), colour in zip((marks or {}).items(), sns.color_palette("dark", len(marks or {}))):
        for ax in axes:
            ax.axvline(tau, color=colour, ls="--", lw=1, label=f"{label} ({tau:+.3f})")
    for ax in axes:
        ax.legend(fontsize=8)
    axes[0].set_title("false positives and false negatives")
    axes[1].set_title("accuracy and balanced accuracy")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
