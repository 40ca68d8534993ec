"""Eq. 5 prediction and the thresholds it compares against: fixed at 0.0, or adaptive by Eq. 6 (Sec. 3.2.2).

Eq. 6: ``tau^t = tau^(t-1) + gamma * l * (N_FP^t - N_FN^t) / V`` per attribute, with l the current epoch and V
the number of validation samples. More false positives than false negatives raise the threshold, fewer lower it;
the epoch factor makes later corrections larger.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def predict(outputs: torch.Tensor | np.ndarray, tau: torch.Tensor | np.ndarray | float):
    """Eq. 5: +1 where ``output > tau``, else -1 (an output equal to tau gives -1). Keeps torch/numpy type."""
    if isinstance(outputs, torch.Tensor):
        tau = torch.as_tensor(tau, dtype=outputs.dtype, device=outputs.device)
        return torch.where(outputs > tau, 1, -1).to(torch.int8)
    return np.where(np.asarray(outputs) > np.asarray(tau), 1, -1).astype(np.int8)


class FixedThresholds:
    """All tau_j fixed (the FIX variants and Baseline use 0.0); :meth:`update` changes nothing."""

    def __init__(self, num_attributes: int, value: float = 0.0) -> None:
        self.tau = torch.full((num_attributes,), float(value))

    def update(self, false_positives, false_negatives, num_samples: int, epoch: int) -> torch.Tensor:
        return self.tau

    def state_dict(self) -> dict[str, Any]:
        return {"tau": self.tau.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tau = state["tau"].clone().float()


class AdaptiveThresholds(FixedThresholds):
    """Eq. 6 thresholds, starting at ``initial`` (0.0: where the FIX variants stay)."""

    def __init__(self, num_attributes: int, gamma: float = 0.01, initial: float = 0.0) -> None:
        super().__init__(num_attributes, initial)
        self.gamma = gamma

    def update(self, false_positives, false_negatives, num_samples: int, epoch: int) -> torch.Tensor:
        """One step of Eq. 6 with ``epoch`` as l; FP/FN are per-attribute counts on ``num_samples`` images."""
        fp = torch.as_tensor(false_positives, dtype=torch.float64).cpu()
        fn = torch.as_tensor(false_negatives, dtype=torch.float64).cpu()
        step = self.gamma * epoch * (fp - fn) / num_samples
        self.tau = (self.tau.double() + step).float()
        return self.tau


def make_thresholds(
    kind: str, num_attributes: int, gamma: float = 0.01, initial: float = 0.0
) -> FixedThresholds:
    """``"fixed"`` (all tau = 0.0, as Table 1's FIX variants) or ``"adaptive"`` (Eq. 6 from ``initial``)."""
    if kind == "fixed":
        return FixedThresholds(num_attributes, 0.0)
    if kind == "adaptive":
        return AdaptiveThresholds(num_attributes, gamma, initial)
    raise ValueError(f"unknown thresholds {kind!r}; valid: fixed, adaptive")
