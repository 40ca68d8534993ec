"""LFWA: LFW images with the 40 CelebA attributes (released with CelebA), as a torch Dataset.

Files under ``root``:

* ``lfw_att_40.mat``, MATLAB v7.3 (= HDF5 with a 512-byte MATLAB header): ``AttrName`` (cell of 40 names),
  ``name`` (cell of N relative image paths with backslashes, ``Name\\Name_0001.jpg``), ``label`` (N x 40 doubles,
  1 = positive, 0 = negative). Cells are HDF5 object references into ``#refs#``, each a uint16 array of
  character codes; matrices are stored transposed (MATLAB is column-major), so ``label`` is (40, N) on disk.
* ``indices_train_test.mat``: ``indices_img_train``, ``indices_img_test``, 1-based indices into ``name``;
  MATLAB v5 (read with scipy) or v7.3 (read with h5py), whichever the file is.
* image folders in LFW layout, 250 x 250 JPEGs: ``lfw/`` (original) and ``lfw-deepfunneled/``.

The paper fine-tunes on original + deep-funneled copies of the training images and tests on one copy; split
sizes always come from the index file. The same reader serves the real files and the synthetic copies
written by :func:`dmmlib.data.synthetic.generate_lfwa` (which mirror the v7.3 structure).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.decoded_cache import DecodedCache
from dmmlib.data.errors import CorruptImageError, DataFormatError, DatasetNotFoundError, MissingImageError
from dmmlib.data.lfwa_format import read_indices, read_lfw_att_40, write_indices, write_lfw_att_40
from dmmlib.data.transforms import ResizeFlip, Transform, decode_resized, to_uint8_tensor
from dmmlib.landmarks.schema import NUM_POINTS, LandmarkSource, normalise

VERSION_FOLDERS = {"original": "lfw", "deep-funneled": "lfw-deepfunneled"}
ATTRIBUTE_FILE = "lfw_att_40.mat"
INDEX_FILE = "indices_train_test.mat"

__all__ = [
    "LFWA",
    "find_lfwa",
    "read_indices",
    "read_lfw_att_40",
    "synthetic_landmarks",
    "write_indices",
    "write_lfw_att_40",
]


def find_lfwa(root: str | os.PathLike[str]) -> Path:
    """``root`` when it holds LFWA as :class:`LFWA` reads it: :data:`ATTRIBUTE_FILE`, :data:`INDEX_FILE` and both image
    folders of :data:`VERSION_FOLDERS` (the paper fine-tunes on both). A layout check, as
    :func:`dmmlib.data.celeba.find_celeba` is for CelebA: the files are read (and their format checked) when a split
    is opened. Raises :class:`DatasetNotFoundError` naming everything missing and where each part comes from."""
    root = Path(root).expanduser()
    missing = [name for name in (ATTRIBUTE_FILE, INDEX_FILE) if not (root / name).is_file()]
    missing += [f"{folder}/" for folder in VERSION_FOLDERS.values() if not (root / folder).is_dir()]
    if missing:
        raise DatasetNotFoundError(
            f"No LFWA under {root}: missing {', '.join(missing)}. LFWA_DIR must hold {ATTRIBUTE_FILE} and "
            f"{INDEX_FILE} (LFWA's annotations, released with CelebA) and LFW's image folders lfw/ (original, "
            "lfw.tgz) and lfw-deepfunneled/ (lfw-deepfunneled.tgz), each extracted there"
        )
    return root


# ----------------------------------------------------------------------------------------------------- dataset
def synthetic_landmarks(root: str | os.PathLike[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Ground-truth landmarks of a synthetic LFWA copy, in the form :class:`LFWA` takes."""
    out = {}
    for version, folder in VERSION_FOLDERS.items():
        points = np.load(Path(root) / f"landmarks_68_{folder}.npy")
        out[version] = (points, np.full(len(points), int(LandmarkSource.GROUND_TRUTH), dtype=np.int8))
    return out


LandmarkArg = Mapping[str, tuple[np.ndarray, np.ndarray]] | str | None


class LFWA(Dataset):
    """LFWA samples with the same keys as :class:`dmmlib.data.celeba.CelebA`.

    ``versions``: which image copies to use; default both for ``train`` (the paper's protocol), the original
    for ``test``. ``landmarks``:

    * ``None``: zeros (the image centre), source MEAN_SHAPE, for every image;
    * ``"build"``: dlib's 68 points of each image of the split, computed on first use (or by
      :meth:`prepare_landmarks`) and cached in ``landmark_cache_dir`` (required), one cache file per version
      (:func:`dmmlib.landmarks.cached_dataset_landmarks`). LFW's images are not aligned and come without five
      points, so each goes through dlib's HOG detector (upsampling once when it finds no face). An image where no
      face is found gets a placeholder, source MEAN_SHAPE (:func:`dmmlib.landmarks.mean_shape_for_no_face`), which
      training leaves out of Eq. 1 when ``TrainConfig.mask_placeholder_landmarks`` is set (the paper preset's
      fine-tuning sets it);
    * ``{version: (points (N, 68, 2) pixels, sources (N,))}`` indexed like the ``name`` list of ``lfw_att_40.mat``.

    ``cache_mb``: keep the split's decoded, resized images in memory when they fit in this many MiB (0, the
    default: never), for a :class:`~dmmlib.data.transforms.ResizeFlip` transform
    (:mod:`dmmlib.data.decoded_cache`).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        versions: Sequence[str] | None = None,
        transform: Transform | None = None,
        landmarks: LandmarkArg = None,
        check_images: bool = True,
        *,
        landmark_cache_dir: str | os.PathLike[str] | None = None,
        landmark_workers: int = 1,
        cache_mb: float = 0.0,
    ) -> None:
        if split not in ("train", "test"):
            raise ValueError(
                f"LFWA split must be 'train' or 'test' (LFWA has no validation set), got {split!r}"
            )
        self.root = Path(root)
        versions = tuple(versions or (("original", "deep-funneled") if split == "train" else ("original",)))
        unknown = [v for v in versions if v not in VERSION_FOLDERS]
        if unknown:
            raise ValueError(f"unknown LFW version {unknown[0]!r}; choose from {list(VERSION_FOLDERS)}")
        names, self.image_names, self.labels = read_lfw_att_40(self.root / ATTRIBUTE_FILE)
        if names != list(ATTRIBUTES):
            raise DataFormatError(
                self.root / ATTRIBUTE_FILE, f"AttrName differs from CelebA's 40 names: {names[:3]}..."
            )
        train, test = read_indices(self.root / INDEX_FILE)
        chosen = train if split == "train" else test
        if chosen.size and chosen.max() >= len(self.image_names):
            raise DataFormatError(
                self.root / INDEX_FILE,
                f"index {chosen.max() + 1} exceeds the {len(self.image_names)} images of {ATTRIBUTE_FILE}",
                hint=f"The index file and {ATTRIBUTE_FILE} come from different copies; use the pair released "
                "together with CelebA",
            )
        self.split, self.versions, self.transform = split, versions, transform
        self.items = [(v, int(i)) for v in versions for i in chosen]
        self._chosen = np.asarray(chosen, dtype=np.int64)
        self.decoded = DecodedCache(len(self.items), cache_mb)
        self._landmark_request = landmarks
        self._landmark_cache_dir = landmark_cache_dir
        self._landmark_workers = landmark_workers
        if isinstance(landmarks, str):
            if landmarks != "build":
                raise ValueError(
                    f"landmarks must be None, 'build' or {{version: (points, sources)}}, got {landmarks!r}"
                )
            if landmark_cache_dir is None:
                raise ValueError(
                    "landmarks='build' needs landmark_cache_dir=: the folder where dlib's landmarks of LFWA are "
                    "cached (every image goes through dlib's face detector, which takes minutes, so they are kept)"
                )
            self.landmarks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        else:
            self.landmarks = dict(landmarks or {})
        if check_images:
            for version in versions:
                folder = self.root / VERSION_FOLDERS[version]
                absent = [i for i in chosen if not (folder / self.image_names[i]).is_file()]
                if absent:
                    raise MissingImageError(
                        f"{folder / self.image_names[absent[0]]}: image {absent[0] + 1} of {ATTRIBUTE_FILE} is missing "
                        f"({len(absent)} {version} images missing). Extract the LFW archive into {folder}"
                    )

    def prepare_landmarks(self) -> None:
        """Compute (or load from the cache) dlib's landmarks now for ``landmarks="build"``; otherwise a no-op."""
        if self._landmark_request != "build" or self.landmarks:
            return
        from dmmlib.landmarks import cached_dataset_landmarks, mean_shape_for_no_face

        built = {}
        for version in self.versions:
            folder = self.root / VERSION_FOLDERS[version]
            paths = [folder / self.image_names[i] for i in self._chosen]
            cache_dir = self._landmark_cache_dir
            assert cache_dir is not None  # the constructor refuses landmarks="build" without one
            found = cached_dataset_landmarks(paths, None, cache_dir, self._landmark_workers)
            points = np.full((len(self.image_names), NUM_POINTS, 2), np.nan, dtype=np.float32)
            sources = np.full(len(self.image_names), int(LandmarkSource.MEAN_SHAPE), dtype=np.int8)
            points[self._chosen], sources[self._chosen] = mean_shape_for_no_face(*found)
            built[version] = (points, sources)
        self.landmarks = built

    @property
    def landmark_sources(self) -> np.ndarray:
        """The ``LandmarkSource`` code of every sample, in sample order (MEAN_SHAPE where there are none)."""
        self.prepare_landmarks()
        placeholder = int(LandmarkSource.MEAN_SHAPE)
        return np.array(
            [int(self.landmarks[v][1][i]) if v in self.landmarks else placeholder for v, i in self.items],
            dtype=np.int64,
        )

    def source_record(self) -> dict[str, Any]:
        """What this dataset is (:func:`dmmlib.data.source.record`), for a training run's ``config.json``."""
        from dmmlib.data import source

        return source.record("lfwa", self.root)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        self.prepare_landmarks()
        version, i = self.items[index]
        path = self.root / VERSION_FOLDERS[version] / self.image_names[i]
        pair = self.landmarks.get(version)
        placeholder = pair is None or not np.isfinite(pair[0][i]).all()  # none, or no face found: the centre
        source = int(LandmarkSource.MEAN_SHAPE) if pair is None else int(pair[1][i])

        def opened() -> tuple[Image.Image, np.ndarray]:
            image = Image.open(path)
            if placeholder or pair is None:  # (pair is None makes placeholder True)
                return image, np.zeros(2 * NUM_POINTS, np.float32)
            return image, normalise(pair[0][i], *image.size)

        try:
            if isinstance(self.transform, ResizeFlip):
                resize = self.transform  # a local name, so that the lambda sees it narrowed
                prepared = self.decoded.get(index, lambda: resize.prepare(*opened()))
                tensor, coords = resize.augment(*prepared)
            elif self.transform is None:
                image, coords = opened()
                tensor = to_uint8_tensor(decode_resized(image, None))
            else:
                tensor, coords = self.transform(*opened())
        except (OSError, SyntaxError, EOFError, zipfile.BadZipFile) as exc:
            raise CorruptImageError(str(path), exc) from exc
        return {
            "image": tensor,
            "attributes": torch.from_numpy(self.labels[i]),
            "landmarks": torch.from_numpy(np.ascontiguousarray(coords, dtype=np.float32)),
            "landmark_source": torch.tensor(source, dtype=torch.int64),
            "filename": f"{VERSION_FOLDERS[version]}/{self.image_names[i]}",
        }
