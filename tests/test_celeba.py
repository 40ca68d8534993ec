"""Reading CelebA: both layouts, zipped or extracted, the text formats' quirks, and every kind of bad input."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from data_fixtures import (
    NUM_IMAGES,
    copy_dataset,
    synthetic_celeba,  # noqa: F401  (a fixture, used by parameter name)
    torchvision_layout,
    zipped_official_layout,
)

from dmmlib.data.celeba import CelebA, find_celeba, read_attributes, read_partition, verify_checksums
from dmmlib.data.errors import CorruptImageError, DataFormatError, DatasetNotFoundError, MissingImageError
from dmmlib.landmarks.schema import LandmarkSource, normalise

ATTR = Path("Anno/list_attr_celeba.txt")
PARTITION = Path("Eval/list_eval_partition.txt")


@pytest.fixture
def private_copy(synthetic_celeba: Path, tmp_path: Path) -> Path:
    return copy_dataset(synthetic_celeba, tmp_path / "copy")


def edit_line(path: Path, line: int, change) -> None:
    lines = path.read_text().split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines))


def test_sample_has_the_documented_keys_types_and_shapes(synthetic_celeba: Path):
    sample = CelebA(synthetic_celeba, "train")[0]
    assert sample["image"].dtype == torch.uint8 and sample["image"].shape == (3, 218, 178)
    assert sample["attributes"].dtype == torch.int8 and set(sample["attributes"].tolist()) <= {-1, 1}
    assert sample["landmarks"].dtype == torch.float32 and sample["landmarks"].shape == (136,)
    assert sample["landmark_source"].dtype == torch.int64 and sample["filename"] == "000001.jpg"


def test_without_landmarks_the_placeholder_is_zeros_from_the_mean_shape(synthetic_celeba: Path):
    sample = CelebA(synthetic_celeba, "test")[0]
    assert not sample["landmarks"].any() and sample["landmark_source"] == LandmarkSource.MEAN_SHAPE


def test_landmark_file_gives_normalised_ground_truth(synthetic_celeba: Path):
    sample = CelebA(synthetic_celeba, "all", landmarks="file")[0]
    row = (synthetic_celeba / "Anno/list_landmarks_68_align_celeba.txt").read_text().split("\n")[2].split()
    expected = normalise(np.array(row[1:], dtype=np.float32).reshape(68, 2), 178, 218)
    assert np.allclose(sample["landmarks"].numpy(), expected)
    assert sample["landmark_source"] == LandmarkSource.GROUND_TRUTH


def test_landmarks_can_be_passed_for_all_images(synthetic_celeba: Path):
    points = np.full((NUM_IMAGES, 68, 2), 88.5, dtype=np.float32)
    sources = np.full(NUM_IMAGES, LandmarkSource.DETECTOR)
    sample = CelebA(synthetic_celeba, "valid", landmarks=(points, sources))[0]
    assert sample["landmark_source"] == LandmarkSource.DETECTOR
    assert sample["landmarks"][0] == pytest.approx(0.0)  # x = 88.5 is the centre of a 178-pixel-wide image


def test_torchvision_flat_layout_is_read(synthetic_celeba: Path, tmp_path: Path):
    root = torchvision_layout(synthetic_celeba, tmp_path / "tv")
    official, flat = CelebA(synthetic_celeba, "all"), CelebA(root, "all")
    assert flat.files.layout == "torchvision"
    assert torch.equal(flat.attributes, official.attributes) and torch.equal(
        flat[5]["image"], official[5]["image"]
    )


def test_root_may_be_the_torchvision_celeba_folder_itself(synthetic_celeba: Path, tmp_path: Path):
    root = torchvision_layout(synthetic_celeba, tmp_path / "tv")
    assert len(CelebA(root / "celeba", "all")) == NUM_IMAGES


def test_images_are_read_straight_from_the_official_zip(synthetic_celeba: Path, tmp_path: Path):
    root = zipped_official_layout(synthetic_celeba, tmp_path / "zipped")
    zipped, extracted = CelebA(root, "train"), CelebA(synthetic_celeba, "train")
    assert zipped.store.in_zip
    assert torch.equal(zipped[3]["image"], extracted[3]["image"])


def test_torchvision_layout_with_zip_is_read(synthetic_celeba: Path, tmp_path: Path):
    root = torchvision_layout(synthetic_celeba, tmp_path / "tvz", zipped=True)
    assert CelebA(root, "test")[0]["image"].shape == (3, 218, 178)


def test_missing_dataset_error_lists_the_layouts_looked_for(tmp_path: Path):
    with pytest.raises(DatasetNotFoundError, match="official.*\n.*torchvision"):
        find_celeba(tmp_path)


def test_real_quirks_parse_one_or_two_spaces_crlf_and_trailing_name_space(tmp_path: Path):
    names = "5_o_Clock_Shadow Bald "
    path = tmp_path / "list_attr_celeba.txt"
    path.write_bytes(f"2\r\n{names}\r\n000001.jpg -1  1\r\n000002.jpg  1 -1\r\n".encode())
    parsed_names, files, values = read_attributes(path)
    assert parsed_names == ["5_o_Clock_Shadow", "Bald"] and files == ["000001.jpg", "000002.jpg"]
    assert values.tolist() == [[-1, 1], [1, -1]] and values.dtype == np.int8


def test_partition_ids_are_read(synthetic_celeba: Path):
    files, ids = read_partition(synthetic_celeba / PARTITION)
    assert files[0] == "000001.jpg" and ids[0] == 0 and ids[-1] == 2


def test_truncated_attribute_file_is_reported_with_file_and_line(private_copy: Path):
    path = private_copy / ATTR
    path.write_text("\n".join(path.read_text().split("\n")[:40]))
    with pytest.raises(
        DataFormatError, match=r"list_attr_celeba.txt, line \d+: line 1 announces 60 images but"
    ):
        CelebA(private_copy)


def test_row_with_a_missing_value_is_reported_with_its_line(private_copy: Path):
    edit_line(private_copy / ATTR, 7, lambda line: line[:-3])
    with pytest.raises(
        DataFormatError, match=r"line 7: expected a filename and 40 attribute values, found 39"
    ):
        CelebA(private_copy)


def test_a_label_of_two_is_reported_with_its_line(private_copy: Path):
    edit_line(private_copy / ATTR, 5, lambda line: line[:-2] + " 2")
    with pytest.raises(DataFormatError, match=r"line 5: value 2 of Young for 000003.jpg is not \+1 or -1"):
        CelebA(private_copy)


def test_partition_and_attribute_files_that_disagree_are_reported(private_copy: Path):
    edit_line(private_copy / PARTITION, 4, lambda line: line.replace("000004.jpg", "000099.jpg"))
    with pytest.raises(
        DataFormatError, match=r"list_eval_partition.txt, line 4: names 000099.jpg where .* 000004.jpg"
    ):
        CelebA(private_copy)


def test_a_bad_split_id_is_reported(private_copy: Path):
    edit_line(private_copy / PARTITION, 2, lambda line: line[:-1] + "3")
    with pytest.raises(DataFormatError, match=r"line 2: split id 3 is not 0"):
        CelebA(private_copy)


def test_missing_image_named_by_the_partition_is_reported(private_copy: Path):
    (private_copy / "Img/img_align_celeba/000010.jpg").unlink()
    with pytest.raises(MissingImageError, match=r"list_eval_partition.txt, line 10: names 000010.jpg.*1 of"):
        CelebA(private_copy, "train")
    assert len(CelebA(private_copy, "test")) > 0  # other splits are unaffected


def test_corrupted_jpeg_is_reported_by_name(private_copy: Path):
    path = private_copy / "Img/img_align_celeba/000002.jpg"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CorruptImageError, match=r"000002.jpg: cannot decode image"):
        CelebA(private_copy, "train")[1]


def test_skip_corrupt_substitutes_the_next_image_and_reports_it(private_copy: Path):
    path = private_copy / "Img/img_align_celeba/000002.jpg"
    path.write_bytes(b"not a jpeg at all")
    dataset = CelebA(private_copy, "train", skip_corrupt=True)
    with pytest.warns(UserWarning, match="000002.jpg"):
        assert dataset[1]["filename"] == "000003.jpg"
    assert list(dataset.skipped) == ["000002.jpg"] and "000002.jpg" in dataset.skipped_report()
    assert list(dataset.scan_corrupt()) == ["000002.jpg"]


def test_checksums_flag_a_synthetic_copy_as_not_the_released_files(synthetic_celeba: Path):
    report = verify_checksums(synthetic_celeba)
    statuses = {name: status for name, status, _ in report.rows}
    assert not report.ok and statuses["list_attr_celeba.txt"] == "mismatch"
    assert statuses["identity_CelebA.txt"] == "missing" and "differ" in str(report)


def test_checksums_call_an_html_page_or_an_empty_file_a_failed_download(private_copy: Path):
    (private_copy / "Anno/identity_CelebA.txt").write_bytes(b"<!DOCTYPE html><html><title>Sign in</title></html>")
    (private_copy / "Anno/list_bbox_celeba.txt").write_bytes(b"")
    report = verify_checksums(private_copy)
    statuses = {name: status for name, status, _ in report.rows}
    assert statuses["identity_CelebA.txt"] == "html page" and statuses["list_bbox_celeba.txt"] == "empty"
    assert "failed download" in str(report) and "download those files again" in str(report)


def test_unknown_split_is_named(synthetic_celeba: Path):
    with pytest.raises(ValueError, match="'validation'"):
        CelebA(synthetic_celeba, "validation")


def test_building_landmarks_needs_a_cache_folder(synthetic_celeba):
    with pytest.raises(ValueError, match="landmark_cache_dir"):
        CelebA(synthetic_celeba, "valid", landmarks="build")


# --- the released split: required of a full copy, a subset named as one ---------------------------------------------
def test_the_released_split_passes_a_subset_is_named_and_a_full_copy_split_otherwise_fails(tmp_path: Path):
    from dmmlib.data.celeba import RELEASED_SPLIT, compare_with_released_split

    partition = tmp_path / "list_eval_partition.txt"
    assert compare_with_released_split(partition, tuple(RELEASED_SPLIT.values())) == ""
    assert "a subset" in compare_with_released_split(partition, (32, 4, 4))
    with pytest.raises(DataFormatError, match="not the released 162,770 / 19,867 / 19,962"):
        compare_with_released_split(partition, (162_771, 19_866, 19_962))
