"""Checkers for the lab exercises: each runs a student's function on a few cases against dmmlib's own code.

A checker prints one line and returns True when every case agrees; otherwise it raises :class:`ExerciseFailed`
(an ``AssertionError``) whose message names the failing case and gives a hint. A function that still raises
``NotImplementedError`` (the stub of a student copy) fails with "not done yet".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from dmmlib import metrics, thresholds, weighting
from dmmlib.landmarks import schema as landmark_schema
from dmmlib.spp import SpatialPyramidPooling


class ExerciseFailed(AssertionError):
    """The student's function disagrees with the reference (or is not written yet)."""


def _call(name: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except NotImplementedError:
        raise ExerciseFailed(f"{name}: not done yet - replace the `raise NotImplementedError` with your code") from None


def _as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


def _compare(name: str, case: str, got: Any, expected: Any, hint: str, atol: float = 1e-5) -> None:
    got_array, expected_array = _as_numpy(got), _as_numpy(expected)
    if got_array.shape != expected_array.shape:
        raise ExerciseFailed(
            f"{name}, {case}: result has shape {got_array.shape}, expected {expected_array.shape}. Hint: {hint}"
        )
    if not np.allclose(got_array, expected_array, atol=atol, rtol=1e-5):
        worst = np.unravel_index(np.argmax(np.abs(got_array - expected_array)), got_array.shape)
        raise ExerciseFailed(
            f"{name}, {case}: at index {tuple(int(i) for i in worst)} got {got_array[worst]:.6g}, "
            f"expected {expected_array[worst]:.6g}. Hint: {hint}"
        )


def _passed(name: str, cases: int) -> bool:
    print(f"\u2713 {name}: all {cases} cases agree with dmmlib")
    return True


def check_flip_landmarks(flip_landmarks: Callable[[np.ndarray, int], np.ndarray]) -> bool:
    """``flip_landmarks(points (68, 2) in pixels, width) -> points of the mirrored image``."""
    name = "flip_landmarks"
    rng = np.random.default_rng(0)
    cases = [(rng.uniform(0, 177, size=(68, 2)).astype(np.float32), 178), (np.tile([[10.0, 5.0]], (68, 1)), 50)]
    hint = (
        "mirror x to (width - 1 - x), and swap the roles of left and right points: after the flip, point 36 "
        "(an outer eye corner) is the mirror of point 45; see landmark_schema.GROUPS"
    )
    for number, (points, width) in enumerate(cases, start=1):
        got = _call(name, flip_landmarks, points.copy(), width)
        _compare(name, f"case {number}", got, landmark_schema.flip_pixels(points, width), hint)
    twice = _call(name, flip_landmarks, _call(name, flip_landmarks, cases[0][0].copy(), 178), 178)
    _compare(name, "flipping twice", twice, cases[0][0], "flipping twice must give the original points back")
    return _passed(name, len(cases) + 1)


def check_spp(spp: Callable[[torch.Tensor, int], torch.Tensor]) -> bool:
    """``spp(feature_map (B, C, H, W), levels) -> (B, C * sum_{k=1..levels} k*k)``, level by level."""
    name = "spp"
    generator = torch.Generator().manual_seed(0)
    shapes = [((2, 3, 7, 6), 1), ((2, 3, 7, 6), 3), ((1, 4, 2, 2), 3), ((1, 2, 13, 9), 2)]
    hint = (
        "for each level k = 1..levels, max-pool the map into a k x k grid of bins (torch's adaptive_max_pool2d "
        "defines the bins), flatten to (B, C*k*k), and concatenate the levels in order k = 1, 2, ..."
    )
    for shape, levels in shapes:
        feature_map = torch.randn(*shape, generator=generator)
        got = _call(name, spp, feature_map.clone(), levels)
        _compare(name, f"input {shape}, {levels} level(s)", got, SpatialPyramidPooling(levels)(feature_map), hint)
    return _passed(name, len(shapes))


def check_dynamic_weights(dynamic_weights: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """``dynamic_weights(previous_losses, current_losses) -> lambda`` (Eq. 4)."""
    name = "dynamic_weights (Eq. 4)"
    cases = [
        (torch.tensor([0.5, 0.4, 0.2]), torch.tensor([0.4, 0.5, 0.2])),
        (torch.tensor([1.0, 2.0]), torch.tensor([0.25, 3.0])),
    ]
    hint = "lambda_j = |L_j(t) - L_j(t-1)| / L_j(t-1): the absolute change relative to the PREVIOUS loss"
    for number, (previous, current) in enumerate(cases, start=1):
        reference = weighting.DynamicWeighting(len(previous))
        reference.update(previous)
        expected = reference.update(current)
        _compare(name, f"case {number}", _call(name, dynamic_weights, previous, current), expected, hint)
    return _passed(name, len(cases))


def check_threshold_update(update: Callable[..., torch.Tensor]) -> bool:
    """``update(tau, false_positives, false_negatives, num_samples, epoch, gamma) -> new tau`` (Eq. 6)."""
    name = "threshold update (Eq. 6)"
    cases = [
        (torch.zeros(3), torch.tensor([30, 5, 10]), torch.tensor([10, 25, 10]), 100, 1, 0.01),
        (torch.tensor([0.2, -0.1]), torch.tensor([0, 400]), torch.tensor([200, 100]), 1000, 3, 0.01),
    ]
    hint = "tau_new = tau + gamma * epoch * (FP - FN) / V: more false positives raise the threshold"
    for number, (tau, fp, fn, num_samples, epoch, gamma) in enumerate(cases, start=1):
        reference = thresholds.AdaptiveThresholds(len(tau), gamma=gamma)
        reference.tau = tau.clone()
        expected = reference.update(fp, fn, num_samples, epoch)
        got = _call(name, update, tau.clone(), fp, fn, num_samples, epoch, gamma)
        _compare(name, f"case {number}", got, expected, hint)
    return _passed(name, len(cases))


def check_fp_fn_counts(counts: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> bool:
    """``counts(outputs (N, J), targets (N, J) in +1/-1, tau (J,)) -> (false_positives, false_negatives)``."""
    name = "false positive / negative counts"
    outputs = torch.tensor([[0.5, -0.2], [0.0, 0.3], [-0.7, 0.9], [0.1, 0.1]])
    targets = torch.tensor([[1, -1], [-1, -1], [1, 1], [-1, 1]])
    hint = (
        "predict +1 where output > tau (Eq. 5; an output EQUAL to tau is -1); a false positive is a +1 prediction "
        "on a -1 label, a false negative a -1 prediction on a +1 label; count per attribute (column)"
    )
    for tau in (torch.zeros(2), torch.tensor([0.1, 0.5])):
        expected_fp, expected_fn = metrics.false_positive_negative_counts(outputs, targets, tau)
        got = _call(name, counts, outputs.clone(), targets.clone(), tau.clone())
        if not isinstance(got, tuple) or len(got) != 2:
            raise ExerciseFailed(f"{name}: return a pair (false_positives, false_negatives). Hint: {hint}")
        _compare(name, f"false positives, tau={tau.tolist()}", got[0], expected_fp, hint)
        _compare(name, f"false negatives, tau={tau.tolist()}", got[1], expected_fn, hint)
    return _passed(name, 2)


def check_balanced_accuracy(balanced_accuracy: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> bool:
    """``balanced_accuracy(predictions (N, J), labels (N, J), both +1/-1) -> (J,)``."""
    name = "balanced accuracy"
    rng = np.random.default_rng(1)
    labels = np.where(rng.random((200, 3)) < [0.05, 0.5, 0.9], 1, -1)
    predictions = np.where(rng.random((200, 3)) < 0.8, labels, -labels)
    predictions[:, 0] = -1  # always "negative": high accuracy, balanced accuracy exactly 0.5
    hint = "the mean of the true-positive rate (recall on +1 labels) and the true-negative rate (on -1 labels)"
    from sklearn.metrics import balanced_accuracy_score

    expected = np.array([balanced_accuracy_score(labels[:, j], predictions[:, j]) for j in range(3)])
    _compare(name, "three attributes", _call(name, balanced_accuracy, predictions, labels), expected, hint)
    return _passed(name, 1)


def check_dwa_weights(dwa_weights: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> bool:
    """``dwa_weights(loss_two_epochs_ago, loss_last_epoch, temperature) -> lambda`` (DWA, Liu et al. 2019)."""
    name = "DWA weights"
    cases = [
        (torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.5, 1.0, 2.0]), 2.0),
        (torch.tensor([2.0, 1.0]), torch.tensor([1.0, 1.0]), 1.0),
    ]
    hint = "w_k = L_k(last) / L_k(two ago); lambda = K * softmax(w / T): the weights sum to K"
    for number, (older, last, temperature) in enumerate(cases, start=1):
        reference = weighting.DWAWeighting(len(older), temperature=temperature)
        reference.update(older)
        expected = reference.update(last)
        _compare(name, f"case {number}", _call(name, dwa_weights, older, last, temperature), expected, hint)
    return _passed(name, len(cases))


def check_group_means(group_means: Callable[[Any], dict[str, float]]) -> bool:
    """``group_means(table) -> {"all": ..., "objective": ..., "subjective": ...}`` mean accuracy per group.

    ``table`` has one row per attribute with columns ``group`` and ``accuracy`` (as ``metrics.attribute_table``).
    """
    import pandas as pd

    name = "group means"
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"group": ["objective"] * 3 + ["subjective"] * 2,
                          "accuracy": rng.uniform(0.6, 0.99, 5)},
                         index=pd.Index(["A", "B", "C", "D", "E"], name="attribute"))  # fmt: skip
    means = metrics.mean_table(table)
    hint = "average the accuracy column over all rows, and separately over the rows of each group"
    got = _call(name, group_means, table.copy())
    if not isinstance(got, dict) or set(got) != {"all", "objective", "subjective"}:
        raise ExerciseFailed(f"{name}: return a dict with keys 'all', 'objective', 'subjective'. Hint: {hint}")
    for group in ("all", "objective", "subjective"):
        _compare(name, group, got[group], means.loc[group, "accuracy"], hint)
    return _passed(name, 3)


def check_paired_interval(paired_interval: Callable[[np.ndarray, np.ndarray, float], tuple[float, float, float]]) -> bool:
    """``paired_interval(a, b, confidence) -> (mean, low, high)``: the Student-t confidence interval of the mean
    paired difference ``a - b`` (one value per seed for two runs)."""
    from scipy import stats

    name = "paired interval"
    rng = np.random.default_rng(3)
    cases = [
        (np.array([0.81, 0.83, 0.80]), np.array([0.80, 0.80, 0.79]), 0.95),
        (rng.normal(0.85, 0.01, 5), rng.normal(0.84, 0.01, 5), 0.95),
        (rng.normal(0.9, 0.02, 8), rng.normal(0.9, 0.02, 8), 0.9),
    ]
    hint = ("take the differences d = a - b per seed; the interval is mean(d) +- t * sd(d) / sqrt(n) with the sample "
            "sd (ddof=1) and t the (1 + confidence) / 2 quantile of Student's t with n - 1 degrees of freedom "
            "(scipy.stats.t.ppf), not the normal 1.96")  # fmt: skip
    for number, (a, b, confidence) in enumerate(cases, start=1):
        d = a - b
        mean = d.mean()
        half = stats.t.ppf((1 + confidence) / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        got = _call(name, paired_interval, a.copy(), b.copy(), confidence)
        if not isinstance(got, tuple) or len(got) != 3:
            raise ExerciseFailed(f"{name}: return a tuple (mean, low, high), got {got!r}. Hint: {hint}")
        _compare(name, f"case {number}", np.array(got, dtype=float), np.array([mean, mean - half, mean + half]), hint,
                 atol=1e-9)  # fmt: skip
    return _passed(name, len(cases))
