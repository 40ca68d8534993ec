"""The package's layout is its architecture: the paper at the top, every other role in a subpackage, imports one way.

The import graph is read from the source (``ast``), so the rules hold for every import, also those inside
functions: the method never imports ``lab`` or ``suite``; ``data`` and ``landmarks`` take folders as parameters and
never import ``suite`` (nor ``lab``); ``lab`` never imports ``suite``; ``files`` (atomic writes, opening a zip) imports
nothing else of dmmlib; no module imports itself back through others; and no subpackage imports itself back through
others either (``data`` -> ``landmarks`` -> ``data`` is a cycle even when no single module closes it).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dmmlib"
SUBPACKAGES = ("files", "data", "landmarks", "lab", "suite")
#: role -> roles it may not import
FORBIDDEN = {
    "files": {"method", "data", "landmarks", "lab", "suite"},
    "method": {"lab", "suite"},
    "data": {"lab", "suite"},
    "landmarks": {"lab", "suite"},
    "lab": {"suite"},
    "suite": set(),
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def role(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else "method"


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The dmmlib modules ``path`` imports (``from a import b`` counts as module a.b when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "dmmlib")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "dmmlib":
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    return found & known


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    found = modules(package)
    return {name: imports_of(path, set(found)) - {name} for name, path in found.items()}


def package_of(module: str) -> str:
    """The node of ``module`` in the package graph: its subpackage (``dmmlib.data``), or the module itself for the
    method at the top level (``dmmlib.train``)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed onto subpackages and top-level modules (edges inside one node dropped)."""
    collapsed: dict[str, set[str]] = {}
    for source, targets in graph.items():
        node = package_of(source)
        collapsed.setdefault(node, set()).update(package_of(t) for t in targets)
        for target in targets:
            collapsed.setdefault(package_of(target), set())
    return {node: targets - {node} for node, targets in collapsed.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_graph_reader_sees_a_cycle_and_a_forbidden_import(tmp_path):
    graph = {"dmmlib.a": {"dmmlib.b"}, "dmmlib.b": {"dmmlib.a"}, "dmmlib.c": set()}
    assert cycles(graph) == [["dmmlib.a", "dmmlib.b"]]
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from dmmlib.suite import paths\n    import dmmlib.lab.plots\n")
    known = {"dmmlib.suite", "dmmlib.suite.paths", "dmmlib.lab.plots"}
    assert imports_of(source, known) == {"dmmlib.suite.paths", "dmmlib.lab.plots"}


def test_no_module_imports_itself_back_through_others():
    assert cycles(import_graph()) == []


def test_the_package_graph_sees_a_cycle_that_no_module_closes(tmp_path):
    # a made-up graph: data.a -> landmarks.b -> data.c, no module cycle, yet data and landmarks need each other
    graph = {"dmmlib.data.a": {"dmmlib.landmarks.b"}, "dmmlib.landmarks.b": {"dmmlib.data.c"}, "dmmlib.data.c": set(),
             "dmmlib.train": {"dmmlib.data.c"}}  # fmt: skip
    assert cycles(graph) == []
    assert cycles(package_graph(graph)) == [["dmmlib.data", "dmmlib.landmarks"]]
    # the same, read from two throwaway subpackages on disk
    root = tmp_path / "dmmlib"
    for name, source in {"__init__.py": "", "method.py": "from dmmlib.one import a\n",
                         "one/__init__.py": "", "one/a.py": "def f():\n    from dmmlib.two import b\n",
                         "one/c.py": "", "two/__init__.py": "", "two/b.py": "from dmmlib.one import c\n"}.items():  # fmt: skip
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    on_disk = import_graph(root)
    assert cycles(on_disk) == []
    assert cycles(package_graph(on_disk)) == [["dmmlib.one", "dmmlib.two"]]


def test_no_subpackage_imports_itself_back_through_others():
    graph = package_graph(import_graph())
    assert {"dmmlib.files", "dmmlib.data", "dmmlib.landmarks", "dmmlib.lab", "dmmlib.suite", "dmmlib.train"} <= set(graph)
    assert cycles(graph) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_flow_one_way(layer):
    broken = [
        f"{source} imports {target}"
        for source, targets in import_graph().items() if role(source) == layer
        for target in sorted(targets) if role(target) in FORBIDDEN[layer]
    ]  # fmt: skip
    assert broken == []


def test_the_top_level_holds_only_the_method():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 18, top
    assert {"attributes.py", "spp.py", "model.py", "losses.py", "weighting.py", "thresholds.py", "train.py"} <= set(top)
    assert not {"presets.py", "session.py", "pipeline.py", "plots.py", "widgets.py", "book.py"} & set(top)


def test_the_method_and_the_readers_load_without_the_notebook_stack():
    heavy = ("papermill", "jupyter_book", "ipywidgets", "seaborn", "playwright", "nbformat")
    code = (
        "import sys, dmmlib.train, dmmlib.model, dmmlib.data.celeba\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


@pytest.mark.parametrize(
    "path",
    [
        "dmmlib.attributes.ATTRIBUTES", "dmmlib.attributes.OBJECTIVE", "dmmlib.attributes.SUBJECTIVE",
        "dmmlib.spp.SpatialPyramidPooling", "dmmlib.model.build_model", "dmmlib.losses.attribute_losses",
        "dmmlib.losses.landmark_loss", "dmmlib.losses.joint_loss", "dmmlib.weighting.UniformWeighting",
        "dmmlib.weighting.DynamicWeighting", "dmmlib.weighting.DWAWeighting", "dmmlib.weighting.AdaptiveWeighting",
        "dmmlib.weighting.dynamic_weights", "dmmlib.thresholds.FixedThresholds",
        "dmmlib.thresholds.AdaptiveThresholds", "dmmlib.thresholds.predict", "dmmlib.data.celeba.read_attributes",
        "dmmlib.data.celeba.read_partition", "dmmlib.data.celeba.CelebA", "dmmlib.data.lfwa.LFWA",
        "dmmlib.data.synthetic.generate", "dmmlib.data.synthetic.generate_lfwa",
        "dmmlib.landmarks.predict_landmarks", "dmmlib.align.align_face", "dmmlib.align.NoFaceFound",
    ],
)  # fmt: skip
def test_public_paths_keep_working(path):
    module, name = path.rsplit(".", 1)
    assert hasattr(importlib.import_module(module), name)
