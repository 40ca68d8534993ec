"""The catalogue of bad inputs: every way a user's data, file or parameter can be wrong that the suite knows of,
in ONE table. Each row makes the bad input in ``tmp_path``, makes the call, and states the exception and a regex
its message must match (the message names the file / line / parameter and says what to do). Rows that write
files also name what must be unchanged afterwards (no partial output). Below the table: interrupted synthetic
generation and landmark extraction restart cleanly."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

import datetime
import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
import torch
from data_fixtures import copy_dataset, synthetic_celeba, synthetic_lfwa, zipped_official_layout  # noqa: F401

import dmmlib.data.synthetic
import dmmlib.landmarks.extract
from dmmlib.align import align_face
from dmmlib.checkpoint import CheckpointError, load_checkpoint
from dmmlib.config import TrainConfig
from dmmlib.data.celeba import CelebA, find_celeba, read_landmarks_5, verify_checksums
from dmmlib.data.errors import CorruptImageError, DataFormatError, DatasetNotFoundError, MissingImageError
from dmmlib.data.lfwa import LFWA
from dmmlib.data.lfwa_format import read_indices, write_indices
from dmmlib.data.synthetic import generate
from dmmlib.lab import widgets
from dmmlib.landmarks import NoFaceFound
from dmmlib.landmarks.cache import cache_key, cache_path, cached_dataset_landmarks
from dmmlib.model import build_model_from_config
from dmmlib.suite import paths, session
from dmmlib.suite.session import ParameterError

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import tiny_config  # noqa: E402

ATTR, PARTITION = Path("Anno/list_attr_celeba.txt"), Path("Eval/list_eval_partition.txt")
IMAGES = Path("Img/img_align_celeba")


class Env:
    """What a row's set-up may use: a private folder and, on demand, private copies of the shared datasets."""

    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.tmp, self._request = tmp_path, request

    def celeba(self) -> Path:
        return copy_dataset(self._request.getfixturevalue("synthetic_celeba"), self.tmp / "celeba")

    def lfwa(self) -> Path:
        return copy_dataset(self._request.getfixturevalue("synthetic_lfwa"), self.tmp / "lfwa")

    def zipped_celeba(self) -> Path:
        """The official layout with the images in ``Img/img_align_celeba.zip``, as CelebA is released."""
        return zipped_official_layout(self._request.getfixturevalue("synthetic_celeba"), self.tmp / "zipped")


#: What a failed Google Drive download saves under the requested name (the page's shape, shortened).
QUOTA_PAGE = (b"<!DOCTYPE html><html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"/>"
              b"<title>Google Drive - Quota exceeded</title></head><body><p>Too many users have viewed or downloaded "
              b"this file recently.</p></body></html>\n")  # fmt: skip
ZIP = Path("Img/img_align_celeba.zip")


def edit_line(path: Path, line: int, change: Callable[[str], str]) -> None:
    lines = path.read_text().split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines))


# --- the set-ups: each damages something in env.tmp and returns (the call, the path that must stay as it was)
Setup = Callable[[Env], tuple[Callable[[], object], Path | None]]


def truncated_attributes(env: Env):
    root = env.celeba()
    (root / ATTR).write_text("\n".join((root / ATTR).read_text().split("\n")[:40]))
    return lambda: CelebA(root), None


def attribute_row_missing_a_value(env: Env):
    root = env.celeba()
    edit_line(root / ATTR, 7, lambda line: line[:-3])
    return lambda: CelebA(root), None


def label_of_two(env: Env):
    root = env.celeba()
    edit_line(root / ATTR, 5, lambda line: line[:-2] + " 2")
    return lambda: CelebA(root), None


def wrong_attribute_names_line(env: Env):
    root = env.celeba()
    edit_line(root / ATTR, 2, lambda line: line.replace("Attractive", "Atractive"))
    return lambda: CelebA(root), None


def partition_disagrees_with_attributes(env: Env):
    root = env.celeba()
    edit_line(root / PARTITION, 4, lambda line: line.replace("000004.jpg", "000099.jpg"))
    return lambda: CelebA(root), None


def bad_split_id(env: Env):
    root = env.celeba()
    edit_line(root / PARTITION, 2, lambda line: line[:-1] + "3")
    return lambda: CelebA(root), None


def partition_names_a_missing_image(env: Env):
    root = env.celeba()
    (root / IMAGES / "000010.jpg").unlink()
    return lambda: CelebA(root, "train"), None


def corrupted_jpeg(env: Env):
    root = env.celeba()
    (root / IMAGES / "000002.jpg").write_bytes((root / IMAGES / "000002.jpg").read_bytes()[:300])
    return lambda: CelebA(root, "train")[1], None


def no_dataset_in_data_dir(env: Env):
    return lambda: find_celeba(env.tmp), None


def unknown_split(env: Env):
    root = env.celeba()
    return lambda: CelebA(root, "validation"), None


def lfwa_index_beyond_the_image_list(env: Env):
    root = env.lfwa()
    train, test = read_indices(root / "indices_train_test.mat")
    write_indices(root / "indices_train_test.mat", np.append(train + 1, 10_000), test + 1)
    return lambda: LFWA(root, "train"), None


def celeba_zip_is_an_html_page(env: Env):
    root = env.zipped_celeba()
    (root / ZIP).write_bytes(QUOTA_PAGE)
    return lambda: CelebA(root, "train"), root


def checksums_of_an_html_page_zip(env: Env):
    root = env.zipped_celeba()
    (root / ZIP).write_bytes(QUOTA_PAGE)
    return lambda: verify_checksums(root, include_zip=True), root


def celeba_zip_truncated(env: Env):
    root = env.zipped_celeba()
    (root / ZIP).write_bytes((root / ZIP).read_bytes()[: (root / ZIP).stat().st_size // 2])
    return lambda: CelebA(root, "train"), root


def celeba_zip_empty(env: Env):
    root = env.zipped_celeba()
    (root / ZIP).write_bytes(b"")
    return lambda: CelebA(root, "train"), root


def text_file_is_an_html_page(relative: str, landmarks: str | None = None) -> Setup:
    """A set-up replacing one of CelebA's text files by the quota page; the call reads it."""

    def setup(env: Env):
        root = env.celeba()
        (root / relative).write_bytes(QUOTA_PAGE)
        if landmarks == "build":  # the five points are read when the landmarks are built
            return lambda: CelebA(root, "valid", landmarks="build", landmark_cache_dir=env.tmp / "cache")[0], root
        return lambda: CelebA(root, "train", landmarks=landmarks), root

    return setup


def partition_file_empty(env: Env):
    root = env.celeba()
    (root / PARTITION).write_bytes(b"")
    return lambda: CelebA(root), root


def lfwa_file_is_an_html_page(name: str) -> Setup:
    def setup(env: Env):
        root = env.lfwa()
        (root / name).write_bytes(QUOTA_PAGE)
        return lambda: LFWA(root, "train"), root

    return setup


def lfwa_attribute_file_truncated(env: Env):
    root = env.lfwa()
    path = root / "lfw_att_40.mat"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return lambda: LFWA(root, "train"), root


def lfwa_index_file_empty(env: Env):
    root = env.lfwa()
    (root / "indices_train_test.mat").write_bytes(b"")
    return lambda: LFWA(root, "test"), root


def landmark_cache_of_another_list(env: Env):
    root = env.celeba()
    names, five = read_landmarks_5(root / "Anno/list_landmarks_align_celeba.txt")
    images = [str(root / IMAGES / n) for n in names[:4]]
    cache = env.tmp / "cache"
    cached_dataset_landmarks(images[:3], five[:3], cache, progress=False)
    mine = cache_path(cache, cache_key(images, five[:4]))
    (cache / next(p.name for p in cache.iterdir())).rename(mine)  # another list's cache under this list's name
    return lambda: cached_dataset_landmarks(images, five[:4], cache, progress=False), cache


def landmark_five_points_of_wrong_shape(env: Env):
    return lambda: cached_dataset_landmarks(["a.jpg", "b.jpg"], np.zeros((3, 5, 2)), env.tmp / "c"), env.tmp / "c"


def generator_with_zero_images(env: Env):
    return lambda: generate(env.tmp / "synthetic", 0, progress=False), env.tmp


def generator_over_another_folder(env: Env):
    (env.tmp / "mine").mkdir()
    (env.tmp / "mine" / "notes.txt").write_text("my thesis")
    return lambda: generate(env.tmp / "mine", 4, progress=False), env.tmp


def unknown_preset(env: Env):
    return lambda: session.start("nb", PRESET="huge"), None


def negative_epoch_count(env: Env):
    return lambda: session.start("nb", PRESET="smoke", EPOCHS=-1), None


def paper_preset_without_data_dir(env: Env):
    return lambda: session.start("nb", PRESET="paper", DATA_DIR=""), None


def data_dir_that_does_not_exist(env: Env):
    return lambda: session.start("nb", PRESET="smoke", DATA_DIR=str(env.tmp / "celeba-typo")), None


def non_integer_seed(env: Env):
    return lambda: session.start("nb", PRESET="smoke", SEED="0"), None


def photo_without_a_face(env: Env):
    dogs = paths.shared_testdata() / "dogs.jpg"
    if not dogs.is_file():
        pytest.skip(f"{dogs} is absent")
    return lambda: align_face(dogs), None


def empty_image_file(env: Env):
    (env.tmp / "empty.jpg").write_bytes(b"")
    return lambda: align_face(env.tmp / "empty.jpg"), None


def heic_photo(env: Env):
    heic = env.tmp / "IMG_0001.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))  # an iPhone photo's start
    return lambda: align_face(heic), None


def empty_upload(env: Env):
    upload = ipywidgets.FileUpload()
    upload.value = ({"name": "empty.jpg", "type": "image/jpeg", "size": 0, "content": memoryview(b""),
                     "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)},)  # fmt: skip
    return lambda: widgets.uploaded_bytes(upload), None


def batch_size_zero(env: Env):
    return lambda: TrainConfig(batch_size=0), None


def unknown_config_field(env: Env):
    return lambda: TrainConfig.from_dict({"learning_rate": 0.1}), None


def unknown_variant(env: Env):
    return lambda: build_model_from_config(tiny_config(variant="DMM-XL")), None


def truncated_checkpoint(env: Env):
    path = env.tmp / "checkpoint.pt"
    torch.save({"format": 1, "model": {"w": torch.zeros(100)}}, path)
    path.write_bytes(path.read_bytes()[:100])
    return lambda: load_checkpoint(path), env.tmp


def checkpoint_with_a_pickled_object(env: Env):
    path = env.tmp / "checkpoint.pt"
    torch.save({"format": 1, "model": Path("not/a/tensor")}, path)
    return lambda: load_checkpoint(path), env.tmp


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup
    error: type[BaseException]
    message: str  #: a regex that must match (re.search) the exception's message


CATALOGUE = [
    # CelebA reader
    Case("truncated-attribute-file", truncated_attributes, DataFormatError,
         r"list_attr_celeba.txt, line \d+: line 1 announces 60 images but .*"),
    Case("attribute-row-missing-a-value", attribute_row_missing_a_value, DataFormatError,
         r"list_attr_celeba.txt, line 7: expected a filename and 40 attribute values, found 39"),
    Case("label-of-2", label_of_two, DataFormatError,
         r"list_attr_celeba.txt, line 5: value 2 of Young for 000003.jpg is not \+1 or -1"),
    Case("wrong-attribute-names-line", wrong_attribute_names_line, DataFormatError,
         r"list_attr_celeba.txt, line 2: .*name 3 is 'Atractive' where CelebA has 'Attractive'.*Restore line 2"),
    Case("partition-disagrees-with-attributes", partition_disagrees_with_attributes, DataFormatError,
         r"list_eval_partition.txt, line 4: names 000099.jpg where .*000004.jpg.*re-download both"),
    Case("partition-split-id-3", bad_split_id, DataFormatError, r"list_eval_partition.txt, line 2: split id 3 is not 0"),
    Case("partition-names-a-missing-image", partition_names_a_missing_image, MissingImageError,
         r"list_eval_partition.txt, line 10: names 000010.jpg, which is not in .*Re-extract the images"),
    Case("corrupted-jpeg", corrupted_jpeg, CorruptImageError,
         r"000002.jpg: cannot decode image .*Re-extract or re-download this file"),
    Case("no-dataset-in-data-dir", no_dataset_in_data_dir, DatasetNotFoundError,
         r"(?s)No CelebA dataset under .*official: .*torchvision: .*generate a synthetic copy"),
    Case("unknown-split", unknown_split, ValueError, r"split must be 'train', 'valid', 'test' or 'all', got 'validation'"),
    # LFWA reader
    Case("lfwa-index-beyond-image-list", lfwa_index_beyond_the_image_list, DataFormatError,
         r"indices_train_test.mat: index 10000 exceeds the 24 images of lfw_att_40.mat.*different copies"),
    # files that are not what their name says (a failed download saved under the dataset's names)
    Case("celeba-zip-is-an-html-page", celeba_zip_is_an_html_page, DataFormatError,
         r"img_align_celeba.zip: looks like an HTML page titled 'Google Drive - Quota exceeded', not a zip of "
         r"images: the download probably failed. Download it again"),
    Case("checksums-of-an-html-page-zip", checksums_of_an_html_page_zip, DataFormatError,
         r"img_align_celeba.zip: looks like an HTML page .*the download probably failed. Download it again"),
    Case("celeba-zip-truncated", celeba_zip_truncated, DataFormatError,
         r"img_align_celeba.zip: is a truncated or damaged zip \([\d,]+ bytes\): it starts like a zip, but its "
         r"central directory.*stopped early. Download it again"),
    Case("celeba-zip-empty", celeba_zip_empty, DataFormatError,
         r"img_align_celeba.zip: is an empty file \(0 bytes\), not a zip of images.*Download or extract it again"),
    Case("attribute-file-is-an-html-page", text_file_is_an_html_page("Anno/list_attr_celeba.txt"), DataFormatError,
         r"list_attr_celeba.txt: looks like an HTML page titled 'Google Drive - Quota exceeded', not a CelebA "
         r"annotation text file: the download probably failed. Download it again"),
    Case("partition-file-is-an-html-page", text_file_is_an_html_page(str(PARTITION)), DataFormatError,
         r"list_eval_partition.txt: looks like an HTML page .*the download probably failed"),
    Case("five-point-file-is-an-html-page",
         text_file_is_an_html_page("Anno/list_landmarks_align_celeba.txt", landmarks="build"), DataFormatError,
         r"list_landmarks_align_celeba.txt: looks like an HTML page .*the download probably failed"),
    Case("68-point-file-is-an-html-page",
         text_file_is_an_html_page("Anno/list_landmarks_68_align_celeba.txt", landmarks="file"), DataFormatError,
         r"list_landmarks_68_align_celeba.txt: looks like an HTML page .*the download probably failed"),
    Case("partition-file-empty", partition_file_empty, DataFormatError,
         r"list_eval_partition.txt: is an empty file \(0 bytes\).*Download or extract it again"),
    Case("lfwa-attribute-file-is-an-html-page", lfwa_file_is_an_html_page("lfw_att_40.mat"), DataFormatError,
         r"lfw_att_40.mat: looks like an HTML page titled 'Google Drive - Quota exceeded', not a MATLAB file: the "
         r"download probably failed"),
    Case("lfwa-index-file-is-an-html-page", lfwa_file_is_an_html_page("indices_train_test.mat"), DataFormatError,
         r"indices_train_test.mat: looks like an HTML page .*the download probably failed"),
    Case("lfwa-attribute-file-truncated", lfwa_attribute_file_truncated, DataFormatError,
         r"lfw_att_40.mat: is not a readable MATLAB v7.3 \(HDF5\) file \([\d,]+ bytes; .*damaged or truncated.*"
         r"Download or extract it again"),
    Case("lfwa-index-file-empty", lfwa_index_file_empty, DataFormatError,
         r"indices_train_test.mat: is an empty file \(0 bytes\), not a MATLAB file"),
    # landmark cache
    Case("landmark-cache-of-another-list", landmark_cache_of_another_list, ValueError,
         r"landmark cache .*landmarks68-\w+\.npz does not belong to this list of 4 images.*Delete it"),
    Case("landmark-five-points-wrong-shape", landmark_five_points_of_wrong_shape, ValueError,
         r"five_points: expected shape \(2, 5, 2\) for 2 images, got \(3, 5, 2\)"),
    # synthetic generator
    Case("generator-num-images-0", generator_with_zero_images, ValueError, r"num_images must be at least 1, got 0"),
    Case("generator-over-another-folder", generator_over_another_folder, FileExistsError,
         r"mine exists and is not a synthetic dataset with these parameters.*choose another folder"),
    # notebook parameters (dmmlib.suite.session.start)
    Case("unknown-preset", unknown_preset, ParameterError,
         r"parameter PRESET: PRESET='huge' is not a preset; use one of \['smoke', 'teach', 'paper', 'paper-check', 'auto'\]"),
    Case("negative-epoch-count", negative_epoch_count, ParameterError, r"parameter EPOCHS must be >= 0, got -1"),
    Case("paper-preset-without-data-dir", paper_preset_without_data_dir, ParameterError,
         r"parameter PRESET: PRESET='paper' trains on real CelebA: set DATA_DIR"),
    Case("data-dir-does-not-exist", data_dir_that_does_not_exist, ParameterError,
         r"parameter DATA_DIR='.*celeba-typo': no such folder; pass the dataset's root folder"),
    Case("seed-not-an-integer", non_integer_seed, ParameterError, r"parameter SEED must be an integer, got '0' \(str\)"),
    # photos
    Case("photo-without-a-face", photo_without_a_face, NoFaceFound,
         r"no face found in .*dogs.jpg .*Use a photo with one frontal, well-lit face"),
    Case("empty-image-file", empty_image_file, OSError, r"empty.jpg: not a readable image \(empty file; .*Use a JPEG or PNG"),
    Case("heic-photo", heic_photo, OSError,
         r"IMG_0001.HEIC: not a readable image \(224 bytes; .*Use a JPEG or PNG photo. Readable formats: JPEG, PNG, "
         r".*HEIC/HEIF photos \(the iPhone camera's default format\) are not supported: PIL cannot open them. "
         r"Convert the photo to JPEG first"),
    Case("empty-upload", empty_upload, ValueError, r"the uploaded file 'empty.jpg' is empty; upload a JPEG or PNG photo"),
    # training configuration and checkpoints
    Case("batch-size-0", batch_size_zero, ValueError, r"TrainConfig.batch_size must be >= 1, got 0"),
    Case("unknown-config-field", unknown_config_field, ValueError, r"TrainConfig: unknown fields \['learning_rate'\]"),
    Case("unknown-variant", unknown_variant, ValueError, r"unknown variant 'DMM-XL'; valid variants: Baseline, .*DMM-CNN"),
    Case("truncated-checkpoint", truncated_checkpoint, CheckpointError,
         r"checkpoint.pt: not a readable PyTorch checkpoint \(100 bytes.*delete it to start afresh"),
    Case("checkpoint-with-a-pickled-object", checkpoint_with_a_pickled_object, CheckpointError,
         r"checkpoint.pt: refused to load: it holds pickled Python objects"),
]  # fmt: skip


def snapshot(path: Path | None) -> dict[str, str] | None:
    """Every file under ``path`` (relative name -> SHA-1), or None when ``path`` does not exist."""
    if path is None or not path.exists():
        return None
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest() for p in files}


def test_the_catalogue_has_at_least_15_distinct_cases():
    assert len({case.id for case in CATALOGUE}) == len(CATALOGUE) >= 15


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.id for case in CATALOGUE])
def test_bad_input_is_refused_with_a_clear_message_and_no_partial_output(case, tmp_path, request):
    call, watched = case.setup(Env(tmp_path, request))
    before = snapshot(watched)
    with pytest.raises(case.error, match=case.message):
        call()
    assert snapshot(watched) == before


# --- interrupted work restarts cleanly --------------------------------------------------------------------------
class Interrupted(Exception):
    pass


def interrupt_after(calls: int, function: Callable) -> Callable:
    """``function``, raising :class:`Interrupted` on its call number ``calls + 1``."""
    count = [0]

    def wrapped(*args, **kwargs):
        count[0] += 1
        if count[0] > calls:
            raise Interrupted
        return function(*args, **kwargs)

    return wrapped


def test_interrupted_generation_leaves_nothing_and_a_rerun_equals_a_clean_run(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(dmmlib.data.synthetic, "render", interrupt_after(5, dmmlib.data.synthetic.render))
        with pytest.raises(Interrupted):
            generate(tmp_path / "rerun" / "celeba", 8, progress=False)
    assert list((tmp_path / "rerun").iterdir()) == []  # neither the dataset nor its temporary folder
    rerun = generate(tmp_path / "rerun" / "celeba", 8, progress=False)
    clean = generate(tmp_path / "clean" / "celeba", 8, progress=False)
    assert snapshot(rerun) == snapshot(clean)


def test_interrupted_landmark_extraction_leaves_no_cache_and_a_rerun_equals_a_clean_run(
    synthetic_celeba, tmp_path, monkeypatch
):
    names, five = read_landmarks_5(synthetic_celeba / "Anno/list_landmarks_align_celeba.txt")
    images, five = [str(synthetic_celeba / IMAGES / n) for n in names[:6]], five[:6]
    with monkeypatch.context() as patch:
        patch.setattr(dmmlib.landmarks.extract, "landmarks_for_image",
                          interrupt_after(3, dmmlib.landmarks.extract.landmarks_for_image))
        with pytest.raises(Interrupted):
            cached_dataset_landmarks(images, five, tmp_path / "rerun", progress=False)
    assert not (tmp_path / "rerun").exists() or list((tmp_path / "rerun").iterdir()) == []
    rerun = cached_dataset_landmarks(images, five, tmp_path / "rerun", progress=False)
    clean = cached_dataset_landmarks(images, five, tmp_path / "clean", progress=False)
    assert np.array_equal(rerun[0], clean[0]) and np.array_equal(rerun[1], clean[1])
    assert snapshot(tmp_path / "rerun") == snapshot(tmp_path / "clean")

