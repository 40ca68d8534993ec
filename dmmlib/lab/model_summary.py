"""Tables describing the networks of :mod:`dmmlib.model`: parameter counts of the variants, and layer shapes.

:func:`parameter_counts` builds each model on PyTorch's ``meta`` device: modules get shapes but no memory and no
initialisation, so counting the parameters of seven ResNet-50 variants takes a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from dmmlib.model import DMMNet, build_model
from dmmlib.variants import VARIANTS

BYTES_FP32 = 4


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_counts(variants: Iterable[str] = tuple(VARIANTS), num_landmarks: Sequence[int] = (72, 68),
                     backbone: str = "resnet50", **head: Any) -> pd.DataFrame:  # fmt: skip
    """One row per (variant, T): parameters of the trunk, of the heads and in all, and fp32 size in MB (10^6 B).

    ``head`` passes head sizes on to :func:`dmmlib.model.build_model` (default: the paper's).
    """
    rows = []
    for variant in variants:
        for t in num_landmarks:
            with torch.device("meta"):
                model = build_model(variant, backbone, num_landmarks=t, **head)
            trunk = count_parameters(model.trunk)
            total = count_parameters(model)
            rows.append({"variant": variant, "T": t, "landmark outputs": 2 * t if model.spec.landmark_task else 0,
                         "trunk": trunk, "heads": total - trunk, "parameters": total,
                         "fp32 MB": total * BYTES_FP32 / 1e6})  # fmt: skip
    return pd.DataFrame(rows)


def head_layers(model: DMMNet) -> pd.DataFrame:
    """Every layer of the heads (not the trunk): branch, layer, input and output features, parameters."""
    rows = []
    for branch, module in model.named_children():
        if branch == "trunk":
            continue
        for name, layer in module.named_modules():
            if len(list(layer.children())):
                continue
            rows.append({
                "branch": branch, "layer": f"{branch}.{name}" if name else branch, "type": type(layer).__name__,
                "in": getattr(layer, "in_features", ""), "out": getattr(layer, "out_features", ""),
                "parameters": count_parameters(layer),
            })  # fmt: skip
    return pd.DataFrame(rows)


def output_shapes(model: DMMNet, images: torch.Tensor) -> pd.DataFrame:
    """A forward pass of ``images`` recording the output shape of each trunk stage and each head module."""
    rows: list[dict[str, Any]] = []
    hooks = []
    watched = [(f"trunk.{n}", m) for n, m in model.trunk.named_children()]
    watched += [(n, m) for n, m in model.named_children() if n != "trunk"]
    for name, module in watched:
        def record(_module: nn.Module, _inputs: Any, output: Any, name: str = name) -> None:
            rows.append({"module": name, "output shape": tuple(output.shape),
                         "parameters": count_parameters(_module)})  # fmt: skip

        hooks.append(module.register_forward_hook(record))
    try:
        with torch.no_grad():
            model(images)
    finally:
        for hook in hooks:
            hook.remove()
    return pd.DataFrame(rows)
