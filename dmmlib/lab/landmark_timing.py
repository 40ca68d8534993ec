"""The two landmark paths of :mod:`dmmlib.landmarks` timed side by side on CelebA-like crops of real faces.

The faces are those annotated in dlib's example XML files (``paths.shared_testdata()``), each aligned to
CelebA's 178 x 218 template with :mod:`dmmlib.align` so that the crops look like ``img_align_celeba``; their
"given" five points are the annotated ones carried into the crop, as ``list_landmarks_align_celeba.txt`` would give
them. ``bench/landmark_paths.py`` is the full benchmark; this is the small version a notebook runs in seconds.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dmmlib import landmarks
from dmmlib.align import align_face_with_landmarks
from dmmlib.landmarks.shape import five_points_from_68

TESTING_XML = "testing_with_face_landmarks.xml"


def aligned_real_faces(testdata: str | Path, xml_name: str = TESTING_XML,
                       limit: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """``(crop (218, 178, 3) uint8, five points (5, 2) in the crop)`` for the annotated faces of one XML file,
    aligned as CelebA's ``img_align_celeba`` was (``method="celeba"``): the images the fast path is for."""
    faces = landmarks.load_xml_annotations(Path(testdata) / xml_name)[:limit]
    crops = []
    for face in faces:
        if face.points is None:
            raise ValueError(f"{xml_name}: the box of {face.image.name} has no points to align it by")
        aligned = align_face_with_landmarks(
            face.image, five_points=five_points_from_68(face.points), method="celeba"
        )
        crops.append((aligned.image, aligned.five))
    return crops


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls (the median resists the noise of a shared machine)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_paths(crops: list[tuple[np.ndarray, np.ndarray]], repeats: int = 3) -> pd.DataFrame:
    """One row per crop: ms per call of the five-point-box path and of the HOG-detector path, their ratio,
    the mean distance between the two paths' 68 points (px) and the fast path's source code."""
    if not crops:
        raise ValueError("time_paths: no faces given")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    landmarks.predict_landmarks(crops[0][0], (0, 0, 100, 100))  # load the model outside the timings
    rows = []
    for number, (crop, five) in enumerate(crops):
        fast_points, source = landmarks.landmarks_for_image(crop, five)
        try:
            detector_points, _ = landmarks.landmarks_for_image(crop)
            difference = float(np.linalg.norm(fast_points - detector_points, axis=1).mean())
        except landmarks.NoFaceFound:
            difference = float("nan")
        fast = median_seconds(functools.partial(landmarks.landmarks_for_image, crop, five), repeats)
        detector = median_seconds(functools.partial(_detector_path, crop), repeats)
        rows.append({"face": number, "five-point box (ms)": 1e3 * fast, "HOG detector (ms)": 1e3 * detector,
                     "ratio": detector / fast, "point difference (px)": difference,
                     "fast-path source": source.name})  # fmt: skip
    return pd.DataFrame(rows).set_index("face")


def _detector_path(crop: np.ndarray) -> None:
    try:
        landmarks.landmarks_for_image(crop)
    except landmarks.NoFaceFound:
        pass
