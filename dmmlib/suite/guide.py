"""The suite in a course: learning objectives, student minutes, machine time, and the instructor guide.

The manifest (``notebooks/manifest.yml``) holds each notebook's ``objectives`` and ``student_minutes``; nothing here
types them again. :func:`header` renders them for a notebook's first output (``session.start`` shows it), with the
machine's run time when a run of the preset has measured it; :func:`render_guide` fills the book's instructor guide
(``book/instructor_guide.md``) with the same data and the two-week plan of :data:`COURSE_PLAN`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dmmlib.suite import manifest, paths, presets

#: Lines of ``book/instructor_guide.md`` that :func:`render_guide` replaces with generated markdown.
OBJECTIVES_MARKER = "<!-- dmm: objectives per notebook -->"
PLAN_MARKER = "<!-- dmm: two-week plan -->"
#: The key of ``suite.json`` under which ``make run`` records the runs it trained before the notebooks
#: (:meth:`dmmlib.suite.pretrain.Pretraining.record`).
TRAINED_BEFORE = "training before the notebooks"
#: The metadata key of the header's display output (its value: the notebook's stem), by which the book finds the
#: header in an executed copy and restates it with that copy's own run time (:func:`restamp_header`).
HEADER_METADATA = "dmm_header"
#: How a header names the run its machine time comes from: a running notebook can only know an earlier run; a
#: book page knows the run it shows.
LAST_RUN, THIS_RUN = "last measured run", "the run shown on this page"


@dataclass(frozen=True)
class ClassSession:
    """One class session of the two-week plan."""

    name: str
    notebooks: tuple[str, ...]  #: NN prefixes, worked through in class
    before: str  #: what the instructor runs or checks before the class
    assign: str  #: what to assign after it
    optional: tuple[str, ...] = ()  #: NN prefixes offered as homework or projects


#: Five sessions of about two hours over two weeks (three in the first, two in the second). Every notebook is worked
#: through in class except LFWA fine-tuning (08) and the photo (10), offered as homework. Notebook 11 ("does it
#: work?", over seeds) and 07b ("when does each mechanism help?") are in class: they are what a student should leave
#: with. Edit here to change the plan; the guide sums the minutes.
COURSE_PLAN: tuple[ClassSession, ...] = (
    ClassSession(
        "Week 1, session 1: set-up and data", ("00", "01", "02"),
        before="Students install the suite (README, \"Use in a course\") or get a JupyterHub account whose image has "
        "it. Start `make run PRESET=teach` on the machine students will use: it trains every model the later "
        "sessions load and takes tens of minutes on a CPU, too long to wait for in class.",
        assign="Notebook 01's exercises and its discussion prompts on CelebA's labels (a half-page written answer); "
        "the landmark-flip exercise of notebook 02.",
    ),
    ClassSession(
        "Week 1, session 2: the network and the equations", ("03", "04"),
        before="Check that `make run PRESET=teach` finished (`build/executed/teach/suite.json` exists). Notebook 04 "
        "then uses the trained teach model for its threshold explorer instead of simulated outputs.",
        assign="The graded exercises of notebooks 03 and 04 (`make assign`), due before session 3.",
    ),
    ClassSession(
        "Week 1, session 3: training and the ablation", ("05", "06"),
        before="The teach runs must exist (`runs/teach/models/`): with them notebooks 05 and 06 load their models "
        "in seconds; without them 06 alone trains seven models for ten to twenty minutes.",
        assign="Notebook 05's exercises (Eq. 4 as printed against the rescaled reading); notebook 06's question "
        "on which differences of one run exceed the spread over seeds.",
    ),
    ClassSession(
        "Week 2, session 1: weighting schemes, and does it work over seeds?", ("07", "11"),
        before="As for the previous session: notebook 07 loads the teach runs, notebook 11 reads the stored record "
        "(`evidence/evidence-teach/`) and trains nothing under the teach preset.",
        assign="Notebook 11's exercises (how the intervals narrow with more seeds, on the smoke preset live).",
    ),
    ClassSession(
        "Week 2, session 2: when each mechanism helps, and the paper's tables", ("07b", "09"),
        before="Nothing to train: notebook 07b runs its toys live in seconds and reads the pre-registered record "
        "(`evidence/premises-teach/`); 09 reads the runs of the earlier sessions.",
        assign="Notebook 07b's last exercise (the one experiment that would decide a verdict on real CelebA) as a "
        "short written proposal; notebook 09's first exercise.",
        optional=("08", "10"),
    ),
)


# --------------------------------------------------------------------------------------------------- time
def format_duration(seconds: float | None) -> str:
    """``"12 s"``, ``"4 min"``, ``"1 h 05 min"``; ``"not measured"`` for None."""
    if seconds is None:
        return "not measured"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def machine_seconds(preset: str, entry: manifest.NotebookEntry) -> float | None:
    """How long the machine took to run the notebook with ``preset``, if a run measured it (else None).

    From ``build/executed/<preset>/suite.json`` (written by ``make run``; each run there keeps the times of the
    notebooks it did not run, :func:`merge_timings`), else from papermill's record in the executed copy. A notebook
    papermill is running right now has no finished record of its own and falls back on suite.json.
    """
    folder = paths.executed_dir(preset)
    try:
        timings = json.loads((folder / "suite.json").read_text(encoding="utf-8")).get("notebooks", {})
        if isinstance(timings.get(entry.file), (int, float)):
            return float(timings[entry.file])
    except (OSError, ValueError, AttributeError):
        pass
    return copy_seconds(folder / entry.file)


def copy_seconds(executed: Any) -> float | None:
    """The run time papermill recorded in an executed notebook (a path or a loaded notebook), or None (no copy,
    or papermill has not finished it)."""
    try:
        nb = json.loads(executed.read_text(encoding="utf-8")) if hasattr(executed, "read_text") else executed
        duration = nb["metadata"]["papermill"].get("duration")
        return float(duration) if isinstance(duration, (int, float)) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def page_seconds(preset: str, entry: manifest.NotebookEntry) -> float | None:
    """The machine time of the executed copy a book page shows: papermill's record in that copy, else
    :func:`machine_seconds`. The book uses it, so that each page and the instructor guide give the time of the run
    the page was built from."""
    own = copy_seconds(paths.executed_dir(preset) / entry.file)
    return own if own is not None else machine_seconds(preset, entry)


def merge_timings(previous: Any, ran: Mapping[str, float], trained: Mapping[str, Any] | None,
                  order: Sequence[str]) -> tuple[dict[str, float], dict[str, Any] | None]:  # fmt: skip
    """The ``notebooks`` times and :data:`TRAINED_BEFORE` record that ``suite.json`` keeps after a run.

    ``previous``: the summary already there (or None); ``ran``: this run's times; ``trained``: this run's record
    of runs trained before the notebooks (None when it trained none); ``order``: the manifest's files. A run of
    some notebooks (``--only``, the book's test) replaces their times and keeps the others', so that a later header
    of a notebook it did not run still finds that notebook's last time. An earlier training record keeps only the
    notebooks this run did not time again (those it did are now timed with or without that training, as this run
    says).
    """
    earlier = previous.get("notebooks", {}) if isinstance(previous, Mapping) else {}
    times = {f: float(t) for f, t in (earlier.items() if isinstance(earlier, Mapping) else ())
             if isinstance(t, (int, float)) and f in order}  # fmt: skip
    times.update(ran)
    merged = {f: times[f] for f in order if f in times}
    if trained is not None:
        return merged, dict(trained)
    old = previous.get(TRAINED_BEFORE) if isinstance(previous, Mapping) else None
    if not isinstance(old, Mapping) or not isinstance(old.get("seconds"), (int, float)):
        return merged, None
    stems = {f.removesuffix(".ipynb") for f in ran}
    kept = [n for n in old.get("for notebooks", []) if n not in stems]
    return merged, ({**old, "for notebooks": kept} if kept else None)


def training_before(preset: str) -> dict | None:
    """The record of the runs ``make run`` trained before the notebooks (:mod:`dmmlib.suite.pretrain`), if its last
    run of ``preset`` did: then the times of the notebooks that use those runs exclude their training."""
    try:
        summary = json.loads((paths.executed_dir(preset) / "suite.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    record = summary.get(TRAINED_BEFORE) if isinstance(summary, dict) else None
    return record if isinstance(record, dict) and isinstance(record.get("seconds"), (int, float)) else None


def training_before_sentence(record: dict) -> str:
    """Says that (and how long) ``make run`` trained the runs before the notebooks of ``record`` ran."""
    notebooks = ", ".join(str(n)[:2] for n in record.get("for notebooks", []))
    return (f"`make run` trained the runs of notebooks {notebooks} before them ({format_duration(record['seconds'])}, "
            f"{record.get('jobs', '?')} at a time), so their times exclude that training")  # fmt: skip


# --------------------------------------------------------------------------------------------------- header
def header_markdown(entry: manifest.NotebookEntry, preset: str, seconds: float | None,
                    trained_before: dict | None = None, measured: str = LAST_RUN) -> str:  # fmt: skip
    """A notebook's header: its learning objectives, the student's minutes and the machine's time (and, for a
    notebook whose runs ``make run`` trained beforehand, ``trained_before``: :func:`training_before`); ``measured``
    names the run the time comes from (:data:`LAST_RUN` while a notebook runs, :data:`THIS_RUN` on a book page)."""
    lines = ["**Learning objectives.** After this notebook you can:", ""]
    lines += [f"{k}. {objective}." for k, objective in enumerate(entry.objectives, start=1)]
    student = (
        f"about {entry.student_minutes} minutes of student work" if entry.student_minutes else "student time not set"
    )
    if seconds is None:
        machine = f"machine time with the `{preset}` preset not measured yet (the Prerequisites give an estimate)"
    else:
        machine = f"the machine ran it in {format_duration(seconds)} with the `{preset}` preset ({measured})"
        if trained_before and entry.stem in trained_before.get("for notebooks", []):
            machine += "; " + training_before_sentence(trained_before)
    lines += ["", f"**Time.** {student.capitalize()}; {machine}."]
    return "\n".join(lines)


def header_text(entry: manifest.NotebookEntry, preset: str, seconds: float | None,
                trained_before: dict | None = None, measured: str = LAST_RUN) -> str:  # fmt: skip
    """The plain-text form of :func:`header_markdown` (for consoles and text-only front ends)."""
    return header_markdown(entry, preset, seconds, trained_before, measured).replace("**", "").replace("`", "")


def header(notebook: str, preset: str) -> dict[str, str] | None:
    """A display bundle (``text/markdown`` and ``text/plain``) for the notebook named ``notebook``, or None when
    the manifest is not there (an installed package without the repository) or does not list it."""
    try:
        entry = manifest.find(notebook)
    except (OSError, ValueError):
        return None
    if entry is None:
        return None
    seconds, before = machine_seconds(preset, entry), training_before(preset)
    return {"text/markdown": header_markdown(entry, preset, seconds, before),
            "text/plain": header_text(entry, preset, seconds, before)}


def restamp_header(nb: Any, preset: str, seconds: float | None = None) -> bool:
    """Restate the header of an executed notebook ``nb`` (the output :func:`dmmlib.suite.session.show_header`
    marked with :data:`HEADER_METADATA`) with the machine time of that very run: ``seconds``, else papermill's
    record in ``nb``. While it ran, the notebook could only show an earlier run's time, or none on a first run;
    the book page shows this run, so its header gives this run's time. Returns whether it found a header to restate
    (a copy without a finished papermill record, or without a header, is left as it is)."""
    seconds = seconds if seconds is not None else copy_seconds(nb)
    if seconds is None:
        return False
    before = training_before(preset)
    found = False
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            stem = output.get("metadata", {}).get(HEADER_METADATA) if isinstance(output, Mapping) else None
            entry = manifest.find(stem) if isinstance(stem, str) else None
            if entry is None:
                continue
            output["data"] = {"text/markdown": header_markdown(entry, preset, seconds, before, THIS_RUN),
                              "text/plain": header_text(entry, preset, seconds, before, THIS_RUN)}
            found = True
    return found


# --------------------------------------------------------------------------------------------------- the guide
def _label(entry: manifest.NotebookEntry) -> str:
    return f"{entry.number} · {entry.title}"


def objectives_markdown(entries: Sequence[manifest.NotebookEntry], preset: str,
                        times: Mapping[str, float | None]) -> str:  # fmt: skip
    """One section per notebook: title, student minutes beside machine time, objectives."""
    parts = [
        f"| notebook | student | machine (`{preset}` preset) |",
        "|---|---|---|",
    ]
    for entry in entries:
        minutes = f"{entry.student_minutes} min" if entry.student_minutes else "not set"
        parts.append(f"| {_label(entry)} | {minutes} | {format_duration(times.get(entry.file))} |")
    total_student = sum(e.student_minutes or 0 for e in entries)
    measured = [t for t in times.values() if t is not None]
    parts.append(
        f"| **all** | **{total_student} min** | **{format_duration(sum(measured)) if measured else 'not measured'}**"
        f"{'' if len(measured) == len(entries) else ' (measured notebooks only)'} |"
    )
    for entry in entries:
        parts += ["", f"### {_label(entry)}", ""]
        parts += [f"- {objective}." for objective in entry.objectives]
        if entry.minutes_estimate is not None:
            parts += ["", f"Student minutes: {entry.minutes_estimate.text()}."]
    return "\n".join(parts)


def plan_markdown(entries: Sequence[manifest.NotebookEntry], preset: str, times: Mapping[str, float | None],
                  plan: Sequence[ClassSession] = COURSE_PLAN) -> str:  # fmt: skip
    """The two-week plan: per session the notebooks, their student minutes and machine time, before and after."""
    by_number = {e.number: e for e in entries}
    parts: list[str] = []
    for session in plan:
        chosen = [by_number[n] for n in session.notebooks if n in by_number]
        minutes = sum(e.student_minutes or 0 for e in chosen)
        measured = [times.get(e.file) for e in chosen]
        machine = (
            format_duration(sum(t for t in measured if t is not None)) if any(t is not None for t in measured) else "not measured"
        )
        parts += [
            f"### {session.name}",
            "",
            "**In class:** " + "; ".join(_label(e) for e in chosen)
            + f" (about {minutes} student minutes; machine {machine} with `{preset}`).",
            "",
            f"**Before class:** {session.before}",
            "",
            f"**Assign:** {session.assign}",
        ]
        optional = [by_number[n] for n in session.optional if n in by_number]
        if optional:
            parts += ["", "**Optional, as homework or a project:** " + "; ".join(
                f"{_label(e)} (about {e.student_minutes} min)" for e in optional)]
        parts.append("")
    return "\n".join(parts).rstrip()


def render_guide(template: str, preset: str, entries: Sequence[manifest.NotebookEntry] | None = None,
                 times: Mapping[str, float | None] | None = None) -> str:  # fmt: skip
    """``book/instructor_guide.md`` with its markers replaced by the manifest's objectives and the plan."""
    entries = list(entries if entries is not None else manifest.load())
    if times is None:
        times = {e.file: machine_seconds(preset, e) for e in entries}
    for marker in (OBJECTIVES_MARKER, PLAN_MARKER):
        if marker not in template:
            raise ValueError(f"the instructor guide has lost its marker line {marker!r}")
    budget = presets.PRESETS[preset].budget if preset in presets.PRESETS else ""
    objectives = objectives_markdown(entries, preset, times)
    if budget:
        before = training_before(preset)
        note = f" {training_before_sentence(before)}." if before else ""
        objectives = f"Machine times are from this book's `{preset}` run (budget: {budget}).{note}\n\n" + objectives
    return template.replace(OBJECTIVES_MARKER, objectives).replace(PLAN_MARKER, plan_markdown(entries, preset, times))


def missing_course_data(entries: Sequence[manifest.NotebookEntry]) -> list[str]:
    """Notebooks of the manifest without 2-4 objectives or without student minutes."""
    found: list[str] = []
    for entry in entries:
        if not 2 <= len(entry.objectives) <= 4:
            found.append(f"{entry.file}: {len(entry.objectives)} objectives (2-4 expected)")
        if not entry.student_minutes:
            found.append(f"{entry.file}: no student_minutes")
    return found

