"""Four toy problems, one per mechanism of DMM-CNN, each where its premise holds and where it does not.

Each toy runs in seconds on a CPU, so a notebook runs it live in every preset and a student sees the mechanism both
help and not help before reading the model-scale record (:mod:`dmmlib.suite.premises`). Each returns a
:class:`ToyResult`: per seed, the outcome with the mechanism and without it in the **regime** (the premise holds)
and in the **control** (it does not). Nothing is decided by construction: the outcomes are measured on held-out
data (or, for Eq. 4, against the losses without noise), and the tests check the direction as measured.

- :func:`landmark_toy`, auxiliary-task learning (Caruana 1997): a shared layer learns a latent factor from inputs
  of many dimensions; attributes and an auxiliary target (the "landmarks") both depend on the factor. Few
  attribute labels (regime) against many (control), with and without the auxiliary loss.
- :func:`spp_toy`: a small CNN on 12 x 12 images with one bright cue. In the regime the label is *where* the cue
  sits (top half or bottom half), which global max pooling cannot see and 2 x 2 pyramid bins can; in the control
  the label is *whether* the cue is there, at a random position, which both see.
- :func:`eq4_toy`: Eq. 4 (:func:`dmmlib.weighting.dynamic_weights`) on validation losses measured on V samples: the
  weights follow the learning progress of the noise-free losses when V is large (regime) and turn into noise when V
  is small (control). :func:`eq4_readings` shows Eq. 4 as printed against rescaled to mean 1 and an explicitly
  labelled extension of ours that smooths the losses Eq. 4 reads; :func:`eq4_trap` an attribute whose loss has
  not started to fall.
- :func:`eq6_toy`: scores of one attribute; Eq. 6 (:class:`dmmlib.thresholds.AdaptiveThresholds`) stepped over
  epochs until false positives and false negatives balance, against tau = 0, on an imbalanced attribute (regime)
  and a 50/50 one (control), scored by balanced accuracy; :func:`eq6_path` gives the path and the tau that
  maximises balanced accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from dmmlib import metrics, thresholds, weighting
from dmmlib.device import one_thread

SEEDS = (0, 1, 2, 3, 4)


@dataclass
class ToyResult:
    """Outcomes per seed: ``frame`` has columns seed, condition ("regime" / "control"), with, without."""

    mechanism: str
    measure: str  #: what ``with`` and ``without`` measure (higher is better)
    regime: str  #: the regime in words
    control: str
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)

    def effects(self) -> pd.DataFrame:
        """Per condition: the mean and range of (with - without) over seeds, and in how many seeds it is positive."""
        diff = self.frame.assign(effect=self.frame["with"] - self.frame["without"])
        return diff.groupby("condition", sort=False)["effect"].agg(
            mean="mean", low="min", high="max", positive=lambda s: int((s > 0).sum()), seeds="count"
        )

    def effect(self, condition: str) -> float:
        return float(self.effects().loc[condition, "mean"])

    def sentence(self) -> str:
        """What the toy showed, in words chosen by its numbers (with - without, per condition over the seeds)."""
        table = self.effects()
        regime, control = table.loc["regime"], table.loc["control"]
        scale, unit = (1.0, "") if self.mechanism == "Eq. 4" else (100.0, " points")
        numbers = (f"with - without = {scale * regime['mean']:+.2f}{unit} in the regime ({self.regime}; positive in "
                   f"{int(regime['positive'])} of {int(regime['seeds'])} seeds), {scale * control['mean']:+.2f}{unit} "
                   f"in the control ({self.control}; positive in {int(control['positive'])} of "
                   f"{int(control['seeds'])})")  # fmt: skip
        helps = regime["mean"] > 0 and regime["positive"] >= regime["seeds"] - 1
        control_helps = control["mean"] >= regime["mean"] / 4 and control["positive"] >= control["seeds"] - 1
        if helps and not control_helps:
            return f"{self.mechanism} (toy): {numbers}. It helps where its premise holds and hardly at all where not."
        if helps:
            return (f"{self.mechanism} (toy): {numbers}. It helps in the control too: in this toy the premise is not "
                    "what makes it help.")  # fmt: skip
        return f"{self.mechanism} (toy): {numbers}. It does not help consistently even in the regime."




def _fit(model: nn.Module, loss_fn, steps: int, lr: float = 0.01) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        loss_fn().backward()
        optimiser.step()


# ------------------------------------------------------------------------------------------------ landmark task
def _landmark_data(n: int, rng: np.random.Generator, mix: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
    z = rng.standard_normal((n, mix["A"].shape[0]))
    x = z @ mix["A"] + rng.standard_normal((n, mix["A"].shape[1]))
    y = np.sign(z @ mix["W"] + 0.3 * rng.standard_normal((n, mix["W"].shape[1])))
    aux = z @ mix["B"] + 0.1 * rng.standard_normal((n, mix["B"].shape[1]))
    return tuple(torch.tensor(a, dtype=torch.float32) for a in (x, y, aux))


def landmark_toy(seeds: Sequence[int] = SEEDS, few: int = 20, many: int = 3000, dims: int = 50, factors: int = 3,
                 attributes: int = 5, landmarks: int = 12, beta: float = 1.0, steps: int = 150) -> ToyResult:  # fmt: skip
    """Auxiliary-task learning: test accuracy of the attributes with the auxiliary loss (weight ``beta``) and
    without it, trained on ``few`` (regime) or ``many`` (control) samples. Inputs have ``dims`` noisy dimensions,
    of which ``factors`` directions carry everything; a shared linear layer of ``factors`` units feeds both heads
    (MSE on +1/-1 labels, as Eq. 2; MSE on the auxiliary targets, as Eq. 1). With few samples the attribute labels
    alone cannot find the factors' directions among the noise; the auxiliary targets, dense and nearly noise-free,
    can."""
    rows = []
    with one_thread():  # toys this small run fastest on one thread
        for seed in seeds:
            rng = np.random.default_rng(seed)
            mix = {"A": 2.0 * rng.standard_normal((factors, dims)) / np.sqrt(dims),
                   "W": rng.standard_normal((factors, attributes)), "B": rng.standard_normal((factors, landmarks))}  # fmt: skip
            test = _landmark_data(2000, rng, mix)
            for condition, n in (("regime", few), ("control", many)):
                x, y, aux = _landmark_data(n, rng, mix)
                scores = {}
                for arm, weight in (("with", beta), ("without", 0.0)):
                    torch.manual_seed(seed)
                    shared, head, aux_head = nn.Linear(dims, factors), nn.Linear(factors, attributes), nn.Linear(factors, landmarks)
                    model = nn.ModuleList([shared, head, aux_head])

                    def loss(weight=weight, shared=shared, head=head, aux_head=aux_head, x=x, y=y, aux=aux):
                        h = shared(x)
                        return ((head(h) - y) ** 2).mean() + weight * ((aux_head(h) - aux) ** 2).mean()

                    _fit(model, loss, steps, lr=0.02)
                    with torch.no_grad():
                        scores[arm] = float((torch.sign(head(shared(test[0]))) == test[1]).float().mean())
                rows.append({"seed": seed, "condition": condition, **scores})
    return ToyResult("landmark task", "test accuracy of the attributes", f"{few} labelled samples",
                     f"{many} labelled samples", pd.DataFrame(rows))  # fmt: skip


# ---------------------------------------------------------------------------------------------------- SPP
class TinyPoolNet(nn.Module):
    """conv 3x3 (4 maps) -> ReLU -> max pooling over ``levels`` pyramid levels (1: global max; 2: 1x1 + 2x2 bins)
    -> linear -> one score."""

    def __init__(self, levels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.levels = levels
        self.out = nn.Linear(4 * sum(k * k for k in range(1, levels + 1)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = torch.relu(self.conv(x))
        pooled = [nn.functional.adaptive_max_pool2d(maps, k).flatten(1) for k in range(1, self.levels + 1)]
        return self.out(torch.cat(pooled, dim=1)).squeeze(1)


def _cue_images(n: int, rng: np.random.Generator, where_matters: bool, size: int = 12) -> tuple[torch.Tensor, ...]:
    """``n`` noisy ``size`` x ``size`` images and +1/-1 labels. ``where_matters``: every image has one bright 2 x 2
    cue, in the top half for positives and the bottom half for negatives; else positives have the cue anywhere and
    negatives none."""
    images = 0.3 * rng.standard_normal((n, 1, size, size))
    labels = rng.choice([-1.0, 1.0], n)
    half = size // 2
    if where_matters:
        rows = np.where(labels > 0, rng.integers(0, half - 1, n), rng.integers(half, size - 1, n))
        has_cue = np.ones(n, dtype=bool)
    else:
        rows, has_cue = rng.integers(0, size - 1, n), labels > 0
    cols = rng.integers(0, size - 1, n)
    for i in np.flatnonzero(has_cue):
        images[i, 0, rows[i] : rows[i] + 2, cols[i] : cols[i] + 2] += 2.0
    return torch.tensor(images, dtype=torch.float32), torch.tensor(labels, dtype=torch.float32)


def spp_toy(seeds: Sequence[int] = SEEDS, n_train: int = 200, steps: int = 80) -> ToyResult:
    """Test accuracy with 2-level pyramid pooling (with) and global max pooling (without): in the regime the
    label is where the cue sits, in the control whether it is there (at a random position)."""
    rows = []
    with one_thread():  # toys this small run fastest on one thread
        for seed in seeds:
            rng = np.random.default_rng(seed)
            for condition, where in (("regime", True), ("control", False)):
                (x, y), (tx, ty) = _cue_images(n_train, rng, where), _cue_images(1000, rng, where)
                scores = {}
                for arm, levels in (("with", 2), ("without", 1)):
                    torch.manual_seed(seed)
                    net = TinyPoolNet(levels)
                    _fit(net, lambda net=net, x=x, y=y: ((net(x) - y) ** 2).mean(), steps, lr=0.03)
                    with torch.no_grad():
                        scores[arm] = float((torch.sign(net(tx)) == ty).float().mean())
                rows.append({"seed": seed, "condition": condition, **scores})
    return ToyResult("SPP branches", "test accuracy", "label = where the cue sits (top or bottom half)",
                     "label = whether the cue is there (anywhere)", pd.DataFrame(rows))  # fmt: skip


# ---------------------------------------------------------------------------------------------------- Eq. 4
def true_losses(updates: int = 20, rates: Sequence[float] = (0.5, 0.25, 0.12, 0.06, 0.03),
                floor: float = 0.3) -> np.ndarray:  # fmt: skip
    """``(updates, J)`` noise-free validation losses: each task falls from 1 towards ``floor`` at its own rate."""
    t = np.arange(updates, dtype=np.float64)[:, None]
    return floor + (1 - floor) * np.exp(-np.asarray(rates)[None, :] * t)


def measured(losses: np.ndarray, v: int, rng: np.random.Generator, per_sample_sd: float = 1.0) -> np.ndarray:
    """The losses as a validation pass over ``v`` samples measures them: each a mean of ``v`` per-sample losses,
    so with noise of sd ``per_sample_sd / sqrt(v)``."""
    return losses + per_sample_sd / np.sqrt(v) * rng.standard_normal(losses.shape)


def eq4_weights(losses: np.ndarray, normalise: bool = True, smoothing: float = 0.0) -> np.ndarray:
    """Eq. 4's weights after every update from the second, ``(updates - 1, J)``; ``normalise`` rescales each row to
    mean 1 (as the teach preset does); ``smoothing`` > 0 is our extension, not the paper's: Eq. 4 reads an
    exponential moving average of the losses (``s = smoothing * s + (1 - smoothing) * L``)."""
    losses = np.asarray(losses, dtype=np.float64)
    if smoothing > 0:
        smooth = losses.copy()
        for t in range(1, len(losses)):
            smooth[t] = smoothing * smooth[t - 1] + (1 - smoothing) * losses[t]
        losses = smooth
    current, previous = torch.tensor(losses[1:]), torch.tensor(losses[:-1])
    weights = weighting.dynamic_weights(current, previous).numpy()
    if normalise:
        weights = weights / np.maximum(weights.mean(axis=1, keepdims=True), np.finfo(float).tiny)
    return weights


def _agreement(noisy: np.ndarray, clean: np.ndarray) -> float:
    """Mean over updates of the Pearson correlation, across tasks, of two weight rows (how well the measured
    weights rank the tasks as their true progress does)."""
    values = [np.corrcoef(a, b)[0, 1] for a, b in zip(noisy, clean) if a.std() > 0 and b.std() > 0]
    return float(np.mean(values)) if values else float("nan")


def eq4_toy(seeds: Sequence[int] = SEEDS, large_v: int = 5000, small_v: int = 50,
            updates: int = 20) -> ToyResult:  # fmt: skip
    """How well Eq. 4 follows learning progress: the correlation between its weights on measured losses and on the
    noise-free ones ("with"), against that of weights that ignore the losses (uniform plus the same amount of
    noise: "without" is 0 by construction of a correlation with nothing, so it is measured as the correlation of a
    random permutation of the measured weights)."""
    clean = eq4_weights(true_losses(updates))
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for condition, v in (("regime", large_v), ("control", small_v)):
            weights = eq4_weights(measured(true_losses(updates), v, rng))
            shuffled = np.array([rng.permutation(row) for row in weights])
            rows.append({"seed": seed, "condition": condition, "with": _agreement(weights, clean),
                         "without": _agreement(shuffled, clean)})  # fmt: skip
    return ToyResult("Eq. 4", "correlation of the weights with the true learning progress",
                     f"V = {large_v} validation samples", f"V = {small_v} validation samples", pd.DataFrame(rows))  # fmt: skip


def eq4_readings(v: int = 50, seed: int = 0, updates: int = 20) -> pd.DataFrame:
    """Per update and task: lambda of Eq. 4 as printed, rescaled to mean 1, and rescaled on smoothed losses (our
    extension), all from the same measured losses; plus the noise-free rescaled weights to compare with."""
    rng = np.random.default_rng(seed)
    losses = measured(true_losses(updates), v, rng)
    readings = {
        "as printed": eq4_weights(losses, normalise=False),
        "rescaled to mean 1": eq4_weights(losses),
        "rescaled, smoothed losses (ours)": eq4_weights(losses, smoothing=0.7),
        "noise-free (rescaled)": eq4_weights(true_losses(updates)),
    }
    rows = [{"reading": name, "update": t + 2, "task": j, "lambda": float(w[t, j])}
            for name, w in readings.items() for t in range(w.shape[0]) for j in range(w.shape[1])]  # fmt: skip
    return pd.DataFrame(rows)


TRAP_SCHEMES = ("uniform weights", "Eq. 4 (rescaled)", "Eq. 4 (rescaled), floor on lambda (ours)")


def eq4_trap(updates: int = 20, kick: float = 2.0, floor_lambda: float = 0.05, seed: int = 0,
             v: int = 20000) -> pd.DataFrame:  # fmt: skip
    """Six tasks under three weightings. Five learn from the start, at different speeds; "stuck" sits on a plateau until
    the weight it has received adds up to ``kick`` (as a network's attribute needs some gradient before its loss
    moves), then learns like "fast". At each update a task's loss falls by ``speed * lambda`` of its distance to its
    floor; the losses Eq. 4 reads are measured on ``v`` samples. Under uniform weights "stuck" starts after
    ``kick`` updates; under Eq. 4 its weight at the first update is its (zero) progress, so it never gathers the kick;
    a floor on lambda (our extension, ``TrainConfig.dynamic_floor``) lets it out.
    Returns per scheme, update and task: the loss and the weight."""
    rows = []
    names = ("fast", "fast 2", "medium", "medium 2", "slow", "stuck")
    speed, floors = np.array([0.3, 0.25, 0.2, 0.15, 0.1, 0.3]), np.array([0.2, 0.25, 0.3, 0.3, 0.4, 0.2])
    for scheme_name in TRAP_SCHEMES:
        rng = np.random.default_rng(seed)
        if scheme_name == "uniform weights":
            scheme: weighting.UniformWeighting = weighting.UniformWeighting(len(names))
        else:
            floor = floor_lambda if "floor" in scheme_name else 0.0
            scheme = weighting.DynamicWeighting(len(names), normalise=True, floor=floor)
        loss, received = np.ones(len(names)), np.zeros(len(names))
        lam = scheme.update(measured(loss, v, rng)).numpy()
        for t in range(1, updates + 1):
            learning = np.array([True] * (len(names) - 1) + [received[-1] >= kick])
            loss = loss - learning * speed * np.minimum(lam, 3.0) / 3.0 * (loss - floors)
            received += lam
            lam = scheme.update(measured(loss, v, rng)).numpy()
            rows += [{"scheme": scheme_name, "update": t, "task": name, "loss": float(loss[j]),
                      "lambda": float(lam[j])} for j, name in enumerate(names)]  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------- Eq. 6
def attribute_scores(n: int, positive_rate: float, rng: np.random.Generator,
                     separation: float = 1.0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """+1/-1 labels with the given positive rate and the scores a network trained with MSE on +1/-1 labels (Eq. 2)
    tends to: ``E[y | x] = 2 P(y = +1 | x) - 1`` for a cue ``x = separation * label + N(0, 1)``. The prior enters
    the scores, so a rare attribute's scores lean towards -1 and tau = 0 (the accuracy-optimal threshold for them)
    predicts it rarely: the premise of Eq. 6."""
    labels = np.where(rng.random(n) < positive_rate, 1.0, -1.0)
    cue = separation * labels + rng.standard_normal(n)
    logit = np.log(positive_rate / (1 - positive_rate)) + 2 * separation * cue
    return 2 / (1 + np.exp(-logit)) - 1, labels


def eq6_path(scores: np.ndarray, labels: np.ndarray, epochs: int = 30, updates_per_epoch: int = 3,
             gamma: float = 0.01) -> pd.DataFrame:  # fmt: skip
    """Eq. 6 stepped ``updates_per_epoch`` times per epoch from tau = 0 on one attribute's validation scores: per
    step the epoch l, tau, the FP and FN counts, and the balanced accuracy at that tau."""
    rule = thresholds.AdaptiveThresholds(1, gamma, 0.0)
    rows = []
    for epoch in range(1, epochs + 1):
        for _ in range(updates_per_epoch):
            tau = float(rule.tau[0])
            predicted = np.where(scores > tau, 1.0, -1.0)
            fp, fn = int(((predicted > 0) & (labels < 0)).sum()), int(((predicted < 0) & (labels > 0)).sum())
            rows.append({"epoch": epoch, "tau": tau, "false_positives": fp, "false_negatives": fn,
                         "balanced_accuracy": balanced_accuracy_at(scores, labels, tau)})  # fmt: skip
            rule.update(torch.tensor([fp]), torch.tensor([fn]), len(labels), epoch)
    return pd.DataFrame(rows)


def balanced_accuracy_at(scores: np.ndarray, labels: np.ndarray, tau: float) -> float:
    return float(metrics.balanced_accuracy(scores[:, None], labels[:, None], np.array([tau]))[0])


def best_balanced_tau(scores: np.ndarray, labels: np.ndarray) -> float:
    """The tau (among midpoints of the sorted scores) that maximises balanced accuracy on these scores."""
    ordered = np.sort(scores)
    candidates = np.concatenate([[ordered[0] - 1], (ordered[1:] + ordered[:-1]) / 2, [ordered[-1] + 1]])
    values = [balanced_accuracy_at(scores, labels, float(t)) for t in candidates[:: max(1, len(candidates) // 400)]]
    return float(candidates[:: max(1, len(candidates) // 400)][int(np.argmax(values))])


def eq6_toy(seeds: Sequence[int] = SEEDS, rare_rate: float = 0.1, n_valid: int = 1000, n_test: int = 5000,
            epochs: int = 30) -> ToyResult:  # fmt: skip
    """Test balanced accuracy at Eq. 6's tau after ``epochs`` (stepped on validation scores) against tau = 0, for
    an attribute with ``rare_rate`` positives (regime) and a 50/50 one (control)."""
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for condition, rate in (("regime", rare_rate), ("control", 0.5)):
            valid, test = attribute_scores(n_valid, rate, rng), attribute_scores(n_test, rate, rng)
            tau = float(eq6_path(*valid, epochs=epochs)["tau"].iloc[-1])
            rows.append({"seed": seed, "condition": condition, "with": balanced_accuracy_at(*test, tau),
                         "without": balanced_accuracy_at(*test, 0.0)})  # fmt: skip
    return ToyResult("Eq. 6", "test balanced accuracy", f"{rare_rate:.0%} positives", "50% positives",
                     pd.DataFrame(rows))  # fmt: skip


TOYS = {"landmark task": landmark_toy, "SPP branches": spp_toy, "Eq. 4": eq4_toy, "Eq. 6": eq6_toy}


# ---------------------------------------------------------------------------------------------------- figures
def effect_figure(result: ToyResult, ax=None):
    """Per seed, with - without in the regime and in the control (points of the toy's measure x 100 where it is an
    accuracy), beside a line at 0."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2.6))
    scale = 1.0 if result.mechanism == "Eq. 4" else 100.0
    frame = result.frame.assign(effect=scale * (result.frame["with"] - result.frame["without"]))
    labels = {"regime": f"regime: {result.regime}", "control": f"control: {result.control}"}
    for k, condition in enumerate(("regime", "control")):
        values = frame.loc[frame["condition"] == condition, "effect"]
        ax.scatter(values, [k] * len(values), color=f"C{k}", zorder=3)
        ax.plot([values.mean()] * 2, [k - 0.25, k + 0.25], color=f"C{k}", linewidth=3)
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_yticks([0, 1], [labels["regime"], labels["control"]])
    ax.set_ylim(-0.6, 1.6)
    unit = "" if scale == 1.0 else " (points)"
    ax.set_xlabel(f"with - without: {result.measure}{unit}")
    ax.set_title(f"{result.mechanism}: each dot a seed, the bar their mean")
    return ax


def eq4_readings_figure(frame: pd.DataFrame):
    """lambda per task over updates under each reading of :func:`eq4_readings`, one panel per reading."""
    import matplotlib.pyplot as plt

    readings = list(dict.fromkeys(frame["reading"]))
    fig, axes = plt.subplots(1, len(readings), figsize=(3.4 * len(readings), 2.8), squeeze=False)
    for ax, reading in zip(axes[0], readings):
        for task, part in frame[frame["reading"] == reading].groupby("task"):
            ax.plot(part["update"], part["lambda"], label=f"task {task}")
        ax.set_title(reading, fontsize="small")
        ax.set_xlabel("update")
    axes[0][0].set_ylabel("lambda")
    axes[0][-1].legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def eq4_trap_figure(frame: pd.DataFrame):
    """Losses (top) and weights (bottom) of :func:`eq4_trap`, one column per scheme."""
    import matplotlib.pyplot as plt

    schemes = list(dict.fromkeys(frame["scheme"]))
    fig, axes = plt.subplots(2, len(schemes), figsize=(3.6 * len(schemes), 5), sharex=True, sharey="row")
    for col, scheme in enumerate(schemes):
        for task, part in frame[frame["scheme"] == scheme].groupby("task", sort=False):
            axes[0][col].plot(part["update"], part["loss"], label=task)
            axes[1][col].plot(part["update"], part["lambda"], label=task)
        axes[0][col].set_title(scheme, fontsize="small")
        axes[1][col].set_xlabel("update")
    axes[0][0].set_ylabel("validation loss")
    axes[1][0].set_ylabel("lambda")
    axes[0][-1].legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def eq6_figure(path: pd.DataFrame, best_tau: float):
    """Eq. 6's tau over its steps, with the tau that maximises balanced accuracy and tau = 0; and the balanced
    accuracy and the FP / FN counts along the path."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
    steps = np.arange(len(path))
    axes[0].plot(steps, path["tau"], label="Eq. 6's tau")
    axes[0].axhline(best_tau, color="C2", linestyle="--", label="tau maximising balanced accuracy")
    axes[0].axhline(0.0, color="grey", linewidth=1, label="tau = 0")
    axes[0].set_xlabel("update (gamma * l grows with the epoch l)")
    axes[0].set_ylabel("tau")
    axes[0].legend(fontsize="x-small")
    axes[1].plot(steps, path["false_positives"], label="false positives")
    axes[1].plot(steps, path["false_negatives"], label="false negatives")
    twin = axes[1].twinx()
    twin.plot(steps, path["balanced_accuracy"], color="C3", label="balanced accuracy")
    twin.set_ylabel("balanced accuracy")
    axes[1].set_xlabel("update")
    axes[1].set_ylabel("count")
    axes[1].legend(fontsize="x-small", loc="center right")
    fig.tight_layout()
    return fig
