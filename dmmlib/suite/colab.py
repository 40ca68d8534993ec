"""The Colab install cell: one source for the first code cell of the notebooks, written by a command.

On Google Colab a notebook opened from GitHub has no ``dmmlib``. The cell below, the first code cell of a
notebook, clones the course's repository into ``/content`` and pip-installs the package from that checkout with its
``suite`` extra (PyPI supplies the dependencies; no dataset, model or other file is fetched), then points
``DMM_ROOT`` at the checkout so runs, results and the manifest resolve there. Anywhere else (JupyterLab, papermill,
nbval, Binder) it imports three standard modules and does nothing. The cell itself never imports ``dmmlib``.

The cell carries Jupyter Book's ``remove-cell`` tag: the book's pages, read on the web, do not open with install
code (their Colab button opens the notebook itself, where the cell runs; Colab, papermill and nbval ignore the tag).

The repository URL is ``repository.url`` of ``book/_config.yml``, the same setting the book's Binder and Colab
launch buttons use. After changing it, or to add the cell to more notebooks, run::

    python -m dmmlib.suite.colab notebooks/*.ipynb

(``--check`` reports notebooks whose cell is missing or stale without writing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

from dmmlib.suite import paths

#: The URL ``book/_config.yml`` ships with, until an instructor sets the course's repository there.
PLACEHOLDER_URL = "https://github.com/SET-YOUR-ORG/SET-YOUR-REPO"
#: First line of the cell: how the command recognises a cell it wrote.
FIRST_LINE = "# Colab only: install dmmlib from the course's repository (does nothing anywhere else)."
CHECKOUT = "/content/dmm-cnn-suite"
#: Jupyter Book 1.x leaves a cell with this tag out of the page; notebooks run it as any other cell
BOOK_TAG = "remove-cell"

_TEMPLATE = '''{first_line}
# Written by `python -m dmmlib.suite.colab` from book/_config.yml (repository: url); edit the URL there.
import importlib.util
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    CHECKOUT = "{checkout}"
    if importlib.util.find_spec("dmmlib") is None:
        if not os.path.isdir(CHECKOUT):
            subprocess.run(["git", "clone", "--depth", "1", "{url}", CHECKOUT], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", CHECKOUT + "[suite]"], check=True)
        importlib.invalidate_caches()
    os.environ.setdefault("DMM_ROOT", CHECKOUT)'''


def repository_url(config: Path | None = None) -> str:
    """``repository.url`` of the book's ``_config.yml`` (the placeholder when it is empty)."""
    config = config or paths.repo_root() / "book" / "_config.yml"
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return str((data.get("repository") or {}).get("url") or PLACEHOLDER_URL).rstrip("/")


def cell_source(url: str | None = None) -> str:
    """The install cell's source for ``url`` (default: :func:`repository_url`)."""
    return _TEMPLATE.format(first_line=FIRST_LINE, checkout=CHECKOUT, url=url or repository_url())


def install_cell_index(nb: nbformat.NotebookNode) -> int | None:
    """Index of the notebook's install cell, or None."""
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.startswith(FIRST_LINE):
            return k
    return None


def add_install_cell(nb: nbformat.NotebookNode, url: str | None = None) -> bool:
    """Put the current install cell before the first code cell (or refresh it); return whether ``nb`` changed."""
    source = cell_source(url)
    index = install_cell_index(nb)
    if index is not None:
        cell = nb.cells[index]
        tags = cell.metadata.get("tags", [])
        if cell.source == source and BOOK_TAG in tags:
            return False
        cell.source = source
        cell.metadata["tags"] = [*tags, BOOK_TAG] if BOOK_TAG not in tags else tags
        return True
    first_code = next((k for k, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, nbformat.v4.new_code_cell(source, metadata={"tags": [BOOK_TAG]}))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.colab", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report missing or stale cells; write nothing")
    args = parser.parse_args(argv)
    url = repository_url()
    stale = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if add_install_cell(nb, url):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
    verb = "stale or missing in" if args.check else "written to"
    print(f"Colab install cell ({url}) {verb} {len(stale)} of {len(args.notebooks)} notebook(s)")
    for path in stale:
        print(f"  {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
