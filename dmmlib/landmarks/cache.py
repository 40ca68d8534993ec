"""68 landmarks for a whole dataset, extracted once in parallel processes and cached on disk.

CelebA has 202,599 images; extracting their landmarks takes minutes to hours, so the result is cached in one
``.npz`` file per (ordered file list, five points) pair. The file name carries the first 16 hex digits of a SHA-1 of
both, and the file stores the full digest, so a cache is only ever used for the list it was made from. The list is
what the caller passes: image paths (as given, so a dataset moved to another folder gets a new cache), or a zip's
file name and its member names. Images read from a zip and the same images extracted to a folder therefore have
different keys and two cache files, though the points in them are the same. The file is written to a temporary name
in the same folder and renamed into place: an interrupted run leaves no cache file behind and the next run starts
cleanly.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from dmmlib.files import atomic
from dmmlib.files.filecheck import open_zip
from dmmlib.landmarks import extract
from dmmlib.landmarks.schema import NUM_POINTS, LandmarkSource
from dmmlib.landmarks.shape import five_points_from_68, place_mean_shape

#: Source code stored for an image without five points where the detector found no face (points are NaN).
NO_FACE = -1
CACHE_VERSION = 1

ImageList = Sequence[str | os.PathLike] | tuple[str | os.PathLike, Sequence[str]]

_worker_zip: zipfile.ZipFile | None = None


def _split_images(images: ImageList) -> tuple[Path | None, list[str]]:
    """``(zip path or None, names)`` from a list of paths or a ``(zip path, member names)`` pair."""
    if (
        isinstance(images, tuple)
        and len(images) == 2
        and isinstance(images[0], (str, os.PathLike))
        and not isinstance(images[1], (str, os.PathLike))
    ):
        zip_path = Path(images[0])
        if not zip_path.is_file():
            raise FileNotFoundError(f"image_paths: zip file not found: {zip_path}")
        return zip_path, [str(name) for name in images[1]]
    names = [os.fspath(p) for p in images]
    if not all(isinstance(n, str) for n in names):
        raise TypeError("image_paths: expected paths (str or Path), or a (zip path, member names) pair")
    return None, names


def cache_key(names: Sequence[str], five_points: np.ndarray | None, zip_path: Path | None = None) -> str:
    """SHA-1 (hex) of the ordered image names, the zip's file name if any, and the five points if any."""
    digest = hashlib.sha1(f"dmmlib-landmarks-v{CACHE_VERSION}\n".encode())
    digest.update(f"zip:{zip_path.name if zip_path else ''}\n".encode())
    for name in names:
        digest.update(name.encode("utf-8") + b"\n")
    if five_points is None:
        digest.update(b"five:none")
    else:
        digest.update(b"five:" + np.ascontiguousarray(five_points, dtype=np.float32).tobytes())
    return digest.hexdigest()


def cache_path(cache_dir: str | os.PathLike, key: str) -> Path:
    return Path(cache_dir) / f"landmarks68-{key[:16]}.npz"


def cached_dataset_landmarks(
    image_paths: ImageList,
    five_points: np.ndarray | None,
    cache_dir: str | os.PathLike,
    workers: int = 1,
    progress: bool = True,
    on_mismatch: Literal["error", "rebuild"] = "error",
) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of every image: ``(points (N, 68, 2) float32 pixels, sources (N,) int8)``, cached.

    ``image_paths`` is a list of image files, or ``(zip path, member names)`` for images read straight from a
    zip. ``five_points (N, 5, 2)`` (CelebA order, pixels) selects the fast five-point box per image; without it
    each image goes through dlib's detector, and an image with no face gets NaN points and source ``NO_FACE``.
    Sources are ``LandmarkSource`` codes. ``workers`` processes each load the model once and take chunks of
    images; a tqdm bar shows progress. A cache file for this list that does not match it (renamed or damaged) is
    refused with ``on_mismatch="error"`` and recomputed with ``"rebuild"``.
    """
    zip_path, names = _split_images(image_paths)
    if five_points is not None:
        five_points = np.asarray(five_points, dtype=np.float32)
        if five_points.shape != (len(names), 5, 2):
            raise ValueError(
                f"five_points: expected shape ({len(names)}, 5, 2) for {len(names)} images, got {five_points.shape}"
            )
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if on_mismatch not in ("error", "rebuild"):
        raise ValueError(f"on_mismatch: expected 'error' or 'rebuild', got {on_mismatch!r}")
    key = cache_key(names, five_points, zip_path)
    path = cache_path(cache_dir, key)
    if path.exists():
        cached = _read_cache(path, key, len(names))
        if cached is not None:
            return cached
        if on_mismatch == "error":
            raise ValueError(
                f"landmark cache {path} does not belong to this list of {len(names)} images (it was renamed, "
                "copied from another list, or is damaged). Delete it, or pass on_mismatch='rebuild' to recompute."
            )
    points, sources = _extract(zip_path, names, five_points, workers, progress)
    _write_cache(path, key, points, sources)
    return points, sources


def mean_shape_for_no_face(points: np.ndarray, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Placeholders for the images where the detector found no face (source ``NO_FACE``, NaN points).

    For images that share one size and framing (LFW's 250 x 250 crops, centred on the face): each such image gets
    :data:`~dmmlib.landmarks.shape.MEAN_SHAPE_68` placed by the mean five points of the images where a face was
    found, and the source ``LandmarkSource.MEAN_SHAPE`` (a placeholder, not a measurement: training leaves it out
    of Eq. 1 with ``TrainConfig.mask_placeholder_landmarks``). Where no image has a face the points stay NaN; the
    readers then give the normalised origin (zeros) as the target. Returns new arrays; the inputs are unchanged.
    """
    points = np.array(points, dtype=np.float32)
    sources = np.array(sources, dtype=np.int8)
    missing = sources == NO_FACE
    if missing.any():
        found = ~missing & np.isfinite(points).all(axis=(1, 2))
        if found.any():
            points[missing] = place_mean_shape(five_points_from_68(points[found]).mean(axis=0))
        sources[missing] = int(LandmarkSource.MEAN_SHAPE)
    return points, sources


def _read_cache(path: Path, key: str, count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays, or None when the file is not the cache of ``key`` with ``count`` images."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key or int(data["version"]) != CACHE_VERSION:
                return None
            points, sources = data["points"], data["sources"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    if points.shape != (count, NUM_POINTS, 2) or sources.shape != (count,):
        return None
    return points.astype(np.float32, copy=False), sources.astype(np.int8, copy=False)


def _write_cache(path: Path, key: str, points: np.ndarray, sources: np.ndarray) -> None:
    """Write the cache atomically (see :mod:`dmmlib.files.atomic`): a reader never sees half a cache."""
    atomic.atomic_write(path, lambda handle: np.savez(
        handle, key=np.array(key), version=np.array(CACHE_VERSION), points=points, sources=sources
    ))  # fmt: skip


def _extract(
    zip_path: Path | None, names: list[str], five_points: np.ndarray | None, workers: int, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    count = len(names)
    points = np.full((count, NUM_POINTS, 2), np.nan, dtype=np.float32)
    sources = np.full(count, NO_FACE, dtype=np.int8)
    chunk = max(1, min(256, count // (workers * 8) or 1))
    tasks = [
        (
            start,
            names[start : start + chunk],
            None if five_points is None else five_points[start : start + chunk],
        )
        for start in range(0, count, chunk)
    ]
    bar = tqdm(total=count, desc="dlib landmarks", unit="img", disable=not progress)
    try:
        if workers == 1 or len(tasks) == 1:
            _init_worker(zip_path)
            results = map(_extract_chunk, tasks)
            _store(results, points, sources, bar)
        else:
            # spawn, not fork: a forked copy of a process that holds torch or notebook threads can deadlock.
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, initializer=_init_worker, initargs=(zip_path,)) as pool:
                _store(pool.imap_unordered(_extract_chunk, tasks), points, sources, bar)
    finally:
        bar.close()
        _close_worker_zip()
    return points, sources


def _store(results, points: np.ndarray, sources: np.ndarray, bar) -> None:
    for start, chunk_points, chunk_sources in results:
        points[start : start + len(chunk_points)] = chunk_points
        sources[start : start + len(chunk_sources)] = chunk_sources
        bar.update(len(chunk_points))


def _init_worker(zip_path: Path | None) -> None:
    """Open the zip once per worker; the model loads (once per process) on the first prediction."""
    global _worker_zip
    _close_worker_zip()
    _worker_zip = open_zip(zip_path, "a zip of images") if zip_path is not None else None


def _close_worker_zip() -> None:
    global _worker_zip
    if _worker_zip is not None:
        _worker_zip.close()
        _worker_zip = None


def _open_image(name: str) -> np.ndarray:
    from PIL import Image

    # orient=False: the points must refer to the pixels as stored, which is what the dataset readers decode
    if _worker_zip is None:
        return extract.load_image(name, orient=False)
    try:
        data = _worker_zip.read(name)
    except KeyError:
        raise FileNotFoundError(f"image {name!r} is not in {_worker_zip.filename}") from None
    with Image.open(io.BytesIO(data)) as image:
        return extract.load_image(image, orient=False)


def _extract_chunk(task: tuple[int, list[str], np.ndarray | None]) -> tuple[int, np.ndarray, np.ndarray]:
    start, names, fives = task
    points = np.full((len(names), NUM_POINTS, 2), np.nan, dtype=np.float32)
    sources = np.full(len(names), NO_FACE, dtype=np.int8)
    for i, name in enumerate(names):
        try:
            pixels = _open_image(name)
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot read image {name}: {err}") from err
        try:
            points[i], sources[i] = extract.landmarks_for_image(pixels, None if fives is None else fives[i])
        except extract.NoFaceFound:
            pass
    return start, points, sources
