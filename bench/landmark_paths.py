"""Landmark paths on real faces: the five-point box fast path against the HOG-detector path, side by side.

    python -m bench.landmark_paths            # compare both paths' points and per-image costs
    python -m bench.landmark_paths calibrate    # refit the BOX_* constants of dmmlib.landmarks (prints them)
    python -m bench.landmark_paths mean-shape   # regenerate dmmlib/landmarks/mean_shape_68.csv

Faces: dlib's example photos (``../shared/testdata/dlib-faces``), each annotated face aligned to CelebA's
178 x 218 template with ``dmmlib.align`` (and mirrored, doubling the set), so the crops look like
``img_align_celeba``. Their "given" five points are the annotated ones carried into the crop, as CelebA's
``list_landmarks_align_celeba.txt`` would give them. The box constants are calibrated on the training XML's faces
and measured here on the testing XML's faces, so the point difference is out of sample.

Its goal is the fast path's accuracy (mean point difference under 1 px); the per-image costs are a breakdown. It is
not part of ``make bench`` any more: its former goal, the detector path at least 10x slower than the fast path,
measured dlib rather than the project (on CelebA's aligned 178 x 218 crops the HOG detector costs only about two
predictor calls). What a replicator waits for, minutes for all of CelebA and LFWA through the cache, is
``bench/landmark_scale.py``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from bench.common import (
    CPU_CLOCK,
    interleaved,
    median_ratio,
    print_entry,
    python_profile,
    record,
    rounded,
)
from dmmlib import landmarks
from dmmlib.align import align_face_with_landmarks
from dmmlib.landmarks.schema import LandmarkSource
from dmmlib.landmarks.shape import (
    MEAN_SHAPE_FILE,
    compute_mean_shape,
    five_points_from_68,
    mean_shape_csv_text,
)
from dmmlib.suite.paths import repo_root, shared_testdata

CELEBA_IMAGES = 202_599
TRAINING_XML = "training_with_face_landmarks.xml"
TESTING_XML = "testing_with_face_landmarks.xml"
GOAL_PX = 1.0  # the fast path's points within 1 px of the detector path's, on average


def aligned_crops(xml_name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(crop, five points in the crop)`` for every annotated face of one XML file, and for its mirror image,
    aligned as CelebA's ``img_align_celeba`` was (``method="celeba"``)."""
    crops = []
    for face in landmarks.load_xml_annotations(shared_testdata() / xml_name):
        aligned = align_face_with_landmarks(
            face.image, five_points=five_points_from_68(face.points), method="celeba"
        )
        crops.append((aligned.image, aligned.five))
        mirrored = np.ascontiguousarray(aligned.image[:, ::-1])
        five = aligned.five[[1, 0, 2, 4, 3]].copy()
        five[:, 0] = aligned.image.shape[1] - 1 - five[:, 0]
        crops.append((mirrored, five))
    return crops


def calibrate() -> dict[str, float]:
    """Fit the BOX_* constants: five points from dlib's 68 in the detector's box, against that box."""
    fives, boxes = [], []
    for crop, _ in aligned_crops(TRAINING_XML):
        found = landmarks.detect_faces(crop) or landmarks.detect_faces(crop, upsample=1)
        if found:
            fives.append(five_points_from_68(landmarks.predict_landmarks(crop, found[0])))
            boxes.append(found[0])
    constants = landmarks.calibrate_five_point_box(np.stack(fives), np.array(boxes))
    print(f"calibrated on {len(boxes)} aligned crops (faces of {TRAINING_XML} and their mirror images)")
    for name, value in constants.items():
        print(f"{name} = {value:.4f}")
    return constants


MEAN_SHAPE_HEADER = """The mean 68-point face shape (iBUG order); generated data, do not edit by hand.
How it was obtained: the 43 faces annotated in dlib's training_with_face_landmarks.xml and
testing_with_face_landmarks.xml (../shared/testdata/dlib-faces; points by shape_predictor_68_face_landmarks),
each also mirrored through FLIP_PERMUTATION, aligned by similarity transforms (generalised Procrustes,
dmmlib.landmarks.shape.compute_mean_shape) and averaged. Unit frame: x along the line of the eyes, y down, the
eye centres (means of points 36-41 and 42-47) at (-0.5, 0) and (+0.5, 0); one unit is the eye-centre distance.
Regenerate with `python -m bench.landmark_paths mean-shape`; a test checks this table against that computation."""


def annotated_shapes() -> np.ndarray:
    faces = []
    for name in (TRAINING_XML, TESTING_XML):
        faces += landmarks.load_xml_annotations(shared_testdata() / name)
    return np.stack([face.points for face in faces])


def write_mean_shape() -> None:
    target = repo_root() / "dmmlib" / "landmarks" / MEAN_SHAPE_FILE
    target.write_text(mean_shape_csv_text(compute_mean_shape(annotated_shapes()), MEAN_SHAPE_HEADER))
    print(f"wrote {target}")


def point_differences(crops: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list[float], int]:
    """Mean distance (px) between the two paths' 68 points, per crop; and how often the fast path fell back."""
    diffs, fallbacks = [], 0
    for crop, five in crops:
        fast_points, fast_source = landmarks.landmarks_for_image(crop, five)
        detector_points, _ = landmarks.landmarks_for_image(crop)
        fallbacks += fast_source != LandmarkSource.FIVE_POINT_BOX
        diffs.append(float(np.linalg.norm(fast_points - detector_points, axis=1).mean()))
    return diffs, fallbacks


def run(rounds: int = 9) -> dict:
    """Both paths over all crops per round, alternating; plus dlib's bare predictor call on the same boxes (RGB
    and greyscale arrays) and the JPEG decode both paths pay, to show where the fast path's time goes."""
    import dlib

    crops = aligned_crops(TESTING_XML)
    landmarks.predict_landmarks(crops[0][0], (0, 0, 100, 100))  # load the model outside the timings
    predictor = landmarks._predictor()
    rects = [dlib.rectangle(*landmarks.box_from_five_points(five)) for _, five in crops]
    greys = [np.ascontiguousarray(np.asarray(Image.fromarray(crop).convert("L"))) for crop, _ in crops]
    jpegs = []
    for crop, _ in crops:
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, format="JPEG", quality=95)
        jpegs.append(buffer.getvalue())
    works = {
        "five_point_box": lambda: [landmarks.landmarks_for_image(c, f) for c, f in crops],
        "detector": lambda: [landmarks.landmarks_for_image(c) for c, _ in crops],
        "dlib_predictor_rgb": lambda: [predictor(c, r) for (c, _), r in zip(crops, rects)],
        "dlib_predictor_grey": lambda: [predictor(g, r) for g, r in zip(greys, rects)],
        "jpeg_decode": lambda: [landmarks.load_image(Image.open(io.BytesIO(j))) for j in jpegs],
    }
    times = interleaved(works, rounds, warmup=1, clock=CPU_CLOCK)
    n = len(crops)
    per_image = {k: statistics.median(v) / n for k, v in times.items()}
    ratio = median_ratio(times["detector"], times["five_point_box"])
    dlib_share = median_ratio(times["dlib_predictor_rgb"], times["five_point_box"])
    grey_vs_rgb = median_ratio(times["dlib_predictor_grey"], times["dlib_predictor_rgb"])
    profile = {path: python_profile(works[path], top=5) for path in ("five_point_box", "detector")}
    diffs, fallbacks = point_differences(crops)
    mean_diff = statistics.mean(diffs)
    decode = per_image["jpeg_decode"]
    estimate = {
        f"{cores}_cores": {path: round(CELEBA_IMAGES * (per_image[path] + decode) / cores / 60, 1)
                           for path in ("five_point_box", "detector")}
        for cores in (2, 16)
    }  # fmt: skip
    entry = record(
        mean_diff, GOAL_PX, "<=",
        meaning=f"mean point difference (px), five-point box path vs HOG detector path ({n} real aligned faces)",
        raw={"detector_over_five_point_time": round(ratio, 3), "ms_per_image": {k: round(v * 1e3, 3) for k, v in per_image.items()},
             "mean_point_difference_px": round(mean_diff, 3), "max_point_difference_px": round(max(diffs), 3),
             "fast_path_fallbacks": fallbacks, "dlib_predictor_share_of_fast_path": round(dlib_share, 4),
             "grey_over_rgb_predictor": round(grey_vs_rgb, 4), "celeba_minutes_incl_decode": estimate,
             "seconds": {k: rounded(v) for k, v in times.items()}, "images": n, "rounds": rounds,
             "clock": "process_time", "profile": profile},
        note=f"detector path / five-point path: x{ratio:.2f} per image; dlib's own predictor call is "
             f"{100 * dlib_share:.0f}% of the fast path ({per_image['dlib_predictor_rgb'] * 1e3:.2f} ms; the "
             f"design figure is ~0.5 ms), greyscale input changes it by x{grey_vs_rgb:.2f}. Whole CelebA incl. "
             f"decode: 2 cores {estimate['2_cores']['five_point_box']} min (detector "
             f"{estimate['2_cores']['detector']} min), 16 cores {estimate['16_cores']['five_point_box']} min "
             f"(detector {estimate['16_cores']['detector']} min). Profiled: fast path "
             + "; ".join(f"{row['function']} {100 * row['share']:.0f}%" for row in profile["five_point_box"][:2])
             + " | detector path "
             + "; ".join(f"{row['function']} {100 * row['share']:.0f}%" for row in profile["detector"][:2]),
    )  # fmt: skip
    return entry


def bench(rounds: int) -> None:
    entry = run(rounds)
    raw = entry["raw"]
    print(f"{raw['images']} aligned 178x218 crops ({TESTING_XML} faces and mirror images), {rounds} rounds")
    for name, ms in raw["ms_per_image"].items():
        print(f"{name:20s}: {ms:7.2f} ms/image (CPU)")
    print(f"whole CelebA ({CELEBA_IMAGES:,} images), decode included, one process per core, ideal scaling:")
    for cores, minutes in raw["celeba_minutes_incl_decode"].items():
        print(
            f"  {cores}: five-point box {minutes['five_point_box']:6.1f} min, detector {minutes['detector']:6.1f} min"
        )
    print_entry("landmarks", entry)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="bench", choices=["bench", "calibrate", "mean-shape"])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds over all faces (default 9)")
    args = parser.parse_args(argv)
    if not Path(shared_testdata()).is_dir():
        print(f"needs the real test photos in {shared_testdata()} (see DESIGN.md section 6)", file=sys.stderr)
        return 2
    {"bench": lambda: bench(args.rounds), "calibrate": calibrate, "mean-shape": write_mean_shape}[
        args.command
    ]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
