"""Notebooks are stored as sources: no outputs, no widget state, kernel python3, a typed parameters cell."""

from __future__ import annotations

import ast

import nbformat
import pytest

from dmmlib.suite import manifest, paths

NOTEBOOKS = sorted(paths.notebooks_dir().glob("*.ipynb"))


def test_manifest_lists_every_notebook_in_order():
    listed = [entry.file for entry in manifest.load()]
    assert listed == sorted(listed), "manifest order must follow the NN_ prefixes"
    assert set(listed) == {nb.name for nb in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in nb.metadata, "widget state is stored"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has stored outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_typed_parameters_cell_then_validation(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one parameters cell"
    tree = ast.parse(nb.cells[tagged[0]].source)
    assert tree.body and all(isinstance(node, ast.AnnAssign) for node in tree.body), "parameters must be typed"
    assert "PRESET" in {node.target.id for node in tree.body}
    following = nb.cells[tagged[0] + 1]
    assert following.cell_type == "code" and "session.start(" in following.source
