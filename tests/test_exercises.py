"""Lab exercises: every checker passes on the notebook's solution and fails on the student stub."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dmmlib.lab import checks
from dmmlib.suite import exercises, manifest

ALL_EXERCISES = [ex for entry in manifest.load() for ex in exercises.exercises(entry.path)]


def run_cell(source: str) -> None:
    exec(compile(source, "<exercise cell>", "exec"), {"__name__": "__exercise__"})


def test_stub_replaces_the_solution_block_keeping_indentation():
    source = "def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n\nchecks.check(f)\n"
    assert exercises.stub_source(source) == (
        'def f(x):\n    raise NotImplementedError("exercise: write this part")\n\nchecks.check(f)\n'
    )


def test_unbalanced_markers_are_refused():
    with pytest.raises(ValueError, match="unbalanced"):
        exercises.stub_source("# BEGIN SOLUTION\nx = 1\n")


def test_notebooks_02_to_07_each_have_an_exercise():
    with_exercises = {ex.notebook[:2] for ex in ALL_EXERCISES}
    present = {entry.file[:2] for entry in manifest.load()}
    expected = {f"{n:02d}" for n in range(2, 8)} & present
    assert expected <= with_exercises, f"notebooks without exercises: {sorted(expected - with_exercises)}"


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda ex: f"{ex.notebook}-cell{ex.cell_index}")
def test_checker_passes_on_the_solution(exercise):
    run_cell(exercise.solution)


@pytest.mark.parametrize("exercise", ALL_EXERCISES, ids=lambda ex: f"{ex.notebook}-cell{ex.cell_index}")
def test_checker_fails_on_the_stub(exercise):
    with pytest.raises(checks.ExerciseFailed, match="not done yet"):
        run_cell(exercise.stub)


def test_student_copies_have_no_solutions(tmp_path):
    counts = exercises.write_student_copies(tmp_path)
    assert sum(counts.values()) == len(ALL_EXERCISES)
    for name in counts:
        text = (tmp_path / name).read_text()
        assert exercises.BEGIN not in text and exercises.END not in text


# A subtly wrong answer must fail too, with a hint, not only the stub.
def test_flip_check_rejects_a_mirror_without_point_swap():
    with pytest.raises(checks.ExerciseFailed, match="Hint"):
        checks.check_flip_landmarks(lambda p, w: np.stack([w - 1 - p[:, 0], p[:, 1]], axis=1))


def test_spp_check_rejects_average_pooling():
    def average_spp(x, levels):
        return torch.cat([torch.nn.functional.adaptive_avg_pool2d(x, k).flatten(1) for k in range(1, levels + 1)], 1)

    with pytest.raises(checks.ExerciseFailed, match="spp"):
        checks.check_spp(average_spp)


def test_eq4_check_rejects_division_by_the_current_loss():
    with pytest.raises(checks.ExerciseFailed, match="Eq. 4"):
        checks.check_dynamic_weights(lambda prev, cur: (cur - prev).abs() / cur)


def test_eq6_check_rejects_a_missing_epoch_factor():
    with pytest.raises(checks.ExerciseFailed, match="Eq. 6"):
        checks.check_threshold_update(lambda tau, fp, fn, v, epoch, gamma: tau + gamma * (fp - fn) / v)


def test_fp_fn_check_rejects_greater_or_equal():
    def counts(outputs, targets, tau):
        predicted = outputs >= tau
        return (predicted & (targets < 0)).sum(0), (~predicted & (targets > 0)).sum(0)

    with pytest.raises(checks.ExerciseFailed, match="EQUAL"):
        checks.check_fp_fn_counts(counts)


def test_balanced_accuracy_check_rejects_plain_accuracy():
    with pytest.raises(checks.ExerciseFailed, match="balanced"):
        checks.check_balanced_accuracy(lambda p, y: (p == y).mean(axis=0))


def test_dwa_check_rejects_weights_without_the_k_factor():
    with pytest.raises(checks.ExerciseFailed, match="DWA"):
        checks.check_dwa_weights(lambda older, last, t: torch.softmax(last / older / t, 0))


def test_checkers_pass_on_the_library_itself_when_it_is_within_reach():
    from dmmlib import metrics, spp
    from dmmlib.landmarks import schema as landmark_schema

    assert checks.check_flip_landmarks(landmark_schema.flip_pixels, by_hand=False)
    assert checks.check_spp(lambda x, levels: spp.SpatialPyramidPooling(levels)(x), by_hand=False)
    assert checks.check_fp_fn_counts(metrics.false_positive_negative_counts, by_hand=False)
    assert checks.check_algorithm1_update(checks._trainer_update, by_hand=False)


def test_group_means_check_rejects_a_mean_of_group_means():
    def mean_of_means(table):
        gain = 100 * (table["accuracy"] - table["majority_accuracy"])
        groups = gain.groupby(table["group"]).mean()
        return {"all": groups.mean(), "objective": groups["objective"], "subjective": groups["subjective"]}

    with pytest.raises(checks.ExerciseFailed, match="group means, all"):
        checks.check_group_means(mean_of_means)


def test_group_means_check_rejects_raw_accuracy():
    def raw(table):
        groups = table.groupby("group")["accuracy"].mean()
        return {"all": table["accuracy"].mean(), "objective": groups["objective"], "subjective": groups["subjective"]}

    with pytest.raises(checks.ExerciseFailed, match="group means"):
        checks.check_group_means(raw)


def test_paired_interval_check_rejects_the_normal_quantile():
    from scipy import stats

    def normal_interval(a, b, confidence):
        d = a - b
        half = stats.norm.ppf((1 + confidence) / 2) * d.std(ddof=1) / np.sqrt(len(d))
        return float(d.mean()), float(d.mean() - half), float(d.mean() + half)

    with pytest.raises(checks.ExerciseFailed, match="Student"):
        checks.check_paired_interval(normal_interval)


# --- written by hand: an answer that calls the library's own function fails; the library works again after
def _delegating_answers():
    """checker -> an answer that hands the exercise to the library (or scikit-learn, pandas) in a call."""
    import pandas as pd
    from sklearn.metrics import balanced_accuracy_score

    from dmmlib import losses, metrics, spp, thresholds, weighting
    from dmmlib.lab import widgets
    from dmmlib.landmarks import schema as landmark_schema
    from dmmlib.suite import stats

    def dynamic(previous, current):
        scheme = weighting.DynamicWeighting(len(previous))
        scheme.update(previous)
        return scheme.update(current)

    def eq6(tau, fp, fn, v, epoch, gamma):
        scheme = thresholds.AdaptiveThresholds(len(tau), gamma=gamma)
        scheme.tau = tau.clone()
        return scheme.update(fp, fn, v, epoch)

    def dwa(older, last, temperature):
        scheme = weighting.DWAWeighting(len(older), temperature=temperature)
        scheme.update(older)
        return scheme.update(last)

    def group_means(table):
        means = metrics.mean_table(table)
        gain = 100 * (means["accuracy"] - means["majority_accuracy"])
        return {group: float(gain[group]) for group in ("all", "objective", "subjective")}

    def paired(a, b, confidence):
        found = stats.paired_interval(a, b, confidence)
        return found["mean"], found["ci_low"], found["ci_high"]

    def choice(scores, labels, taus):
        sweep = widgets.threshold_sweep(scores, labels, taus)
        best = sweep["balanced accuracy"].idxmax()
        rest = (sweep["FP"] - sweep["FN"]).abs().idxmin()
        return (sweep["tau"][best], sweep["balanced accuracy"][best], sweep["tau"][rest],
                sweep["balanced accuracy"][rest])  # fmt: skip

    def choice_sklearn(scores, labels, taus):
        balanced = [balanced_accuracy_score(labels, np.where(scores > tau, 1, -1)) for tau in taus]
        gap = [abs(int(((scores > tau) & (labels < 0)).sum()) - int(((scores <= tau) & (labels > 0)).sum()))
               for tau in taus]  # fmt: skip
        best, rest = int(np.argmax(balanced)), int(np.argmin(gap))
        return taus[best], balanced[best], taus[rest], balanced[rest]

    def smoothed(val_losses, alpha):
        frame = pd.DataFrame(val_losses.numpy()).ewm(alpha=alpha, adjust=False).mean().to_numpy()
        return np.abs(np.diff(frame, axis=0)) / frame[:-1]

    def share(features, attribute_head, landmark_head, labels, landmarks, lam, beta):
        norm_attr, norm_fld = checks._trainer_gradient_norms(
            features, losses.attribute_losses(attribute_head(features), labels),
            losses.landmark_loss(landmark_head(features), landmarks), lam, beta)
        return norm_fld / (norm_fld + norm_attr)

    def holm(results, alpha):
        p = [stats.paired_interval(a, b)["p_value"] for a, b in results.values()]
        out = {}
        for name, adjusted, (a, b) in zip(results, stats.holm(p), results.values()):
            found = stats.paired_interval(a, b)
            word = stats.verdict(found["ci_low"], found["ci_high"], adjusted, found["n"], alpha)
            out[name] = (adjusted, word)
        return out

    return [
        (checks.check_flip_landmarks, landmark_schema.flip_pixels),
        (checks.check_flip_landmarks, lambda p, w: landmark_schema.flip_pixels(p, w)),
        (checks.check_spp, lambda x, levels: spp.SpatialPyramidPooling(levels)(x)),
        (checks.check_dynamic_weights, dynamic),
        (checks.check_dynamic_weights, lambda before, now: weighting.dynamic_weights(now, before)),
        (checks.check_threshold_update, eq6),
        (checks.check_fp_fn_counts, metrics.false_positive_negative_counts),
        (checks.check_balanced_accuracy, lambda p, y: np.array([balanced_accuracy_score(y[:, k], p[:, k])
                                                                for k in range(y.shape[1])])),  # fmt: skip
        (checks.check_dwa_weights, dwa),
        (checks.check_group_means, group_means),
        (checks.check_paired_interval, paired),
        (checks.check_algorithm1_update, checks._trainer_update),
        (checks.check_masked_landmark_loss, lambda p, y, ph: losses.landmark_loss(p, y, mask=~ph)),
        (checks.check_threshold_choice, choice),
        (checks.check_threshold_choice, choice_sklearn),
        (checks.check_smoothed_weights, smoothed),
        (checks.check_landmark_share, share),
        (checks.check_holm_verdicts, holm),
    ]


@pytest.mark.parametrize("number", range(18))
def test_a_delegating_answer_passes_only_while_the_library_is_within_reach(number):
    from sklearn.metrics import balanced_accuracy_score

    from dmmlib import metrics

    answers = _delegating_answers()
    assert len(answers) == 18
    checker, answer = answers[number]
    assert checker(answer, by_hand=False), "the answer is right: only reaching the library is refused"
    with pytest.raises(checks.OutOfReach, match="write it yourself"):
        checker(answer)
    # restored: the library (and what the next cells of a notebook call) works again
    assert balanced_accuracy_score([1, -1, 1], [1, -1, -1]) == 0.75
    fp, _ = metrics.false_positive_negative_counts(torch.tensor([[0.5]]), torch.tensor([[-1]]), 0.0)
    assert fp.tolist() == [1]
    assert checker(answer, by_hand=False)


def test_every_out_of_reach_name_resolves_to_python_functions():
    import importlib.util

    for checker, targets in checks.OUT_OF_REACH.items():
        for target in targets:
            module = target.partition(":")[0]
            if importlib.util.find_spec(module.split(".")[0]) is None:
                continue  # an optional package not installed (statsmodels): a student cannot call it either
            assert checks._functions(target), f"{checker}: {target} names no function"
    assert set(checks.OUT_OF_REACH) >= {name for name in dir(checks) if name.startswith("check_")}


def test_the_library_is_restored_when_the_students_function_raises():
    from dmmlib import losses

    code = losses.landmark_loss.__code__

    def crashing(pred, target, placeholder):
        raise ZeroDivisionError("a bug of the student's")

    with pytest.raises(ZeroDivisionError):
        checks.check_masked_landmark_loss(crashing)
    assert losses.landmark_loss.__code__ is code


def test_holm_reference_agrees_with_the_seed_studys_claims():
    """The checker's reference decides as notebook 11 does (dmmlib.suite.stats: intervals, Holm, verdict)."""
    from dmmlib.suite import stats

    for family, alpha in checks.holm_cases(seed=11, cases=30):
        if alpha != stats.ALPHA:
            continue  # the suite's verdicts use 95% intervals: they agree with the checker's rule at 0.05
        found = [stats.paired_interval(a, b) for a, b in family.values()]
        adjusted = stats.holm([f["p_value"] for f in found])
        expected = checks._holm_reference(family, alpha)
        for name, f, p in zip(family, found, adjusted):
            assert np.isclose(expected[name][0], p, equal_nan=True)
            assert f["n"] >= stats.MIN_SEEDS
            assert expected[name][1] == stats.verdict(f["ci_low"], f["ci_high"], p, f["n"], alpha)


# A subtly wrong answer to each method exercise fails, with a hint.
def test_threshold_choice_rejects_the_balance_point_as_the_best_tau():
    def balance_only(scores, labels, taus):
        fp = np.array([((scores > t) & (labels < 0)).sum() for t in taus])
        fn = np.array([((scores <= t) & (labels > 0)).sum() for t in taus])
        gap = np.abs(fp - fn)
        k = int(np.argmin(gap))
        tpr = ((scores > taus[k]) & (labels > 0)).sum() / (labels > 0).sum()
        tnr = ((scores <= taus[k]) & (labels < 0)).sum() / (labels < 0).sum()
        return taus[k], (tpr + tnr) / 2, taus[k], (tpr + tnr) / 2

    with pytest.raises(checks.ExerciseFailed, match="not the highest"):
        checks.check_threshold_choice(balance_only)


def test_smoothed_weights_rejects_smoothing_the_weights_instead_of_the_losses():
    def smooth_after(val_losses, alpha):
        raw = ((val_losses[1:] - val_losses[:-1]) / val_losses[:-1]).abs()
        out = [raw[0]]
        for row in raw[1:]:
            out.append(alpha * row + (1 - alpha) * out[-1])
        return torch.stack(out)

    with pytest.raises(checks.ExerciseFailed, match="smoothed"):
        checks.check_smoothed_weights(smooth_after)


def test_landmark_share_rejects_a_share_of_the_losses():
    def loss_share(features, attribute_head, landmark_head, labels, landmarks, lam, beta):
        attr = (attribute_head(features) - labels).square().mean(dim=0)
        fld = (landmark_head(features) - landmarks).square().sum(dim=1).mean()
        return float(beta * fld / (beta * fld + (lam * attr).sum()))

    with pytest.raises(checks.ExerciseFailed, match="landmark share"):
        checks.check_landmark_share(loss_share)


def test_holm_verdicts_rejects_raw_p_values():
    def raw(results, alpha):
        from scipy import stats as st

        out = {}
        for name, (a, b) in results.items():
            d = a - b
            p = float(st.ttest_rel(a, b).pvalue) if d.std() > 0 else float("nan")
            word = "cannot decide" if not p < alpha else "supports" if d.mean() > 0 else "contradicts"
            out[name] = (p, word)
        return out

    with pytest.raises(checks.ExerciseFailed, match="Holm"):
        checks.check_holm_verdicts(raw)
