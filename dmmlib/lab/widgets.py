"""ipywidgets explorers for the notebooks. Each pairs a pure function (computed first, with the parameter value,
so the headless run shows the result) with a widget that re-runs it interactively; nothing depends on a widget.

The explorers show their tables in an ``HTML`` widget whose value they replace, not in an ``Output`` widget: a
headless client (papermill/nbclient) intercepts output captured by ``Output`` widgets, and a notebook whose cell
built one that way hung forever here under papermill, kernel and client both idle (a known nbclient race).
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd

from dmmlib import metrics
from dmmlib.attributes import ATTRIBUTES


def trunk_map_size(height: int, width: int, stride: int = 32) -> tuple[int, int]:
    """Spatial size of a ResNet's last feature map for an input (ceil division per stage, as the convolutions do)."""
    for _ in range(5):  # conv1, maxpool, layer2, layer3, layer4 each halve the size (rounding up)
        height, width = (height + 1) // 2, (width + 1) // 2
    return height, width


def spp_table(height: int, width: int, levels: int = 3, channels: int = 2048) -> pd.DataFrame:
    """Per SPP level: the trunk's map size, the k x k bins, the bin size in cells and the features it adds."""
    map_h, map_w = trunk_map_size(height, width)
    rows = []
    for k in range(1, levels + 1):
        rows.append({
            "level k": k, "feature map": f"{map_h} x {map_w}", "bins": f"{k} x {k}",
            "cells per bin (approx.)": f"{map_h / k:.1f} x {map_w / k:.1f}", "features": channels * k * k,
        })  # fmt: skip
    table = pd.DataFrame(rows).set_index("level k")
    table.loc["total", "features"] = table["features"].sum()
    return table


def spp_explorer(height: int = 218, width: int = 178, levels: int = 3, channels: int = 2048) -> widgets.Widget:
    """Sliders for input size and levels -> :func:`spp_table`."""
    out = widgets.HTML()
    h = widgets.IntSlider(value=height, min=32, max=512, step=2, description="height")
    w = widgets.IntSlider(value=width, min=32, max=512, step=2, description="width")
    n = widgets.IntSlider(value=levels, min=1, max=5, description="levels")

    def refresh(*_: object) -> None:
        out.value = spp_table(h.value, w.value, n.value, channels).to_html()

    for control in (h, w, n):
        control.observe(refresh, "value")
    refresh()
    return widgets.VBox([widgets.HBox([h, w, n]), out])


def threshold_sweep(outputs: np.ndarray, labels: np.ndarray, taus: Sequence[float]) -> pd.DataFrame:
    """For one attribute: FP, FN, accuracy and balanced accuracy of Eq. 5 predictions at each threshold."""
    column, targets = np.asarray(outputs, dtype=np.float64)[:, None], np.asarray(labels)[:, None]
    rows = []
    for tau in taus:
        fp, fn = metrics.false_positive_negative_counts(column, targets, tau)
        rows.append({"tau": float(tau), "FP": int(fp[0]), "FN": int(fn[0]),
                     "accuracy": float(metrics.accuracy(column, targets, tau)[0]),
                     "balanced accuracy": float(metrics.balanced_accuracy(column, targets, tau)[0])})  # fmt: skip
    return pd.DataFrame(rows)


def threshold_explorer(outputs: np.ndarray, labels: np.ndarray, attribute: str = "Smiling",
                       names: Sequence[str] = ATTRIBUTES) -> widgets.Widget:
    """Pick an attribute and move tau: FP, FN, accuracy and balanced accuracy as :func:`threshold_sweep` gives."""
    out = widgets.HTML()
    choice = widgets.Dropdown(options=list(names), value=attribute, description="attribute")
    tau = widgets.FloatSlider(value=0.0, min=-1.0, max=1.0, step=0.02, description="tau")

    def refresh(*_: object) -> None:
        j = list(names).index(choice.value)
        out.value = threshold_sweep(outputs[:, j], labels[:, j], [tau.value]).set_index("tau").to_html()

    choice.observe(refresh, "value")
    tau.observe(refresh, "value")
    refresh()
    return widgets.VBox([widgets.HBox([choice, tau]), out])


def uploaded_bytes(upload: widgets.FileUpload) -> bytes | None:
    """The content of the first file of an ipywidgets 8 ``FileUpload`` (its value is a tuple of dicts), or None."""
    value = upload.value
    if not value:
        return None
    content = value[0]["content"]
    if len(content) == 0:
        raise ValueError(f"the uploaded file {value[0].get('name', '')!r} is empty; upload a JPEG or PNG photo")
    return bytes(content)
