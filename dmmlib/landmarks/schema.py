"""The 68-point landmark scheme shared by the data, the landmark extractor and the model.

dlib's public ``shape_predictor_68_face_landmarks`` model follows the iBUG 300-W scheme: jaw 0-16, right brow
17-21, left brow 22-26, nose bridge 27-30, nose base 31-35, right eye 36-41, left eye 42-47, outer lips 48-59,
inner lips 60-67 ("right" = the subject's right = the image's left). The paper's landmark head has 144 outputs
(T = 72 points), but no public 72-point dlib model is known, so T is a parameter defaulting to 68.

Coordinates travel in two forms: pixels of the image they were measured on, shape ``(..., 68, 2)``, and the
*normalised* form the network regresses, shape ``(..., 136)``: ``x' = (2 x + 1) / W - 1``, likewise for y
(pixel centres are at integer coordinates, as in dlib, so the image's outer edges sit at -1 and +1). The paper
does not say how it normalises landmarks; this choice keeps targets on the scale of the +/-1 attribute labels,
survives any resize of the whole image unchanged, and makes a horizontal flip an exact sign change.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

NUM_POINTS = 68

#: iBUG 300-W point groups (half-open index ranges).
GROUPS: dict[str, range] = {
    "jaw": range(0, 17),
    "right_brow": range(17, 22),
    "left_brow": range(22, 27),
    "nose_bridge": range(27, 31),
    "nose_base": range(31, 36),
    "right_eye": range(36, 42),
    "left_eye": range(42, 48),
    "outer_lips": range(48, 60),
    "inner_lips": range(60, 68),
}


class LandmarkSource(IntEnum):
    """Provenance code of one image's 68 landmarks."""

    GROUND_TRUTH = 0  #: drawn geometry of a synthetic face (exact)
    FIVE_POINT_BOX = 1  #: dlib's predictor inside a box derived from CelebA's 5 aligned points (fast path)
    DETECTOR = 2  #: dlib's predictor inside the HOG detector's box (fallback)
    MEAN_SHAPE = 3  #: no face found: a mean shape placed by the 5 points (a placeholder, not a measurement)
    ANNOTATED = 4  #: read from an annotation file (e.g. dlib's XML examples)


def _flip_permutation() -> np.ndarray:
    pairs = [(i, 16 - i) for i in range(17)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(i, i) for i in range(27, 31)]  # nose bridge lies on the symmetry axis
    pairs += [(31 + i, 35 - i) for i in range(5)]  # nose base
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes: outer<->outer, ...
    pairs += [(48 + i, 54 - i) for i in range(7)]  # upper outer lip
    pairs += [(55, 59), (56, 58), (57, 57)]  # lower outer lip
    pairs += [(60 + i, 64 - i) for i in range(5)]  # upper inner lip
    pairs += [(65, 67), (66, 66)]  # lower inner lip
    perm = np.full(NUM_POINTS, -1, dtype=np.int64)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    assert (perm >= 0).all() and sorted(perm.tolist()) == list(range(NUM_POINTS))
    return perm


#: ``flipped[i] = mirrored(points[FLIP_PERMUTATION[i]])``: after a horizontal flip, the point that plays role i
#: (say the subject's right eye corner) is the mirror image of the point that played the opposite role.
FLIP_PERMUTATION: np.ndarray = _flip_permutation()


def normalise(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixels ``(..., P, 2)`` -> normalised ``(..., 2P)`` in [-1, 1] (x first, then y, point by point)."""
    points = np.asarray(points, dtype=np.float32)
    scale = np.array([2.0 / width, 2.0 / height], dtype=np.float32)
    out = (points + 0.5) * scale - 1.0
    return out.reshape(*out.shape[:-2], -1)


def denormalise(coords: np.ndarray, width: int, height: int) -> np.ndarray:
    """Normalised ``(..., 2P)`` -> pixels ``(..., P, 2)``; the inverse of :func:`normalise`."""
    coords = np.asarray(coords, dtype=np.float32)
    points = coords.reshape(*coords.shape[:-1], -1, 2)
    return (points + 1.0) * np.array([width / 2.0, height / 2.0], dtype=np.float32) - 0.5


def flip_normalised(coords: np.ndarray) -> np.ndarray:
    """Landmarks of the horizontally flipped image, in normalised form ``(..., 136)``."""
    points = np.asarray(coords).reshape(*np.shape(coords)[:-1], NUM_POINTS, 2)
    mirrored = points[..., FLIP_PERMUTATION, :] * np.array([-1.0, 1.0], dtype=points.dtype)
    return mirrored.reshape(np.shape(coords))


def flip_pixels(points: np.ndarray, width: int) -> np.ndarray:
    """Landmarks ``(..., 68, 2)`` in pixels of the horizontally flipped image of width ``width``.

    A pixel centre at x maps to ``width - 1 - x`` under ``Image.transpose(FLIP_LEFT_RIGHT)``.
    """
    points = np.asarray(points, dtype=np.float32)
    mirrored = points[..., FLIP_PERMUTATION, :].copy()
    mirrored[..., 0] = (width - 1) - mirrored[..., 0]
    return mirrored
