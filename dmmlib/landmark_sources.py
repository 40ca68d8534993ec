"""Where each image's 68 landmarks came from (a per-image flag carried next to the points)."""

from enum import IntEnum


class LandmarkSource(IntEnum):
    """Provenance code of one image's 68 landmarks."""

    GROUND_TRUTH = 0  #: drawn geometry of a synthetic face (exact)
    FIVE_POINT_BOX = 1  #: dlib's predictor inside a box derived from CelebA's 5 aligned points (fast path)
    DETECTOR = 2  #: dlib's predictor inside the HOG detector's box (fallback)
    MEAN_SHAPE = 3  #: no face found: the mean shape placed by the 5 points (a placeholder, not a measurement)
    ANNOTATED = 4  #: read from an annotation file (e.g. dlib's XML examples)
