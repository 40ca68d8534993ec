"""Build the Jupyter Book from executed notebooks.

:func:`build` stages ``build/book/src/`` (the pages of ``book/``, the executed notebooks of
``build/executed/<preset>/``, a generated replication report, the instructor guide filled from the manifest and a
``_toc.yml`` generated from ``notebooks/manifest.yml``) and runs ``jupyter-book build`` with warnings as errors. It never executes a notebook
(``python -m dmmlib.suite book`` runs the suite first when the executed copies are missing). The site ends up at
``build/book/html/index.html``.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
import yaml

from dmmlib.suite import guide as course_guide
from dmmlib.suite import manifest, paths, provenance
from dmmlib.suite.book import report

REPORT_STEM = "replication_report"
GUIDE_STEM = "instructor_guide"
FIGURE = "figures/paper_per_attribute.png"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[interactive widget: open this notebook in JupyterLab to use it]"


def book_dir() -> Path:
    """The tracked sources of the book (config and prose pages)."""
    return paths.repo_root() / "book"


def out_root() -> Path:
    return paths.build_dir() / "book"


def site_dir(root: Path | None = None) -> Path:
    """Where the built site lives: ``build/book/html`` (open ``index.html``)."""
    return (root or out_root()) / "html"


def missing_or_stale(
    preset: str, entries: Sequence[manifest.NotebookEntry] | None = None
) -> list[manifest.NotebookEntry]:
    """Manifest notebooks with no executed copy for ``preset``, or whose source is newer than that copy."""
    found = []
    for entry in entries if entries is not None else manifest.load():
        copy = paths.executed_dir(preset) / entry.file
        if not copy.is_file() or copy.stat().st_mtime < entry.path.stat().st_mtime:
            found.append(entry)
    return found


def toc(notebook_stems: Sequence[str], guide: bool = True) -> dict[str, Any]:
    """The Jupyter Book 1.x table of contents: intro, the notebooks in manifest order, the instructor guide, the
    report."""
    parts = []
    if notebook_stems:
        parts.append(
            {"caption": "Notebooks", "chapters": [{"file": f"notebooks/{s}"} for s in notebook_stems]}
        )
    if guide:
        parts.append({"caption": "Teaching", "chapters": [{"file": GUIDE_STEM}]})
    parts.append({"caption": "Replication", "chapters": [{"file": REPORT_STEM}]})
    return {"format": "jb-book", "root": "intro", "parts": parts}


def notebook_stems(toc_data: Mapping[str, Any]) -> list[str]:
    """The notebook pages of a generated toc, in order (``"04_losses_weights_thresholds"``, ...)."""
    files = [c["file"] for part in toc_data["parts"] for c in part["chapters"]]
    return [f.split("/", 1)[1] for f in files if f.startswith("notebooks/")]


def progress_bar_text(model_id: str, states: Mapping[str, Any]) -> str | None:
    """The final line of a tqdm notebook progress bar (an HBox of HTML, FloatProgress, HTML) from the saved
    widget state, e.g. ``DMM-CNN: 100%| 32/32 [00:02<00:00, 11.6it/s]``; None for any other widget."""
    box = states.get(model_id, {})
    children = [
        states.get(str(c).removeprefix("IPY_MODEL_"), {}) for c in box.get("state", {}).get("children", [])
    ]
    kinds = [child.get("model_name") for child in children]
    if box.get("model_name") != "HBoxModel" or kinds != ["HTMLModel", "FloatProgressModel", "HTMLModel"]:
        return None
    left, right = (
        html.unescape(children[k]["state"].get("value", "")).replace("\u2007", " ") for k in (0, 2)
    )
    return f"{left}|{right}".strip()


def prepare_notebook(source: Path, target: Path, preset: str | None = None) -> None:
    """Copy an executed notebook for the static book: widget views become text, widget state is dropped.

    Widget views need ipywidgets' JavaScript (from a CDN) and a live kernel; a static page can do neither. A
    tqdm progress bar becomes its final line (read from the saved widget state); any other widget, a note. The
    results a notebook saved (:data:`dmmlib.suite.provenance.RESULTS_MIME`) become their line of text. With
    ``preset`` (the preset the copy ran with), the header states the machine time of the run the page shows
    (:func:`dmmlib.suite.guide.restamp_header`) instead of the earlier run's the notebook could see while it ran.
    """
    nb = nbformat.read(source, as_version=4)
    if preset is not None:
        course_guide.restamp_header(nb, preset)
    saved = nb.metadata.pop("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    states = saved.get("state", {}) if isinstance(saved, dict) else {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                bar = progress_bar_text(str(data[WIDGET_MIME].get("model_id", "")), states)
                output["data"] = {"text/plain": bar or WIDGET_NOTE}
            elif provenance.RESULTS_MIME in data:  # the saved results, kept for `collect`: the page shows the line of text
                output["data"] = {"text/plain": data.get("text/plain", "")}
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def stage(preset: str, src: Path | None = None) -> tuple[Path, list[str]]:
    """Lay out the build source folder; return it and the stems of the notebooks it holds."""
    src = src or out_root() / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(
        book_dir(),
        src,
        ignore=shutil.ignore_patterns("_build", "_toc.yml", "__pycache__", ".ipynb_checkpoints"),
    )
    entries = manifest.load()
    stems = []
    for entry in entries:
        copy = paths.executed_dir(preset) / entry.file
        if copy.is_file():
            prepare_notebook(copy, src / "notebooks" / entry.file, preset)
            stems.append(entry.stem)
    results = report.load_results(preset)
    suite_json = paths.executed_dir(preset) / "suite.json"
    suite_summary = json.loads(suite_json.read_text(encoding="utf-8")) if suite_json.is_file() else None
    report.paper_figure(src / FIGURE)
    page = report.render(
        preset,
        entries,
        results,
        executed=stems,
        suite_summary=suite_summary,
        figure=FIGURE,
        commit=provenance.git_commit(),
        run_configs=report.load_run_configs(preset),
    )
    (src / f"{REPORT_STEM}.md").write_text(page, encoding="utf-8")
    guide = src / f"{GUIDE_STEM}.md"
    if guide.is_file():
        times = {e.file: course_guide.page_seconds(preset, e) for e in entries}  # the runs the pages show
        guide.write_text(course_guide.render_guide(guide.read_text(encoding="utf-8"), preset, entries, times),
                         encoding="utf-8")  # fmt: skip
    toc_data = toc(stems, guide=guide.is_file())
    (src / "_toc.yml").write_text(yaml.safe_dump(toc_data, sort_keys=False), encoding="utf-8")
    return src, stems


def build(preset: str, root: Path | None = None) -> Path:
    """Stage and build the book for ``preset`` from its executed notebooks; return ``.../html/index.html``."""
    root = root or out_root()
    if not paths.executed_dir(preset).is_dir():
        raise FileNotFoundError(
            f"no executed notebooks for preset {preset!r} in {paths.executed_dir(preset)}: "
            f"run `make run PRESET={preset}` first (the book never executes notebooks)"
        )
    src, stems = stage(preset, root / "src")
    for entry in missing_or_stale(preset):
        print(f"note: {entry.file} is missing or older than its source in {paths.executed_dir(preset)}", flush=True)
    work = root / "work"
    if work.exists():
        shutil.rmtree(work)  # a full build each time: the site is moved out of work/ afterwards
    command = [
        str(Path(sys.executable).with_name("jupyter-book")), "build", str(src), "--path-output", str(work),
        "--builder", "html", "-W", "-n", "--keep-going",
    ]  # fmt: skip
    print(f"Building the book for preset {preset!r} ({len(stems)} notebook(s))", flush=True)
    completed = subprocess.run(command, cwd=src)
    if completed.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {completed.returncode}); see the warnings above")
    site = site_dir(root)
    if site.exists():
        shutil.rmtree(site)
    (work / "_build" / "html").rename(site)
    return site / "index.html"


def toc_of(src: Path) -> dict[str, Any]:
    toc_data = yaml.safe_load((src / "_toc.yml").read_text(encoding="utf-8"))
    if not toc_data["parts"] or toc_data["parts"][-1]["caption"] != "Replication":
        raise ValueError(f"{src / '_toc.yml'} was not generated by dmmlib.suite.book")
    return toc_data
