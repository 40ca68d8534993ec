"""dlib's 68 facial landmarks: the target of the paper's landmark branch (Eq. 1).

The paper's head predicts T = 72 points; dlib's public model gives 68 (iBUG 300-W order), so the suite uses 68 and
says so wherever the number appears (``TrainConfig.num_landmarks``, FACTS §1).

| module | holds |
|---|---|
| :mod:`~dmmlib.landmarks.schema` | the 68-point order, the face-part groups, mirror permutation, normalisation |
| :mod:`~dmmlib.landmarks.extract` | dlib's predictor and HOG detector on one image (five-point box or detector) |
| :mod:`~dmmlib.landmarks.shape` | similarity transforms and the mean shape (package data, ``mean_shape_68.csv``) |
| :mod:`~dmmlib.landmarks.dlib_xml` | dlib's XML annotation files (the real faces of the tests) |
| :mod:`~dmmlib.landmarks.cache` | landmarks of a whole dataset, extracted in parallel once and cached on disk |

The names below are the public entry points; ``from dmmlib import landmarks; landmarks.predict_landmarks(...)``.
"""

from dmmlib.landmarks.cache import NO_FACE, cached_dataset_landmarks, mean_shape_for_no_face
from dmmlib.landmarks.dlib_xml import AnnotatedFace, Box, load_xml_annotations
from dmmlib.landmarks.extract import (
    ImageLike,
    NoFaceFound,
    box_from_five_points,
    describe,
    detect_faces,
    find_faces,
    image_to_rgb,
    landmarks_for_image,
    load_image,
    model_path,
    no_face_message,
    predict_landmarks,
    unreadable_image_note,
)
from dmmlib.landmarks.schema import NUM_POINTS, LandmarkSource
from dmmlib.landmarks.shape import MEAN_SHAPE_68

__all__ = [
    "MEAN_SHAPE_68",
    "NO_FACE",
    "NUM_POINTS",
    "AnnotatedFace",
    "Box",
    "ImageLike",
    "LandmarkSource",
    "NoFaceFound",
    "box_from_five_points",
    "cached_dataset_landmarks",
    "describe",
    "detect_faces",
    "find_faces",
    "image_to_rgb",
    "landmarks_for_image",
    "load_image",
    "load_xml_annotations",
    "mean_shape_for_no_face",
    "model_path",
    "no_face_message",
    "predict_landmarks",
    "unreadable_image_note",
]
