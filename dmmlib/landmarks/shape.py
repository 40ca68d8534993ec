"""Similarity transforms between point sets, and the mean 68-point face shape placed by five points.

A similarity (rotation, uniform scale, translation; never a reflection) is what relates two views of the same
upright face, so it is the transform used both to align faces to the CelebA template (``dmmlib.align``) and to put
a mean shape where five landmarks say the face is (the MEAN_SHAPE placeholder of ``dmmlib.landmarks``).
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from dmmlib.landmarks.schema import FLIP_PERMUTATION, NUM_POINTS

__all__ = [
    "MEAN_SHAPE_68",
    "apply_transform",
    "compute_mean_shape",
    "five_points_from_68",
    "place_mean_shape",
    "similarity_transform",
]

#: Package data: the mean shape's 68 (x, y) rows; the file's header says how they were obtained.
MEAN_SHAPE_FILE = "mean_shape_68.csv"


def mean_shape_csv_text(mean: np.ndarray, header: str) -> str:
    """The CSV text of :data:`MEAN_SHAPE_68` (five decimals), ``header`` as ``#`` comment lines above it."""
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + "x,y\n" + "".join(f"{x:.5f},{y:.5f}\n" for x, y in np.asarray(mean).tolist())


def _load_mean_shape() -> np.ndarray:
    text = resources.files("dmmlib.landmarks").joinpath(MEAN_SHAPE_FILE).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")][1:]  # past the x,y header
    shape = np.array([[float(v) for v in row.split(",")] for row in rows], dtype=np.float32)
    if shape.shape != (NUM_POINTS, 2):
        raise ValueError(f"{MEAN_SHAPE_FILE}: expected {NUM_POINTS} rows of x,y, got an array of shape {shape.shape}")
    shape.setflags(write=False)
    return shape


#: The mean 68-point face shape in the unit eye frame (see the header of ``mean_shape_68.csv``).
MEAN_SHAPE_68: np.ndarray = _load_mean_shape()


def five_points_from_68(points: np.ndarray) -> np.ndarray:
    """CelebA's five landmarks ``(..., 5, 2)`` from dlib's 68 ``(..., 68, 2)``.

    Order and sides follow ``list_landmarks_align_celeba.txt``: lefteye, righteye, nose, leftmouth, rightmouth,
    where "left" is the image's left (the subject's right). Eye centres are the means of the six eye-contour
    points (36-41 and 42-47), the nose is the tip (30), the mouth corners are 48 and 54.
    """
    points = np.asarray(points, dtype=np.float32)
    if points.shape[-2:] != (NUM_POINTS, 2):
        raise ValueError(f"five_points_from_68: expected points of shape (..., 68, 2), got {points.shape}")
    return np.stack(
        [
            points[..., 36:42, :].mean(axis=-2),
            points[..., 42:48, :].mean(axis=-2),
            points[..., 30, :],
            points[..., 48, :],
            points[..., 54, :],
        ],
        axis=-2,
    )


def similarity_transform(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least-squares similarity ``(2, 3)`` matrix mapping ``src (P, 2)`` onto ``dst (P, 2)`` (Umeyama 1991).

    ``weights (P,)`` (positive; default all equal) weight each point's squared residual: the weighted means,
    variance and covariance replace the plain ones in Umeyama's closed form. Reflections are excluded (a mirrored
    face is not the same face), so the fit is well defined for any P >= 2 points that are not all coincident.
    Apply it with :func:`apply_transform`.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 2:
        raise ValueError(
            f"similarity_transform: need two (P>=2, 2) arrays of equal shape, got {src.shape}, {dst.shape}"
        )
    if weights is None:
        w = np.full(len(src), 1.0 / len(src))
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(src),) or not np.isfinite(w).all() or (w <= 0).any():
            raise ValueError(
                f"similarity_transform: weights must be {len(src)} positive numbers, got {weights!r}"
            )
        w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    s, d = src - mu_s, dst - mu_d
    var_s = float(w @ (s**2).sum(axis=1))
    if var_s <= 0:
        raise ValueError("similarity_transform: the source points all coincide; no transform is defined")
    cov = (d * w[:, None]).T @ s
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1] = -1.0
    rot = u @ np.diag(sign) @ vt
    scale = (sig * sign).sum() / var_s
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mu_d - scale * rot @ mu_s
    return matrix


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine matrix to points ``(..., 2)``; returns float32."""
    points = np.asarray(points, dtype=np.float64)
    return (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def place_mean_shape(five_points: np.ndarray) -> np.ndarray:
    """:data:`MEAN_SHAPE_68` mapped by the similarity that best takes its five points onto ``five_points``.

    This is a placeholder for images where dlib finds no face: plausible geometry, not a measurement.
    """
    five_points = np.asarray(five_points, dtype=np.float64)
    if five_points.shape != (5, 2) or not np.isfinite(five_points).all():
        raise ValueError(
            f"place_mean_shape: five_points must be a finite (5, 2) array, got shape {five_points.shape}"
        )
    matrix = similarity_transform(five_points_from_68(MEAN_SHAPE_68), five_points)
    return apply_transform(matrix, MEAN_SHAPE_68)


def _unit_frame(shape: np.ndarray) -> np.ndarray:
    """Map a 68-point shape so its eye centres land on (-0.5, 0) and (+0.5, 0)."""
    eyes = five_points_from_68(shape)[:2]
    return apply_transform(similarity_transform(eyes, np.array([[-0.5, 0.0], [0.5, 0.0]])), shape)


def compute_mean_shape(shapes: np.ndarray, *, symmetric: bool = True, iterations: int = 10) -> np.ndarray:
    """Generalised Procrustes mean of ``shapes (N, 68, 2)``, in the unit frame of :data:`MEAN_SHAPE_68`.

    Each shape is aligned to the running mean by a similarity, the aligned shapes are averaged, and the mean is
    put back into the unit frame (eye centres at (-0.5, 0) and (+0.5, 0)), until it stops moving. With
    ``symmetric`` the mirror image of every shape (through ``FLIP_PERMUTATION``) joins the average, so the mean
    is exactly left-right symmetric.
    """
    shapes = np.asarray(shapes, dtype=np.float64)
    if shapes.ndim != 3 or shapes.shape[1:] != (NUM_POINTS, 2) or len(shapes) == 0:
        raise ValueError(f"compute_mean_shape: expected shapes of shape (N>0, 68, 2), got {shapes.shape}")
    if symmetric:
        mirrored = shapes[:, FLIP_PERMUTATION, :] * np.array([-1.0, 1.0])
        shapes = np.concatenate([shapes, mirrored])
    mean = _unit_frame(shapes[0]).astype(np.float64)
    for _ in range(iterations):
        aligned = np.stack([apply_transform(similarity_transform(s, mean), s) for s in shapes])
        new_mean = _unit_frame(aligned.mean(axis=0)).astype(np.float64)
        if np.abs(new_mean - mean).max() < 1e-7:
            mean = new_mean
            break
        mean = new_mean
    return mean.astype(np.float32)
