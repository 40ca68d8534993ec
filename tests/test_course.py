"""The nbgrader course (`make assign`), graded by real nbgrader, headless.

The whole course is generated once (every notebook of the manifest, nbgrader's own ``generate_assignment``); the
autograder then runs notebook 04 (fast with the smoke preset, and it holds six of the graded exercises, the three
about the method among them) for three submissions: the solutions, the release stubs unmodified, and the solutions
with one subtly wrong answer. The marks are printed and written to ``build/test_course_marks.json``.
"""

from __future__ import annotations

import json
import re
import time

import nbformat
import pytest

from dmmlib.suite import course, exercises, manifest, paths

NOTEBOOK = "04_losses_weights_thresholds"
#: the subtly wrong answer: Eq. 6's epoch l counted from 0 instead of from ``epoch_from`` (an off-by-one)
WRONG_FROM = '    epoch = state["iteration"] // state["iterations_per_epoch"] + state["epoch_from"]  # l of Eq. 6'
WRONG_TO = '    epoch = state["iteration"] // state["iterations_per_epoch"]  # l of Eq. 6'
ANSWER_KEY = paths.notebooks_dir() / "answer_key.md"


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solution_lines(source: str, inside: bool = True) -> list[str]:
    """The non-blank lines between a cell's solution markers (either marker style), or with ``inside=False`` those
    outside them."""
    lines, within = [], False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            within = True
        elif "END SOLUTION" in line:
            within = False
        elif within == inside and line.strip():
            lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    started = time.perf_counter()
    graded = course.build(folder)
    print(f"\ncourse of {len(graded)} graded exercises generated in {time.perf_counter() - started:.0f} s")
    return folder, graded


# --- conversion of one cell (no nbgrader needed) -------------------------------------------------------------------
def test_an_exercise_cell_becomes_a_solution_cell_and_a_locked_graded_test_cell():
    source = ("import torch\n\nfrom dmmlib.lab import checks\n\n\ndef f(x):\n    # BEGIN SOLUTION\n    return x + 1\n"
              "    # END SOLUTION\n\n\nchecks.check_dynamic_weights(f)\n")  # fmt: skip
    (solution, test), graded = course.split_exercise(nbformat.v4.new_code_cell(source), "nb.ipynb")
    assert solution.source == "import torch\n\n\ndef f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"
    assert nbgrader_meta(solution) == {"grade": False, "grade_id": "f", "locked": False, "schema_version": 3,
                                       "solution": True, "task": False}  # fmt: skip
    meta = nbgrader_meta(test)
    assert meta["grade"] and meta["locked"] and not meta["solution"] and meta["points"] == 1 and meta["grade_id"] == "f_tests"
    assert "raises-exception" in test.metadata["tags"]
    visible, hidden = test.source.split("### BEGIN HIDDEN TESTS")
    assert "checks.check_dynamic_weights(f)" in visible and "from dmmlib.lab import checks" in visible
    seed = int(re.search(r"seed=(\d+)", hidden).group(1))
    assert seed != 0 and f"checks.check_dynamic_weights(f, seed={seed}, cases={course.HIDDEN_CASES})" in hidden
    assert hidden.rstrip().endswith("### END HIDDEN TESTS")
    assert graded.points == 1 and graded.checkers == ("check_dynamic_weights",)
    assert course.hidden_seed(1, "nb.ipynb", "f_tests") != seed, "another course seed draws other hidden cases"


def test_an_exercise_without_a_checker_call_is_refused():
    with pytest.raises(ValueError, match="checker call"):
        course.split_exercise(nbformat.v4.new_code_cell("def f():\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n"),
                              "nb.ipynb")  # fmt: skip


def test_student_copies_let_run_all_go_past_an_exercise(tmp_path):
    exercises.write_student_copies(tmp_path)
    nb = nbformat.read(tmp_path / f"{NOTEBOOK}.ipynb", as_version=4)
    stubs = [c for c in nb.cells if c.cell_type == "code" and "NotImplementedError" in c.source]
    assert len(stubs) == 6 and all("raises-exception" in c.metadata.get("tags", []) for c in stubs)


# --- the generated course --------------------------------------------------------------------------------------------
def test_every_exercise_has_a_solution_cell_and_a_graded_test_cell_with_hidden_checks(built):
    folder, graded = built
    expected = {e.file: e for e in manifest.load()}
    assert sorted(p.name for p in (folder / "release").iterdir()) == sorted(e.stem for e in expected.values())
    assert len(graded) == sum(len(exercises.exercises(e.path)) for e in expected.values())
    assert {g.checkers[0] for g in graded} >= {"check_algorithm1_update", "check_collapse", "check_masked_landmark_loss"}
    for exercise in graded:
        stem = expected[exercise.notebook].stem
        for version in ("source", "release"):
            nb = nbformat.read(folder / version / stem / exercise.notebook, as_version=4)
            cells = {nbgrader_meta(c).get("grade_id"): c for c in nb.cells}
            solution, test = cells[exercise.solution_id], cells[exercise.test_id]
            assert nbgrader_meta(solution)["solution"] and not nbgrader_meta(solution)["grade"]
            assert nbgrader_meta(test)["grade"] and nbgrader_meta(test)["locked"]
            assert nbgrader_meta(test)["points"] == exercise.points > 0
            assert "raises-exception" in test.metadata["tags"]
            assert "checks.check_" not in solution.source, "the checker call leaves the student's cell"
            if version == "source":
                assert "### BEGIN SOLUTION" in solution.source and "### BEGIN HIDDEN TESTS" in test.source
            else:
                assert "raise NotImplementedError()" in solution.source
                assert test.metadata.get("editable") is False


def test_the_release_holds_no_solution_text(built):
    folder, _ = built
    checked = 0
    for entry in manifest.load():
        source = nbformat.read(folder / "source" / entry.stem / entry.file, as_version=4)
        released = (folder / "release" / entry.stem / entry.file).read_text(encoding="utf-8")
        assert "SOLUTION" not in released and "HIDDEN TESTS" not in released
        assert not re.search(r"check_\w+\([^)]*seed=", released), f"{entry.file}: a hidden check was released"
        inside = {line for cell in source.cells for line in solution_lines(cell.source)}
        outside = {line for cell in source.cells for line in solution_lines(cell.source, inside=False)}
        release_lines = {line.strip() for cell in nbformat.reads(released, as_version=4).cells
                         for line in cell.source.splitlines()}  # fmt: skip
        # every line of a solution that the notebook does not also hold elsewhere (such as "else:")
        leaked = (inside - outside) & release_lines
        assert not leaked, f"{entry.file}: solution lines released: {sorted(leaked)}"
        checked += len(inside - outside)
    assert checked > 30, "the solution lines were not found in the source notebooks"
    assert not list((folder / "release").rglob("answer_key*")), "the answer key stays out of the release"


def test_nbgrader_grades_solutions_full_stubs_zero_and_a_subtle_mistake_partially(built):
    folder, _ = built
    release = nbformat.read(folder / "release" / NOTEBOOK / f"{NOTEBOOK}.ipynb", as_version=4)
    source = nbformat.read(folder / "source" / NOTEBOOK / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if nbgrader_meta(c).get("solution")}

    def submission(name: str, wrong: bool = False):
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        for cell in nb.cells:
            if name != "stubs" and nbgrader_meta(cell).get("solution"):
                # a student's answer: the solution without nbgrader's markers
                cell.source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION\n?", "", answers[nbgrader_meta(cell)["grade_id"]],
                                     flags=re.M).rstrip()  # fmt: skip
                if wrong:
                    assert WRONG_FROM in cell.source or nbgrader_meta(cell)["grade_id"] != "algorithm1_update"
                    cell.source = cell.source.replace(WRONG_FROM, WRONG_TO)
        path = folder / f"{name}.ipynb"
        nbformat.write(nb, path)
        return path

    started = time.perf_counter()
    marks = course.autograde(
        folder, NOTEBOOK,
        {"solutions": submission("solutions"), "stubs": submission("stubs"), "wrong": submission("wrong", wrong=True)},
        env={"DMM_PRESET": "smoke"},
    )  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"\nnbgrader marks of {NOTEBOOK} ({seconds:.0f} s):", marks)
    target = paths.build_dir() / "test_course_marks.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"notebook": NOTEBOOK, "marks": marks, "seconds": round(seconds)}, indent=1))

    score, full = marks["solutions"]
    assert full == 13 and score == full
    assert marks["stubs"] == (0.0, full)
    assert 0 < marks["wrong"][0] < full
    assert marks["wrong"][0] == full - course.POINTS["check_algorithm1_update"]

    # "Run All" of the stubs: only the graded test cells fail, every other cell (saving results too) ran
    graded = nbformat.read(folder / "autograded" / "stubs" / NOTEBOOK / f"{NOTEBOOK}.ipynb", as_version=4)
    failed = [c for c in graded.cells if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]
    assert len(failed) == 6 and all(nbgrader_meta(c).get("grade") for c in failed)
    saved = [c for c in graded.cells if "ctx.save_results" in c.source]
    assert saved and saved[0].outputs and saved[0].execution_count


# --- the instructor's answer key -------------------------------------------------------------------------------------
def open_prompts(path) -> list[int]:
    """Numbers of the numbered prompts in a notebook's closing "## Exercises" part (its list and "More to try")."""
    nb = nbformat.read(path, as_version=4)
    start = next((k for k, c in enumerate(nb.cells) if c.cell_type == "markdown" and "## Exercises" in c.source), None)
    if start is None:
        return []
    found = []
    for cell in nb.cells[start:]:
        if cell.cell_type == "markdown":
            text = cell.source.split("## Exercises", 1)[-1]
            found += [int(n) for n in re.findall(r"^(\d+)\. ", text, flags=re.M)]
    return found


def test_the_answer_key_answers_every_open_prompt_and_the_method_exercises():
    text = ANSWER_KEY.read_text(encoding="utf-8")
    answered = set(re.findall(r"^### (\d\d\.\d+)\b", text, flags=re.M))
    asked = {f"{entry.file[:2]}.{n}" for entry in manifest.load() for n in open_prompts(entry.path)}
    assert asked, "no open prompts found"
    assert asked - answered == set(), f"prompts without an answer in {ANSWER_KEY.name}"
    assert answered - asked == set(), f"answers to prompts that no notebook asks in {ANSWER_KEY.name}"
    method = [("04", "algorithm1_update"), ("04", "collapse_point"), ("04", "masked_landmark_loss"),
              ("04", "smoothed_weights"), ("04", "threshold_choice"), ("05", "landmark_share"),
              ("11", "holm_verdicts")]  # fmt: skip
    for notebook, name in method:
        assert re.search(rf"^### {notebook} exercise `{name}`", text, flags=re.M), f"no answer for {name}"
