"""The nbgrader course (`make assign`), graded by real nbgrader, headless.

The whole course is generated once (every notebook of the manifest, nbgrader's own ``generate_assignment``),
with one more, made-up assignment beside it: every coded exercise of the course in one small notebook (its
solution and test cells, none of the notebooks' training), ``99_by_hand``. The autograder then runs

- notebook 04 (fast with the smoke preset; six graded exercises and five written answers) for the solutions
  and the release stubs;
- the made-up assignment for the solutions, the stubs, answers that hand each exercise to the library (or to
  scikit-learn, pandas) in a call or two, and the solutions with one subtle mistake.

The marks are printed and written to ``build/test_course_marks.json``.
"""

from __future__ import annotations

import ast
import json
import re
import time

import nbformat
import pytest

from dmmlib.suite import course, exercises, manifest, paths

NOTEBOOK = "04_losses_weights_thresholds"
BY_HAND = "99_by_hand"  #: the made-up assignment: every coded exercise of the course
#: the subtle mistake: Eq. 6's epoch l counted from 0 instead of from ``epoch_from`` (an off-by-one)
WRONG_FROM = '    epoch = state["iteration"] // state["iterations_per_epoch"] + state["epoch_from"]  # l of Eq. 6'
WRONG_TO = '    epoch = state["iteration"] // state["iterations_per_epoch"]  # l of Eq. 6'
ANSWER_KEY = paths.notebooks_dir() / "answer_key.md"
#: nbgrader's warning on a test cell that ends with a value ("Cell output is True, which cannot be
#: converted to a float"); its log breaks the message across lines, so whitespace is normalised first
FLOAT_WARNING = "cannot be converted to a float"

#: solution cell (grade id) -> an answer that hands the exercise to the library, scikit-learn or pandas. An
#: exercise the library has no answer to (collapse_point) keeps its solution.
DELEGATING = {
    "flip_landmarks": """from dmmlib.landmarks import schema


def flip_landmarks(points, width):
    return schema.flip_pixels(points, width)""",
    "spp": """from dmmlib.spp import SpatialPyramidPooling


def spp(feature_map, levels):
    return SpatialPyramidPooling(levels)(feature_map)""",
    "smoothed_weights": """import numpy as np
import pandas as pd


def smoothed_weights(val_losses, alpha):
    smoothed = pd.DataFrame(val_losses.numpy()).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return np.abs(np.diff(smoothed, axis=0)) / smoothed[:-1]""",
    "threshold_choice": """import numpy as np
from sklearn.metrics import balanced_accuracy_score


def threshold_choice(scores, labels, taus):
    balanced = [balanced_accuracy_score(labels, np.where(scores > tau, 1, -1)) for tau in taus]
    fp = [int(((scores > tau) & (labels < 0)).sum()) for tau in taus]
    fn = [int(((scores <= tau) & (labels > 0)).sum()) for tau in taus]
    gap = np.abs(np.array(fp) - np.array(fn))
    best, rest = int(np.argmax(balanced)), int(np.argmin(gap))
    return taus[best], balanced[best], taus[rest], balanced[rest]""",
    "counts": """from dmmlib import metrics


def counts(outputs, targets, tau):
    return metrics.false_positive_negative_counts(outputs, targets, tau)""",
    "algorithm1_update": """from dmmlib import thresholds, weighting


def algorithm1_update(state):
    eq6 = thresholds.AdaptiveThresholds(len(state["tau"]), gamma=state["gamma"])
    eq6.tau = state["tau"].clone()
    epoch = state["iteration"] // state["iterations_per_epoch"] + state["epoch_from"]
    tau = eq6.update(state["false_positives"], state["false_negatives"], state["num_samples"], epoch)
    if state["previous_losses"] is None:
        return tau, state["lambda"]
    return tau, weighting.dynamic_weights(state["losses"], state["previous_losses"])""",
    "masked_landmark_loss": """from dmmlib import losses


def masked_landmark_loss(pred, target, placeholder):
    return losses.landmark_loss(pred, target, mask=~placeholder)""",
    "landmark_share": """from dmmlib import losses
from dmmlib.lab import checks


def landmark_share(features, attribute_head, landmark_head, labels, landmarks, lam, beta):
    attr = losses.attribute_losses(attribute_head(features), labels)
    fld = losses.landmark_loss(landmark_head(features), landmarks)
    norm_attr, norm_fld = checks._trainer_gradient_norms(features, attr, fld, lam, beta)
    return norm_fld / (norm_fld + norm_attr)""",
    "group_means": """from dmmlib import metrics


def group_means(table):
    means = metrics.mean_table(table)
    gain = 100 * (means["accuracy"] - means["majority_accuracy"])
    return {group: float(gain[group]) for group in ("all", "objective", "subjective")}""",
    "dwa_weights": """from dmmlib import weighting


def dwa_weights(two_epochs_ago, last_epoch, temperature):
    scheme = weighting.DWAWeighting(len(last_epoch), temperature=temperature)
    scheme.update(two_epochs_ago)
    return scheme.update(last_epoch)""",
    "holm_verdicts": """from dmmlib.suite import stats


def holm_verdicts(results, alpha):
    found = {name: stats.paired_interval(a, b) for name, (a, b) in results.items()}
    adjusted = stats.holm([f["p_value"] for f in found.values()])
    return {name: (p, stats.verdict(f["ci_low"], f["ci_high"], p, f["n"], alpha))
            for (name, f), p in zip(found.items(), adjusted)}""",
}


def float_warnings(log: str) -> int:
    return " ".join(log.split()).count(FLOAT_WARNING)


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


def by_hand_notebook(folder) -> nbformat.NotebookNode:
    """The made-up assignment: the solution and test cells of every coded exercise of the course's source."""
    cells = []
    for entry in manifest.load():
        nb = nbformat.read(folder / "source" / entry.stem / entry.file, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and nbgrader_meta(cell):
                cell = nbformat.from_dict(json.loads(json.dumps(cell)))
                cell.id = f"{entry.number}-{cell.id}"
                cells.append(cell)
    made_up = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    made_up.cells.insert(0, nbformat.v4.new_markdown_cell("Every coded exercise of the course."))
    return made_up


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    started = time.perf_counter()
    built = course.write_source(folder, manifest.load())
    made_up = by_hand_notebook(folder)
    (folder / "source" / BY_HAND).mkdir()
    nbformat.write(made_up, folder / "source" / BY_HAND / f"{BY_HAND}.ipynb")
    course.generate(folder)
    print(f"\ncourse of {len(built.exercises)} graded exercises and {len(built.answers)} written answers "
          f"(and the made-up {BY_HAND}) generated in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return folder, built


def submission(folder, assignment: str, name: str, answer) -> object:
    """The release of ``assignment`` with each solution cell's source replaced by ``answer(grade_id, source's
    solution without nbgrader's markers)`` (None: the release's stub stays)."""
    release = nbformat.read(folder / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(folder / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    markers = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION\n?", flags=re.M)
    solutions = {nbgrader_meta(c)["grade_id"]: markers.sub("", c.source).rstrip()
                 for c in source.cells if nbgrader_meta(c).get("solution")}  # fmt: skip
    for cell in release.cells:
        if nbgrader_meta(cell).get("solution"):
            text = answer(nbgrader_meta(cell)["grade_id"], solutions[nbgrader_meta(cell)["grade_id"]])
            if text is not None:
                cell.source = text
    path = folder / f"{assignment}-{name}.ipynb"
    nbformat.write(release, path)
    return path


def record(assignment: str, marks: dict, seconds: float) -> None:
    target = paths.build_dir() / "test_course_marks.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    stored = json.loads(target.read_text()) if target.is_file() else {}
    stored = stored if isinstance(stored.get("assignments"), dict) else {"assignments": {}}
    stored["assignments"][assignment] = {
        "seconds": round(seconds),
        "marks": {student: {"autograded": m.auto(), "written": m.written()} for student, m in marks.items()},
    }
    target.write_text(json.dumps(stored, indent=1))


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
    assert "assert checks.check_dynamic_weights(f)" in visible and "from dmmlib.lab import checks" in visible
    # the comment names what is out of reach while the checks run
    assert "#     dmmlib.weighting.dynamic_weights" in visible and "write it yourself" in visible
    seed = int(re.search(r"seed=(\d+)", hidden).group(1))
    assert seed != 0
    assert f"assert checks.check_dynamic_weights(f, seed={seed}, cases={course.HIDDEN_CASES})" in hidden
    assert hidden.rstrip().endswith("### END HIDDEN TESTS")
    assert not isinstance(ast.parse(test.source).body[-1], ast.Expr), "a test cell ends with no value"
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


def test_a_prompt_without_a_rubric_is_refused(tmp_path):
    key = tmp_path / "key.md"
    key.write_text("## 04\n\n### 04.1\n\nAn answer without its rubric.\n")
    with pytest.raises(ValueError, match="Rubric"):
        course.answer_key(key)


# --- the generated course --------------------------------------------------------------------------------------------
def test_every_exercise_has_a_solution_cell_and_a_graded_test_cell_with_hidden_checks(built):
    folder, found = built
    expected = {e.file: e for e in manifest.load()}
    released = sorted(p.name for p in (folder / "release").iterdir())
    assert released == sorted([e.stem for e in expected.values()] + [BY_HAND])
    assert len(found.exercises) == sum(len(exercises.exercises(e.path)) for e in expected.values())
    assert {g.checkers[0] for g in found.exercises} >= {
        "check_algorithm1_update", "check_collapse", "check_masked_landmark_loss", "check_threshold_choice",
        "check_smoothed_weights", "check_landmark_share", "check_holm_verdicts"}  # fmt: skip
    for exercise in found.exercises:
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
            last = ast.parse(test.source).body[-1]
            assert not isinstance(last, ast.Expr), f"{exercise.test_id} ends with a value"
            if version == "source":
                assert "### BEGIN SOLUTION" in solution.source and "### BEGIN HIDDEN TESTS" in test.source
            else:
                assert "raise NotImplementedError()" in solution.source
                assert test.metadata.get("editable") is False


def test_every_open_prompt_gets_a_written_answer_cell_with_points_and_the_rubric_in_the_source_only(built):
    folder, found = built
    rubrics = course.answer_key()
    by_notebook = {}
    for answer in found.answers:
        by_notebook.setdefault(answer.notebook, []).append(answer)
    for entry in manifest.load():
        prompts = course.open_prompts(nbformat.read(entry.path, as_version=4), entry.file)
        assert [a.key for a in by_notebook.get(entry.number, [])] == [p.key for p in prompts]
        source = nbformat.read(folder / "source" / entry.stem / entry.file, as_version=4)
        release = nbformat.read(folder / "release" / entry.stem / entry.file, as_version=4)
        for version, nb in (("source", source), ("release", release)):
            cells = {nbgrader_meta(c).get("grade_id"): c for c in nb.cells}
            for prompt in prompts:
                cell = cells[f"answer_{prompt.key.replace('.', '_')}"]
                meta = nbgrader_meta(cell)
                assert cell.cell_type == "markdown"
                kind = (meta["solution"], meta["grade"], meta["task"], meta["locked"])
                assert kind == (True, True, False, False)
                assert meta["points"] == rubrics[prompt.key].points > 0
                assert f"exercise {prompt.number}**" in cell.source
                if version == "source":
                    assert rubrics[prompt.key].rubric in cell.source.replace("\n", " ")
                else:
                    assert "Rubric" not in cell.source and "YOUR ANSWER HERE" in cell.source
                # right after the cell that asks it (or after the answers to the prompts before it there)
                index = nb.cells.index(cell)
                asking = next(k for k in range(index, -1, -1) if not nbgrader_meta(nb.cells[k]).get("grade")
                              or nb.cells[k].cell_type == "code")  # fmt: skip
                assert f"{prompt.number}. " in nb.cells[asking].source


def test_the_release_holds_no_solution_text(built):
    folder, _ = built
    checked = 0
    for entry in manifest.load():
        source = nbformat.read(folder / "source" / entry.stem / entry.file, as_version=4)
        released = (folder / "release" / entry.stem / entry.file).read_text(encoding="utf-8")
        assert "SOLUTION" not in released and "HIDDEN TESTS" not in released and "Rubric (" not in released
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


def test_nbgrader_grades_notebook_04_solutions_full_stubs_zero_and_lists_the_written_answers(built):
    from nbgrader.api import Gradebook

    folder, found = built
    solutions = submission(folder, NOTEBOOK, "solutions", lambda grade_id, solution: solution)
    stubs = submission(folder, NOTEBOOK, "stubs", lambda grade_id, solution: None)
    started = time.perf_counter()
    marks, log = course.autograde(folder, NOTEBOOK, {"solutions": solutions, "stubs": stubs},
                                  env={"DMM_PRESET": "smoke"})  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"\nnbgrader marks of {NOTEBOOK} ({seconds:.0f} s): "
          f"{ {s: {'autograded': m.auto(), 'written': m.written()} for s, m in marks.items()} }")  # fmt: skip
    assert float_warnings(log) == 0, log

    coded = [e for e in found.exercises if e.notebook == f"{NOTEBOOK}.ipynb"]
    written = [a for a in found.answers if a.notebook == NOTEBOOK.split("_", 1)[0]]
    assert marks["solutions"].auto() == (sum(e.points for e in coded),) * 2 == (13.0, 13.0)
    assert marks["stubs"].auto() == (0.0, 13.0)
    # the written answers are in the gradebook with their points: the stubs' unchanged cells score 0 at once,
    # the solutions' answers wait for a grader
    in_gradebook = {k: g.points for k, g in marks["solutions"].grades.items() if g.written}
    assert in_gradebook == {a.grade_id: a.points for a in written}
    assert all(g.score is None for g in marks["solutions"].grades.values() if g.written)
    assert marks["stubs"].written() == (0.0, float(sum(a.points for a in written)))
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", course.COURSE_ID) as gradebook:
        notebook = gradebook.find_notebook(NOTEBOOK, NOTEBOOK)
        cells = {c.name: (c.cell_type, c.max_score) for c in notebook.grade_cells}
        assert {a.grade_id: ("markdown", float(a.points)) for a in written}.items() <= cells.items()
        for answer in written:  # the instructor grades them
            grade = gradebook.find_grade(answer.grade_id, NOTEBOOK, NOTEBOOK, "solutions")
            grade.manual_score = grade.max_score
        gradebook.db.commit()
    graded = course.marks(folder, NOTEBOOK, ["solutions"])["solutions"]
    assert graded.written() == (float(sum(a.points for a in written)),) * 2
    record(NOTEBOOK, marks, seconds)

    # "Run All" of the stubs: only the graded test cells fail, every other cell (saving results too) ran
    autograded = nbformat.read(folder / "autograded" / "stubs" / NOTEBOOK / f"{NOTEBOOK}.ipynb", as_version=4)
    failed = [c for c in autograded.cells
              if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]  # fmt: skip
    assert len(failed) == 6 and all(nbgrader_meta(c).get("grade") for c in failed)
    saved = [c for c in autograded.cells if "ctx.save_results" in c.source]
    assert saved and saved[0].outputs and saved[0].execution_count


def test_nbgrader_gives_no_points_to_an_answer_that_hands_the_exercise_to_the_library(built):
    folder, found = built
    ids = {e.solution_id for e in found.exercises}
    assert set(DELEGATING) == ids - {"collapse_point"}, "a delegating answer where the library has one"

    def delegating(grade_id, solution):
        return DELEGATING.get(grade_id, solution)

    def wrong(grade_id, solution):
        if grade_id == "algorithm1_update":
            assert WRONG_FROM in solution
            return solution.replace(WRONG_FROM, WRONG_TO)
        return solution

    submissions = {name: submission(folder, BY_HAND, name, answer) for name, answer in (
        ("solutions", lambda grade_id, solution: solution), ("stubs", lambda grade_id, solution: None),
        ("delegating", delegating), ("wrong", wrong))}  # fmt: skip
    started = time.perf_counter()
    marks, log = course.autograde(folder, BY_HAND, submissions, env={"DMM_PRESET": "smoke"})
    seconds = time.perf_counter() - started
    print(f"\nnbgrader marks of {BY_HAND} ({seconds:.0f} s): { {s: m.auto() for s, m in marks.items()} }")
    assert float_warnings(log) == 0, log
    record(BY_HAND, marks, seconds)

    full = float(sum(e.points for e in found.exercises))
    assert marks["solutions"].auto() == (full, full) == (23.0, 23.0)
    assert marks["stubs"].auto() == (0.0, full)
    for exercise in found.exercises:
        grade = marks["delegating"].grades[exercise.test_id]
        expected = grade.points if exercise.solution_id == "collapse_point" else 0.0
        assert grade.score == expected, f"{exercise.test_id}: {grade.score} for a delegating answer"
    assert marks["wrong"].auto() == (full - course.POINTS["check_algorithm1_update"], full)
    # the delegating answers fail because the library is out of reach, and say so
    graded = nbformat.read(folder / "autograded" / "delegating" / BY_HAND / f"{BY_HAND}.ipynb", as_version=4)
    errors = [o for c in graded.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert len(errors) == len(DELEGATING) and all(o.ename == "OutOfReach" for o in errors)
    assert all("write it yourself" in o.evalue for o in errors)


# --- the instructor's answer key ---------------------------------------------------------------------------
def test_the_answer_key_answers_every_open_prompt_and_the_method_exercises():
    text = ANSWER_KEY.read_text(encoding="utf-8")
    answered = set(re.findall(r"^### (\d\d[a-z]?\.\d+)\b", text, flags=re.M))
    asked = {p.key for entry in manifest.load()
             for p in course.open_prompts(nbformat.read(entry.path, as_version=4), entry.file)}  # fmt: skip
    assert asked, "no open prompts found"
    assert asked - answered == set(), f"prompts without an answer in {ANSWER_KEY.name}"
    assert answered - asked == set(), f"answers to prompts that no notebook asks in {ANSWER_KEY.name}"
    assert set(course.answer_key()) == asked, "every answer has its rubric"
    method = [("04", "algorithm1_update"), ("04", "collapse_point"), ("04", "masked_landmark_loss"),
              ("04", "smoothed_weights"), ("04", "threshold_choice"), ("05", "landmark_share"),
              ("11", "holm_verdicts")]  # fmt: skip
    for notebook, name in method:
        assert re.search(rf"^### {notebook} exercise `{name}`", text, flags=re.M), f"no answer for {name}"
