"""The four weighting schemes against hand-computed weights."""

import math

import pytest
import torch

from dmmlib.config import TrainConfig
from dmmlib.weighting import (
    AdaptiveWeighting,
    DWAWeighting,
    DynamicWeighting,
    UniformWeighting,
    make_weighting,
)


def test_uniform_weights_stay_one():
    w = UniformWeighting(3)
    assert w.update(torch.tensor([0.3, 0.2, 0.1])).tolist() == [1.0, 1.0, 1.0]


def test_eq4_first_update_only_records_the_losses():
    w = DynamicWeighting(2)
    assert w.update(torch.tensor([0.8, 0.5])).tolist() == [1.0, 1.0]


def test_eq4_second_update_is_the_relative_change_of_the_validation_loss():
    w = DynamicWeighting(2)
    w.update(torch.tensor([0.8, 0.5]))
    # |0.6 - 0.8| / 0.8 = 0.25; |0.55 - 0.5| / 0.5 = 0.1 (an increase counts like a decrease)
    assert w.update(torch.tensor([0.6, 0.55])).tolist() == pytest.approx([0.25, 0.1])


def test_eq4_third_update_compares_with_the_second_not_the_first():
    w = DynamicWeighting(2)
    w.update(torch.tensor([0.8, 0.5]))
    w.update(torch.tensor([0.6, 0.55]))
    assert w.update(torch.tensor([0.3, 0.55])).tolist() == pytest.approx([0.5, 0.0])


def test_eq4_normalise_option_rescales_to_mean_one():
    w = DynamicWeighting(2, normalise=True)
    w.update(torch.tensor([0.8, 0.5]))
    assert w.update(torch.tensor([0.6, 0.55])).tolist() == pytest.approx([0.25 / 0.175, 0.1 / 0.175])


def test_eq4_floor_option_keeps_stalled_attributes_alive():
    w = DynamicWeighting(2, floor=0.2)
    w.update(torch.tensor([0.8, 0.5]))
    assert w.update(torch.tensor([0.6, 0.55])).tolist() == pytest.approx([0.25, 0.2])


def test_dynamic_state_round_trips_between_updates():
    w = DynamicWeighting(2)
    w.update(torch.tensor([0.8, 0.5]))
    fresh = DynamicWeighting(2)
    fresh.load_state_dict(w.state_dict())
    assert fresh.update(torch.tensor([0.6, 0.55])).tolist() == pytest.approx([0.25, 0.1])


def test_dwa_keeps_weights_one_for_the_first_two_epochs():
    w = DWAWeighting(2)
    assert w.update(torch.tensor([1.0, 1.0])).tolist() == [1.0, 1.0]


def test_dwa_is_k_times_softmax_of_loss_ratios_over_temperature():
    w = DWAWeighting(2, temperature=2.0)
    w.update(torch.tensor([1.0, 1.0]))
    weights = w.update(torch.tensor([0.5, 1.0]))  # ratios 0.5, 1.0 -> softmax of 0.25, 0.5, times K = 2
    a, b = math.exp(0.25), math.exp(0.5)
    assert weights.tolist() == pytest.approx([2 * a / (a + b), 2 * b / (a + b)])


def test_aw_combines_relative_trend_and_relative_loss_rescaled_to_mean_one():
    w = AdaptiveWeighting(2, window=1)
    assert w.update(torch.tensor([1.0, 1.0])).tolist() == [1.0, 1.0]
    # cur = [0.5, 0.9]; trend = [1, 1/9] -> / mean = [1.8, 0.2]; cur / mean = [5/7, 9/7];
    # product [9/7, 1.8/7] (ratio 5 : 1), rescaled to mean one: [5/3, 1/3]
    assert w.update(torch.tensor([0.5, 0.9])).tolist() == pytest.approx([5 / 3, 1 / 3])


def test_aw_window_averages_losses_before_comparing():
    w = AdaptiveWeighting(2, window=2)
    for losses in ([1.0, 1.0], [1.0, 1.0], [0.4, 0.9]):
        assert w.update(torch.tensor(losses)).tolist() == [1.0, 1.0]
    # prev = [1, 1], cur = mean([0.4, 0.9], [0.6, 0.9]) = [0.5, 0.9]: the same as the window-1 example
    assert w.update(torch.tensor([0.6, 0.9])).tolist() == pytest.approx([5 / 3, 1 / 3])


def test_aw_per_iteration_changes_its_weights_at_every_update_after_the_first():
    w = AdaptiveWeighting(2, window=1, schedule="iteration")
    assert w.update(torch.tensor([1.0, 1.0])).tolist() == [1.0, 1.0]
    assert w.update(torch.tensor([0.5, 0.9])).tolist() == pytest.approx([5 / 3, 1 / 3])  # as above
    # prev = [0.5, 0.9], cur = [0.5, 0.45]: trend = [0, 1] -> / mean = [0, 2]; the first term stops, rescaled [0, 2]
    assert w.update(torch.tensor([0.5, 0.45])).tolist() == pytest.approx([0.0, 2.0])


def test_schedules_say_what_the_trainer_feeds_each_scheme():
    assert UniformWeighting(1).schedule == "none"
    assert DynamicWeighting(1).schedule == "validation"
    assert AdaptiveWeighting(1).schedule == "validation"
    assert AdaptiveWeighting(1, schedule="iteration").schedule == "iteration"
    assert DWAWeighting(1).schedule == "epoch"
    with pytest.raises(ValueError, match="'validation' or 'iteration'"):
        AdaptiveWeighting(1, schedule="epoch")


def test_make_weighting_gives_aw_the_schedule_and_window_of_the_config():
    w = make_weighting("aw", 40, TrainConfig(aw_schedule="iteration", aw_window=50))
    assert isinstance(w, AdaptiveWeighting) and w.schedule == "iteration" and w.window == 50
    assert make_weighting("aw", 40, TrainConfig()).schedule == "validation"


def test_make_weighting_reads_options_from_the_config():
    w = make_weighting("dwa", 40, TrainConfig(dwa_temperature=5.0))
    assert isinstance(w, DWAWeighting) and w.temperature == 5.0 and w.weights.shape == (40,)


def test_make_weighting_rejects_unknown_names():
    with pytest.raises(ValueError, match="dynamic"):
        make_weighting("gradnorm", 40)
