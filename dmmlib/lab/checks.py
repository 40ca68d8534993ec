"""Checkers for the lab exercises: each runs a student's function on a few cases against dmmlib's own code.

A checker prints one line and returns True when every case agrees; otherwise it raises :class:`ExerciseFailed`
(an ``AssertionError``) whose message names the failing case and gives a hint. A function that still raises
``NotImplementedError`` (the stub of a student copy) fails with "not done yet".

Every checker takes ``seed`` and ``cases``: it runs its fixed, hand-made cases, then ``cases`` random ones drawn
from ``seed``. A notebook calls a checker with the defaults (the visible checks); the nbgrader course
(:mod:`dmmlib.suite.course`) adds a hidden call with another seed and more cases, so a solution written to the
visible cases alone does not pass.

**Written by hand.** An exercise asks for a computation that the library (or scikit-learn) already has:
Eq. 1 with a mask is ``losses.landmark_loss(..., mask=...)``, balanced accuracy is
``balanced_accuracy_score``. While a checker runs the student's function, those functions are out of reach
(:data:`OUT_OF_REACH`, per checker): each raises :class:`OutOfReach` ("this exercise asks you to write it
yourself") wherever it is called from, under any name the student imported it by, and gets its own code back
as soon as the student's function returns (also when it raised). The checker's own references run outside
those calls, so they are unaffected. ``by_hand=False`` lifts this, to check the library itself against a
checker. The names are strings resolved when a checker runs (a module that cannot be imported is skipped: a
student cannot call it either); they are not imports of this module, which is why ``dmmlib.suite`` functions
may stand among them.
"""

from __future__ import annotations

import functools
import importlib
import math
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec

import numpy as np
import torch

from dmmlib import losses, metrics, thresholds, weighting
from dmmlib.landmarks import schema as landmark_schema
from dmmlib.spp import SpatialPyramidPooling


class ExerciseFailed(AssertionError):
    """The student's function disagrees with the reference (or is not written yet)."""


class OutOfReach(ExerciseFailed):
    """The student's function called a library function that already does what the exercise asks."""


#: per checker, the functions (``module:qualified.name``) that already do what its exercise asks: out of reach
#: while the checker runs the student's function (filled by :func:`_written_by_hand`)
OUT_OF_REACH: dict[str, tuple[str, ...]] = {}
#: the out-of-reach names of the checkers now running (innermost last)
_RUNNING: list[tuple[str, ...]] = []
_P = ParamSpec("_P")


def shown_name(target: str) -> str:
    """``dmmlib.metrics:balanced_accuracy`` -> ``dmmlib.metrics.balanced_accuracy``, as a student types it."""
    return target.replace(":", ".")


def _functions(target: str) -> list[types.FunctionType]:
    """The Python functions behind ``module:qualified.name``: the function and every function it wraps
    (``__wrapped__``, as scikit-learn's parameter validation does); [] when the module cannot be imported."""
    module_name, _, qualified = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError:
        return []
    for part in qualified.split("."):
        found = getattr(found, part)  # a stale name is an error of OUT_OF_REACH, not of the student
    found = getattr(found, "__func__", found)  # a classmethod or staticmethod
    chain = []
    while isinstance(found, types.FunctionType):
        chain.append(found)
        found = getattr(found, "__wrapped__", None)
    if not chain:
        raise TypeError(f"{shown_name(target)} is not a Python function; it cannot be put out of reach")
    return chain


@functools.cache
def _raising_code(free_variables: int, target: str, exercise: str) -> types.CodeType:
    """The code of a function that raises :class:`OutOfReach` for ``target``; it takes any arguments and has
    as many free variables as the function whose code it replaces (Python requires that of ``__code__``)."""
    names = [f"_free{k}" for k in range(free_variables)]
    message = (f"{exercise}: this exercise asks you to write it yourself - {shown_name(target)} is out of "
               "reach while the checks run (calling it raises this error). Compute it in your own code; the "
               "exercise's text and the hints say how.")  # fmt: skip
    refer = ["        if args is None:  # never: it only refers to the free variables",
             f"            {', '.join(names)}"]
    source = "\n".join([
        "def _outer():",
        *[f"    {name} = None" for name in names],
        "    def out_of_reach(*args, **kwargs):",
        *(refer if names else []),
        f"        raise __import__('dmmlib.lab.checks', fromlist=['OutOfReach']).OutOfReach({message!r})",
        "    return out_of_reach",
    ])  # fmt: skip
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<out of reach: {shown_name(target)}>", "exec"), namespace)
    return namespace["_outer"]().__code__


@contextmanager
def out_of_reach(targets: tuple[str, ...], exercise: str) -> Iterator[None]:
    """Within the block, every function of ``targets`` raises :class:`OutOfReach`; their code is restored
    after it, whatever happens in it."""
    swapped: list[tuple[types.FunctionType, types.CodeType]] = []
    try:
        for target in targets:
            for function in _functions(target):
                if any(function is done for done, _ in swapped):
                    continue
                code = function.__code__
                function.__code__ = _raising_code(len(code.co_freevars), target, exercise)
                swapped.append((function, code))
        yield
    finally:
        for function, code in reversed(swapped):
            function.__code__ = code


def _written_by_hand(*targets: str) -> Callable[[Callable[_P, bool]], Callable[_P, bool]]:
    """Register ``targets`` as the functions a checker's exercise asks the student to write
    (:data:`OUT_OF_REACH`); the checker then puts them out of reach while it runs the student's function,
    unless called with ``by_hand=False``."""

    def decorate(checker: Callable[_P, bool]) -> Callable[_P, bool]:
        OUT_OF_REACH[checker.__name__] = targets

        @functools.wraps(checker)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> bool:
            _RUNNING.append(targets if kwargs.get("by_hand", True) else ())
            try:
                return checker(*args, **kwargs)
            finally:
                _RUNNING.pop()

        return run

    return decorate


def _call(name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """The student's function on one case, with the running checker's library functions out of reach.
    Warnings the student's code raises are not shown: nbgrader gives no points to a test cell that writes to
    stderr."""
    try:
        with out_of_reach(_RUNNING[-1] if _RUNNING else (), name), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    except NotImplementedError:
        raise ExerciseFailed(f"{name}: not done yet - replace the `raise NotImplementedError` with your code") from None
    except OutOfReach as error:
        raise OutOfReach(str(error)) from None


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


def _passed(name: str, cases: int, against: str = "dmmlib") -> bool:
    print(f"\u2713 {name}: all {cases} cases agree with {against}")
    return True


def _rng(seed: int) -> np.random.Generator:
    """The random cases' generator; seed 0 (the visible checks) and any other seed draw different cases."""
    return np.random.default_rng([int(seed), 20240516])


def _positive(rng: np.random.Generator, size: int, low: float = 0.05, high: float = 2.0) -> torch.Tensor:
    return torch.as_tensor(rng.uniform(low, high, size), dtype=torch.float32)


@_written_by_hand("dmmlib.landmarks.schema:flip_pixels", "dmmlib.landmarks.schema:flip_normalised")
def check_flip_landmarks(flip_landmarks: Callable[[np.ndarray, int], np.ndarray], *, seed: int = 0,
                         cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``flip_landmarks(points (68, 2) in pixels, width) -> points of the mirrored image``."""
    name = "flip_landmarks"
    fixed = np.random.default_rng(0)
    examples = [(fixed.uniform(0, 177, size=(68, 2)).astype(np.float32), 178), (np.tile([[10.0, 5.0]], (68, 1)), 50)]
    rng = _rng(seed)
    for _ in range(cases):
        width = int(rng.integers(20, 400))
        examples.append((rng.uniform(0, width - 1, size=(68, 2)).astype(np.float32), width))
    hint = (
        "mirror x to (width - 1 - x), and swap the roles of left and right points: after the flip, point 36 "
        "(an outer eye corner) is the mirror of point 45; see landmark_schema.GROUPS"
    )
    for number, (points, width) in enumerate(examples, start=1):
        got = _call(name, flip_landmarks, points.copy(), width)
        _compare(name, f"case {number} (width {width})", got, landmark_schema.flip_pixels(points, width), hint)
    points, width = examples[-1]
    twice = _call(name, flip_landmarks, _call(name, flip_landmarks, points.copy(), width), width)
    _compare(name, "flipping twice", twice, points, "flipping twice must give the original points back")
    return _passed(name, len(examples) + 1)


@_written_by_hand("dmmlib.spp:SpatialPyramidPooling.forward")
def check_spp(spp: Callable[[torch.Tensor, int], torch.Tensor], *, seed: int = 0, cases: int = 2,
              by_hand: bool = True) -> bool:  # fmt: skip
    """``spp(feature_map (B, C, H, W), levels) -> (B, C * sum_{k=1..levels} k*k)``, level by level."""
    name = "spp"
    generator = torch.Generator().manual_seed(0)
    shapes = [((2, 3, 7, 6), 1), ((2, 3, 7, 6), 3), ((1, 4, 2, 2), 3), ((1, 2, 13, 9), 2)]
    rng = _rng(seed)
    for _ in range(cases):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 15)), int(rng.integers(1, 15)))
        shapes.append((shape, int(rng.integers(1, 5))))
    hint = (
        "for each level k = 1..levels, max-pool the map into a k x k grid of bins (torch's adaptive_max_pool2d "
        "defines the bins), flatten to (B, C*k*k), and concatenate the levels in order k = 1, 2, ..."
    )
    random_maps = torch.Generator().manual_seed(int(rng.integers(2**31)))
    for number, (shape, levels) in enumerate(shapes):
        feature_map = torch.randn(*shape, generator=generator if number < 4 else random_maps)
        got = _call(name, spp, feature_map.clone(), levels)
        _compare(name, f"input {shape}, {levels} level(s)", got, SpatialPyramidPooling(levels)(feature_map), hint)
    return _passed(name, len(shapes))


@_written_by_hand("dmmlib.weighting:dynamic_weights", "dmmlib.weighting:DynamicWeighting.update")
def check_dynamic_weights(dynamic_weights: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *,
                          seed: int = 0, cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``dynamic_weights(previous_losses, current_losses) -> lambda`` (Eq. 4)."""
    name = "dynamic_weights (Eq. 4)"
    examples = [
        (torch.tensor([0.5, 0.4, 0.2]), torch.tensor([0.4, 0.5, 0.2])),
        (torch.tensor([1.0, 2.0]), torch.tensor([0.25, 3.0])),
    ]
    rng = _rng(seed)
    for _ in range(cases):
        previous = _positive(rng, int(rng.integers(1, 41)))
        examples.append((previous, previous * _positive(rng, len(previous), 0.3, 1.7)))
    hint = "lambda_j = |L_j(t) - L_j(t-1)| / L_j(t-1): the absolute change relative to the PREVIOUS loss"
    for number, (previous, current) in enumerate(examples, start=1):
        reference = weighting.DynamicWeighting(len(previous))
        reference.update(previous)
        expected = reference.update(current)
        got = _call(name, dynamic_weights, previous.clone(), current.clone())
        _compare(name, f"case {number}", got, expected, hint)
    return _passed(name, len(examples))


@_written_by_hand("dmmlib.thresholds:AdaptiveThresholds.update")
def check_threshold_update(update: Callable[..., torch.Tensor], *, seed: int = 0, cases: int = 2,
                           by_hand: bool = True) -> bool:  # fmt: skip
    """``update(tau, false_positives, false_negatives, num_samples, epoch, gamma) -> new tau`` (Eq. 6)."""
    name = "threshold update (Eq. 6)"
    examples = [
        (torch.zeros(3), torch.tensor([30, 5, 10]), torch.tensor([10, 25, 10]), 100, 1, 0.01),
        (torch.tensor([0.2, -0.1]), torch.tensor([0, 400]), torch.tensor([200, 100]), 1000, 3, 0.01),
    ]
    rng = _rng(seed)
    for _ in range(cases):
        j, num_samples = int(rng.integers(1, 41)), int(rng.integers(5, 20_000))
        tau = torch.as_tensor(rng.uniform(-0.5, 0.5, j), dtype=torch.float32)
        fp, fn = (torch.as_tensor(rng.integers(0, num_samples // 2 + 1, j)) for _ in range(2))
        gamma = float(rng.choice([0.01, 0.05, rng.uniform(0.001, 0.1)]))
        examples.append((tau, fp, fn, num_samples, int(rng.integers(1, 16)), gamma))
    hint = "tau_new = tau + gamma * epoch * (FP - FN) / V: more false positives raise the threshold"
    for number, (tau, fp, fn, num_samples, epoch, gamma) in enumerate(examples, start=1):
        reference = thresholds.AdaptiveThresholds(len(tau), gamma=gamma)
        reference.tau = tau.clone()
        expected = reference.update(fp, fn, num_samples, epoch)
        got = _call(name, update, tau.clone(), fp.clone(), fn.clone(), num_samples, epoch, gamma)
        _compare(name, f"case {number}", got, expected, hint)
    return _passed(name, len(examples))


@_written_by_hand("dmmlib.metrics:false_positive_negative_counts")
def check_fp_fn_counts(counts: Callable[..., tuple[torch.Tensor, torch.Tensor]], *, seed: int = 0,
                       cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``counts(outputs (N, J), targets (N, J) in +1/-1, tau (J,)) -> (false_positives, false_negatives)``."""
    name = "false positive / negative counts"
    outputs = torch.tensor([[0.5, -0.2], [0.0, 0.3], [-0.7, 0.9], [0.1, 0.1]])
    targets = torch.tensor([[1, -1], [-1, -1], [1, 1], [-1, 1]])
    examples = [(outputs, targets, torch.zeros(2)), (outputs, targets, torch.tensor([0.1, 0.5]))]
    rng = _rng(seed)
    for _ in range(cases):
        n, j = int(rng.integers(1, 51)), int(rng.integers(1, 7))
        # outputs and thresholds on a grid of quarters, so that some outputs equal their threshold
        examples.append((torch.as_tensor(rng.integers(-4, 5, (n, j)) / 4, dtype=torch.float32),
                         torch.as_tensor(rng.choice([-1, 1], (n, j))),
                         torch.as_tensor(rng.integers(-2, 3, j) / 4, dtype=torch.float32)))  # fmt: skip
    hint = (
        "predict +1 where output > tau (Eq. 5; an output EQUAL to tau is -1); a false positive is a +1 prediction "
        "on a -1 label, a false negative a -1 prediction on a +1 label; count per attribute (column)"
    )
    for number, (out, target, tau) in enumerate(examples, start=1):
        expected_fp, expected_fn = metrics.false_positive_negative_counts(out, target, tau)
        got = _call(name, counts, out.clone(), target.clone(), tau.clone())
        if not isinstance(got, tuple) or len(got) != 2:
            raise ExerciseFailed(f"{name}: return a pair (false_positives, false_negatives). Hint: {hint}")
        where = f"case {number}, tau={[round(v, 2) for v in tau.tolist()]}"
        _compare(name, f"false positives, {where}", got[0], expected_fp, hint)
        _compare(name, f"false negatives, {where}", got[1], expected_fn, hint)
    return _passed(name, len(examples))


@_written_by_hand("dmmlib.metrics:balanced_accuracy", "sklearn.metrics:balanced_accuracy_score")
def check_balanced_accuracy(balanced_accuracy: Callable[[np.ndarray, np.ndarray], np.ndarray], *, seed: int = 0,
                            cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``balanced_accuracy(predictions (N, J), labels (N, J), both +1/-1) -> (J,)``."""
    from sklearn.metrics import balanced_accuracy_score

    name = "balanced accuracy"
    fixed = np.random.default_rng(1)
    labels = np.where(fixed.random((200, 3)) < [0.05, 0.5, 0.9], 1, -1)
    predictions = np.where(fixed.random((200, 3)) < 0.8, labels, -labels)
    predictions[:, 0] = -1  # always "negative": high accuracy, balanced accuracy exactly 0.5
    examples = [(predictions, labels)]
    rng = _rng(seed)
    for _ in range(cases):
        n, j = int(rng.integers(20, 301)), int(rng.integers(1, 6))
        labels = np.where(rng.random((n, j)) < rng.uniform(0.03, 0.97, j), 1, -1)
        labels[0], labels[1] = 1, -1  # both classes in every column
        predictions = np.where(rng.random((n, j)) < rng.uniform(0.5, 1.0, j), labels, -labels)
        predictions[:, rng.random(j) < 0.2] = -1  # some attributes always "negative"
        examples.append((predictions, labels))
    hint = "the mean of the true-positive rate (recall on +1 labels) and the true-negative rate (on -1 labels)"
    for number, (predictions, labels) in enumerate(examples, start=1):
        expected = np.array([balanced_accuracy_score(labels[:, k], predictions[:, k]) for k in range(labels.shape[1])])
        got = _call(name, balanced_accuracy, predictions.copy(), labels.copy())
        _compare(name, f"case {number} ({labels.shape[1]} attributes)", got, expected, hint)
    return _passed(name, len(examples))


@_written_by_hand("dmmlib.weighting:DWAWeighting.update")
def check_dwa_weights(dwa_weights: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor], *, seed: int = 0,
                      cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``dwa_weights(loss_two_epochs_ago, loss_last_epoch, temperature) -> lambda`` (DWA, Liu et al. 2019)."""
    name = "DWA weights"
    examples = [
        (torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.5, 1.0, 2.0]), 2.0),
        (torch.tensor([2.0, 1.0]), torch.tensor([1.0, 1.0]), 1.0),
    ]
    rng = _rng(seed)
    for _ in range(cases):
        j = int(rng.integers(1, 41))
        examples.append((_positive(rng, j), _positive(rng, j), float(rng.uniform(0.5, 5.0))))
    hint = "w_k = L_k(last) / L_k(two ago); lambda = K * softmax(w / T): the weights sum to K"
    for number, (older, last, temperature) in enumerate(examples, start=1):
        reference = weighting.DWAWeighting(len(older), temperature=temperature)
        reference.update(older)
        expected = reference.update(last)
        got = _call(name, dwa_weights, older.clone(), last.clone(), temperature)
        _compare(name, f"case {number}", got, expected, hint)
    return _passed(name, len(examples))


@_written_by_hand("dmmlib.metrics:mean_table")
def check_group_means(group_means: Callable[[Any], dict[str, float]], *, seed: int = 0, cases: int = 2,
                      by_hand: bool = True) -> bool:  # fmt: skip
    """``group_means(table) -> {"all": ..., "objective": ..., "subjective": ...}``: the mean gain over the majority
    class, ``100 * (accuracy - majority_accuracy)`` in points, over all rows and within each group.

    ``table`` has one row per attribute with columns ``group``, ``accuracy`` and ``majority_accuracy`` (as
    ``metrics.attribute_table``). Expected values are computed here from the rows, not by a library call.
    """
    import pandas as pd

    name = "group means"
    fixed = np.random.default_rng(2)
    tables = [pd.DataFrame({"group": ["objective"] * 3 + ["subjective"] * 2,
                            "accuracy": fixed.uniform(0.6, 0.99, 5), "majority_accuracy": fixed.uniform(0.5, 0.95, 5)},
                           index=pd.Index(["A", "B", "C", "D", "E"], name="attribute"))]  # fmt: skip
    rng = _rng(seed)
    for _ in range(cases):
        n = int(rng.integers(2, 41))
        groups = rng.choice(["objective", "subjective"], n)
        groups[:2] = ["objective", "subjective"]
        rng.shuffle(groups)
        tables.append(pd.DataFrame({"group": groups, "accuracy": rng.uniform(0.5, 1.0, n),
                                    "majority_accuracy": rng.uniform(0.5, 0.99, n)},
                                   index=pd.Index([f"A{k}" for k in range(n)], name="attribute")))  # fmt: skip
    hint = ("subtract majority_accuracy from accuracy row by row, times 100, then average over all rows and separately "
            "over the rows of each group")
    for number, table in enumerate(tables, start=1):
        gains = [100 * (a - m) for a, m in zip(table["accuracy"], table["majority_accuracy"])]
        expected = {"all": sum(gains) / len(gains)}
        for group in ("objective", "subjective"):
            members = [g for g, kind in zip(gains, table["group"]) if kind == group]
            expected[group] = sum(members) / len(members)
        got = _call(name, group_means, table.copy())
        if not isinstance(got, dict) or set(got) != {"all", "objective", "subjective"}:
            raise ExerciseFailed(f"{name}: return a dict with keys 'all', 'objective', 'subjective'. Hint: {hint}")
        for group in ("all", "objective", "subjective"):
            _compare(name, group if number == 1 else f"case {number}, {group}", got[group], expected[group], hint)
    return _passed(name, 3 * len(tables))


@_written_by_hand("dmmlib.suite.stats:paired_interval", "dmmlib.suite.stats:interval",
                  "scipy.stats:ttest_rel", "scipy.stats:ttest_1samp")
def check_paired_interval(paired_interval: Callable[[np.ndarray, np.ndarray, float], tuple[float, float, float]],
                          *, seed: int = 0, cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``paired_interval(a, b, confidence) -> (mean, low, high)``: the Student-t confidence interval of the mean
    paired difference ``a - b`` (one value per seed for two runs)."""
    from scipy import stats

    name = "paired interval"
    fixed = np.random.default_rng(3)
    examples = [
        (np.array([0.81, 0.83, 0.80]), np.array([0.80, 0.80, 0.79]), 0.95),
        (fixed.normal(0.85, 0.01, 5), fixed.normal(0.84, 0.01, 5), 0.95),
        (fixed.normal(0.9, 0.02, 8), fixed.normal(0.9, 0.02, 8), 0.9),
    ]
    rng = _rng(seed)
    for _ in range(cases):
        n = int(rng.integers(2, 11))
        examples.append((rng.normal(0.85, 0.02, n), rng.normal(0.85, 0.02, n), float(rng.choice([0.8, 0.9, 0.95, 0.99]))))
    hint = ("take the differences d = a - b per seed; the interval is mean(d) +- t * sd(d) / sqrt(n) with the sample "
            "sd (ddof=1) and t the (1 + confidence) / 2 quantile of Student's t with n - 1 degrees of freedom "
            "(scipy.stats.t.ppf), not the normal 1.96")  # fmt: skip
    for number, (a, b, confidence) in enumerate(examples, start=1):
        d = a - b
        mean = d.mean()
        half = stats.t.ppf((1 + confidence) / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        got = _call(name, paired_interval, a.copy(), b.copy(), confidence)
        if not isinstance(got, tuple) or len(got) != 3:
            raise ExerciseFailed(f"{name}: return a tuple (mean, low, high), got {got!r}. Hint: {hint}")
        _compare(name, f"case {number}", np.array(got, dtype=float), np.array([mean, mean - half, mean + half]), hint,
                 atol=1e-9)  # fmt: skip
    return _passed(name, len(examples))


# --- exercises about the method: Algorithm 1's update, a collapse of Eq. 4 in a history, Eq. 1 with placeholders


def _trainer_update(case: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(tau, lambda)`` after the trainer's own update (:meth:`dmmlib.train._Trainer.update`, lines 4-7 of
    Algorithm 1) from the state in ``case``.

    The method runs unchanged on a stand-in trainer that holds the case's thresholds and weighting (built as the
    trainer builds them for DMM-CNN) and whose whole-validation pass returns the case's losses and counts: no model,
    no data, nothing written. The epoch l, Eq. 6, Eq. 4 and their order are the trainer's code.
    """
    from unittest import mock

    from dmmlib import train
    from dmmlib.config import TrainConfig
    from dmmlib.validation import ValidationResult
    from dmmlib.variants import get_variant

    j = len(case["tau"])
    cfg = TrainConfig(variant="DMM-CNN", gamma=case["gamma"], epoch_from=case["epoch_from"])
    spec = get_variant(cfg.variant)
    trainer = train._Trainer.__new__(train._Trainer)
    trainer.cfg, trainer.per_epoch, trainer.device = cfg, case["iterations_per_epoch"], torch.device("cpu")
    trainer.state = train._State(iteration=case["iteration"])
    trainer.thresholds = thresholds.make_thresholds(spec.thresholds, j, cfg.gamma, cfg.initial_tau)
    trainer.thresholds.tau = torch.as_tensor(case["tau"], dtype=torch.float32).clone()
    trainer.weighting = scheme = weighting.make_weighting(spec.weighting, j, cfg)
    assert isinstance(scheme, weighting.DynamicWeighting)  # DMM-CNN's lambda is Eq. 4's
    scheme.weights = torch.as_tensor(case["lambda"], dtype=torch.float32).clone()
    previous = case["previous_losses"]
    scheme.previous = None if previous is None else torch.as_tensor(previous, dtype=torch.float32).clone()
    trainer.optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=cfg.lr)
    trainer.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(trainer.optimizer, factor=cfg.lr_factor,
                                                                   patience=cfg.lr_patience)  # fmt: skip
    # stand-ins, never read: validate is replaced below, and a loader that is not None is not rebuilt
    trainer.model, trainer.eval_set, trainer.val_loader = None, None, ()  # type: ignore[assignment]
    trainer.measures_gradients = False
    losses = torch.as_tensor(case["losses"], dtype=torch.float32)
    result = ValidationResult(
        attr_losses=losses, landmark_loss=None, mean_loss=float(losses.mean()),
        false_positives=torch.as_tensor(case["false_positives"]), false_negatives=torch.as_tensor(case["false_negatives"]),
        num_samples=case["num_samples"], accuracy=torch.zeros(j), accuracy_at_zero=torch.zeros(j),
    )  # fmt: skip
    with mock.patch.object(train, "validate", return_value=result), mock.patch.object(trainer, "save_history"):
        train._Trainer.update(trainer)
    return trainer.thresholds.tau.clone(), trainer.weighting.weights.clone()


def algorithm1_cases(seed: int = 0, cases: int = 3) -> list[dict[str, Any]]:
    """States of one update of Algorithm 1: the fixed example of notebook 04, then ``cases`` random ones.

    Keys: ``iteration`` (the loop counter at the update), ``iterations_per_epoch``, ``epoch_from`` (the number of
    the first epoch), ``tau`` and ``lambda`` (J,) before the update, ``previous_losses`` (J,) of the last
    validation pass or None when this is the first, ``losses`` (J,) of this pass, ``false_positives`` and
    ``false_negatives`` (J,) counted at the current tau, ``num_samples`` (V) and ``gamma``.
    """
    examples: list[dict[str, Any]] = [{
        "iteration": 2100, "iterations_per_epoch": 2544, "epoch_from": 1,
        "tau": torch.tensor([0.0, 0.1, -0.2]), "lambda": torch.tensor([1.0, 1.0, 1.0]),
        "previous_losses": torch.tensor([0.5, 0.4, 0.2]), "losses": torch.tensor([0.4, 0.5, 0.2]),
        "false_positives": torch.tensor([30, 5, 10]), "false_negatives": torch.tensor([10, 25, 10]),
        "num_samples": 1000, "gamma": 0.01,
    }]  # fmt: skip
    rng = _rng(seed)
    for number in range(cases):
        j, per_epoch, interval = int(rng.integers(1, 41)), int(rng.integers(20, 3000)), int(rng.integers(10, 2200))
        num_samples = int(rng.integers(50, 20_000))
        first = number == 0 or rng.random() < 0.2  # the run's first update, at iteration 0: no previous pass yet
        previous = None if first else _positive(rng, j)
        examples.append({
            "iteration": 0 if first else interval * int(rng.integers(1, 40)),
            "iterations_per_epoch": per_epoch, "epoch_from": int(rng.choice([1, 1, 1, 0, 2])),
            "tau": torch.as_tensor(rng.uniform(-0.3, 0.3, j), dtype=torch.float32),
            "lambda": torch.ones(j) if first else _positive(rng, j, 0.0, 1.0),
            "previous_losses": previous,
            "losses": _positive(rng, j) if previous is None else previous * _positive(rng, j, 0.5, 1.5),
            "false_positives": torch.as_tensor(rng.integers(0, num_samples // 3, j)),
            "false_negatives": torch.as_tensor(rng.integers(0, num_samples // 3, j)),
            "num_samples": num_samples, "gamma": float(rng.choice([0.01, 0.01, 0.05])),
        })  # fmt: skip
    return examples


def _copy_case(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in case.items()}


@_written_by_hand("dmmlib.train:_Trainer.update", "dmmlib.lab.checks:_trainer_update",
                  "dmmlib.thresholds:AdaptiveThresholds.update", "dmmlib.weighting:dynamic_weights",
                  "dmmlib.weighting:DynamicWeighting.update")
def check_algorithm1_update(update: Callable[[dict[str, Any]], tuple[Any, Any]], *, seed: int = 0,
                            cases: int = 3, by_hand: bool = True) -> bool:  # fmt: skip
    """``update(state) -> (new_tau, new_lambda)``: one update of Algorithm 1 (Eq. 6, then Eq. 4), checked against
    the trainer's own update on the same state (see :func:`algorithm1_cases` for the keys of ``state``)."""
    name = "Algorithm 1 update"
    hint_tau = ("Eq. 6 with l the CURRENT epoch: l = iteration // iterations_per_epoch + epoch_from (the trainer's "
                "epoch_number); tau_new = tau + gamma * l * (FP - FN) / V")  # fmt: skip
    hint_lambda = ("Eq. 4 from the two validation passes: lambda = |L(t) - L(t-1)| / L(t-1); at the first update "
                   "(previous_losses is None) there is nothing to compare, so lambda keeps its value")  # fmt: skip
    examples = algorithm1_cases(seed, cases)
    for number, case in enumerate(examples, start=1):
        expected_tau, expected_lambda = _trainer_update(_copy_case(case))
        got = _call(name, update, _copy_case(case))
        if not isinstance(got, tuple) or len(got) != 2:
            raise ExerciseFailed(f"{name}: return a pair (new_tau, new_lambda), got {type(got).__name__}")
        where = f"case {number} (iteration {case['iteration']}, {case['iterations_per_epoch']} per epoch, " \
                f"epoch_from {case['epoch_from']}{', first update' if case['previous_losses'] is None else ''})"
        _compare(name, f"tau, {where}", got[0], expected_tau, hint_tau)
        _compare(name, f"lambda, {where}", got[1], expected_lambda, hint_lambda)
    return _passed(name, len(examples), "the trainer's own update")


def collapse_history(rng: np.random.Generator, threshold: float, kind: str) -> tuple[list[dict[str, Any]], Any, list[str]]:
    """A training history like the trainer's (one dict per update) with a known answer.

    ``kind``: "collapse" (the mean lambda stays below ``threshold`` from some update on, after dips that recover),
    "last" (it falls below only at the last update), "never" (it ends above; dips may come before). Returns the
    history, the iteration where the collapse starts (None for "never") and the attributes below the threshold
    there.
    """
    from dmmlib.attributes import ATTRIBUTES

    j = len(ATTRIBUTES)
    n = int(rng.integers(6, 26))
    interval, per_epoch = int(rng.choice([50, 100, 300, 2100])), int(rng.integers(100, 3000))
    start = {"collapse": int(rng.integers(4, n - 1)), "last": n - 1, "never": n}[kind]
    dips = [k for k in range(2, start - 1) if rng.random() < 0.3]  # each followed by an update above
    if kind == "collapse" and not dips:
        dips = [int(rng.integers(2, start - 1))]  # a collapse always comes after a dip that recovered

    def above() -> np.ndarray:
        weights = threshold * np.exp(rng.normal(1.0, 1.0, j))
        return weights * max(1.0, 1.3 * threshold / weights.mean())

    def below() -> np.ndarray:
        while True:
            weights = rng.uniform(0.0, 0.6 * threshold, j)
            high = rng.random(j) < rng.uniform(0.0, 0.15)  # a few attributes still above
            weights[high] = rng.uniform(1.1 * threshold, 3.0 * threshold, int(high.sum()))
            if weights.mean() < 0.95 * threshold:
                return weights

    history = []
    for k in range(n):
        weights = np.ones(j) if k == 0 else below() if (k >= start or k in dips) else above()
        history.append({
            "t": k + 1, "iteration": k * interval, "epoch": k * interval // per_epoch + 1,
            "val_attr_losses": rng.uniform(0.1, 1.0, j).tolist(), "val_mean_loss": float(rng.uniform(0.1, 1.0)),
            "lambda": weights.tolist(), "tau": rng.uniform(-0.2, 0.2, j).tolist(),
        })  # fmt: skip
    if start >= n:
        return history, None, []
    at = history[start]
    return history, at["iteration"], [name for name, w in zip(ATTRIBUTES, at["lambda"]) if w < threshold]


@_written_by_hand()  # the library has no function that finds a collapse
def check_collapse(collapse: Callable[[list[dict[str, Any]], float], tuple[Any, Any]], *, seed: int = 0,
                   cases: int = 3, by_hand: bool = True) -> bool:  # fmt: skip
    """``collapse(history, threshold) -> (iteration, attributes)``: where Eq. 4 collapses in a training history.

    The collapse starts at the first update from which the mean lambda stays below ``threshold`` to the end of
    the history; ``attributes`` are the names whose lambda is below ``threshold`` at that update. ``(None, [])``
    when the history does not end collapsed. Histories are random, with known answers (:func:`collapse_history`).
    """
    import copy

    name = "collapse of Eq. 4"
    hint = ("the collapse starts at the first update from which the MEAN lambda over the 40 attributes stays below "
            "the threshold until the end: a dip that recovers is no collapse; return that update's 'iteration' "
            "(not its index or t) and the names whose lambda is below the threshold AT that update; "
            "(None, []) when the history does not end collapsed")  # fmt: skip
    rng = _rng(seed)
    kinds = ["collapse", "never", "last"] + [str(rng.choice(["collapse", "collapse", "never", "last"]))
                                             for _ in range(max(cases - 3, 0))]  # fmt: skip
    for number, kind in enumerate(kinds[: max(cases, 1)], start=1):
        threshold = 0.05 if seed == 0 else float(rng.choice([0.02, 0.05, 0.1]))
        history, iteration, attributes = collapse_history(rng, threshold, kind)
        got = _call(name, collapse, copy.deepcopy(history), threshold)
        if not isinstance(got, tuple) or len(got) != 2:
            raise ExerciseFailed(f"{name}: return a pair (iteration, attribute names), got {got!r}. Hint: {hint}")
        got_iteration, got_attributes = got
        where = f"case {number} ({len(history)} updates, threshold {threshold})"
        if got_iteration != iteration:
            raise ExerciseFailed(f"{name}, {where}: iteration {got_iteration!r}, expected {iteration!r}. Hint: {hint}")
        if not isinstance(got_attributes, (list, tuple)) or sorted(map(str, got_attributes)) != sorted(attributes):
            raise ExerciseFailed(
                f"{name}, {where}: attributes {got_attributes!r}, expected the {len(attributes)} names "
                f"{attributes!r}. Hint: {hint}"
            )
    return _passed(name, max(cases, 1), "the known answers")


@_written_by_hand("dmmlib.losses:landmark_loss")
def check_masked_landmark_loss(masked_loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], *,
                               seed: int = 0, cases: int = 3, by_hand: bool = True) -> bool:  # fmt: skip
    """``masked_loss(pred (B, 2T), target (B, 2T), placeholder (B,) bool) -> scalar``: Eq. 1 over the images whose
    landmarks are measurements, checked against :func:`dmmlib.losses.landmark_loss` with its mask."""
    name = "Eq. 1 with placeholders masked"
    pred = torch.tensor([[0.1, 0.2, -0.1, 0.0], [0.0, 0.0, 0.3, -0.2], [0.5, 0.5, 0.5, 0.5]])
    target = torch.tensor([[0.0, 0.2, 0.0, 0.1], [0.1, 0.0, 0.2, -0.2], [0.0, 0.0, 0.0, 0.0]])
    examples = [
        (pred, target, torch.tensor([False, False, True])),
        (pred, target, torch.tensor([False, False, False])),
        (pred, target, torch.tensor([True, True, True])),
    ]
    rng = _rng(seed)
    for _ in range(cases):
        b, t = int(rng.integers(1, 17)), int(rng.choice([2, 5, 68]))
        placeholder = torch.as_tensor(rng.random(b) < rng.uniform(0.0, 0.7))
        examples.append((torch.as_tensor(rng.normal(0, 0.3, (b, 2 * t)), dtype=torch.float32),
                         torch.as_tensor(rng.normal(0, 0.3, (b, 2 * t)), dtype=torch.float32), placeholder))  # fmt: skip
    hint = ("leave the placeholder images out: sum the squared differences over the 2T coordinates of each image, "
            "add them up over the images whose landmarks are NOT placeholders and divide by the number of those "
            "images (not by the batch size); a batch of placeholders only gives 0, not NaN")  # fmt: skip
    for number, (p, y, placeholder) in enumerate(examples, start=1):
        expected = losses.landmark_loss(p, y, mask=~placeholder)
        got = _call(name, masked_loss, p.clone(), y.clone(), placeholder.clone())
        where = f"case {number} ({int(placeholder.sum())} of {len(placeholder)} images are placeholders)"
        _compare(name, where, got, expected, hint, atol=1e-6)
    return _passed(name, len(examples))


# --- exercises about the method: which tau, smoothing Eq. 4, the landmark term at the trunk, Holm's verdicts

#: the hand example of notebook 04's threshold exercise: two positives among ten images
THRESHOLD_EXAMPLE = (np.array([-0.65, -0.45, -0.35, -0.25, -0.05, 0.05, 0.15, 0.25, 0.35, 0.55]),
                     np.array([-1, -1, -1, -1, -1, -1, 1, -1, -1, 1]))  # fmt: skip


def _threshold_table(scores: np.ndarray, labels: np.ndarray,
                     taus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Balanced accuracy of Eq. 5's predictions and FP - FN at each tau of ``taus``, by dmmlib's metrics."""
    column, target = scores[:, None], labels[:, None]
    balanced = np.array([metrics.balanced_accuracy(column, target, tau)[0] for tau in taus])
    gap = []
    for tau in taus:
        fp, fn = metrics.false_positive_negative_counts(torch.as_tensor(column), torch.as_tensor(target), tau)
        gap.append(int(fp[0]) - int(fn[0]))
    return balanced, np.array(gap)


def _grid_index(name: str, where: str, what: str, value: Any, taus: np.ndarray, hint: str) -> int:
    matches = np.flatnonzero(np.isclose(taus, float(value), rtol=0.0, atol=1e-9))
    if len(matches) == 0:
        raise ExerciseFailed(f"{name}, {where}: {what} {value!r} is not one of the candidate thresholds. "
                             f"Hint: {hint}")  # fmt: skip
    return int(matches[0])


@_written_by_hand("sklearn.metrics:balanced_accuracy_score", "dmmlib.metrics:balanced_accuracy",
                  "dmmlib.metrics:false_positive_negative_counts", "dmmlib.lab.widgets:threshold_sweep",
                  "dmmlib.lab.checks:_threshold_table")  # fmt: skip
def check_threshold_choice(threshold_choice: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[Any, ...]],
                           *, seed: int = 0, cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``threshold_choice(scores (N,), labels (N,) in +1/-1, taus (K,)) -> (best_tau,
    best_balanced_accuracy, rest_tau, rest_balanced_accuracy)``: among the candidate thresholds, one with the
    highest balanced accuracy of Eq. 5's predictions, and one where Eq. 6 comes to rest (|FP - FN| smallest),
    each with its balanced accuracy. Where several candidates tie, any of them is right."""
    name = "threshold choice (Eqs. 5-6)"
    hint = ("at each candidate tau predict +1 where score > tau (Eq. 5); balanced accuracy is the mean of "
            "the true-positive rate (among the +1 labels) and the true-negative rate (among the -1 labels); "
            "Eq. 6 stops moving tau where FP = FN, so its resting point among the candidates is where "
            "|FP - FN| is smallest")  # fmt: skip
    examples = [(*THRESHOLD_EXAMPLE, np.round(np.linspace(-1.0, 1.0, 21), 2))]
    rng = _rng(seed)
    for _ in range(cases):
        n = int(rng.integers(20, 401))
        labels = np.where(rng.random(n) < rng.uniform(0.03, 0.5), 1, -1)
        labels[0], labels[1] = 1, -1  # both classes
        noise = rng.normal(rng.uniform(-0.3, 0.1), rng.uniform(0.2, 0.6), n)
        taus = np.round(np.linspace(-1.0, 1.0, int(rng.choice([21, 41, 81]))), 3)
        examples.append((labels * rng.uniform(0.2, 0.8) + noise, labels, taus))
    for number, (scores, labels, taus) in enumerate(examples, start=1):
        balanced, gap = _threshold_table(scores, labels, taus)
        got = _call(name, threshold_choice, scores.copy(), labels.copy(), taus.copy())
        if not isinstance(got, tuple) or len(got) != 4:
            raise ExerciseFailed(f"{name}: return a tuple (best_tau, best_balanced_accuracy, rest_tau, "
                                 f"rest_balanced_accuracy), got {got!r}. Hint: {hint}")  # fmt: skip
        where = f"case {number} ({int((labels > 0).sum())} positives of {len(labels)})"
        best = _grid_index(name, where, "best_tau", got[0], taus, hint)
        if balanced[best] < balanced.max() - 1e-9:
            raise ExerciseFailed(f"{name}, {where}: balanced accuracy at tau = {taus[best]:g} is "
                                 f"{balanced[best]:.4f}, not the highest ({balanced.max():.4f} at tau = "
                                 f"{taus[np.argmax(balanced)]:g}). Hint: {hint}")  # fmt: skip
        _compare(name, f"{where}, best_balanced_accuracy", got[1], balanced[best], hint)
        rest = _grid_index(name, where, "rest_tau", got[2], taus, hint)
        if abs(gap[rest]) > np.abs(gap).min():
            raise ExerciseFailed(f"{name}, {where}: at tau = {taus[rest]:g} FP - FN = {gap[rest]}, but Eq. 6 "
                                 f"rests where |FP - FN| is smallest ({np.abs(gap).min()}, at tau = "
                                 f"{taus[np.argmin(np.abs(gap))]:g}). Hint: {hint}")  # fmt: skip
        _compare(name, f"{where}, rest_balanced_accuracy", got[3], balanced[rest], hint)
    return _passed(name, len(examples))


#: the hand example of notebook 04's smoothing exercise: one attribute's loss falls by a fifth at each update,
#: the other's does not fall at all and only jitters
SMOOTHING_EXAMPLE = np.array([[1.0, 0.5], [0.8, 0.55], [0.64, 0.5], [0.512, 0.55]])


def _smoothed_reference(losses: torch.Tensor, alpha: float) -> torch.Tensor:
    smoothed = [losses[0]]
    for row in losses[1:]:
        smoothed.append(alpha * row + (1.0 - alpha) * smoothed[-1])
    pairs = zip(smoothed, smoothed[1:])
    return torch.stack([weighting.dynamic_weights(now, before) for before, now in pairs])


@_written_by_hand("dmmlib.weighting:dynamic_weights", "dmmlib.weighting:DynamicWeighting.update",
                  "pandas:Series.ewm", "pandas:DataFrame.ewm", "dmmlib.lab.checks:_smoothed_reference")
def check_smoothed_weights(smoothed_weights: Callable[[torch.Tensor, float], Any], *, seed: int = 0,
                           cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``smoothed_weights(losses (U, J), alpha) -> (U - 1, J)``: Eq. 4 on exponentially smoothed validation
    losses, ``s_1 = L_1``, ``s_u = alpha L_u + (1 - alpha) s_(u-1)``, ``lambda_u = |s_u - s_(u-1)| / s_(u-1)``
    for the updates u = 2..U (``alpha = 1`` is Eq. 4 itself)."""
    name = "Eq. 4 on smoothed losses"
    hint = ("smooth first, then apply Eq. 4 to the smoothed values: s_1 = L_1, s_u = alpha * L_u + "
            "(1 - alpha) * s_(u-1); lambda_u = |s_u - s_(u-1)| / s_(u-1) for u = 2..U, one row per update "
            "from the second on")  # fmt: skip
    example = torch.as_tensor(SMOOTHING_EXAMPLE, dtype=torch.float64)
    examples = [(example, 0.5), (example, 1.0)]
    rng = _rng(seed)
    for _ in range(cases):
        updates, j = int(rng.integers(2, 31)), int(rng.integers(1, 41))
        trend = np.exp(-np.outer(np.arange(updates), rng.uniform(0.0, 0.3, j)))
        noise = np.clip(1.0 + rng.normal(0.0, rng.uniform(0.0, 0.1), (updates, j)), 0.5, None)
        values = torch.as_tensor(rng.uniform(0.1, 1.0, j) * trend * noise, dtype=torch.float64)
        examples.append((values, float(rng.choice([rng.uniform(0.05, 1.0), 0.3]))))
    for number, (values, alpha) in enumerate(examples, start=1):
        expected = _smoothed_reference(values, alpha)
        got = _call(name, smoothed_weights, values.clone(), alpha)
        where = f"case {number} ({len(values)} updates, {values.shape[1]} attributes, alpha = {alpha:.3g})"
        _compare(name, where, got, expected, hint)
    return _passed(name, len(examples))


def _trainer_gradient_norms(features: torch.Tensor, attr: torch.Tensor, fld: torch.Tensor, lam: torch.Tensor,
                            beta: float) -> tuple[float, float]:  # fmt: skip
    """``(|g_attributes|, |g_landmarks|)``: the trainer's own measurement
    (:meth:`dmmlib.train._Trainer.record_gradient_norms`) of what ``sum_j lambda_j L_j`` and ``beta L_FLD``
    send to ``features``, run on a stand-in trainer that holds only the weights, beta and a history."""
    from dmmlib import train
    from dmmlib.config import TrainConfig

    trainer = train._Trainer.__new__(train._Trainer)
    trainer.cfg, trainer.weights = TrainConfig(beta=beta), lam
    trainer.state = train._State()
    trainer.state.history.append({})
    train._Trainer.record_gradient_norms(trainer, features, attr, fld)
    entry = trainer.state.history[-1]
    return entry["grad_norm_attributes"], entry["grad_norm_landmarks"]


def _linear(weight: Any) -> torch.nn.Linear:
    weight = torch.as_tensor(weight, dtype=torch.float32)
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    with torch.no_grad():
        layer.weight.copy_(weight)
    return layer


def _head(generator: torch.Generator, inputs: int, hidden: int, outputs: int) -> torch.nn.Module:
    """A two-layer head with random weights (scaled so that its outputs stay of order 1)."""
    first = torch.randn(hidden, inputs, generator=generator) / inputs**0.5
    second = torch.randn(outputs, hidden, generator=generator) / hidden**0.5
    return torch.nn.Sequential(_linear(first), torch.nn.ReLU(), _linear(second))


def landmark_share_cases(seed: int = 0, cases: int = 3) -> list[dict[str, Any]]:
    """States of a training step for :func:`check_landmark_share`: the hand example of notebook 05 with
    lambda = 1 and with lambda = 0.01 (Eq. 4 as printed, late in training), then ``cases`` random ones."""
    hand = {"features": torch.tensor([[0.5, 0.2]]), "attribute_head": _linear([[1.0, 0.0]]),
            "landmark_head": _linear([[0.0, 0.0], [0.0, 1.0]]), "labels": torch.tensor([[1.0]]),
            "landmarks": torch.tensor([[0.0, 0.6]]), "lam": torch.tensor([1.0]), "beta": 0.5}  # fmt: skip
    examples = [hand, {**hand, "lam": torch.tensor([0.01])}]
    rng = _rng(seed)
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    for _ in range(cases):
        b, d, hidden = int(rng.integers(1, 13)), int(rng.integers(2, 25)), int(rng.integers(2, 17))
        j, t = int(rng.integers(1, 41)), int(rng.choice([2, 5, 68]))
        labels = torch.as_tensor(rng.choice([-1.0, 1.0], (b, j)), dtype=torch.float32)
        examples.append({
            "features": torch.randn(b, d, generator=generator),
            "attribute_head": _head(generator, d, hidden, j),
            "landmark_head": _head(generator, d, hidden, 2 * t),
            "labels": labels, "landmarks": torch.randn(b, 2 * t, generator=generator) * 0.3,
            "lam": _positive(rng, j, 0.001, 2.0) * float(rng.choice([1.0, 1.0, 0.01])),
            "beta": float(rng.choice([0.5, 0.5, 0.1, 1.0])),
        })  # fmt: skip
    return examples


@_written_by_hand("dmmlib.train:_Trainer.record_gradient_norms", "dmmlib.lab.checks:_trainer_gradient_norms")
def check_landmark_share(landmark_share: Callable[..., Any], *, seed: int = 0, cases: int = 3,
                         by_hand: bool = True) -> bool:  # fmt: skip
    """``landmark_share(features, attribute_head, landmark_head, labels, landmarks, lam, beta) -> float``: the
    share ``|g_FLD| / (|g_FLD| + |g_attr|)`` of the landmark term in what Eq. 3 sends to the trunk's output
    ``features`` (B, D), with ``g_attr`` the gradient of ``sum_j lambda_j L_j`` (Eq. 2 on
    ``attribute_head(features)``) and ``g_FLD`` that of ``beta L_FLD`` (Eq. 1 on ``landmark_head(features)``)
    with respect to ``features``, ``|.|`` the L2 norm over the whole batch: the trainer's own measurement
    (``record_gradient_norms``)."""
    name = "landmark share of the trunk's gradient"
    hint = ("compute Eq. 2 (mean over the batch of the squared errors, one loss per attribute) and Eq. 1 "
            "(squared distance summed over the 2T coordinates, mean over the batch) from the heads' outputs; "
            "take the gradient of sum_j lambda_j L_j and, separately, of beta * L_FLD with respect to the "
            "features (torch.autograd.grad, retain_graph=True, or by hand), the L2 norm of each over the "
            "whole batch, and return norm_FLD / (norm_FLD + norm_attr)")  # fmt: skip
    for number, case in enumerate(landmark_share_cases(seed, cases), start=1):
        features = case["features"].clone().requires_grad_(True)
        attr = losses.attribute_losses(case["attribute_head"](features), case["labels"])
        fld = losses.landmark_loss(case["landmark_head"](features), case["landmarks"])
        norm_attr, norm_fld = _trainer_gradient_norms(features, attr, fld, case["lam"], case["beta"])
        expected = norm_fld / (norm_fld + norm_attr)
        got = _call(name, landmark_share, case["features"].clone().requires_grad_(True),
                    case["attribute_head"], case["landmark_head"], case["labels"].clone(),
                    case["landmarks"].clone(), case["lam"].clone(), case["beta"])  # fmt: skip
        if isinstance(got, torch.Tensor):
            got = got.detach()
        where = (f"case {number} (batch {len(case['features'])}, {len(case['lam'])} attributes, mean lambda "
                 f"{float(case['lam'].mean()):.3g}, beta {case['beta']})")  # fmt: skip
        _compare(name, where, got, expected, hint)
    return _passed(name, 2 + cases, "the trainer's own measurement")


#: the hand example of notebook 11's exercise: per-seed mean accuracies of two runs, five comparisons, 5 seeds
HOLM_EXAMPLE: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "A": (np.array([0.861, 0.871, 0.854, 0.865, 0.880]), np.array([0.850, 0.862, 0.841, 0.855, 0.868])),
    "B": (np.array([0.844, 0.858, 0.834, 0.850, 0.862]), np.array([0.850, 0.862, 0.841, 0.855, 0.868])),
    "C": (np.array([0.853, 0.867, 0.841, 0.859, 0.870]), np.array([0.850, 0.862, 0.841, 0.855, 0.868])),
    "D": (np.array([0.854, 0.860, 0.844, 0.860, 0.867]), np.array([0.850, 0.862, 0.841, 0.855, 0.868])),
    "E": (np.array([0.850, 0.862, 0.841, 0.855, 0.868]), np.array([0.850, 0.862, 0.841, 0.855, 0.868])),
}


def _holm_reference(results: dict[str, tuple[np.ndarray, np.ndarray]],
                    alpha: float) -> dict[str, tuple[float, str]]:  # fmt: skip
    """``{comparison: (p_holm, verdict)}`` as notebook 11 decides (tests/test_exercises.py checks it against
    :mod:`dmmlib.suite.stats`' rules): the paired t-test, Holm over the comparisons with a p value, and a
    verdict by the sign of the mean difference where the adjusted p is below ``alpha``."""
    from scipy import stats as st

    p_values = {}
    for comparison, (a, b) in results.items():
        d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
        p_values[comparison] = math.nan if len(d) < 2 or d.std() == 0 else float(st.ttest_rel(a, b).pvalue)
    known = sorted((p, k) for k, p in enumerate(p_values.values()) if not math.isnan(p))
    names = list(results)
    adjusted: dict[str, float] = {c: math.nan for c in results}
    running = 0.0
    for rank, (p, k) in enumerate(known):
        running = max(running, min(1.0, (len(known) - rank) * p))
        adjusted[names[k]] = running
    out = {}
    for comparison, (a, b) in results.items():
        p_holm = adjusted[comparison]
        mean = float(np.mean(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))
        out[comparison] = (p_holm, "cannot decide" if not p_holm < alpha else "supports" if mean > 0 else
                           "contradicts")  # fmt: skip
    return out


def holm_cases(seed: int = 0, cases: int = 2) -> list[tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]]:
    """Families of comparisons for :func:`check_holm_verdicts`: notebook 11's hand example, then ``cases``
    random families (3 to 10 seeds shared by every comparison, a per-seed luck both runs share, effects of
    either sign or none, now and then two identical runs)."""
    examples = [(HOLM_EXAMPLE, 0.05)]
    rng = _rng(seed)
    for _ in range(cases):
        seeds, size = int(rng.integers(3, 11)), int(rng.integers(2, 9))
        family = {}
        for k in range(size):
            luck = rng.normal(0.85, 0.01, seeds)
            b = luck + rng.normal(0.0, 0.002, seeds)
            if rng.random() < 0.1:
                family[f"comparison {k + 1}"] = (b.copy(), b)
                continue
            effect = float(rng.choice([0.0, 1.0, -1.0])) * rng.uniform(0.0, 0.01)
            a = luck + effect + rng.normal(0.0, rng.uniform(0.001, 0.006), seeds)
            family[f"comparison {k + 1}"] = (a, b)
        examples.append((family, float(rng.choice([0.05, 0.05, 0.1]))))
    return examples


@_written_by_hand("dmmlib.suite.stats:holm", "dmmlib.suite.stats:verdict",
                  "dmmlib.suite.stats:with_verdicts", "dmmlib.suite.stats:claims",
                  "dmmlib.suite.stats:paired_interval", "statsmodels.stats.multitest:multipletests",
                  "dmmlib.lab.checks:_holm_reference")  # fmt: skip
def check_holm_verdicts(holm_verdicts: Callable[[dict[str, tuple[np.ndarray, np.ndarray]], float], Any], *,
                        seed: int = 0, cases: int = 2, by_hand: bool = True) -> bool:  # fmt: skip
    """``holm_verdicts(results, alpha) -> {comparison: (p_holm, verdict)}``: ``results`` maps each comparison
    to the per-seed values ``(a, b)`` of its two runs (same seeds, same order). p is the two-sided paired
    t-test's p value of ``a - b`` (none, NaN, when the differences do not vary); ``p_holm`` is Holm's
    adjustment over the comparisons that have a p value; the verdict is "supports" (mean of ``a - b`` above 0)
    or "contradicts" (below 0) when ``p_holm < alpha``, else "cannot decide"."""
    import copy

    name = "Holm's verdicts"
    hint = ("pair by seed: d = a - b, its two-sided paired t-test p value "
            "(scipy.stats.ttest_rel(a, b).pvalue; none when d does not vary); Holm: sort the m p values that "
            "exist, the i-th smallest (i = 1..m) becomes max over j <= i of (m - j + 1) * p_(j), capped at "
            "1; a verdict needs p_holm < alpha, and then its direction is the sign of mean(d)")  # fmt: skip
    for number, (family, alpha) in enumerate(holm_cases(seed, cases), start=1):
        expected = _holm_reference(family, alpha)
        got = _call(name, holm_verdicts, copy.deepcopy(family), alpha)
        if not isinstance(got, dict) or set(got) != set(family):
            raise ExerciseFailed(f"{name}, case {number}: return a dict with one entry per comparison "
                                 f"({sorted(family)}), got {got!r}. Hint: {hint}")  # fmt: skip
        for comparison, (p_holm, word) in expected.items():
            entry = got[comparison]
            where = f"case {number} ({len(family)} comparisons, alpha = {alpha}), {comparison}"
            if not isinstance(entry, tuple) or len(entry) != 2:
                raise ExerciseFailed(f"{name}, {where}: give a pair (p_holm, verdict), got {entry!r}. "
                                     f"Hint: {hint}")  # fmt: skip
            got_p = float(entry[0])
            same = (math.isnan(got_p) and math.isnan(p_holm)) or math.isclose(got_p, p_holm, rel_tol=1e-6,
                                                                               abs_tol=1e-9)  # fmt: skip
            if not same:
                raise ExerciseFailed(f"{name}, {where}: p_holm {got_p:.6g}, expected {p_holm:.6g}. "
                                     f"Hint: {hint}")  # fmt: skip
            if entry[1] != word:
                raise ExerciseFailed(f"{name}, {where}: verdict {entry[1]!r}, expected {word!r} (p_holm "
                                     f"{p_holm:.4g}). Hint: {hint}")  # fmt: skip
    return _passed(name, 1 + cases, "notebook 11's rules")
