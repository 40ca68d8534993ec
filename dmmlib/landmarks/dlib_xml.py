"""Reader for dlib's image-dataset XML (``imglab`` format): face boxes and their numbered landmark parts.

dlib's example faces (``../shared/testdata/dlib-faces``) ship their boxes and the 68 points of
``shape_predictor_68_face_landmarks`` in this format; the tests use them as a regression reference.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: ``(left, top, right, bottom)`` in pixels, right and bottom inclusive, as ``dlib.rectangle``.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class AnnotatedFace:
    """One annotated box of one image; ``points`` is ``(P, 2)`` float32 in part-name order, or None."""

    image: Path
    box: Box
    points: np.ndarray | None


def load_xml_annotations(path: str | os.PathLike[str]) -> list[AnnotatedFace]:
    """Every ``<box>`` of a dlib XML file, in file order, with image paths resolved beside the XML.

    A box ``top, left, width, height`` becomes ``(left, top, left + width - 1, top + height - 1)``, the rectangle
    dlib's own loader builds. Parts are sorted by their numeric name.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_xml_annotations: no such file: {path}")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ValueError(f"load_xml_annotations: {path} is not valid XML ({err})") from err
    faces: list[AnnotatedFace] = []
    for image in root.iter("image"):
        file = image.get("file")
        if file is None:
            raise ValueError(f"load_xml_annotations: an <image> in {path} has no 'file' attribute")
        for box in image.iter("box"):
            try:
                left, top, width, height = (int(box.get(k, "")) for k in ("left", "top", "width", "height"))
                parts = sorted(
                    (
                        (int(p.get("name", "")), float(p.get("x", "")), float(p.get("y", "")))
                        for p in box.iter("part")
                    ),
                )
            except ValueError as err:
                raise ValueError(
                    f"load_xml_annotations: malformed <box> or <part> for {file} in {path}"
                ) from err
            points = np.array([(x, y) for _, x, y in parts], dtype=np.float32) if parts else None
            faces.append(
                AnnotatedFace(path.parent / file, (left, top, left + width - 1, top + height - 1), points)
            )
    return faces
