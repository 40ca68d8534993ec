"""Files that are not what their name says: an HTML page, an empty file, a truncated zip or MATLAB file.

The commonest broken CelebA copy is a failed Google Drive download: Drive answers a script that hits its quota (or
needs a sign-in) with an HTML page, and the page is saved under the requested name (``img_align_celeba.zip``,
``list_attr_celeba.txt``, ...). Other copies stop early (an empty or truncated file). Without a check the reader
fails deep inside ``zipfile``, ``h5py`` or a number parser with a message that names no file. Every dataset reader
calls the helpers below before (or when) it opens a file, so each of these cases raises
:class:`DataFormatError` naming the file and saying what it looks like and what to do.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

__all__ = ["DataFormatError", "check_download", "damaged", "looks_like", "open_zip"]

#: Bytes read from the start of a file to recognise it.
_HEAD_BYTES = 4096
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<meta", b"<script", b"<!--")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_REDOWNLOAD = (
    "Download it again: Google Drive answers scripts that hit its quota or need a sign-in with such a page, saved "
    "under the requested file name; download it by hand in a browser, or from a mirror, and check it with "
    "dmmlib.data.celeba.verify_checksums"
)


class DataFormatError(ValueError):
    """A file (of a dataset, a cache) does not follow the expected format (also :mod:`dmmlib.data.errors`).

    ``path`` and ``line`` (1-based, or ``None``) locate the problem; the message repeats them.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None, hint: str = "") -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}" + (f", line {line}" if line is not None else "")
        text = f"{where}: {message}"
        if hint:
            text += f". {hint}"
        super().__init__(text)


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(_HEAD_BYTES)


def _html_title(head: bytes) -> str:
    found = re.search(rb"<title[^>]*>(.*?)</title", head, re.IGNORECASE | re.DOTALL)
    if not found:
        return ""
    return " ".join(found.group(1).decode("utf-8", "replace").split())[:80]


def looks_like(path: str | os.PathLike[str]) -> str | None:
    """``"empty"``, ``"html"`` (with its title after a colon, when it has one) or None when nothing is plainly wrong.

    An HTML page is recognised by its first tag (after a byte-order mark, white space, an XML declaration), the
    way a browser would; a text or binary dataset file never starts like that.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        return "empty"
    head = _head(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<?xml"):
        text = text[text.find(b"?>") + 2 :].lstrip() if b"?>" in text else text
    if text.startswith(_HTML_START) or (text.startswith(b"<") and b"<html" in text):
        title = _html_title(head)
        return f"html:{title}" if title else "html"
    return None


def check_download(path: str | os.PathLike[str], what: str) -> None:
    """Raise :class:`DataFormatError` naming ``path`` when it is empty or an HTML page instead of ``what``."""
    path = Path(path)
    kind = looks_like(path)
    if kind is None:
        return
    if kind == "empty":
        raise DataFormatError(
            path, f"is an empty file (0 bytes), not {what}: the download or extraction did not finish",
            hint="Download or extract it again",
        )  # fmt: skip
    title = kind.partition(":")[2]
    raise DataFormatError(
        path, f"looks like an HTML page{f' titled {title!r}' if title else ''}, not {what}: the download probably "
        "failed", hint=_REDOWNLOAD,
    )  # fmt: skip


def damaged(path: str | os.PathLike[str], what: str, cause: BaseException | str) -> DataFormatError:
    """The error for a file that is neither empty nor HTML and still cannot be read as ``what`` (truncated, damaged
    or another format); ``cause`` is the reader's own complaint. Raise the result."""
    path = Path(path)
    size = path.stat().st_size
    return DataFormatError(
        path, f"is not a readable {what} ({size:,} bytes; {cause}): the file is damaged or truncated, or was saved "
        "in another format", hint="Download or extract it again",
    )  # fmt: skip


def open_zip(path: str | os.PathLike[str], what: str = "a zip archive") -> zipfile.ZipFile:
    """``zipfile.ZipFile(path)``, or a :class:`DataFormatError` that says what the file is instead: an HTML page,
    an empty file, a zip cut short (it starts like one, but its central directory, stored at the end, is missing
    or broken), or not a zip at all."""
    path = Path(path)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        check_download(path, what)
        head = _head(path)
        size = path.stat().st_size
        if head.startswith(_ZIP_MAGIC):
            raise DataFormatError(
                path, f"is a truncated or damaged zip ({size:,} bytes): it starts like a zip, but its central "
                f"directory, stored at the end, is missing or broken ({exc}), so the download or copy stopped early",
                hint="Download it again (verify_checksums(..., include_zip=True) compares it with the released MD5)",
            ) from None  # fmt: skip
        raise DataFormatError(
            path, f"is not a zip archive (it begins with {head[:16]!r}; {exc})",
            hint=f"Expected {what}; download it again",
        ) from None  # fmt: skip
