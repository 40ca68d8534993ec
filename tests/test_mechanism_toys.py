"""The toy demonstrations of notebook 12: each mechanism's regime shows its effect in the predicted direction over
the toy's own seeds, and its control does not, as measured on held-out data (not by construction)."""

import numpy as np
import pytest

from dmmlib.lab import mechanism_toys as toys

#: the smallest effect (toy's measure) that counts for each toy: its control must stay below it
MIN_EFFECT = {"landmark task": 0.01, "SPP branches": 0.05, "Eq. 4": 0.1, "Eq. 6": 0.01}


@pytest.fixture(scope="module", params=list(toys.TOYS))
def toy(request):
    return toys.TOYS[request.param]()


def test_the_regime_shows_the_mechanism_in_every_seed_but_at_most_one(toy):
    effects = toy.effects()
    assert effects.loc["regime", "seeds"] == len(toys.SEEDS)
    assert effects.loc["regime", "mean"] >= MIN_EFFECT[toy.mechanism], effects
    assert effects.loc["regime", "positive"] >= len(toys.SEEDS) - 1, effects


def test_the_control_does_not(toy):
    """No effect of the size that counts in the control (a negative mean is no effect of the mechanism either)."""
    effects = toy.effects()
    assert effects.loc["control", "mean"] < MIN_EFFECT[toy.mechanism], effects
    assert effects.loc["control", "mean"] < effects.loc["regime", "mean"] / 2, effects


def test_eq6_moves_a_rare_attributes_threshold_down_towards_balanced_counts():
    scores, labels = toys.attribute_scores(2000, 0.1, np.random.default_rng(0))
    path = toys.eq6_path(scores, labels, epochs=30)
    first, last = path.iloc[0], path.iloc[-1]
    assert first["false_negatives"] > first["false_positives"]  # tau = 0 favours the majority class
    assert last["tau"] < 0
    assert abs(last["false_positives"] - last["false_negatives"]) < first["false_negatives"] - first["false_positives"]
    assert last["balanced_accuracy"] > first["balanced_accuracy"]


def test_eq4_delays_an_attribute_that_has_not_started_while_uniform_weights_start_it():
    frame = toys.eq4_trap()
    stuck = frame[(frame["task"] == "stuck") & (frame["update"] == 10)].set_index("scheme")["loss"]
    assert stuck["Eq. 4 (rescaled)"] == pytest.approx(1.0)  # not one step down after ten updates
    assert stuck["uniform weights"] < 0.9
    assert stuck["Eq. 4 (rescaled), floor on lambda (ours)"] < 0.9


def test_eq4_weights_of_losses_that_fall_at_one_rate_are_all_one_after_rescaling():
    losses = np.array([[1.0, 2.0], [0.5, 1.0], [0.25, 0.5]])  # both halve each update: |dL| / L = 0.5
    assert np.allclose(toys.eq4_weights(losses, normalise=False), 0.5)
    assert np.allclose(toys.eq4_weights(losses), 1.0)


def test_smoothing_is_an_exponential_moving_average_of_the_losses():
    losses = np.array([[1.0], [0.0], [0.0]])
    # smoothed: 1, 0.5, 0.25 -> Eq. 4 as printed: |0.5 - 1| / 1 = 0.5, |0.25 - 0.5| / 0.5 = 0.5
    assert np.allclose(toys.eq4_weights(losses, normalise=False, smoothing=0.5), [[0.5], [0.5]])


def _result(regime, control):
    import pandas as pd

    rows = [{"seed": k, "condition": "regime", "with": 0.5 + d, "without": 0.5} for k, d in enumerate(regime)]
    rows += [{"seed": k, "condition": "control", "with": 0.5 + d, "without": 0.5} for k, d in enumerate(control)]
    return toys.ToyResult("SPP branches", "test accuracy", "r", "c", pd.DataFrame(rows))


def test_the_toy_sentence_follows_the_numbers_both_ways():
    assert "hardly at all where not" in _result([0.1, 0.1, 0.12], [0.0, 0.01, -0.01]).sentence()
    assert "hardly at all where not" in _result([0.1, 0.1, 0.12], [-0.1, -0.05, 0.02]).sentence()
    assert "helps in the control too" in _result([0.1, 0.1, 0.12], [0.1, 0.09, 0.1]).sentence()
    assert "does not help consistently" in _result([0.1, -0.1, -0.12], [0.0, 0.0, 0.0]).sentence()
