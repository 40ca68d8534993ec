"""The notebook manifest (``notebooks/manifest.yml``): the suite's order, titles, artefacts and course data.

Each entry names a notebook ``file``, its ``title``, the artefacts it ``produces``, and for teaching its learning
``objectives`` (2-4 sentences) and the ``student_minutes`` a student needs to work through it. The objectives and
minutes are written once, here: each notebook's header (``session.start``) and the book's instructor guide show
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from dmmlib.suite import paths


@dataclass(frozen=True)
class NotebookEntry:
    file: str
    title: str
    produces: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()  #: learning objectives, each a sentence without its final full stop
    student_minutes: int | None = None  #: minutes a student needs to work through the notebook (not machine time)

    @property
    def path(self) -> Path:
        return paths.notebooks_dir() / self.file

    @property
    def stem(self) -> str:
        return Path(self.file).stem

    @property
    def number(self) -> str:
        """The ``NN`` prefix of the file name (``"04"``)."""
        return self.file.split("_", 1)[0]


def manifest_path() -> Path:
    return paths.notebooks_dir() / "manifest.yml"


def _entry(path: Path, number: int, item: object) -> NotebookEntry:
    if not isinstance(item, dict) or "file" not in item or "title" not in item:
        raise ValueError(f"{path}: notebook entry {number} needs 'file' and 'title', got {item!r}")
    objectives = item.get("objectives") or []
    if not isinstance(objectives, list) or not all(isinstance(o, str) and o.strip() for o in objectives):
        raise ValueError(f"{path}: entry {number} ({item['file']}): 'objectives' must be a list of sentences")
    minutes = item.get("student_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0):
        raise ValueError(f"{path}: entry {number} ({item['file']}): 'student_minutes' must be a positive integer")
    return NotebookEntry(
        item["file"], item["title"], tuple(item.get("produces") or ()), tuple(o.strip() for o in objectives), minutes
    )


def load(path: Path | None = None) -> list[NotebookEntry]:
    """The notebooks in suite order; a clear error names the manifest and the faulty entry."""
    path = path or manifest_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"notebook manifest not found: {path}") from None
    if not isinstance(data, dict) or not isinstance(data.get("notebooks"), list):
        raise ValueError(f"{path}: expected a mapping with a 'notebooks' list")
    entries = []
    for number, item in enumerate(data["notebooks"], start=1):
        entry = _entry(path, number, item)
        if not entry.path.is_file():
            raise FileNotFoundError(f"{path}: entry {number} names {entry.file}, which is not in {entry.path.parent}")
        entries.append(entry)
    return entries


def find(notebook: str, path: Path | None = None) -> NotebookEntry | None:
    """The entry whose stem or file name is ``notebook`` ("04_losses_weights_thresholds"), or None."""
    for entry in load(path):
        if notebook in (entry.stem, entry.file):
            return entry
    return None
