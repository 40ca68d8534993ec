"""Prediction on a user's own photo: detect, align to the CelebA template, predict the 40 attributes (Eq. 5).

The photo goes through the same steps as CelebA's images did: a face is found (dlib's HOG detector), its 68
landmarks give five points, a similarity transform maps them onto CelebA's template (178 x 218), and the crop is
resized to the model's input size exactly as the evaluation transform resizes dataset images. Each attribute is
predicted +1 when the model's output exceeds the run's trained threshold tau_j (Eq. 5).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from dmmlib import align, landmarks, thresholds
from dmmlib.attributes import ATTRIBUTES
from dmmlib.data import transforms
from dmmlib.landmarks import schema as landmark_schema
from dmmlib.landmarks import shape as landmarks_shape

ImageInput = np.ndarray | Image.Image | str | Path | bytes


@dataclass
class PhotoPrediction:
    """The aligned face, its landmarks, and one row per attribute (output, tau, prediction, group)."""

    aligned: align.AlignedFace
    table: pd.DataFrame
    model_landmarks: np.ndarray | None  #: the landmark branch's 68 points in the aligned crop's pixels, if any

    @property
    def source_points(self) -> np.ndarray:
        """dlib's 68 points in the pixels of the original photo (the alignment transform inverted)."""
        inverse = np.linalg.inv(np.vstack([self.aligned.matrix, [0.0, 0.0, 1.0]]))[:2]
        return landmarks_shape.apply_transform(inverse, self.aligned.points)


def load_photo(photo: ImageInput) -> np.ndarray:
    """An RGB uint8 array from a path, raw bytes (an upload), a PIL image or an array; clear errors otherwise.

    Photos are read as a viewer shows them (:func:`dmmlib.landmarks.image_to_rgb`): the EXIF orientation of a
    phone photo is applied, 16-bit PNGs are scaled to 8 bits (not clipped), transparency lies over white, palette,
    CMYK and 1-bit images become RGB. A format PIL cannot open (HEIC, the iPhone default) is refused with the
    formats that work. However large the photo, the face is searched on a reduced copy (:func:`dmmlib.landmarks.
    find_faces`) and aligned from the original pixels around it.
    """
    if isinstance(photo, bytes):
        if not photo:
            raise ValueError("the photo is empty (0 bytes); upload a JPEG or PNG file")
        try:
            with Image.open(io.BytesIO(photo)) as image:
                return landmarks.image_to_rgb(image)
        except Image.DecompressionBombError as error:
            raise ValueError(f"the uploaded photo is too large: {error} Resize it (a few megapixels suffice)") from None
        except (OSError, SyntaxError, ValueError) as error:
            raise ValueError(
                f"the uploaded file is not an image PIL can read ({error}); use a JPEG or PNG. "
                f"{landmarks.unreadable_image_note('', photo[:64])}"
            ) from None
    if isinstance(photo, (str, Path)):
        path = Path(photo)
        if not path.is_file():
            raise FileNotFoundError(f"photo not found: {path}")
        try:
            return landmarks.load_image(path)
        except (OSError, SyntaxError) as error:
            raise ValueError(str(error)) from None
    if isinstance(photo, Image.Image):
        return landmarks.image_to_rgb(photo)
    array = np.asarray(photo)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {array.dtype} {array.shape}")
    return array


@torch.no_grad()
def predict_photo(photo: ImageInput, model: torch.nn.Module, tau: torch.Tensor, input_size: tuple[int, int],
                  groups_of: dict[str, str] | None = None) -> PhotoPrediction:
    """Align ``photo`` and predict its 40 attributes with ``model`` and thresholds ``tau`` (Eq. 5).

    Raises :class:`dmmlib.landmarks.NoFaceFound` when no face is found.
    """
    pixels = load_photo(photo)
    aligned = align.align_face_with_landmarks(pixels)
    image, _ = transforms.eval_transform(input_size)(Image.fromarray(aligned.image), np.zeros(136, np.float32))
    model.eval()
    device = next(model.parameters()).device
    out = model(image.unsqueeze(0).to(device))
    outputs = out.attributes[0].float().cpu()
    tau = torch.as_tensor(tau, dtype=torch.float32)
    table = pd.DataFrame({
        "output": outputs.numpy(), "tau": tau.numpy(),
        "prediction": thresholds.predict(outputs, tau).numpy().astype(int),
    }, index=pd.Index(ATTRIBUTES, name="attribute"))  # fmt: skip
    if groups_of:
        table.insert(0, "group", [groups_of[name] for name in ATTRIBUTES])
    landmarks = None
    if out.landmarks is not None and out.landmarks.shape[1] == 2 * landmark_schema.NUM_POINTS:
        height, width = aligned.image.shape[:2]
        landmarks = landmark_schema.denormalise(out.landmarks[0].float().cpu().numpy(), width, height)
    return PhotoPrediction(aligned, table, landmarks)
