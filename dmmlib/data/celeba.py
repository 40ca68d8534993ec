"""Real CelebA (aligned and cropped) on disk, in either layout, extracted or zipped, as a torch Dataset.

Layouts looked for under ``root`` (the first that has the attribute and partition files wins):

* official: ``Anno/list_attr_celeba.txt``, ``Anno/list_landmarks_align_celeba.txt``, ``Eval/list_eval_partition.txt``,
  ``Img/img_align_celeba/`` or ``Img/img_align_celeba.zip``;
* torchvision: the same files flat in ``root/celeba/``;
* torchvision, with ``root`` itself being that ``celeba`` folder.

Images are read lazily from the folder or straight from the official zip (members ``img_align_celeba/000001.jpg``).
File formats, including this project's 68-point landmark file, are in :mod:`dmmlib.data.celeba_format`.
Constructing a dataset reads only the attribute and partition files (plus a listing of the images).
"""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.celeba_format import (
    SPLIT_IDS,
    read_attributes,
    read_landmarks_5,
    read_landmarks_68,
    read_partition,
)
from dmmlib.data.decoded_cache import DecodedCache
from dmmlib.data.errors import CorruptImageError, DataFormatError, DatasetNotFoundError, MissingImageError
from dmmlib.data.image_store import ImageStore, zip_prefix
from dmmlib.data.source import SYNTHETIC_MARKER
from dmmlib.data.transforms import ResizeFlip, Transform, decode_resized, to_uint8_tensor
from dmmlib.files.filecheck import looks_like
from dmmlib.landmarks.schema import NUM_POINTS, LandmarkSource, normalise

__all__ = [
    "CelebA", "CelebAFiles", "ChecksumReport", "find_celeba", "read_attributes", "read_landmarks_5",
    "read_landmarks_68", "read_partition", "verify_checksums",
]  # fmt: skip

#: MD5 of the released files, as listed by torchvision.datasets.CelebA.
CHECKSUMS: dict[str, str] = {
    "list_attr_celeba.txt": "75e246fa4810816ffd6ee81facbd244c",
    "identity_CelebA.txt": "32bd1bd63d3c78cd57e08160ec5ed1e2",
    "list_bbox_celeba.txt": "00566efa6fedff7a56946cd1c10f1c16",
    "list_landmarks_align_celeba.txt": "cc24ecafdb5b50baae59b03474781f8c",
    "list_eval_partition.txt": "d32c9cbf5e040fd4025c592c306e6668",
    "img_align_celeba.zip": "00d2c5bc6d35e252742224ab0c1e8fcb",
}
LANDMARKS_68_FILE = "list_landmarks_68_align_celeba.txt"
IMAGE_FOLDER = "img_align_celeba"
_LAYOUTS = (
    ("official", "", {"attributes": "Anno", "partition": "Eval", "other": "Anno", "images": "Img"}),
    ("torchvision", "celeba", None),
    ("torchvision (root is the celeba folder)", "", None),
)
_FILENAMES = {
    "attributes": "list_attr_celeba.txt",
    "partition": "list_eval_partition.txt",
    "landmarks_5": "list_landmarks_align_celeba.txt",
    "landmarks_68": LANDMARKS_68_FILE,
    "identity": "identity_CelebA.txt",
    "bbox": "list_bbox_celeba.txt",
}


@dataclass(frozen=True)
class CelebAFiles:
    """Where one CelebA copy's files are. ``images`` is a folder or a zip (then ``zip_prefix`` applies)."""

    root: Path
    layout: str
    attributes: Path
    partition: Path
    images: Path
    zip_prefix: str = ""
    landmarks_5: Path | None = None
    landmarks_68: Path | None = None
    identity: Path | None = None
    bbox: Path | None = None

    @property
    def is_synthetic(self) -> bool:
        return (self.root / SYNTHETIC_MARKER).is_file()


def _image_location(folder: Path) -> tuple[Path, str] | None:
    extracted = folder / IMAGE_FOLDER
    if extracted.is_dir():
        nested = extracted / IMAGE_FOLDER  # the zip extracted into a folder of the same name
        if nested.is_dir() and not (extracted / "000001.jpg").exists():
            extracted = nested
        return extracted, ""
    archive = folder / f"{IMAGE_FOLDER}.zip"
    if archive.is_file():
        return archive, zip_prefix(archive, IMAGE_FOLDER)
    return None


def find_celeba(root: str | os.PathLike[str]) -> CelebAFiles:
    """Locate CelebA's files under ``root`` in the official or torchvision layout (see the module docstring)."""
    root = Path(root).expanduser()
    looked: list[str] = []
    for layout, sub, folders in _LAYOUTS:
        base = root / sub
        where = folders or {"attributes": "", "partition": "", "other": "", "images": ""}
        attributes = base / where["attributes"] / _FILENAMES["attributes"]
        partition = base / where["partition"] / _FILENAMES["partition"]
        looked.append(f"{layout}: {attributes}, {partition}")
        if not (attributes.is_file() and partition.is_file()):
            continue
        images = _image_location(base / where["images"])
        if images is None:
            raise DatasetNotFoundError(
                f"{root}: found CelebA's annotation files ({layout} layout) but no images: expected the folder "
                f"{base / where['images'] / IMAGE_FOLDER} or the zip {base / where['images'] / IMAGE_FOLDER}.zip"
            )
        optional = {
            key: (base / where["other"] / _FILENAMES[key])
            for key in ("landmarks_5", "landmarks_68", "identity", "bbox")
        }
        return CelebAFiles(
            root=base, layout=layout, attributes=attributes, partition=partition, images=images[0],
            zip_prefix=images[1], **{k: (p if p.is_file() else None) for k, p in optional.items()},
        )  # fmt: skip
    raise DatasetNotFoundError(
        f"No CelebA dataset under {root}. Looked for these layouts:\n  "
        + "\n  ".join(looked)
        + "\nDownload CelebA "
        "by hand (the Google Drive quota often blocks scripts) or generate a synthetic copy with "
        "`python -m dmmlib.data.synthetic --out DIR --num N`"
    )


@dataclass
class ChecksumReport:
    """MD5 check of CelebA's released files: one ``(filename, status, path)`` row each; status is
    ``ok``, ``mismatch`` (a modified or synthetic copy), ``missing``, or, for a file that is plainly not the
    released one, ``empty`` or ``html page`` (a failed download saved under the file's name)."""

    rows: list[tuple[str, str, Path | None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(status == "ok" for _, status, _ in self.rows)

    def __str__(self) -> str:
        lines = [f"{name:34s} {status:9s} {path or ''}" for name, status, path in self.rows]
        verdict = (
            "all files match the released CelebA" if self.ok else "some files differ from the released CelebA"
        )
        if any(status in ("empty", "html page") for _, status, _ in self.rows):
            verdict += (
                "; an empty file or an HTML page is a failed download (Google Drive's quota or sign-in page saved "
                "under the file's name): download those files again"
            )
        return "\n".join([*lines, verdict])


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksums(root: str | os.PathLike[str] | CelebAFiles, include_zip: bool = False) -> ChecksumReport:
    """Compare the five text files (and, if asked, the 1.4 GB image zip) with the released MD5 sums."""
    files = root if isinstance(root, CelebAFiles) else find_celeba(root)
    found = {
        "list_attr_celeba.txt": files.attributes, "list_eval_partition.txt": files.partition,
        "list_landmarks_align_celeba.txt": files.landmarks_5, "identity_CelebA.txt": files.identity,
        "list_bbox_celeba.txt": files.bbox,
    }  # fmt: skip
    if include_zip:
        found["img_align_celeba.zip"] = files.images if files.images.suffix == ".zip" else None
    report = ChecksumReport()
    for name, path in found.items():
        if path is None:
            report.rows.append((name, "missing", None))
        elif md5sum(path) == CHECKSUMS[name]:
            report.rows.append((name, "ok", path))
        else:
            kind = looks_like(path)
            status = "mismatch" if kind is None else "empty" if kind == "empty" else "html page"
            report.rows.append((name, status, path))
    return report


#: CelebA's released split (FACTS §1; ``list_eval_partition.txt`` of the release): images per split.
RELEASED_SPLIT = {"train": 162_770, "valid": 19_867, "test": 19_962}


def compare_with_released_split(partition: Path, counts: tuple[int, int, int]) -> str:
    """How a copy's train / valid / test sizes (``counts``, from ``partition``) compare with the release.

    Returns "" for the released split, and a warning sentence for a copy with another number of images (a subset,
    such as a small real-format folder for a check run: its accuracies will not compare with the paper's). Raises
    :class:`DataFormatError` for a copy with the release's number of images split otherwise: that is not the
    released ``list_eval_partition.txt``, and a replication on it would train and test on other images.
    """
    released = tuple(RELEASED_SPLIT.values())
    if tuple(counts) == released:
        return ""
    shown = " / ".join(f"{c:,}" for c in counts)
    if sum(counts) == sum(released):
        raise DataFormatError(
            partition, f"splits of {shown} images, not the released {' / '.join(f'{c:,}' for c in released)}",
            hint="Use the list_eval_partition.txt released with CelebA",
        )
    return (f"this copy has {sum(counts):,} images ({shown}), not the released {sum(released):,}: a subset or "
            "another dataset in CelebA's format; its accuracies will not compare with the paper's")  # fmt: skip


def _check_agreement(files: CelebAFiles, attr_names: list[str], part_names: list[str]) -> None:
    if attr_names == part_names:
        return
    for k, (a, p) in enumerate(zip(attr_names, part_names)):
        if a != p:
            raise DataFormatError(
                files.partition, f"names {p} where {files.attributes.name} line {k + 3} names {a}", line=k + 1,
                hint="The attribute and partition files come from different copies; re-download both",
            )  # fmt: skip
    raise DataFormatError(
        files.partition,
        f"lists {len(part_names)} images but {files.attributes} lists {len(attr_names)}",
        line=min(len(attr_names), len(part_names)) + 1,
        hint="The attribute and partition files come from different copies; re-download both",
    )


LandmarkArg = str | tuple[np.ndarray, np.ndarray] | None


class CelebA(Dataset):
    """CelebA as dict samples: ``image`` uint8 (3, H, W), ``attributes`` int8 (40,) +1/-1, ``landmarks``
    float32 (136,) normalised, ``landmark_source`` int64, ``filename`` str.

    ``landmarks``: ``None`` (zeros, source MEAN_SHAPE), ``"file"`` (the 68-point file beside the 5-point one),
    ``"build"`` (dlib via :func:`dmmlib.landmarks.cached_dataset_landmarks`, computed on first use and cached in
    ``landmark_cache_dir``, which it then requires), or a pair ``(points (N, 68, 2) pixels, sources (N,))`` for
    this split's N images or for all images in file order. With the images in ``img_align_celeba.zip`` they are
    read straight from the zip, nothing is extracted. The cache is keyed by the image list (see
    :func:`dmmlib.landmarks.cache.cache_key`): paths on disk for a folder, the zip's file name and member names for
    a zip, so a copy read from the zip and the same copy extracted each get their own cache file (equal points).
    ``transform``: see :mod:`dmmlib.data.transforms`; ``None`` keeps the full-size image.
    ``skip_corrupt``: replace an undecodable image by the next decodable one and record it in :attr:`skipped`
    (instead of raising :class:`CorruptImageError`).
    ``cache_mb``: keep the split's decoded, resized images in memory when they fit in this many MiB (0, the
    default: never), for a :class:`~dmmlib.data.transforms.ResizeFlip` transform; results are unchanged
    (:mod:`dmmlib.data.decoded_cache`).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        transform: Transform | None = None,
        landmarks: LandmarkArg = None,
        skip_corrupt: bool = False,
        *,
        landmark_cache_dir: str | os.PathLike[str] | None = None,
        landmark_workers: int = 1,
        check_images: bool = True,
        cache_mb: float = 0.0,
    ) -> None:
        if split not in (*SPLIT_IDS, "all"):
            raise ValueError(f"split must be 'train', 'valid', 'test' or 'all', got {split!r}")
        self.files = find_celeba(root)
        self.given_root = str(root)
        self.split = split
        self.transform = transform
        self.skip_corrupt = skip_corrupt
        self.skipped: dict[str, str] = {}
        names, filenames, values = read_attributes(self.files.attributes)
        if names != list(ATTRIBUTES):
            wrong = next((k for k, (a, b) in enumerate(zip(names, ATTRIBUTES)) if a != b), min(len(names), 40))
            found = names[wrong] if wrong < len(names) else "nothing"
            expected = ATTRIBUTES[wrong] if wrong < len(ATTRIBUTES) else "nothing"
            raise DataFormatError(
                self.files.attributes,
                f"expected CelebA's 40 attribute names in file order; name {wrong + 1} is {found!r} where CelebA "
                f"has {expected!r} ({len(names)} names found)", 2,
                hint="Restore line 2 from the released list_attr_celeba.txt",
            )  # fmt: skip
        part_names, split_ids = read_partition(self.files.partition)
        _check_agreement(self.files, filenames, part_names)
        keep = np.arange(len(filenames)) if split == "all" else np.flatnonzero(split_ids == SPLIT_IDS[split])
        self.indices = keep  # positions in file order
        self._total = len(filenames)
        self.filenames = [filenames[i] for i in keep]
        self.attributes = torch.from_numpy(values[keep])
        self.store = ImageStore(self.files.images, self.files.zip_prefix)
        self.decoded = DecodedCache(len(keep), cache_mb)
        if check_images:
            self._check_images()
        self._landmark_request = landmarks
        self._landmark_cache_dir = landmark_cache_dir
        self._landmark_workers = landmark_workers
        self._points: np.ndarray | None = None
        # MEAN_SHAPE (no landmarks) until a table, the file or prepare_landmarks ("build") sets them
        self._sources = np.full(len(keep), int(LandmarkSource.MEAN_SHAPE), dtype=np.int64)
        if landmarks is None:
            pass
        elif isinstance(landmarks, tuple):
            self._set_landmarks(*landmarks)
        elif landmarks == "file":
            self._read_landmark_file()
        elif landmarks == "build" and landmark_cache_dir is None:
            raise ValueError(
                "landmarks='build' needs landmark_cache_dir=: the folder where dlib's landmarks of this dataset are "
                "cached (computing them for all of CelebA takes minutes to hours, so they are kept)"
            )
        elif landmarks != "build":
            raise ValueError(
                f"landmarks must be None, 'file', 'build' or (points, sources), got {landmarks!r}"
            )

    def _check_images(self) -> None:
        present = self.store.names()
        missing = [k for k, name in enumerate(self.filenames) if name not in present]
        if missing:
            first = self.filenames[missing[0]]
            raise MissingImageError(
                f"{self.files.partition}, line {int(self.indices[missing[0]]) + 1}: names {first}, which is not in "
                f"{self.store.location} ({len(missing)} of {len(self.filenames)} {self.split} images missing). "
                "Re-extract the images, or pass check_images=False to find out only when an image is read"
            )

    def _set_landmarks(self, points: np.ndarray, sources: np.ndarray) -> None:
        points = np.asarray(points, dtype=np.float32)
        sources = np.asarray(sources, dtype=np.int64)
        if points.ndim != 3 or points.shape[1:] != (NUM_POINTS, 2) or len(sources) != len(points):
            raise ValueError(
                f"landmarks: expected points (N, 68, 2) and sources (N,), got {points.shape}, {sources.shape}"
            )
        if len(points) == self._total and len(points) != len(self.filenames):
            points, sources = points[self.indices], sources[self.indices]
        elif len(points) != len(self.filenames):
            raise ValueError(
                f"landmarks: {len(points)} rows, but the {self.split} split has {len(self.filenames)} images "
                f"and the dataset {self._total}"
            )
        self._points, self._sources = points, sources

    def _read_landmark_file(self) -> None:
        path = self.files.landmarks_68
        if path is None:
            raise FileNotFoundError(
                f"landmarks='file' needs {LANDMARKS_68_FILE} beside list_landmarks_align_celeba.txt in "
                f"{self.files.attributes.parent}; only synthetic copies ship it. For real CelebA use landmarks='build'"
            )
        names, points = read_landmarks_68(path)
        position = {name: k for k, name in enumerate(names)}
        absent = [n for n in self.filenames if n not in position]
        if absent:
            raise DataFormatError(
                path, f"has no landmarks for {absent[0]} ({len(absent)} images without landmarks)"
            )
        source = LandmarkSource.GROUND_TRUTH if self.files.is_synthetic else LandmarkSource.ANNOTATED
        self._points = points[[position[n] for n in self.filenames]]
        self._sources = np.full(len(self.filenames), int(source), dtype=np.int64)

    @property
    def landmark_table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(points (N, 68, 2) float32 pixels, sources (N,))`` of this split, or None until
        :meth:`prepare_landmarks` has run for ``landmarks="build"``; can be passed as ``landmarks`` to another
        ``CelebA`` of the same split."""
        return None if self._points is None else (self._points, self._sources)

    def prepare_landmarks(self) -> None:
        """Compute (or load from cache) dlib landmarks now for ``landmarks="build"``; otherwise a no-op."""
        if self._landmark_request != "build" or self._points is not None:
            return
        from dmmlib.landmarks import cached_dataset_landmarks

        if self.files.landmarks_5 is None:
            raise FileNotFoundError(
                f"landmarks='build' needs list_landmarks_align_celeba.txt in {self.files.attributes.parent}"
            )
        names, five = read_landmarks_5(self.files.landmarks_5)
        position = {name: k for k, name in enumerate(names)}
        five = five[[position[n] for n in self.filenames]]
        images = self.store.image_list(self.filenames)  # files, or members read straight from the zip
        cache_dir = self._landmark_cache_dir
        assert cache_dir is not None  # the constructor refuses landmarks="build" without one
        points, sources = cached_dataset_landmarks(images, five, cache_dir, self._landmark_workers)
        self._set_landmarks(points, sources)

    def source_record(self) -> dict[str, Any]:
        """What this dataset is (:func:`dmmlib.data.source.record`), for a training run's ``config.json``."""
        from dmmlib.data import source

        return source.record("celeba", self.given_root, self.files.root)

    def __len__(self) -> int:
        return len(self.filenames)

    def _load(self, index: int, points: np.ndarray | None) -> tuple[torch.Tensor, np.ndarray]:
        name = self.filenames[index]
        try:
            if isinstance(self.transform, ResizeFlip):
                resize = self.transform  # a local name, so that the lambda sees it narrowed
                prepared = self.decoded.get(index, lambda: resize.prepare(*self._open(name, points)))
                return resize.augment(*prepared)
            image, coords = self._open(name, points)
            if self.transform is None:
                return to_uint8_tensor(decode_resized(image, None)), coords
            return self.transform(image, coords)
        except (OSError, SyntaxError, EOFError, zipfile.BadZipFile, Image.DecompressionBombError) as exc:
            raise CorruptImageError(self.store.describe(name), exc) from exc

    def _open(self, name: str, points: np.ndarray | None) -> tuple[Image.Image, np.ndarray]:
        """The image (opened, not decoded) and its landmarks normalised to the image as stored."""
        image = self.store.open(name)
        if points is None:
            return image, np.zeros(2 * NUM_POINTS, dtype=np.float32)
        return image, normalise(points, *image.size)

    def __getitem__(self, index: int) -> dict:
        if self._landmark_request == "build" and self._points is None:
            self.prepare_landmarks()
        for attempt in range(len(self)):
            k = (index + attempt) % len(self)
            try:
                image, coords = self._load(k, None if self._points is None else self._points[k])
            except CorruptImageError as exc:
                if not self.skip_corrupt:
                    raise
                if self.filenames[k] not in self.skipped:
                    self.skipped[self.filenames[k]] = str(exc.cause)
                    warnings.warn(f"skipping corrupt image {exc.path}: {exc.cause}", stacklevel=2)
                continue
            return {
                "image": image,
                "attributes": self.attributes[k],
                "landmarks": torch.from_numpy(np.ascontiguousarray(coords, dtype=np.float32)),
                "landmark_source": torch.tensor(self._sources[k], dtype=torch.int64),
                "filename": self.filenames[k],
            }
        raise CorruptImageError(str(self.store.location), OSError("no image of this split can be decoded"))

    def scan_corrupt(self) -> dict[str, str]:
        """Decode every image of the split; returns ``{filename: error}`` for those that fail (slow: reads all)."""
        bad: dict[str, str] = {}
        for name in self.filenames:
            try:
                with self.store.open(name) as image:
                    image.load()
            except (OSError, SyntaxError, EOFError, zipfile.BadZipFile) as exc:
                bad[name] = f"{type(exc).__name__}: {exc}"
        return bad

    def skipped_report(self) -> str:
        """The corrupt images this process skipped so far (``skip_corrupt=True``), one per line."""
        if not self.skipped:
            return "no corrupt images skipped"
        return "\n".join(f"{name}: {error}" for name, error in sorted(self.skipped.items()))
