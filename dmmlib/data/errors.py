"""Errors raised by the dataset readers and the synthetic generator.

Each error names the file (and line, where there is one) and says what to do, so that a user who obtained
CelebA or LFWA by hand can fix a broken copy without reading our source.
"""

from __future__ import annotations

# A file that does not follow its format: defined below the readers (dmmlib.files), raised by them.
from dmmlib.files.filecheck import DataFormatError

__all__ = ["CorruptImageError", "DataFormatError", "DatasetNotFoundError", "MissingImageError"]


class DatasetNotFoundError(FileNotFoundError):
    """No dataset in any of the layouts that were looked for."""


class MissingImageError(FileNotFoundError):
    """An image named by an annotation file is absent from the image folder or zip."""


class CorruptImageError(OSError):
    """An image file exists but cannot be decoded."""

    def __init__(self, path: str, cause: BaseException) -> None:
        self.path = path
        self.cause = cause
        super().__init__(
            f"{path}: cannot decode image ({type(cause).__name__}: {cause}). Re-extract or re-download this file, "
            "or pass skip_corrupt=True to skip undecodable images"
        )
