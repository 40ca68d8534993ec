"""CelebA's text annotation files: strict readers and byte-exact writers.

Formats (``shared/paper/FACTS.md`` section 6), tokens separated by one or more spaces, either line ending:

* ``list_attr_celeba.txt``: line 1 the image count; line 2 the 40 attribute names (the real file ends the
  line with a space); then ``000001.jpg -1  1  1 -1 ...``: each value right-aligned in a 2-character field.
* ``list_eval_partition.txt``: no header; ``000001.jpg 0`` with 0 = train, 1 = valid, 2 = test.
* ``list_landmarks_align_celeba.txt``: line 1 count; line 2 ``lefteye_x lefteye_y righteye_x righteye_y
  nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y``; then a filename and 10 integer pixel
  coordinates of the aligned image in padded columns ("left" is the image's left).
* ``list_landmarks_68_align_celeba.txt`` (this project's addition, written by :mod:`dmmlib.data.synthetic`
  beside the 5-point file): line 1 count; line 2 ``x0 y0 x1 y1 ... x67 y67``; then ``000001.jpg`` followed by
  136 numbers with 2 decimals: the iBUG 68 points (:mod:`dmmlib.landmarks.schema` order) in pixel coordinates of
  the aligned image.

Readers raise :class:`~dmmlib.data.errors.DataFormatError` naming the file and the 1-based line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.errors import DataFormatError
from dmmlib.files import atomic
from dmmlib.files.filecheck import check_download

LANDMARK_5_HEADER = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
LANDMARK_68_HEADER = " ".join(f"x{i} y{i}" for i in range(68))
SPLIT_IDS = {"train": 0, "valid": 1, "test": 2}


def _lines(path: Path) -> list[str]:
    check_download(path, "a CelebA annotation text file")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"not a text file ({exc})", hint="Re-download or re-extract it") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _count(path: Path, lines: list[str], what: str) -> int:
    if not lines:
        raise DataFormatError(path, "the file is empty", line=1, hint="Re-download or re-extract it")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise DataFormatError(
            path, f"expected the number of {what} on line 1, found {lines[0][:40]!r}", line=1
        ) from None
    rows = len(lines) - 2
    if rows != count:
        raise DataFormatError(
            path,
            f"line 1 announces {count} {what} but the file has {max(rows, 0)} data rows (ending at line {len(lines)})",
            line=len(lines) if rows < count else count + 3,
            hint="The file is truncated or has extra rows; re-download or re-extract it",
        )
    return count


def _split_rows(
    path: Path, lines: list[str], first: int, width: int, what: str
) -> tuple[list[str], np.ndarray]:
    """Exact, slow parse of data lines (1-based line ``first`` onwards): errors name the offending line."""
    names, values = [], []
    for k, line in enumerate(lines[first - 1 :]):
        row = line.split()
        if len(row) != width + 1:
            raise DataFormatError(
                path,
                f"expected a filename and {width} {what}, found {max(len(row) - 1, 0)} values",
                line=first + k,
            )
        try:
            values.append([float(v) for v in row[1:]])
        except ValueError as exc:
            raise DataFormatError(path, f"{what} must be numbers: {exc}", line=first + k) from None
        names.append(row[0])
    return names, np.array(values, dtype=np.float64).reshape(len(names), width)


def _table(path: Path, lines: list[str], first: int, width: int, what: str) -> tuple[list[str], np.ndarray]:
    """Filenames and an (N, width) float64 array from data lines starting at 1-based line ``first``.

    pandas' C parser reads the 202,599-line CelebA files in well under a second (a Python split takes ~10 s);
    anything unusual falls back to the exact parser, which names the offending line.
    """
    import pandas as pd

    expected = len(lines) - first + 1
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, skiprows=first - 1, dtype={0: str}, engine="c")
    except (ValueError, pd.errors.ParserError):
        frame = None
    if (
        frame is not None
        and frame.shape == (expected, width + 1)
        and all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes.iloc[1:])
        and not frame.isna().to_numpy().any()
    ):
        return frame[0].tolist(), frame.iloc[:, 1:].to_numpy(dtype=np.float64)
    return _split_rows(path, lines, first, width, what)


def read_attributes(path: str | os.PathLike[str]) -> tuple[list[str], list[str], np.ndarray]:
    """``list_attr_celeba.txt`` -> (attribute names, filenames, values (N, K) int8 of +1/-1)."""
    path = Path(path)
    lines = _lines(path)
    _count(path, lines, "images")
    names = lines[1].split()
    filenames, values = _table(path, lines, 3, len(names), "attribute values")
    bad = (values != 1) & (values != -1)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataFormatError(
            path, f"value {values[r, c]:g} of {names[c]} for {filenames[r]} is not +1 or -1", line=int(r) + 3
        )
    return names, filenames, values.astype(np.int8)


def read_partition(path: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """``list_eval_partition.txt`` -> (filenames, split ids (N,) int8: 0 train, 1 valid, 2 test)."""
    path = Path(path)
    lines = _lines(path)
    if not lines:
        raise DataFormatError(path, "the file is empty", line=1, hint="Re-download or re-extract it")
    filenames, values = _table(path, lines, 1, 1, "split id")
    bad = ~np.isin(values[:, 0], (0, 1, 2))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            path, f"split id {values[k, 0]:g} is not 0 (train), 1 (valid) or 2 (test)", line=k + 1
        )
    return filenames, values[:, 0].astype(np.int8)


def _read_points(path: Path, num_points: int, what: str) -> tuple[list[str], np.ndarray]:
    lines = _lines(path)
    _count(path, lines, "images")
    filenames, values = _table(path, lines, 3, 2 * num_points, f"{what} coordinates")
    return filenames, values.astype(np.float32).reshape(len(filenames), num_points, 2)


def read_landmarks_5(path: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """``list_landmarks_align_celeba.txt`` -> (filenames, points (N, 5, 2) float32 pixels)."""
    return _read_points(Path(path), 5, "5-point landmarks")


def read_landmarks_68(path: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """``list_landmarks_68_align_celeba.txt`` -> (filenames, points (N, 68, 2) float32 pixels)."""
    return _read_points(Path(path), 68, "68-point landmarks")


#: Rows formatted per chunk by the line writers: bounded memory at CelebA's 202,599 rows.
_ROWS_PER_CHUNK = 4096


def _row_lines(filenames: Sequence[str], table: np.ndarray, cell: str) -> Iterator[str]:
    """``name v v v ...`` lines, one per row of ``table (N, K)``, each value formatted by ``cell`` (a format spec);
    rows are turned into Python numbers a chunk at a time, so memory stays bounded."""
    for start in range(0, len(filenames), _ROWS_PER_CHUNK):
        rows = table[start : start + _ROWS_PER_CHUNK].tolist()
        for name, row in zip(filenames[start : start + _ROWS_PER_CHUNK], rows):
            yield name + " " + " ".join(format(v, cell) for v in row) + "\n"


def attribute_lines(
    filenames: Sequence[str], values: np.ndarray, names: Sequence[str] = ATTRIBUTES
) -> Iterator[str]:
    """The lines of a ``list_attr_celeba.txt`` (each ending in a newline): each value right-aligned in 2 columns."""
    yield f"{len(filenames)}\n"
    yield " ".join(names) + " \n"  # the real file ends the names line with a space
    yield from _row_lines(filenames, np.asarray(values), "2d")


def partition_lines(filenames: Sequence[str], split_ids: Sequence[int] | np.ndarray) -> Iterator[str]:
    for name, s in zip(filenames, split_ids):
        yield f"{name} {int(s)}\n"


def landmarks_5_lines(filenames: Sequence[str], points: np.ndarray) -> Iterator[str]:
    """Integer coordinates in padded columns, like the real file."""
    yield f"{len(filenames)}\n"
    yield LANDMARK_5_HEADER + "\n"
    yield from _row_lines(
        filenames, np.rint(np.asarray(points)).astype(int).reshape(len(filenames), 10), "5d"
    )


def landmarks_68_lines(filenames: Sequence[str], points: np.ndarray) -> Iterator[str]:
    """The 68-point file's lines, 2 decimals per coordinate (about 900 bytes per image)."""
    yield f"{len(filenames)}\n"
    yield LANDMARK_68_HEADER + "\n"
    yield from _row_lines(filenames, np.asarray(points).reshape(len(filenames), 136), ".2f")


def format_attributes(filenames: Sequence[str], values: np.ndarray, names: Sequence[str] = ATTRIBUTES) -> str:
    """The text of a ``list_attr_celeba.txt``, with the real file's spacing (trailing space after the names)."""
    return "".join(attribute_lines(filenames, values, names))


def format_partition(filenames: Sequence[str], split_ids: Sequence[int]) -> str:
    return "".join(partition_lines(filenames, split_ids))


def format_landmarks_5(filenames: Sequence[str], points: np.ndarray) -> str:
    return "".join(landmarks_5_lines(filenames, points))


def format_landmarks_68(filenames: Sequence[str], points: np.ndarray) -> str:
    return "".join(landmarks_68_lines(filenames, points))


def five_from_68(points: np.ndarray) -> np.ndarray:
    """CelebA's 5 points from iBUG 68: eye centres (36-41, 42-47), nose tip 30, mouth corners 48 and 54."""
    points = np.asarray(points, dtype=np.float32)
    return np.stack(
        [points[..., 36:42, :].mean(-2), points[..., 42:48, :].mean(-2), points[..., 30, :], points[..., 48, :],
         points[..., 54, :]], axis=-2,
    )  # fmt: skip


def celeba_filenames(count: int) -> list[str]:
    """CelebA's image names for ``count`` images: ``000001.jpg``, ``000002.jpg``, ..."""
    return [f"{i + 1:06d}.jpg" for i in range(count)]


def write_annotation_files(
    root: str | os.PathLike[str], filenames: Sequence[str], labels: np.ndarray, points: np.ndarray,
    split_ids: Sequence[int] | np.ndarray,
) -> None:  # fmt: skip
    """The four text files of a CelebA-format copy under ``root`` (official layout): attributes, 5-point and
    68-point landmarks (``points (N, 68, 2)`` pixels) and the partition; each written atomically and streamed
    (:func:`dmmlib.files.atomic.write_lines`), so memory stays bounded at CelebA's size."""
    root = Path(root)
    atomic.write_lines(root / "Anno" / "list_attr_celeba.txt", attribute_lines(filenames, labels))
    atomic.write_lines(
        root / "Anno" / "list_landmarks_align_celeba.txt", landmarks_5_lines(filenames, five_from_68(points))
    )
    atomic.write_lines(
        root / "Anno" / "list_landmarks_68_align_celeba.txt", landmarks_68_lines(filenames, points)
    )
    atomic.write_lines(root / "Eval" / "list_eval_partition.txt", partition_lines(filenames, split_ids))
