"""Loss-weighting schemes for the J attribute losses of Eq. 3: one interface, four schemes (Table 2).

Every scheme has ``.weights`` (a ``(J,)`` tensor), ``.update(losses) -> weights``, ``state_dict()`` and
``load_state_dict()``, and a ``schedule`` telling the trainer what to feed it and when:

- ``"none"``: :class:`UniformWeighting` (UW), all weights 1.0.
- ``"validation"``: fed the per-attribute losses of one whole-validation pass every P iterations:
  :class:`DynamicWeighting` (the paper's Eq. 4) and :class:`AdaptiveWeighting` (AW, He et al., ACM MM 2017).
- ``"epoch"``: fed epoch-mean *training* losses once per epoch: :class:`DWAWeighting` (Liu et al., CVPR 2019).
- ``"iteration"``: fed the per-attribute losses of a few validation images drawn at random, every iteration:
  :class:`AdaptiveWeighting` with ``schedule="iteration"``, AW as He et al. run it and as the paper describes it.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch


def _as_losses(losses: Any) -> torch.Tensor:
    return torch.as_tensor(losses, dtype=torch.float32).detach().cpu().clone()


def dynamic_weights(current: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
    """Eq. 4: ``lambda_j(t) = |L_j(t) - L_j(t-1)| / L_j(t-1)``, the relative change of each attribute's
    whole-validation loss (Eq. 2) between two updates of Algorithm 1. ``(J,)`` tensors in, ``(J,)`` out."""
    return ((current - previous) / previous).abs()


class UniformWeighting:
    """UW: every lambda_j = 1.0 throughout (the EQ variants and Baseline)."""

    schedule = "none"

    def __init__(self, num_attributes: int, initial: float = 1.0) -> None:
        self.weights = torch.full((num_attributes,), float(initial))

    def update(self, losses: Any) -> torch.Tensor:
        return self.weights

    def state_dict(self) -> dict[str, Any]:
        return {"weights": self.weights.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.weights = state["weights"].clone()


class DynamicWeighting(UniformWeighting):
    """Eq. 4: ``lambda_j(t) = |L_j(t) - L_j(t-1)| / L_j(t-1)`` from whole-validation losses.

    Weights start at ``initial`` (1.0); the first update only records the losses (Eq. 4 needs two). The paper
    describes no normalisation, so by default the raw ratios are used: they are small (a few percent) once the
    losses level off, which lowers the effective learning rate of the attribute terms as training proceeds.
    Two options, both off by default, change that for experiments: ``floor`` (weights never below it, so an
    attribute whose loss stalls is not dropped entirely) and ``normalise`` (rescale to mean 1, keeping only the
    relative emphasis, so the attribute terms keep their scale against beta * L_FLD).
    """

    schedule = "validation"

    def __init__(
        self, num_attributes: int, initial: float = 1.0, normalise: bool = False, floor: float = 0.0
    ):
        super().__init__(num_attributes, initial)
        self.normalise = normalise
        self.floor = floor
        self.previous: torch.Tensor | None = None

    def update(self, losses: Any) -> torch.Tensor:
        current = _as_losses(losses)
        if self.previous is not None:
            weights = dynamic_weights(current, self.previous)
            if self.floor > 0:
                weights = weights.clamp(min=self.floor)
            if self.normalise:
                weights = weights / weights.mean().clamp(min=torch.finfo(weights.dtype).tiny)
            self.weights = weights
        self.previous = current
        return self.weights

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["previous"] = None if self.previous is None else self.previous.clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        previous = state.get("previous")
        self.previous = None if previous is None else previous.clone()


class _LossHistoryWeighting(UniformWeighting):
    """A scheme that keeps its recent losses (``history``) and saves them with its weights."""

    def __init__(self, num_attributes: int) -> None:
        super().__init__(num_attributes)
        self.history: list[torch.Tensor] = []

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "history": [h.clone() for h in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.history = [h.clone() for h in state["history"]]


class DWAWeighting(_LossHistoryWeighting):
    """Dynamic Weight Average: ``lambda = K softmax(w / T)``, ``w_k = L_k(e-1) / L_k(e-2)``.

    Fed the epoch-mean training losses at the end of each epoch; weights stay 1.0 until two epochs are recorded.
    """

    schedule = "epoch"

    def __init__(self, num_attributes: int, temperature: float = 2.0) -> None:
        super().__init__(num_attributes)
        self.temperature = temperature

    def update(self, losses: Any) -> torch.Tensor:
        self.history = (self.history + [_as_losses(losses)])[-2:]
        if len(self.history) == 2:
            ratio = self.history[1] / self.history[0]
            self.weights = len(ratio) * torch.softmax(ratio / self.temperature, dim=0)
        return self.weights


class AdaptiveWeighting(_LossHistoryWeighting):
    """AW: the adaptive weighting of K. He, Z. Wang, Y. Fu, R. Feng, Y.-G. Jiang and X. Xue, "Adaptively Weighted
    Multi-task Deep Network for Person Attribute Classification", ACM Multimedia 2017 ([38] of the paper, Table 2),
    fed per-attribute validation losses (Eq. 2 on validation images).

    ``cur`` is the mean of the last ``window`` losses, ``prev`` the mean of the ``window`` before them;
    ``trend_j = |cur_j - prev_j| / cur_j``; ``weight_j ~ (trend_j / mean trend) * (cur_j / mean cur)``, rescaled to
    mean 1 (FACTS §4). Weights stay 1.0 until ``2 * window`` losses are recorded (and when every trend is zero).

    ``schedule`` says what the trainer feeds it: ``"iteration"`` is AW as He et al. run it and as the paper
    describes it (Sec. 3.3: the validation loss "computed on a small batch (containing only 10 validation images)
    during each iteration"): every iteration, the losses of ``TrainConfig.aw_sample_size`` validation images drawn
    at random. ``"validation"``: the losses of each whole-validation pass of Algorithm 1, every P iterations, like
    Eq. 4 (the small presets' variant).
    """

    def __init__(self, num_attributes: int, window: int = 1, schedule: str = "validation") -> None:
        super().__init__(num_attributes)
        if schedule not in ("validation", "iteration"):
            raise ValueError(f"AW's schedule must be 'validation' or 'iteration', got {schedule!r}")
        self.window = window
        self.schedule = schedule

    def update(self, losses: Any) -> torch.Tensor:
        self.history = (self.history + [_as_losses(losses)])[-2 * self.window :]
        if len(self.history) == 2 * self.window:
            prev = torch.stack(self.history[: self.window]).mean(0)
            cur = torch.stack(self.history[self.window :]).mean(0)
            trend = (cur - prev).abs() / cur
            if trend.mean() > 0:
                raw = (trend / trend.mean()) * (cur / cur.mean())
                self.weights = raw / raw.mean()
        return self.weights


def describe_aw(schedule: str, sample_size: int, window: int) -> str:
    """One line saying how AW was run (``TrainConfig.aw_schedule``, ``aw_sample_size``, ``aw_window``)."""
    if schedule == "iteration":
        return (f"AW (He et al. 2017) as the paper describes it: updated every iteration from {sample_size} validation "
                f"images drawn at random, trend over windows of {window} iterations")
    return (f"AW (He et al. 2017) updated from whole-validation passes every P iterations (not the paper's 10-image "
            f"samples), trend over windows of {window} pass{'es' if window != 1 else ''}")


SCHEMES: dict[str, type[UniformWeighting]] = {
    "uniform": UniformWeighting,
    "dynamic": DynamicWeighting,
    "dwa": DWAWeighting,
    "aw": AdaptiveWeighting,
}
WEIGHTINGS = tuple(SCHEMES)


class WeightingOptions(Protocol):
    """The options a scheme reads (:class:`dmmlib.config.TrainConfig` has them all)."""

    initial_lambda: float
    dynamic_normalise: bool
    dynamic_floor: float
    dwa_temperature: float
    aw_window: int
    aw_schedule: str


def _options(name: str, cfg: WeightingOptions) -> dict[str, Any]:
    options: dict[str, dict[str, Any]] = {
        "uniform": {},
        "dynamic": {"initial": cfg.initial_lambda, "normalise": cfg.dynamic_normalise, "floor": cfg.dynamic_floor},
        "dwa": {"temperature": cfg.dwa_temperature},
        "aw": {"window": cfg.aw_window, "schedule": cfg.aw_schedule},
    }
    return options[name]


def make_weighting(name: str, num_attributes: int, cfg: WeightingOptions | None = None) -> UniformWeighting:
    """The scheme called ``name`` (uniform | dynamic | dwa | aw), with its options read from ``cfg`` (the
    schemes' own defaults without one)."""
    if name not in SCHEMES:
        raise ValueError(f"unknown weighting {name!r}; valid: {', '.join(WEIGHTINGS)}")
    return SCHEMES[name](num_attributes, **({} if cfg is None else _options(name, cfg)))
