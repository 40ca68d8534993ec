"""Course data: every notebook has learning objectives and student minutes, and its executed header shows them.

The objectives and minutes live once, in notebooks/manifest.yml; ``session.start`` displays them as the notebook's
first output, and the book's instructor guide is generated from them (:mod:`dmmlib.suite.guide`).
"""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from dmmlib.suite import guide, manifest, paths, session

ENTRIES = manifest.load()


def test_every_notebook_has_two_to_four_objectives_and_student_minutes():
    assert guide.missing_course_data(ENTRIES) == []
    objectives = [o for e in ENTRIES for o in e.objectives]
    assert len(objectives) == len(set(objectives)), "an objective is copied between notebooks"
    assert all(5 <= e.student_minutes <= 180 for e in ENTRIES)  # 04, with six graded functions, needs about two hours


def test_the_manifest_refuses_malformed_course_data(tmp_path, monkeypatch):
    monkeypatch.setenv("DMM_ROOT", str(tmp_path))
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "a.ipynb").write_text("{}")
    bad = {"objectives": "one string", "student_minutes": "ten"}
    for key, value in bad.items():
        (tmp_path / "notebooks" / "manifest.yml").write_text(
            f"notebooks:\n  - file: a.ipynb\n    title: A\n    {key}: {json.dumps(value)}\n"
        )
        with pytest.raises(ValueError, match=key):
            manifest.load()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.stem)
def test_the_header_shows_objectives_student_minutes_and_machine_time(entry):
    unmeasured = guide.header_markdown(entry, "smoke", None)
    measured = guide.header_markdown(entry, "teach", 95.0)
    for objective in entry.objectives:
        assert objective in unmeasured and objective in measured
    assert f"About {entry.student_minutes} minutes of student work" in unmeasured
    assert "not measured yet" in unmeasured and "`smoke`" in unmeasured
    assert "the machine ran it in 2 min with the `teach` preset" in measured


def test_the_header_of_a_notebook_whose_runs_make_run_trained_first_says_its_time_excludes_them(tmp_path,
                                                                                                monkeypatch):
    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))
    folder = paths.executed_dir("teach")
    folder.mkdir(parents=True)
    record = {"seconds": 1200.0, "runs": 10, "jobs": 2, "threads per job": 1,
              "for notebooks": ["05_train_dmm_cnn", "06_run_ablations"]}  # fmt: skip
    times = {"05_train_dmm_cnn.ipynb": 60.0, "07_compare_weighting.ipynb": 400.0}
    (folder / "suite.json").write_text(json.dumps({"notebooks": times, guide.TRAINED_BEFORE: record}))
    trained = guide.header("05_train_dmm_cnn", "teach")["text/markdown"]
    assert ("ran it in 60 s with the `teach` preset (last measured run); `make run` trained the runs of notebooks "
            "05, 06 before them (20 min, 2 at a time)") in trained
    assert "trained the runs" not in guide.header("07_compare_weighting", "teach")["text/markdown"]


def test_machine_time_comes_from_the_suite_summary_else_from_papermills_record(tmp_path, monkeypatch):
    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))
    first, second = ENTRIES[0], ENTRIES[1]
    folder = paths.executed_dir("smoke")
    folder.mkdir(parents=True)
    assert guide.machine_seconds("smoke", first) is None
    (folder / "suite.json").write_text(json.dumps({"notebooks": {first.file: 12.5}}))
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"duration": 31.0}})
    nbformat.write(nb, folder / second.file)
    assert guide.machine_seconds("smoke", first) == 12.5
    assert guide.machine_seconds("smoke", second) == 31.0
    nb.metadata["papermill"]["duration"] = None  # papermill is running it right now
    nbformat.write(nb, folder / second.file)
    assert guide.machine_seconds("smoke", second) is None
    assert guide.format_duration(4000) == "1 h 07 min"


def test_a_run_of_some_notebooks_keeps_the_others_last_times_and_their_training_record():
    order = [e.file for e in ENTRIES]
    first, sixth, seventh = order[0], order[6], order[7]
    record = {"seconds": 1200.0, "jobs": 2, "for notebooks": [sixth[:-6], seventh[:-6]]}
    previous = {"notebooks": {sixth: 16.7, first: 30.0, "99_gone.ipynb": 5.0}, guide.TRAINED_BEFORE: record}
    times, before = guide.merge_timings(previous, {first: 12.0}, None, order)
    assert times == {first: 12.0, sixth: 16.7}, "06 keeps its time; a notebook the manifest lost is dropped"
    assert list(times) == [first, sixth], "in manifest order"
    assert before == record, "the notebooks that earlier training served were not run again"
    times, before = guide.merge_timings(previous, {sixth: 20.0}, None, order)
    assert times[sixth] == 20.0 and before == {**record, "for notebooks": [seventh[:-6]]}
    times, before = guide.merge_timings(previous, {sixth: 20.0, seventh: 9.0}, None, order)
    assert before is None, "every notebook it served was timed again without it"
    fresh = {"seconds": 60.0, "for notebooks": [sixth[:-6]]}
    assert guide.merge_timings(previous, {sixth: 20.0}, fresh, order)[1] == fresh
    assert guide.merge_timings(None, {first: 1.0}, None, order) == ({first: 1.0}, None)


def _executed_copy(stem: str, duration: float | None) -> nbformat.NotebookNode:
    """An executed copy as papermill leaves it: the header output (marked as session.show_header marks it) showing
    what the notebook could know while it ran, and papermill's duration of that run."""
    stale = guide.header(stem, "smoke")
    header = nbformat.v4.new_output("display_data", data=stale, metadata={guide.HEADER_METADATA: stem})
    cell = nbformat.v4.new_code_cell("ctx = session.start(...)", outputs=[header])
    return nbformat.v4.new_notebook(cells=[cell], metadata={"papermill": {"duration": duration}})


def test_the_book_page_of_a_notebook_gives_the_time_of_the_run_it_shows(tmp_path, monkeypatch):
    """Notebook 06's page said "not measured yet": the header is made while the notebook runs, when only an earlier
    run's time is known (none on a first run, and none when a run of other notebooks had replaced suite.json). The
    book restates it with the time papermill recorded for the very copy the page shows."""
    from dmmlib.suite.book import build

    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))
    stem = "06_run_ablations"
    paths.executed_dir("smoke").mkdir(parents=True)
    nb = _executed_copy(stem, 16.7)
    assert "not measured yet" in nb.cells[0].outputs[0]["data"]["text/markdown"]
    nbformat.write(nb, tmp_path / "06.ipynb")
    build.prepare_notebook(tmp_path / "06.ipynb", tmp_path / "page.ipynb", "smoke")
    shown = nbformat.read(tmp_path / "page.ipynb", as_version=4).cells[0].outputs[0]["data"]
    assert "the machine ran it in 17 s with the `smoke` preset (the run shown on this page)" in shown["text/markdown"]
    assert "not measured" not in shown["text/markdown"] and "17 s with the smoke preset" in shown["text/plain"]
    unfinished = _executed_copy(stem, None)  # papermill never finished it: nothing to restate
    assert guide.restamp_header(unfinished, "smoke") is False
    assert "not measured yet" in unfinished.cells[0].outputs[0]["data"]["text/markdown"]
    assert guide.restamp_header(nbformat.v4.new_notebook(metadata={"papermill": {"duration": 3.0}}), "smoke") is False


def test_the_instructor_guide_of_the_book_takes_each_pages_own_time(tmp_path, monkeypatch):
    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))
    folder = paths.executed_dir("smoke")
    folder.mkdir(parents=True)
    first, second = ENTRIES[0], ENTRIES[1]
    (folder / "suite.json").write_text(json.dumps({"notebooks": {first.file: 12.5, second.file: 40.0}}))
    nbformat.write(nbformat.v4.new_notebook(metadata={"papermill": {"duration": 31.0}}), folder / second.file)
    assert guide.page_seconds("smoke", second) == 31.0, "the copy the page shows, not an older summary"
    assert guide.page_seconds("smoke", first) == 12.5, "no copy: the summary"
    assert guide.page_seconds("smoke", ENTRIES[2]) is None


def test_no_header_outside_a_kernel_or_for_an_unlisted_notebook():
    assert session.show_header(ENTRIES[0].stem, "smoke") is False  # pytest is not an IPython kernel
    assert guide.header("99_not_in_the_manifest", "smoke") is None
    assert guide.header(ENTRIES[0].stem, "smoke")["text/markdown"].startswith("**Learning objectives.**")


def _header_notebook() -> nbformat.NotebookNode:
    """Every manifest notebook's own parameters cell and session.start cell, in order, in one notebook."""
    cells = []
    for entry in ENTRIES:
        source = nbformat.read(entry.path, as_version=4)
        tagged = next(k for k, c in enumerate(source.cells) if "parameters" in c.metadata.get("tags", []))
        cells += [
            nbformat.v4.new_code_cell(source.cells[tagged].source),
            nbformat.v4.new_code_cell(source.cells[tagged + 1].source, metadata={"dmm_notebook": entry.stem}),
        ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel})


@pytest.mark.slow
def test_each_notebooks_executed_header_cell_shows_its_objectives_and_minutes(monkeypatch):
    """The real parameters and session.start cells of every notebook, run in a kernel with the smoke preset."""
    from nbclient import NotebookClient

    monkeypatch.setenv("DMM_PRESET", "smoke")
    monkeypatch.setenv("DMM_ROOT", str(paths.repo_root()))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(paths.repo_root()), os.environ.get("PYTHONPATH")])))
    nb = _header_notebook()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(paths.notebooks_dir())}}).execute()
    by_stem = {e.stem: e for e in ENTRIES}
    for cell in nb.cells:
        stem = cell.metadata.get("dmm_notebook")
        if not stem:
            continue
        first = cell.outputs[0]
        assert first["output_type"] == "display_data", f"{stem}: the header is not the first output"
        shown = first["data"]["text/markdown"]
        for objective in by_stem[stem].objectives:
            assert objective in shown, f"{stem}: objective missing from the header"
        assert f"{by_stem[stem].student_minutes} minutes of student work" in shown
        assert "`smoke` preset" in shown
        assert first["metadata"][guide.HEADER_METADATA] == stem, f"{stem}: the header is not marked for the book"


# --- the instructor guide (a book page generated from the manifest) ----------------------------------------------


def test_the_instructor_guide_shows_every_notebooks_objectives_and_minutes_beside_machine_time():
    from dmmlib.suite.book import build

    template = (build.book_dir() / f"{build.GUIDE_STEM}.md").read_text(encoding="utf-8")
    times = {entry.file: 30.0 * k for k, entry in enumerate(ENTRIES)}
    times[ENTRIES[0].file] = None
    page = guide.render_guide(template, "teach", ENTRIES, times)
    assert guide.OBJECTIVES_MARKER not in page and guide.PLAN_MARKER not in page
    for entry in ENTRIES:
        assert f"### {entry.number} · {entry.title}" in page
        for objective in entry.objectives:
            assert f"- {objective}." in page
        shown = guide.format_duration(times[entry.file])
        assert f"| {entry.number} · {entry.title} | {entry.student_minutes} min | {shown} |" in page
    assert f"**{sum(e.student_minutes for e in ENTRIES)} min**" in page
    for heading in ("## Prerequisites", "## A two-week plan", "## Grading", "## Running on a shared JupyterHub"):
        assert heading in page
    assert "make run PRESET=teach" in page and "make assign" in page


def test_the_two_week_plan_covers_every_notebook_once():
    numbers = [e.number for e in ENTRIES]
    planned = [n for s in guide.COURSE_PLAN for n in (*s.notebooks, *s.optional)]
    assert sorted(planned) == sorted(numbers), "each notebook belongs to exactly one session (in class or optional)"
    in_class = {n for s in guide.COURSE_PLAN for n in s.notebooks}
    assert {"11", "07b"} <= in_class, "the seed study and the mechanism notebook are worked through in class"
    assert len(guide.COURSE_PLAN) == 5 and all(s.before and s.assign for s in guide.COURSE_PLAN)


def test_a_guide_without_its_markers_is_refused():
    with pytest.raises(ValueError, match="marker"):
        guide.render_guide("# Instructor guide\n", "teach", ENTRIES, {})


def test_every_notebooks_minutes_come_from_a_stated_estimate_that_counts_its_exercises():
    import nbformat

    from dmmlib.suite import course, exercises

    for entry in ENTRIES:
        estimate = entry.minutes_estimate
        assert estimate is not None, f"{entry.file}: no minutes_estimate in the manifest"
        assert estimate.total == entry.student_minutes
        nb = nbformat.read(entry.path, as_version=4)
        assert len(estimate.graded) == len(exercises.exercises(entry.path)), f"{entry.file}: one number per graded exercise"
        assert len(estimate.prompts) == len(course.open_prompts(nb, entry.file)), f"{entry.file}: one per open prompt"
        words = sum(len(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
        lines = sum(len(c.source.splitlines()) for c in nb.cells if c.cell_type == "code")
        guideline = words / 100 + lines / 15
        assert 0.5 * guideline <= estimate.reading <= 2 * guideline, f"{entry.file}: reading {estimate.reading} min"


def test_an_estimate_that_does_not_add_up_is_refused(tmp_path):
    (tmp_path / "00_x.ipynb").write_text("{}")
    bad = tmp_path / "manifest.yml"
    bad.write_text("notebooks:\n  - file: 00_x.ipynb\n    title: x\n    student_minutes: 30\n"
                   "    minutes_estimate: {reading: 10, graded: [8], prompts: [5], waiting: 1}\n")
    with pytest.raises(ValueError, match="00_x.ipynb.*adds up to 24"):
        manifest.load(bad)
