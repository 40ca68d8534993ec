"""Figures added for notebooks 02 and 04: landmarks by group, threshold curves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dmmlib.lab import plots, widgets  # noqa: E402


def test_landmark_groups_draws_one_legend_entry_per_group():
    points = np.random.default_rng(0).uniform(10, 100, size=(68, 2))
    fig = plots.landmark_groups(np.zeros((120, 110, 3), np.uint8), points, numbers=(36, 45))
    ax = fig.axes[0]
    assert len(ax.collections) == 9 and len(ax.texts) == 2
    plt.close(fig)


def test_threshold_curves_marks_both_panels():
    outputs = np.linspace(-1, 1, 50)
    labels = np.where(outputs > 0.2, 1, -1)
    sweep = widgets.threshold_sweep(outputs, labels, np.linspace(-1, 1, 21))
    fig = plots.threshold_curves(sweep, marks={"fixed": 0.0, "Eq. 6": 0.2})
    assert len(fig.axes) == 2
    assert all(len(ax.lines) >= 4 for ax in fig.axes)  # two curves and two marks each
    plt.close(fig)


def test_a_panel_of_another_quantity_carries_its_own_y_label():
    import pandas as pd

    from dmmlib.lab import plots

    frame = pd.DataFrame({"update": [1, 2, 1, 2], "lambda": [1.0, 0.5, 0.9, 0.8], "attribute": ["a"] * 4,
                          "scheme": ["ours", "ours", "validation loss", "validation loss"]})  # fmt: skip
    fig = plots.line_panels(frame, x="update", y="lambda", hue="attribute", col="scheme",
                            ylabels={"validation loss": "validation loss"})  # fmt: skip
    labels = {ax.get_title(): ax.get_ylabel() for ax in fig.axes if ax.get_title()}
    assert labels == {"scheme = ours": "lambda", "scheme = validation loss": "validation loss"}, labels
