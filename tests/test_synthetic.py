"""The synthetic CelebA-format generator: formats, label statistics, landmarks, determinism, atomic writes."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (
    NUM_IMAGES,
    synthetic_celeba,  # noqa: F401  (a fixture, used by parameter name)
)
from PIL import Image

from dmmlib.attributes import ATTRIBUTES, OBJECTIVE, SUBJECTIVE
from dmmlib.data import synthetic
from dmmlib.data.celeba import CelebA
from dmmlib.data.celeba_format import five_from_68, read_landmarks_5, read_landmarks_68
from dmmlib.data.synthetic_labels import noise_rates, sample_labels, target_frequencies
from dmmlib.landmarks.schema import GROUPS

HAIR = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair"]


def col(labels: np.ndarray, name: str) -> np.ndarray:
    return labels[:, ATTRIBUTES.index(name)] > 0


@pytest.fixture(scope="module")
def labels_5000():
    return sample_labels(5000, seed=3)


def test_generated_dataset_is_read_back_by_celeba(synthetic_celeba: Path):
    sizes = {split: len(CelebA(synthetic_celeba, split)) for split in ("train", "valid", "test")}
    assert sum(sizes.values()) == NUM_IMAGES
    assert sizes == json.loads((synthetic_celeba / "synthetic.json").read_text())["split_sizes"]


def test_labels_read_back_equal_an_independent_whitespace_parse(synthetic_celeba: Path):
    lines = (synthetic_celeba / "Anno" / "list_attr_celeba.txt").read_text().splitlines()
    assert int(lines[0]) == NUM_IMAGES and lines[1].split() == list(ATTRIBUTES)
    expected = np.array([[int(v) for v in line.split()[1:]] for line in lines[2:]], dtype=np.int8)
    dataset = CelebA(synthetic_celeba, "all")
    assert np.array_equal(dataset.attributes.numpy(), expected)
    assert dataset[7]["filename"] == lines[9].split()[0] == "000008.jpg"


def test_attribute_file_has_celebas_spacing_quirks(synthetic_celeba: Path):
    lines = (synthetic_celeba / "Anno" / "list_attr_celeba.txt").read_text().split("\n")
    assert lines[1].endswith("Young ")
    assert "  1" in lines[2] or " -1" in lines[2]
    assert all(len(line) == len("000001.jpg") + 40 * 3 for line in lines[2:-1])


def test_images_are_178_by_218_jpegs(synthetic_celeba: Path):
    with Image.open(synthetic_celeba / "Img" / "img_align_celeba" / "000001.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (178, 218))


def test_frequencies_within_two_points_of_celeba_at_5000_images(labels_5000):
    target = np.array(list(target_frequencies().values()))
    observed = (labels_5000.labels > 0).mean(axis=0)
    assert np.abs(observed - target).max() < 0.02


def test_at_most_one_hair_colour_and_bald_has_none_nor_bangs(labels_5000):
    labels = labels_5000.labels
    assert sum(col(labels, h).astype(int) for h in HAIR).max() == 1
    bald = col(labels, "Bald")
    assert (
        bald.any()
        and not (bald & (col(labels, "Bangs") | np.any([col(labels, h) for h in HAIR], axis=0))).any()
    )


def test_goatee_or_moustache_implies_a_beard(labels_5000):
    labels = labels_5000.labels
    facial_hair = col(labels, "Goatee") | col(labels, "Mustache")
    assert facial_hair.any() and not (facial_hair & col(labels, "No_Beard")).any()


def test_makeup_and_lipstick_are_mostly_female(labels_5000):
    labels = labels_5000.labels
    for name in ("Heavy_Makeup", "Wearing_Lipstick"):
        assert (~col(labels, "Male")[col(labels, name)]).mean() > 0.9, name


def test_only_subjective_labels_carry_noise_at_the_documented_rates(labels_5000):
    wrong = (labels_5000.labels != labels_5000.clean).mean(axis=0)
    rates = noise_rates()
    for j, name in enumerate(ATTRIBUTES):
        assert wrong[j] == pytest.approx(rates[name], abs=0.002), name
    assert all(rates[a] == 0 for a in OBJECTIVE) and all(rates[a] > 0 for a in SUBJECTIVE)


def test_five_point_file_derives_from_the_68_ground_truth_points(synthetic_celeba: Path):
    _, five = read_landmarks_5(synthetic_celeba / "Anno" / "list_landmarks_align_celeba.txt")
    _, points = read_landmarks_68(synthetic_celeba / "Anno" / "list_landmarks_68_align_celeba.txt")
    assert np.abs(five - five_from_68(points)).max() <= 0.5
    assert np.array_equal(five, np.round(five))


def test_68_points_follow_ibug_order(synthetic_celeba: Path):
    _, points = read_landmarks_68(synthetic_celeba / "Anno" / "list_landmarks_68_align_celeba.txt")
    right_eye = points[:, GROUPS["right_eye"]].mean(axis=1)
    left_eye = points[:, GROUPS["left_eye"]].mean(axis=1)
    assert (right_eye[:, 0] < left_eye[:, 0]).all()  # the subject's right eye is on the image's left
    assert (points[:, 8, 1] > points[:, 57, 1]).all() and (points[:, 57, 1] > points[:, 30, 1]).all()
    assert (points[:, 30, 1] > right_eye[:, 1]).all()  # chin below lips below nose tip below eyes


def test_same_seed_gives_byte_identical_files_whatever_the_worker_count(tmp_path: Path):
    first = synthetic.generate(tmp_path / "a", 12, seed=5, progress=False)
    second = synthetic.generate(tmp_path / "b", 12, seed=5, workers=2, progress=False)
    comparison = filecmp.dircmp(first, second)
    files = [p.relative_to(first) for p in first.rglob("*") if p.is_file()]
    assert files and all(filecmp.cmp(first / f, second / f, shallow=False) for f in files)
    assert not comparison.left_only and not comparison.right_only


def test_another_seed_gives_different_images_and_labels(tmp_path: Path):
    first = synthetic.generate(tmp_path / "a", 12, seed=5, progress=False)
    other = synthetic.generate(tmp_path / "b", 12, seed=6, progress=False)
    for relative in ("Img/img_align_celeba/000001.jpg", "Anno/list_attr_celeba.txt"):
        assert (first / relative).read_bytes() != (other / relative).read_bytes()


def test_rerun_with_same_parameters_returns_the_finished_dataset(synthetic_celeba: Path):
    stamp = (synthetic_celeba / "synthetic.json").stat().st_mtime_ns
    assert synthetic.generate(synthetic_celeba, NUM_IMAGES, seed=0, progress=False) == synthetic_celeba
    assert (synthetic_celeba / "synthetic.json").stat().st_mtime_ns == stamp


def test_existing_different_folder_is_not_overwritten_without_asking(tmp_path: Path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="overwrite"):
        synthetic.generate(tmp_path / "out", 5, progress=False)
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep"


def test_interrupted_generation_leaves_no_dataset_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(synthetic, "write_annotation_files", fail)
    with pytest.raises(KeyboardInterrupt):
        synthetic.generate(tmp_path / "out", 5, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_command_line_writes_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert synthetic.main(["--out", str(tmp_path / "cli"), "--num", "4", "--seed", "2", "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli")
    assert len(CelebA(tmp_path / "cli", "all")) == 4


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="num_images"):
        synthetic.generate("/nonexistent/x", 0)
    with pytest.raises(ValueError, match="label_noise"):
        sample_labels(10, label_noise=0.7)
