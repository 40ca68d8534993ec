"""Lazy image access from a folder or straight from a zip file (one open ZipFile per worker process).

A ZipFile handle cannot be shared across forked DataLoader workers (they would race on one file offset), so
the handle is opened on first use in each process and dropped when the store is pickled.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from PIL import Image

from dmmlib.files.filecheck import open_zip


class ImageStore:
    """Images named like ``000001.jpg`` in ``location``: a folder, or a zip with members ``prefix + name``."""

    def __init__(self, location: str | os.PathLike[str], prefix: str = "") -> None:
        self.location = Path(location)
        self.in_zip = self.location.suffix.lower() == ".zip" and self.location.is_file()
        self.prefix = prefix
        self._zip: zipfile.ZipFile | None = None
        self._zip_pid: int | None = None

    def _archive(self) -> zipfile.ZipFile:
        if self._zip is None or self._zip_pid != os.getpid():
            self._zip = open_zip(self.location, "a zip of images")
            self._zip_pid = os.getpid()
        return self._zip

    def names(self) -> set[str]:
        """Every image name present (a directory scan or the zip's central directory: no image is read)."""
        if self.in_zip:
            cut = len(self.prefix)
            return {
                m[cut:]
                for m in self._archive().namelist()
                if m.startswith(self.prefix) and not m.endswith("/")
            }
        with os.scandir(self.location) as entries:
            return {entry.name for entry in entries}

    def describe(self, name: str) -> str:
        """Where ``name`` lives, for messages."""
        return f"{self.location}:{self.prefix}{name}" if self.in_zip else str(self.location / name)

    def path(self, name: str) -> Path:
        if self.in_zip:
            raise ValueError(
                f"{self.location} is a zip: its images have no path on disk (use image_list, or extract the zip)"
            )
        return self.location / name

    def image_list(self, names: list[str]) -> list[Path] | tuple[Path, list[str]]:
        """``names`` in the form :func:`dmmlib.landmarks.cached_dataset_landmarks` reads: image paths for a folder,
        ``(zip path, member names)`` for a zip (each worker then reads the images straight from the zip)."""
        if self.in_zip:
            return self.location, [self.prefix + name for name in names]
        return [self.location / name for name in names]

    def open(self, name: str) -> Image.Image:
        """Open (without decoding) one image. Raises OSError / zipfile.BadZipFile on damaged data."""
        if self.in_zip:
            return Image.open(io.BytesIO(self._archive().read(self.prefix + name)))
        return Image.open(self.location / name)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_zip"] = None
        state["_zip_pid"] = None
        return state


def zip_prefix(path: Path, folder: str) -> str:
    """The member prefix of images in an image zip: ``folder/`` (CelebA's zip) or ``""`` (flat)."""
    with open_zip(path, "a zip of images") as archive:
        for member in archive.namelist():
            if member.lower().endswith((".jpg", ".jpeg", ".png")):
                return member[: member.rfind("/") + 1] if "/" in member else ""
    return f"{folder}/"
