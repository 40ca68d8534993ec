"""Run the notebook suite headless with papermill: ``python -m dmmlib.suite run --preset auto``.

Each notebook of the manifest is executed in order into ``build/executed/<preset>/`` with its ``PRESET`` (and,
when given, ``DATA_DIR`` / ``LFWA_DIR``) parameters injected; artefacts go to ``runs/<preset>/``. A timing
summary is written to ``build/executed/<preset>/suite.json``. The first failing notebook stops the run and is
named, with the path of its partly executed copy.

On a multi-core CPU the runs of notebooks 05-07 are trained first, several at once (``jobs``; see
:mod:`dmmlib.suite.pretrain`), and the notebooks then load them; ``jobs=1`` leaves all training to the notebooks.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from dmmlib.files import atomic
from dmmlib.suite import guide, manifest, paths, presets, pretrain, provenance


def run_suite(
    preset: str = presets.AUTO,
    data_dir: str = "",
    lfwa_dir: str = "",
    only: list[str] | None = None,
    kernel_name: str = "python3",
    jobs: int | str = "auto",
) -> Path:
    """Execute the manifest's notebooks (or those whose stem starts with one of ``only``); return the folder.
    ``jobs``: runs trained at once before the notebooks (:func:`dmmlib.suite.pretrain.train_suite_runs`)."""
    import os

    import papermill

    name = presets.resolve(preset, data_dir).name  # "auto" resolved once; the notebooks get the concrete name
    out_dir = paths.executed_dir(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    parameters: dict[str, str] = {"PRESET": name}
    if data_dir:
        parameters["DATA_DIR"] = str(Path(data_dir).resolve())
    if lfwa_dir:
        parameters["LFWA_DIR"] = str(Path(lfwa_dir).resolve())
    os.environ["DMM_COMMAND"] = shlex.join([Path(sys.executable).name, "-m", "dmmlib.suite", *sys.argv[1:]])

    timings: dict[str, float] = {}
    entries = [e for e in manifest.load() if not only or any(e.stem.startswith(o) for o in only)]
    print(f"Running {len(entries)} notebook(s) with preset {name!r} into {out_dir}", flush=True)
    trained = None
    training = [e.stem for e in entries if e.stem in pretrain.TRAINING_NOTEBOOKS]
    if training:
        trained = pretrain.train_suite_runs(name, jobs, data_dir=parameters.get("DATA_DIR", ""), notebooks=training)
        if trained:
            print(f"    done in {trained.seconds:.1f} s", flush=True)
    for entry in entries:
        target = out_dir / entry.file
        start = time.perf_counter()
        print(f"--> {entry.file}: {entry.title}", flush=True)
        try:
            papermill.execute_notebook(
                str(entry.path),
                str(target),
                parameters=parameters,
                kernel_name=kernel_name,
                cwd=str(paths.notebooks_dir()),
                progress_bar=True,
                report_mode=False,
                execution_timeout=presets.PRESETS[name].cell_timeout,
            )
        except papermill.PapermillExecutionError as error:
            raise SystemExit(
                f"{entry.file} failed in cell {error.exec_count}: {error.ename}: {error.evalue}\n"
                f"The partly executed notebook is {target}"
            ) from None
        timings[entry.file] = round(time.perf_counter() - start, 1)
        print(f"    done in {timings[entry.file]:.1f} s -> {target}", flush=True)

    # the notebooks this run did not run keep their last times (a header reads them: guide.machine_seconds)
    known, before = guide.merge_timings(_read_summary(out_dir / "suite.json"), timings,
                                        trained.record() if trained else None, [e.file for e in manifest.load()])
    summary = {
        "preset": name,
        "notebooks": known,
        "this run": list(timings),
        **({guide.TRAINED_BEFORE: before} if before else {}),
        "total_seconds": round(sum(timings.values()) + (trained.seconds if trained else 0.0), 1),
        "provenance": provenance.record(preset=name, dataset=presets.PRESETS[name].description, seed=None),
    }
    atomic.write_json(out_dir / "suite.json", summary)
    print(f"All {len(timings)} notebook(s) ran in {summary['total_seconds']:.0f} s"
          + (f", {trained.seconds:.0f} s of it training runs before them." if trained else "."))
    print(f"Executed notebooks: {out_dir}")
    print(f"Artefacts (datasets, checkpoints, results): {paths.runs_dir(name)}")
    return out_dir


def _read_summary(path: Path) -> dict | None:
    """The ``suite.json`` an earlier run wrote, or None (none, or unreadable: then this run's times alone)."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def build_book(preset: str = presets.AUTO, data_dir: str = "", lfwa_dir: str = "") -> Path:
    """The Jupyter Book of ``preset``: runs the suite first when no executed notebooks exist; returns the index."""
    from dmmlib.suite.book import build

    name = presets.resolve(preset, data_dir).name
    if not paths.executed_dir(name).is_dir():
        print(f"no executed notebooks for preset {name!r} yet: running the suite first", flush=True)
        run_suite(name, data_dir, lfwa_dir)
    return build.build(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks of the manifest with papermill")
    book = sub.add_parser("book", help="build the Jupyter Book (running the notebooks first when needed)")
    for command in (run, book):
        presets.add_arguments(command)
    run.add_argument("--only", nargs="*", help="run only notebooks whose name starts with these prefixes")
    run.add_argument("--jobs", default=pretrain.AUTO,
                     help="runs of notebooks 05-07 trained at once before the notebooks, each on cores/jobs threads "
                          "(auto: one per core on a CPU with synthetic data; 1: the notebooks train them)")
    book.add_argument("--check", action="store_true", help="then check every page in headless chromium")
    from dmmlib.suite import evidence, sweep  # `sweep`, `collect` and `evidence` live in their own modules

    sweep.add_commands(sub)
    evidence.add_commands(sub)
    args = parser.parse_args(argv)
    if args.command in sweep.COMMANDS + evidence.COMMANDS:
        return int(args.handler(args))
    try:
        if args.command == "run":
            run_suite(args.preset, args.data_dir, args.lfwa_dir, args.only, jobs=args.jobs)
            return 0
        index = build_book(args.preset, args.data_dir, args.lfwa_dir)
    except ValueError as error:
        parser.error(str(error))
    except RuntimeError as error:  # jupyter-book failed; its warnings are above
        print(f"book: {error}", file=sys.stderr)
        return 1
    print(f"The book is at {index}")
    if args.check:
        from dmmlib.suite.book import browser

        problems = browser.check_built()
        print("\n".join(problems) or f"all pages of {index.parent} passed")
        return 1 if problems else 0
    return 0
