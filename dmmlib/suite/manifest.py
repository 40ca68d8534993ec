"""The notebook manifest (``notebooks/manifest.yml``): the suite's order, titles and artefacts."""

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

    @property
    def path(self) -> Path:
        return paths.notebooks_dir() / self.file

    @property
    def stem(self) -> str:
        return Path(self.file).stem


def manifest_path() -> Path:
    return paths.notebooks_dir() / "manifest.yml"


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
        if not isinstance(item, dict) or "file" not in item or "title" not in item:
            raise ValueError(f"{path}: notebook entry {number} needs 'file' and 'title', got {item!r}")
        entry = NotebookEntry(item["file"], item["title"], tuple(item.get("produces") or ()))
        if not entry.path.is_file():
            raise FileNotFoundError(f"{path}: entry {number} names {entry.file}, which is not in {entry.path.parent}")
        entries.append(entry)
    return entries
