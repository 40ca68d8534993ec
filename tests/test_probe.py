"""The linear pixel probe (dmmlib.lab.probe): pooling, what it finds and what it says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dmmlib.attributes import ATTRIBUTES
from dmmlib.lab import probe

PATCH, COIN = ATTRIBUTES[0], ATTRIBUTES[1]  # a visible cue, and a label the images do not show


class Faces:
    """Grey 8 x 8 images: a bright 2 x 2 patch where the first attribute is positive (rate 0.3); the second
    attribute is a coin (rate 0.3) the images do not show; the other 38 are always negative."""

    def __init__(self, count: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.images = rng.integers(60, 120, size=(count, 3, 8, 8), dtype=np.uint8)
        self.labels = -np.ones((count, 40), dtype=np.int64)
        patch, coin = rng.random(count) < 0.3, rng.random(count) < 0.3
        self.images[patch, :, 2:4, 4:6] = 250
        self.labels[patch, 0] = 1
        self.labels[coin, 1] = 1

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return {"image": torch.from_numpy(self.images[i]), "attributes": torch.from_numpy(self.labels[i])}


def test_input_pixels_average_pools_each_channel():
    image = torch.tensor([[0, 255], [255, 255]], dtype=torch.uint8).expand(3, 2, 2)
    pixels, labels = probe.input_pixels([{"image": image, "attributes": torch.ones(40)}], pool=2)
    assert pixels.shape == (1, 3)
    assert torch.allclose(pixels, torch.full((1, 3), 0.75))
    assert labels.shape == (1, 40)


def test_probe_finds_a_visible_cue_and_not_an_invisible_label():
    table = probe.accuracy_table(Faces(300, seed=1), Faces(300, seed=2))
    assert table.loc[PATCH, "probe test accuracy"] > 0.9  # majority rate about 0.7
    assert bool(table.loc[PATCH, "probe finds cue"])
    assert not bool(table.loc[COIN, "probe finds cue"])
    assert table.loc[ATTRIBUTES[2], "test majority"] == 1.0  # always negative: majority rate 1, nothing to find
    assert not bool(table.loc[ATTRIBUTES[2], "probe finds cue"])


def _diagnosis(not_learnt: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"diagnosis": ["not learnt" if a in not_learnt else "learnt" for a in ATTRIBUTES]},
                        index=list(ATTRIBUTES))  # fmt: skip


def _probe_table(found: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"probe test accuracy": [found.get(a, 0.8) for a in ATTRIBUTES],
                         "test majority": 0.9, "probe finds cue": [a in found for a in ATTRIBUTES]},
                        index=list(ATTRIBUTES))  # fmt: skip


def test_sentence_names_the_unlearnt_attributes_whose_cue_the_probe_finds():
    text = probe.probe_sentence(_diagnosis([PATCH, COIN]), _probe_table({PATCH: 0.986}), (96, 80))
    assert "Of the 2 attributes this run did not learn" in text
    assert f"for 1: {PATCH} (98.6% vs 90.0%)" in text
    assert COIN not in text


def test_sentence_when_the_probe_finds_none():
    text = probe.probe_sentence(_diagnosis([COIN]), _probe_table({}), (96, 80))
    assert "for 0:" in text and "cannot tell a faint cue" in text


def test_sentence_when_everything_was_learnt():
    assert "learnt every attribute" in probe.probe_sentence(_diagnosis([]), _probe_table({}), (96, 80))
