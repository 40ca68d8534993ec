"""The nbgrader course (``make assign``): every notebook of the manifest becomes one nbgrader assignment.

``python -m dmmlib.suite.course --out build/course`` writes::

    build/course/nbgrader_config.py     the course id and the autograder's settings
    build/course/source/<NN_name>/      the instructor's version: solutions, visible and hidden tests, rubrics
    build/course/release/<NN_name>/     the students' version, made by nbgrader's own ``generate_assignment``
    build/course/gradebook.db           nbgrader's gradebook (assignments, their cells and points)

Each exercise cell of a notebook (solution between ``# BEGIN SOLUTION`` and ``# END SOLUTION``, ending with a
checker call ``checks.check_...(fn)``, see :mod:`dmmlib.suite.exercises`) becomes two cells:

- the **solution cell**: nbgrader's markers (``### BEGIN SOLUTION`` / ``### END SOLUTION``) and metadata
  (``solution: true``); the checker call and the ``checks`` import leave it, so a student's unfinished function no
  longer raises in the cell that defines it;
- a **test cell**, locked and graded with points: the notebook's checker call (the visible checks), then between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` the same checker with another random seed and more
  cases. Every check is an ``assert`` statement, so the cell ends with no value (nbgrader would try to read a
  value as a partial score). While a checker runs the student's function, the library functions that already
  do what the exercise asks are out of reach (:data:`dmmlib.lab.checks.OUT_OF_REACH`): an answer that calls
  them fails, and the cell's comment names them. The cell carries the ``raises-exception`` tag, so in
  JupyterLab "Run All" goes on past a failing test and the cells that save a notebook's results still run;
  nbgrader's autograder grades the cell by whether it raised.

Each open prompt (the numbered "## Exercises" lists and "More to try") gets a **written answer cell** after
the cell that asks it: a markdown cell graded by hand (``solution: true, grade: true``) with the points and
the rubric of the prompt's section in ``notebooks/answer_key.md`` (its "Rubric (N points): ..." paragraph,
then the key's answer). Rubric and answer sit between nbgrader's solution markers, so the source version
holds them and the release shows "YOUR ANSWER HERE" instead; the answer key file itself stays out of the
course folders. ``source/`` and ``release/`` are rewritten on every run; ``submitted/``, ``autograded/`` and
the gradebook's grades are left alone.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import nbformat
from nbformat import NotebookNode

from dmmlib.files import atomic
from dmmlib.suite import exercises, manifest, paths

COURSE_ID = "dmm-cnn"
#: points of an exercise by its checker; the exercises about the method weigh more than a formula typed in
POINTS: dict[str, int] = {
    "check_algorithm1_update": 3, "check_collapse": 2, "check_masked_landmark_loss": 2,
    "check_threshold_choice": 3, "check_smoothed_weights": 2, "check_landmark_share": 3,
    "check_holm_verdicts": 3,
}  # fmt: skip
DEFAULT_POINTS = 1
#: the instructor's answers to the open prompts, each with its rubric (points); never copied into the course
ANSWER_KEY = paths.notebooks_dir() / "answer_key.md"
#: random cases of each hidden check (the visible checks keep the checker's defaults)
HIDDEN_CASES = 20
NBGRADER_BEGIN, NBGRADER_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: the stub nbgrader puts where a solution was (its default, set in the config so that it is stated somewhere)
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

CONFIG = f'''# nbgrader configuration of the DMM-CNN course, written by `make assign` (python -m dmmlib.suite.course).
# Run nbgrader commands in this folder, e.g. `nbgrader autograde 04_losses_weights_thresholds`.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{COURSE_ID}"
# The notebooks train small networks; with the teach preset a cell can take minutes on a CPU.
c.Execute.timeout = 3600
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
'''


@dataclass(frozen=True)
class GradedExercise:
    """One exercise of the course: where it is, its grade ids and its points."""

    notebook: str
    solution_id: str
    test_id: str
    points: int
    checkers: tuple[str, ...]


@dataclass(frozen=True)
class WrittenAnswer:
    """One open prompt of the course, answered in a markdown cell graded by hand."""

    notebook: str
    key: str  #: "04.1": notebook 04, prompt 1 (the answer key's heading)
    grade_id: str
    points: int


@dataclass(frozen=True)
class OpenPrompt:
    """A numbered prompt of a notebook's closing "## Exercises" part (its list and "More to try")."""

    key: str  #: "04.1"
    number: int
    text: str
    cell: int  #: the index of the markdown cell that asks it


@dataclass(frozen=True)
class Rubric:
    """An answer key's section for one prompt: its points, how they are earned, and the key's answer."""

    points: int
    rubric: str
    answer: str


@dataclass
class Course:
    """What :func:`build` wrote: the coded exercises and the written answers, each graded."""

    exercises: list[GradedExercise] = field(default_factory=list)
    answers: list[WrittenAnswer] = field(default_factory=list)


def hidden_seed(course_seed: int, notebook: str, grade_id: str) -> int:
    """The seed of an exercise's hidden checks: fixed for a course seed, never 0 (the visible checks' seed)."""
    return 1 + zlib.crc32(f"{course_seed}/{notebook}/{grade_id}".encode()) % (2**31 - 1)


def _checker_calls(tree: ast.Module) -> list[ast.Expr]:
    """The top-level ``checks.check_...(...)`` statements of a cell."""
    found = []
    for node in tree.body:
        if not isinstance(node, ast.Expr):
            continue
        call = node.value
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr.startswith("check_")
                and isinstance(call.func.value, ast.Name) and call.func.value.id == "checks"):  # fmt: skip
            found.append(node)
    return found


def _checker_call(node: ast.Expr) -> ast.Call:
    """The ``checks.check_...(...)`` call of a statement that :func:`_checker_calls` found."""
    return cast(ast.Call, node.value)  # _checker_calls keeps only such statements


def _checker_name(node: ast.Expr) -> str:
    """``check_...``: the name of the checker that a statement :func:`_checker_calls` found calls."""
    return cast(ast.Attribute, _checker_call(node).func).attr


def _checks_imports(tree: ast.Module) -> list[ast.ImportFrom]:
    return [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.module == "dmmlib.lab"
            and [alias.name for alias in node.names] == ["checks"] and node.names[0].asname is None]  # fmt: skip


def _drop_lines(source: str, nodes: Iterable[ast.stmt]) -> str:
    lines = source.split("\n")
    dropped = {k for node in nodes for k in range(node.lineno - 1, (node.end_lineno or node.lineno))}
    kept = "\n".join(line for k, line in enumerate(lines) if k not in dropped)
    return re.sub(r"\n{4,}", "\n\n\n", kept).strip("\n")


def nbgrader_markers(source: str) -> str:
    """The notebook's solution markers as nbgrader's (``# BEGIN SOLUTION`` -> ``### BEGIN SOLUTION``), indent kept."""
    source = re.sub(rf"^([ \t]*){re.escape(exercises.BEGIN)}\b", rf"\g<1>{NBGRADER_BEGIN}", source, flags=re.M)
    return re.sub(rf"^([ \t]*){re.escape(exercises.END)}\b", rf"\g<1>{NBGRADER_END}", source, flags=re.M)


def split_exercise(cell: NotebookNode, notebook: str, course_seed: int = 0) -> tuple[list[NotebookNode], GradedExercise]:
    """The solution cell and the graded test cell that replace one exercise cell of ``notebook``."""
    source = cell.source
    if source.count(exercises.BEGIN) != source.count(exercises.END):
        raise ValueError(f"{notebook}: unbalanced solution markers in cell:\n{source}")
    tree = ast.parse(source)
    calls = _checker_calls(tree)
    if not calls:
        raise ValueError(f"{notebook}: an exercise cell must end with a checker call (checks.check_...(fn)):\n{source}")
    names = tuple(_checker_name(node) for node in calls)
    first = _checker_call(calls[0])
    graded = first.args[0].id if first.args and isinstance(first.args[0], ast.Name) else names[0].removeprefix("check_")
    solution_id, test_id = graded, f"{graded}_tests"
    points = sum(POINTS.get(name, DEFAULT_POINTS) for name in names)

    uses_checks = {n.id for n in ast.walk(ast.Module(body=[s for s in tree.body if s not in calls], type_ignores=[]))
                   if isinstance(n, ast.Name)}  # fmt: skip
    drop: list[ast.stmt] = [*calls, *([] if "checks" in uses_checks else _checks_imports(tree))]
    solution = copy.deepcopy(cell)
    solution.source = nbgrader_markers(_drop_lines(source, drop))
    solution.metadata["nbgrader"] = {"grade": False, "grade_id": solution_id, "locked": False, "schema_version": 3,
                                     "solution": True, "task": False}  # fmt: skip

    seed = hidden_seed(course_seed, notebook, test_id)
    visible = [f"assert {ast.get_source_segment(source, node) or ast.unparse(node)}" for node in calls]
    hidden = []
    for node in calls:
        call = copy.deepcopy(_checker_call(node))
        call.keywords = [k for k in call.keywords if k.arg not in ("seed", "cases", "by_hand")]
        call.keywords += [ast.keyword("seed", ast.Constant(seed)), ast.keyword("cases", ast.Constant(HIDDEN_CASES))]
        hidden.append(f"assert {ast.unparse(call)}")
    test = nbformat.v4.new_code_cell("\n".join([
        f"# Tests of {graded}: {points} point{'s' if points != 1 else ''}, locked. Run it to check your answer;",
        "# the autograder adds hidden checks with other random cases.",
        *out_of_reach_note(names),
        "from dmmlib.lab import checks",
        "",
        *visible,
        HIDDEN_BEGIN,
        *hidden,
        HIDDEN_END,
    ]))  # fmt: skip
    if "id" in cell:
        test.id = f"{cell.id}-tests"
    test.metadata["tags"] = [exercises.RAISES]
    test.metadata["nbgrader"] = {"grade": True, "grade_id": test_id, "locked": True, "points": points,
                                 "schema_version": 3, "solution": False, "task": False}  # fmt: skip
    return [solution, test], GradedExercise(notebook, solution_id, test_id, points, names)


def out_of_reach_note(checkers: Sequence[str]) -> list[str]:
    """The comment lines of a test cell that name what its checkers put out of reach (none: no lines)."""
    from dmmlib.lab import checks

    targets = list(dict.fromkeys(t for c in checkers for t in checks.OUT_OF_REACH.get(c, ())))
    names = [checks.shown_name(t) for t in targets if not t.startswith("dmmlib.lab.checks:")]
    if not targets:
        return []
    if len(names) < len(targets):
        names.append("the checker's own reference in dmmlib.lab.checks")
    one = len(names) == 1
    return ["# Write it yourself: while the checks (the hidden ones too) run your function,",
            *[f"#     {name}" for name in names],
            f"# {'is' if one else 'are'} out of reach. Calling {'it' if one else 'one of them'} raises "
            '"this exercise asks you to write it yourself",', "# and such an answer scores 0."]  # fmt: skip


def open_prompts(nb: NotebookNode, notebook: str) -> list[OpenPrompt]:
    """The numbered prompts of a notebook's closing "## Exercises" part (its list and "More to try")."""
    asking = [k for k, c in enumerate(nb.cells) if c.cell_type == "markdown" and "## Exercises" in c.source]
    if not asking:
        return []
    start, found = asking[0], []
    for index in range(start, len(nb.cells)):
        cell = nb.cells[index]
        if cell.cell_type != "markdown":
            continue
        text = cell.source.split("## Exercises", 1)[-1]
        for match in re.finditer(r"^(\d+)\. (.*(?:\n[ \t]+\S.*)*)", text, flags=re.M):
            found.append(OpenPrompt(f"{notebook.split('_', 1)[0]}.{match.group(1)}", int(match.group(1)),
                                    " ".join(match.group(2).split()), index))  # fmt: skip
    return found


_RUBRIC = re.compile(r"^Rubric \((\d+) points?\): (.*?)(?:\n\n|\Z)", flags=re.M | re.S)


def answer_key(path: Path | None = None) -> dict[str, Rubric]:
    """The answer key's sections for the open prompts (``### NN.k``), each with its "Rubric (N points): ..."
    paragraph (required) and the rest of the section as the key's answer."""
    path = path or ANSWER_KEY
    found = {}
    for section in re.split(r"^### ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        key = re.match(r"(\d\d[a-z]?\.\d+)\b", heading)
        if key is None:
            continue  # the notes on the graded exercises
        body = re.split(r"^## ", body, flags=re.M)[0].strip()  # up to the next notebook's part
        rubric = _RUBRIC.search(body)
        if rubric is None:
            raise ValueError(f"{path.name}, {key.group(1)}: no paragraph 'Rubric (N points): ...'")
        answer = (body[: rubric.start()] + body[rubric.end() :]).strip()
        found[key.group(1)] = Rubric(int(rubric.group(1)), " ".join(rubric.group(2).split()), answer)
    return found


def answer_cell(prompt: OpenPrompt, rubric: Rubric,
                cell_id: str | None) -> tuple[NotebookNode, WrittenAnswer]:  # fmt: skip
    """The markdown cell, graded by hand, where a student answers one open prompt; in the source version it
    holds the rubric and the key's answer between nbgrader's solution markers (the release shows its text
    stub)."""
    points = f"{rubric.points} point{'s' if rubric.points != 1 else ''}"
    cell = nbformat.v4.new_markdown_cell("\n".join([
        f"**Your answer to exercise {prompt.number}** ({points}, graded by hand): write it in this cell, in "
        "place of the line below.",
        "",
        NBGRADER_BEGIN,
        f"*Rubric ({points}):* {rubric.rubric}",
        "",
        "*The answer key's answer:*",
        "",
        rubric.answer,
        NBGRADER_END,
    ]))  # fmt: skip
    grade_id = "answer_" + prompt.key.replace(".", "_")
    if cell_id is not None:
        cell.id = f"{cell_id}-answer-{prompt.number}"
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": False,
                                 "points": rubric.points, "schema_version": 3, "solution": True,
                                 "task": False}  # fmt: skip
    return cell, WrittenAnswer(prompt.key.split(".", 1)[0], prompt.key, grade_id, rubric.points)


def source_notebook(path: Path, course_seed: int = 0,
                    rubrics: Mapping[str, Rubric] | None = None) -> tuple[NotebookNode, Course]:  # fmt: skip
    """The instructor's version of one notebook: every exercise cell split into a solution cell and a test
    cell, and a written answer cell after each cell that asks open prompts."""
    nb = nbformat.read(path, as_version=4)
    rubrics = answer_key() if rubrics is None else rubrics
    prompts: dict[int, list[OpenPrompt]] = {}
    for prompt in open_prompts(nb, path.name):
        if prompt.key not in rubrics:
            raise ValueError(f"{path.name}: prompt {prompt.key} has no section in {ANSWER_KEY.name}")
        prompts.setdefault(prompt.cell, []).append(prompt)
    cells: list[NotebookNode] = []
    found = Course()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and exercises.BEGIN in cell.source:
            pair, exercise = split_exercise(cell, path.name, course_seed)
            cells += pair
            found.exercises.append(exercise)
        else:
            cells.append(cell)
        for prompt in prompts.get(index, []):
            answer, written = answer_cell(prompt, rubrics[prompt.key], cell.get("id"))
            cells.append(answer)
            found.answers.append(written)
    ids = [g.solution_id for g in found.exercises] + [g.test_id for g in found.exercises]
    ids += [a.grade_id for a in found.answers]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path.name}: two graded cells share a grade id: {sorted(ids)}")
    nb.cells = cells
    return nb, found


def write_source(course_dir: Path, entries: Sequence[manifest.NotebookEntry], course_seed: int = 0) -> Course:
    """``course_dir/source/<stem>/<stem>.ipynb`` for each notebook, and the course's ``nbgrader_config.py``."""
    course_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_text(course_dir / "nbgrader_config.py", CONFIG)
    for folder in ("source", "release"):
        shutil.rmtree(course_dir / folder, ignore_errors=True)
    rubrics = answer_key()
    course = Course()
    for entry in entries:
        nb, found = source_notebook(entry.path, course_seed, rubrics)
        atomic.write_text(course_dir / "source" / entry.stem / entry.file, nbformat.writes(nb))
        course.exercises += found.exercises
        course.answers += found.answers
    return course


def nbgrader(course_dir: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run nbgrader's own command line (``python -m nbgrader ...``) in ``course_dir``; raise with its log on failure.

    The interpreter's ``bin`` folder goes first on ``PATH``: nbgrader runs the ``alembic`` command of its database
    migrations by name, and ``make`` calls the venv's python without activating the venv."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, capture_output=True, text=True,
                          env={**os.environ, "PATH": path, **(env or {})})  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def generate(course_dir: Path) -> None:
    """``nbgrader generate_assignment`` for every assignment under ``source/`` (one call: nbgrader's start-up and
    database checks take seconds): the release versions and the gradebook entries."""
    nbgrader(course_dir, "generate_assignment", "*", "--force")


def build(course_dir: Path, notebooks: Sequence[str] | None = None, course_seed: int = 0) -> Course:
    """Write the course for the manifest's notebooks (or those whose file or stem is in ``notebooks``)."""
    entries = [e for e in manifest.load() if notebooks is None or e.file in notebooks or e.stem in notebooks]
    if notebooks is not None and len(entries) != len(set(notebooks)):
        raise ValueError(f"unknown notebooks among {list(notebooks)}; the manifest lists "
                         f"{[e.stem for e in manifest.load()]}")  # fmt: skip
    course = write_source(course_dir, entries, course_seed)
    generate(course_dir)
    return course


@dataclass(frozen=True)
class Grade:
    """One graded cell of a submission, as the gradebook holds it."""

    score: float | None  #: None while a written answer waits for its grader
    points: float
    written: bool  #: a markdown cell graded by hand (else a test cell, graded by the autograder)


@dataclass
class Marks:
    """A submission's grades by grade id, with the sums of its autograded and hand-graded parts."""

    grades: dict[str, Grade]

    def auto(self) -> tuple[float, float]:
        """(score, points) of the test cells."""
        coded = [g for g in self.grades.values() if not g.written]
        return sum(g.score or 0.0 for g in coded), sum(g.points for g in coded)

    def written(self) -> tuple[float, float]:
        """(score so far, points) of the written answers."""
        written = [g for g in self.grades.values() if g.written]
        return sum(g.score or 0.0 for g in written), sum(g.points for g in written)


def marks(course_dir: Path, assignment: str, students: Iterable[str]) -> dict[str, Marks]:
    """The gradebook's grades of each student's submission of ``assignment`` (one notebook per assignment)."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", COURSE_ID) as gradebook:
        for student in students:
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
            grades = {}
            for grade in notebook.grades:
                waiting = grade.needs_manual_grade and grade.manual_score is None
                grades[grade.name] = Grade(None if waiting else float(grade.score), float(grade.max_score),
                                           grade.cell_type == "markdown")  # fmt: skip
            found[student] = Marks(grades)
    return found


def autograde(course_dir: Path, assignment: str, submissions: Mapping[str, Path],
              env: Mapping[str, str] | None = None) -> tuple[dict[str, Marks], str]:  # fmt: skip
    """Autograde notebooks with nbgrader: ``submissions`` maps a student id to a notebook for ``assignment``.

    Each notebook is copied to ``submitted/<student>/<assignment>/`` and ``nbgrader autograde`` runs once for all;
    returns each student's :class:`Marks` from the gradebook and the autograder's log (its stdout and stderr).
    """
    for student, notebook in submissions.items():
        target = course_dir / "submitted" / student / assignment
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copyfile(notebook, target / f"{assignment}.ipynb")
    done = nbgrader(course_dir, "autograde", assignment, "--create", "--force", env=env)
    return marks(course_dir, assignment, submissions), done.stdout + done.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.course", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=paths.build_dir() / "course", help="the course folder")
    parser.add_argument("--seed", type=int, default=0, help="course seed: changes every hidden test's random cases")
    parser.add_argument("--notebooks", nargs="*", help="only these notebooks (file or stem); default: the manifest")
    args = parser.parse_args(argv)
    course = build(args.out.resolve(), args.notebooks, args.seed)
    per_notebook: dict[str, tuple[list[GradedExercise], list[WrittenAnswer]]] = {}
    for exercise in course.exercises:
        per_notebook.setdefault(exercise.notebook.split("_", 1)[0], ([], []))[0].append(exercise)
    for answer in course.answers:
        per_notebook.setdefault(answer.notebook, ([], []))[1].append(answer)
    for name, (coded, written) in sorted(per_notebook.items()):
        print(f"{name}: {len(coded)} graded exercise(s), {sum(e.points for e in coded)} points; "
              f"{len(written)} written answer(s), {sum(a.points for a in written)} points")  # fmt: skip
    coded_points = sum(e.points for e in course.exercises)
    written_points = sum(a.points for a in course.answers)
    print(f"{len(course.exercises)} graded exercises, {coded_points} points (autograded); "
          f"{len(course.answers)} written answers, {written_points} points (graded by hand) -> "
          f"{args.out}/source, {args.out}/release (the students' version)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
