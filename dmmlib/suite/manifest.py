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
class MinutesEstimate:
    """A notebook's student minutes, part by part (the manifest's ``minutes_estimate``)."""

    reading: int
    graded: tuple[int, ...]  #: minutes per graded exercise, in notebook order
    prompts: tuple[int, ...]  #: minutes per open prompt ("## Exercises" list), in order
    waiting: int  #: machine time the student waits for (teach preset, trained runs in place)

    @property
    def total(self) -> int:
        return self.reading + sum(self.graded) + sum(self.prompts) + self.waiting

    def text(self) -> str:
        parts = [f"reading {self.reading}"]
        if self.graded:
            parts.append(f"{len(self.graded)} graded exercise{'s' if len(self.graded) > 1 else ''} {sum(self.graded)}")
        if self.prompts:
            parts.append(f"{len(self.prompts)} open prompt{'s' if len(self.prompts) > 1 else ''} {sum(self.prompts)}")
        parts.append(f"waiting for the machine {self.waiting}")
        return " + ".join(parts) + f" = {self.total} min"


def _minutes(where: str, item: object) -> MinutesEstimate:
    def whole(name: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}: minutes_estimate {name} must be a whole number of minutes >= 0, got {value!r}")
        return value

    if not isinstance(item, dict) or set(item) != {"reading", "graded", "prompts", "waiting"}:
        raise ValueError(f"{where}: minutes_estimate needs exactly reading, graded (a list), prompts (a list) and "
                         f"waiting, got {item!r}")  # fmt: skip
    lists = {}
    for name in ("graded", "prompts"):
        if not isinstance(item[name], list):
            raise ValueError(f"{where}: minutes_estimate {name} must be a list (one number per item), got {item[name]!r}")
        lists[name] = tuple(whole(name, v) for v in item[name])
    return MinutesEstimate(whole("reading", item["reading"]), lists["graded"], lists["prompts"],
                           whole("waiting", item["waiting"]))  # fmt: skip


@dataclass(frozen=True)
class NotebookEntry:
    file: str
    title: str
    produces: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()  #: learning objectives, each a sentence without its final full stop
    student_minutes: int | None = None  #: minutes a student needs to work through the notebook (not machine time)
    #: where ``student_minutes`` comes from: reading (the markdown and code, at about 100 words and 15 code lines a
    #: minute), one number per graded exercise, one per open prompt, and the machine time a student waits for with
    #: the teach preset's runs in place; the parts add up to ``student_minutes`` (:class:`MinutesEstimate`)
    minutes_estimate: MinutesEstimate | None = None

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
    estimate = None
    if item.get("minutes_estimate") is not None:
        estimate = _minutes(f"{path}: entry {number} ({item['file']})", item["minutes_estimate"])
        if estimate.total != minutes:
            raise ValueError(f"{path}: entry {number} ({item['file']}): student_minutes is {minutes} but its "
                             f"minutes_estimate adds up to {estimate.total} ({estimate.text()})")  # fmt: skip
    return NotebookEntry(
        item["file"], item["title"], tuple(item.get("produces") or ()), tuple(o.strip() for o in objectives), minutes,
        estimate,
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
