"""The decoded-image cache: a split is kept whole or not at all, the flip stays random per read, and a training
run computes the same weights with the cache as without it."""

from __future__ import annotations

import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from dmmlib.config import TrainConfig
from dmmlib.data.celeba import CelebA
from dmmlib.data.decoded_cache import DecodedCache
from dmmlib.data.lfwa import LFWA, synthetic_landmarks
from dmmlib.data.transforms import eval_transform, train_transform
from dmmlib.train import train

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import one_thread, tiny_config  # noqa: E402
from data_fixtures import copy_dataset, synthetic_celeba, synthetic_lfwa  # noqa: E402, F401

SIZE = (40, 32)
SAMPLE_BYTES = 3 * 40 * 32 + 136 * 4  # a uint8 (3, 40, 32) image and 68 float32 (x, y) pairs


def sample(value: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    return torch.full((3, 40, 32), value, dtype=torch.uint8), np.zeros(136, np.float32)


def test_a_split_that_fits_is_prepared_once_per_image():
    cache, calls = DecodedCache(size=3, limit_mb=3 * SAMPLE_BYTES / 2**20), []
    for _ in range(2):
        for index in range(3):
            cache.get(index, lambda: calls.append(1) or sample())
    assert len(calls) == 3 and len(cache) == 3 and cache.enabled


def test_a_split_one_byte_too_large_is_never_kept():
    cache, calls = DecodedCache(size=3, limit_mb=(3 * SAMPLE_BYTES - 1) / 2**20), []
    for _ in range(2):
        for index in range(3):
            cache.get(index, lambda: calls.append(1) or sample())
    assert len(calls) == 6 and len(cache) == 0 and cache.enabled is False


def test_a_limit_of_zero_turns_the_cache_off():
    cache = DecodedCache(size=1, limit_mb=0)
    cache.get(0, sample)
    assert len(cache) == 0 and cache.enabled is False


def test_a_negative_limit_is_refused():
    with pytest.raises(ValueError, match="image cache limit"):
        DecodedCache(size=1, limit_mb=-1)
    with pytest.raises(ValueError, match="image_cache_mb"):
        TrainConfig(image_cache_mb=-1)


def test_a_worker_receives_the_cache_empty():
    cache = DecodedCache(size=1, limit_mb=1)
    cache.get(0, sample)
    copy = pickle.loads(pickle.dumps(cache))
    assert len(copy) == 0 and len(cache) == 1


def test_prepare_then_augment_draws_the_same_flips_as_the_whole_transform(synthetic_celeba):  # noqa: F811
    whole = CelebA(synthetic_celeba, "train", train_transform(SIZE), landmarks="file")
    split = CelebA(synthetic_celeba, "train", train_transform(SIZE), landmarks="file", cache_mb=64)
    torch.manual_seed(0)
    expected = [whole[k % len(whole)] for k in range(2 * len(whole))]
    torch.manual_seed(0)
    got = [split[k % len(split)] for k in range(2 * len(split))]
    flips = 0
    for k, (a, b) in enumerate(zip(expected, got)):
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["landmarks"], b["landmarks"])
        flips += not torch.equal(b["image"], split.decoded.entries[k % len(split)][0])
    assert len(split.decoded) == len(split)
    assert 0 < flips < len(got)  # some samples mirrored, some not: the flip is still drawn per read


def test_a_cached_split_no_longer_reads_its_images(synthetic_celeba, tmp_path):  # noqa: F811
    root = copy_dataset(synthetic_celeba, tmp_path / "celeba")
    data = CelebA(root, "test", eval_transform(SIZE), landmarks="file", cache_mb=64)
    first = [data[k]["image"] for k in range(len(data))]
    shutil.rmtree(root / "Img" / "img_align_celeba")
    assert all(torch.equal(a, data[k]["image"]) for k, a in enumerate(first))


def test_lfwa_caches_both_versions_of_its_training_split(synthetic_lfwa):  # noqa: F811
    data = LFWA(synthetic_lfwa, "train", transform=eval_transform(SIZE),
                landmarks=synthetic_landmarks(synthetic_lfwa), cache_mb=64)  # fmt: skip
    first = [data[k]["image"] for k in range(len(data))]
    assert len(data.decoded) == len(data) == 2 * len(LFWA(synthetic_lfwa, "test"))
    assert all(torch.equal(a, data[k]["image"]) for k, a in enumerate(first))


def test_training_computes_the_same_weights_with_and_without_the_cache(synthetic_celeba, tmp_path):  # noqa: F811
    def trained(cache_mb: float) -> dict[str, torch.Tensor]:
        cfg = tiny_config(update_interval=5, epochs=2, image_cache_mb=cache_mb)
        sets = [CelebA(synthetic_celeba, split, transform, landmarks="file", cache_mb=cache_mb)
                for split, transform in (("train", train_transform(SIZE)), ("valid", eval_transform(SIZE)))]  # fmt: skip
        with one_thread():
            result = train(cfg, *sets, tmp_path / f"cache-{cache_mb}", progress=False)
        assert len(sets[0].decoded) == (len(sets[0]) if cache_mb else 0)
        return result.model.state_dict()

    without, with_cache = trained(0), trained(64)
    assert all(torch.equal(without[name], with_cache[name]) for name in without)
