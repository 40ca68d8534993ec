"""Lab exercises kept in one source: solutions live in the notebooks between markers.

In a code cell, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` are the solution. A student copy
replaces them with ``raise NotImplementedError(...)`` at the same indentation; the checker call that ends the
cell (``checks.check_...``) then fails with "not done yet" until the student writes the code.

``python -m dmmlib.suite.exercises --out build/student`` writes student copies of every notebook of the manifest.
Their exercise cells carry the ``raises-exception`` tag, so "Run All" in JupyterLab goes on past an exercise that is
not done yet. For a graded course with locked tests and hidden checks, see :mod:`dmmlib.suite.course`.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dmmlib.files import atomic
from dmmlib.suite import manifest, paths

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
#: the cell tag that lets JupyterLab's "Run All" (and nbclient) go on past an error in that cell
RAISES = "raises-exception"
_BLOCK = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*(\n|$)", re.M | re.S)


@dataclass(frozen=True)
class Exercise:
    notebook: str
    cell_index: int
    solution: str  #: the cell's source as stored
    stub: str  #: the cell's source in the student copy


def stub_source(source: str) -> str:
    """``source`` with every solution block replaced by a ``NotImplementedError`` stub."""
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"unbalanced solution markers in cell:\n{source}")

    def replace(match: re.Match[str]) -> str:
        indent = match.group(1)
        return f'{indent}raise NotImplementedError("exercise: write this part")' + match.group(2)

    return _BLOCK.sub(replace, source)


def exercises(path: Path) -> list[Exercise]:
    """The exercise cells (those with solution markers) of one notebook."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and BEGIN in cell.source:
            found.append(Exercise(path.name, index, cell.source, stub_source(cell.source)))
    return found


def write_student_copy(source: Path, target: Path) -> int:
    """Write the student copy of one notebook; return its number of exercise cells."""
    nb = nbformat.read(source, as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            cell.source = stub_source(cell.source)
            tags = cell.metadata.setdefault("tags", [])
            if RAISES not in tags:
                tags.append(RAISES)  # JupyterLab's "Run All" goes on past a failing exercise
            count += 1
    atomic.write_text(target, nbformat.writes(nb))
    return count


def write_student_copies(out_dir: Path) -> dict[str, int]:
    """Student copies of every notebook of the manifest (with the manifest) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {entry.file: write_student_copy(entry.path, out_dir / entry.file) for entry in manifest.load()}
    atomic.write_bytes(out_dir / "manifest.yml", manifest.manifest_path().read_bytes())
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.exercises", description="write student copies")
    parser.add_argument("--out", type=Path, default=paths.build_dir() / "student")
    args = parser.parse_args(argv)
    counts = write_student_copies(args.out)
    for name, count in counts.items():
        print(f"{name}: {count} exercise(s)")
    print(f"{sum(counts.values())} exercises in {len(counts)} notebooks -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
