"""Landmark paths on real faces: the five-point box fast path against the HOG-detector path, side by side.

    python bench/landmark_paths.py              # time both paths, compare their points, estimate all of CelebA
    python bench/landmark_paths.py calibrate    # refit the BOX_* constants of dmmlib.landmarks (prints them)
    python bench/landmark_paths.py mean-shape   # regenerate dmmlib/landmarks_mean_data.py

Faces: dlib's example photos (``../shared/testdata/dlib-faces``), each annotated face aligned to CelebA's
178 x 218 template with ``dmmlib.align`` (and mirrored, doubling the set), so the crops look like
``img_align_celeba``. Their "given" five points are the annotated ones carried into the crop, as CelebA's
``list_landmarks_align_celeba.txt`` would give them. The box constants are calibrated on the training XML's faces
and measured here on the testing XML's faces, so the point difference is out of sample.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from dmmlib import landmarks
from dmmlib.align import align_face_with_landmarks
from dmmlib.landmark_schema import LandmarkSource
from dmmlib.landmarks_shape import compute_mean_shape, five_points_from_68
from dmmlib.paths import repo_root, shared_testdata

CELEBA_IMAGES = 202_599
TRAINING_XML = "training_with_face_landmarks.xml"
TESTING_XML = "testing_with_face_landmarks.xml"


def aligned_crops(xml_name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(crop, five points in the crop)`` for every annotated face of one XML file, and for its mirror image."""
    crops = []
    for face in landmarks.load_xml_annotations(shared_testdata() / xml_name):
        aligned = align_face_with_landmarks(face.image, five_points=five_points_from_68(face.points))
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


def mean_shape_module_text(mean: np.ndarray) -> str:
    rows = "\n".join(f"        [{x:.5f}, {y:.5f}]," for x, y in mean.tolist())
    return f'''"""The mean 68-point face shape (iBUG order); generated data, do not edit by hand.

How it was obtained: the 43 faces annotated in dlib's ``training_with_face_landmarks.xml`` and
``testing_with_face_landmarks.xml`` (``../shared/testdata/dlib-faces``; points by ``shape_predictor_68_face_landmarks``),
each also mirrored through ``FLIP_PERMUTATION``, aligned by similarity transforms (generalised Procrustes,
``dmmlib.landmarks_shape.compute_mean_shape``) and averaged. Unit frame: x along the line of the eyes, y down, the
eye centres (means of points 36-41 and 42-47) at (-0.5, 0) and (+0.5, 0); one unit is the eye-centre distance.
Regenerate with ``python bench/landmark_paths.py mean-shape``; a test checks this table against that computation.
"""

import numpy as np

MEAN_SHAPE_68: np.ndarray = np.array(
    [
{rows}
    ],
    dtype=np.float32,
)
MEAN_SHAPE_68.setflags(write=False)
'''


def annotated_shapes() -> np.ndarray:
    faces = []
    for name in (TRAINING_XML, TESTING_XML):
        faces += landmarks.load_xml_annotations(shared_testdata() / name)
    return np.stack([face.points for face in faces])


def write_mean_shape() -> None:
    target = repo_root() / "dmmlib" / "landmarks_mean_data.py"
    target.write_text(mean_shape_module_text(compute_mean_shape(annotated_shapes())))
    print(f"wrote {target}")


def per_call_seconds(function: Callable[[], object], repeats: int) -> float:
    """Median over ``repeats`` timed calls (the median resists the noise of a shared machine)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(repeats: int) -> None:
    crops = aligned_crops(TESTING_XML)
    landmarks.predict_landmarks(crops[0][0], (0, 0, 100, 100))  # load the model outside the timings
    jpegs = []
    for crop, _ in crops:
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, format="JPEG", quality=95)
        jpegs.append(buffer.getvalue())

    fast_s, detector_s, decode_s, diffs, fallbacks = [], [], [], [], 0
    for (crop, five), jpeg in zip(crops, jpegs):
        fast_points, fast_source = landmarks.landmarks_for_image(crop, five)
        detector_points, _ = landmarks.landmarks_for_image(crop)
        fallbacks += fast_source != LandmarkSource.FIVE_POINT_BOX
        diffs.append(float(np.linalg.norm(fast_points - detector_points, axis=1).mean()))
        fast_s.append(per_call_seconds(lambda c=crop, f=five: landmarks.landmarks_for_image(c, f), repeats))
        detector_s.append(per_call_seconds(lambda c=crop: landmarks.landmarks_for_image(c), repeats))
        decode_s.append(
            per_call_seconds(lambda j=jpeg: landmarks.load_image(Image.open(io.BytesIO(j))), repeats)
        )

    fast, detector, decode = (statistics.mean(x) for x in (fast_s, detector_s, decode_s))
    print(
        f"{len(crops)} aligned 178x218 crops ({TESTING_XML} faces and mirror images), median of {repeats} runs each"
    )
    print(f"five-point box path : {fast * 1e3:7.2f} ms/image")
    print(f"HOG detector path   : {detector * 1e3:7.2f} ms/image")
    print(f"speed-up            : {detector / fast:7.1f} x   (goal >= 10 x)")
    print(f"JPEG decode         : {decode * 1e3:7.2f} ms/image (both paths pay it)")
    print(f"speed-up incl decode: {(detector + decode) / (fast + decode):7.1f} x")
    print(
        f"point difference    : mean {statistics.mean(diffs):.3f} px, median {statistics.median(diffs):.3f} px, "
        f"max {max(diffs):.3f} px per image (goal < 1 px); fast path fell back on {fallbacks} image(s)"
    )
    print(f"whole CelebA ({CELEBA_IMAGES:,} images), decode included, one process per core, ideal scaling:")
    for cores in (2, 16):
        for name, per_image in (("five-point box", fast), ("HOG detector  ", detector)):
            minutes = CELEBA_IMAGES * (per_image + decode) / cores / 60
            print(f"  {cores:2d} cores, {name}: {minutes:6.1f} min")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="bench", choices=["bench", "calibrate", "mean-shape"])
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per image and path (default 7)")
    args = parser.parse_args(argv)
    if not Path(shared_testdata()).is_dir():
        print(f"needs the real test photos in {shared_testdata()} (see DESIGN.md section 6)", file=sys.stderr)
        return 2
    {"bench": lambda: bench(args.repeats), "calibrate": calibrate, "mean-shape": write_mean_shape}[
        args.command
    ]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
