"""LFWA: the v7.3 attribute file, both index-file versions, the dataset, and the synthetic LFWA-format set."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from data_fixtures import (
    copy_dataset,
    synthetic_lfwa,  # noqa: F401  (a fixture, used by parameter name)
)
from PIL import Image

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.errors import DataFormatError, MissingImageError
from dmmlib.data.lfwa import LFWA, read_indices, read_lfw_att_40, synthetic_landmarks, write_indices
from dmmlib.data.synthetic_labels import sample_labels
from dmmlib.landmarks.schema import LandmarkSource


def test_attribute_file_mirrors_matlab_v73_structure(synthetic_lfwa: Path):
    path = synthetic_lfwa / "lfw_att_40.mat"
    assert path.read_bytes()[:10] == b"MATLAB 7.3"
    with h5py.File(path, "r") as f:
        assert f["label"].shape == (40, 24)  # N x 40 in MATLAB, transposed on disk
        assert f["name"].dtype == h5py.ref_dtype and f[f["name"][0, 0]].dtype == np.uint16
        assert f["AttrName"].attrs["MATLAB_class"] == b"cell"


def test_attribute_file_round_trips_names_and_labels(synthetic_lfwa: Path):
    names, images, labels = read_lfw_att_40(synthetic_lfwa / "lfw_att_40.mat")
    assert names == list(ATTRIBUTES) and len(images) == 24 and "\\" not in images[0]
    assert np.array_equal(labels, sample_labels(24, 0, stream=1).labels)


def test_split_sizes_come_from_the_index_file(synthetic_lfwa: Path):
    train, test = read_indices(synthetic_lfwa / "indices_train_test.mat")
    sizes = json.loads((synthetic_lfwa / "synthetic.json").read_text())["split_sizes"]
    assert (len(train), len(test)) == (sizes["train"], sizes["test"]) == (12, 12)
    assert len(LFWA(synthetic_lfwa, "train")) == 2 * len(train)  # original + deep-funneled
    assert len(LFWA(synthetic_lfwa, "test")) == len(test)
    assert not set(train) & set(test)


def test_v5_index_file_is_read_too(tmp_path: Path):
    write_indices(tmp_path / "indices_train_test.mat", np.array([1, 3]), np.array([2]), fmt="v5")
    train, test = read_indices(tmp_path / "indices_train_test.mat")
    assert train.tolist() == [0, 2] and test.tolist() == [1]


def test_sample_has_celebas_keys_and_250_pixel_images(synthetic_lfwa: Path):
    sample = LFWA(synthetic_lfwa, "train", landmarks=synthetic_landmarks(synthetic_lfwa))[0]
    assert sample["image"].shape == (3, 250, 250) and sample["image"].dtype == torch.uint8
    assert sample["attributes"].dtype == torch.int8 and sample["landmarks"].abs().max() < 1.5
    assert sample["landmark_source"] == LandmarkSource.GROUND_TRUTH and sample["filename"].startswith("lfw/")


def test_without_landmarks_the_placeholder_is_used(synthetic_lfwa: Path):
    sample = LFWA(synthetic_lfwa, "test")[0]
    assert not sample["landmarks"].any() and sample["landmark_source"] == LandmarkSource.MEAN_SHAPE


def test_lfw_images_differ_in_framing_from_celeba(synthetic_lfwa: Path):
    _, images, _ = read_lfw_att_40(synthetic_lfwa / "lfw_att_40.mat")
    with Image.open(synthetic_lfwa / "lfw" / images[0]) as original:
        with Image.open(synthetic_lfwa / "lfw-deepfunneled" / images[0]) as funneled:
            assert original.size == funneled.size == (250, 250)
            assert np.asarray(original).tobytes() != np.asarray(funneled).tobytes()


def test_missing_image_is_named(synthetic_lfwa: Path, tmp_path: Path):
    root = copy_dataset(synthetic_lfwa, tmp_path / "copy")
    _, images, _ = read_lfw_att_40(root / "lfw_att_40.mat")
    train, _ = read_indices(root / "indices_train_test.mat")
    (root / "lfw-deepfunneled" / images[train[0]]).unlink()
    with pytest.raises(MissingImageError, match=images[train[0]].split("/")[1]):
        LFWA(root, "train")


def test_missing_variable_is_named(tmp_path: Path):
    with h5py.File(tmp_path / "lfw_att_40.mat", "w") as f:
        f.create_dataset("label", data=np.zeros((40, 2)))
    with pytest.raises(DataFormatError, match="no variable 'AttrName'"):
        read_lfw_att_40(tmp_path / "lfw_att_40.mat")


# --- landmarks="build": dlib's detector path, cached ----------------------------------------------------------------
@pytest.fixture(scope="module")
def built(synthetic_lfwa: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[LFWA, Path]:
    cache = tmp_path_factory.mktemp("lfwa-cache")
    dataset = LFWA(synthetic_lfwa, "train", landmarks="build", landmark_cache_dir=cache)
    dataset.prepare_landmarks()
    return dataset, cache


def _errors_px(dataset: LFWA, root: Path, source: LandmarkSource) -> list[float]:
    truth = synthetic_landmarks(root)
    return [
        float(np.linalg.norm(dataset.landmarks[v][0][i] - truth[v][0][i], axis=1).mean())
        for v, i in dataset.items
        if dataset.landmarks[v][1][i] == source
    ]


def test_built_landmarks_are_dlibs_detections_near_the_drawn_points(built, synthetic_lfwa: Path):
    dataset, _ = built
    errors = _errors_px(dataset, synthetic_lfwa, LandmarkSource.DETECTOR)
    assert len(errors) >= len(dataset) // 2, "dlib finds most synthetic LFW faces"
    assert np.mean(errors) < 5.0 and max(errors) < 12.0, np.round(errors, 1)  # px, of 250 x 250 images


def test_an_image_without_a_face_gets_a_placed_mean_shape_marked_as_a_placeholder(built, synthetic_lfwa: Path):
    dataset, _ = built
    sources = dataset.landmark_sources
    assert set(sources.tolist()) <= {int(LandmarkSource.DETECTOR), int(LandmarkSource.MEAN_SHAPE)}
    placeholders = np.flatnonzero(sources == LandmarkSource.MEAN_SHAPE)
    assert len(placeholders), "this synthetic set has images where dlib finds no face"
    sample = dataset[int(placeholders[0])]
    assert sample["landmark_source"] == LandmarkSource.MEAN_SHAPE
    assert sample["landmarks"].abs().max() < 1.0 and sample["landmarks"].abs().sum() > 10, "a face shape, not zeros"
    assert max(_errors_px(dataset, synthetic_lfwa, LandmarkSource.MEAN_SHAPE)) < 25.0


def test_built_landmarks_are_cached_one_file_per_version_and_read_back(built, synthetic_lfwa: Path, monkeypatch):
    dataset, cache = built
    assert len(list(cache.glob("landmarks68-*.npz"))) == 2  # original and deep-funneled
    monkeypatch.setattr("dmmlib.landmarks.cache._extract", lambda *a, **k: pytest.fail("the cache was not used"))
    again = LFWA(synthetic_lfwa, "train", landmarks="build", landmark_cache_dir=cache)
    assert np.array_equal(again.landmark_sources, dataset.landmark_sources)


def test_building_landmarks_needs_a_cache_folder(synthetic_lfwa: Path):
    with pytest.raises(ValueError, match="landmark_cache_dir"):
        LFWA(synthetic_lfwa, "train", landmarks="build")


def test_validation_split_is_refused_with_a_reason(synthetic_lfwa: Path):
    with pytest.raises(ValueError, match="no validation set"):
        LFWA(synthetic_lfwa, "valid")


# --- find_lfwa: what notebook 00 checks under LFWA_DIR ---------------------------------------------------------------
def test_find_lfwa_accepts_the_released_layout(synthetic_lfwa: Path):
    from dmmlib.data.lfwa import find_lfwa

    assert find_lfwa(synthetic_lfwa) == synthetic_lfwa


def test_find_lfwa_names_every_missing_part(synthetic_lfwa: Path, tmp_path: Path):
    from dmmlib.data.errors import DatasetNotFoundError
    from dmmlib.data.lfwa import find_lfwa

    (tmp_path / "lfw").mkdir()
    (tmp_path / "lfw_att_40.mat").write_bytes((synthetic_lfwa / "lfw_att_40.mat").read_bytes())
    with pytest.raises(DatasetNotFoundError, match=r"missing indices_train_test.mat, lfw-deepfunneled/\. LFWA_DIR"):
        find_lfwa(tmp_path)
