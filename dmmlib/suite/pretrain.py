"""Train the runs of ``make run`` before its notebooks start, several at once on a multi-core CPU.

Why: the CPU presets' trunks are small, and one training uses cores poorly. Measured on a 2-core machine (idle,
teach preset, from a fresh clone): the whole suite took 1,283 s with its 10 runs trained here two at a time on one
thread each, against 1,570 s with ``make run JOBS=1`` (05-07 training their runs on two threads: 1,462 s, against
1,071 s here plus 102 s for those notebooks). ``bench/parallel_training.py`` times the training steps alone, on an
in-memory batch, and finds a smaller, noisy gain (side by side / one after another: 0.88 and 0.99 in two runs), so
most of the gain lies in what a run does besides its steps (reading images, the validation passes). So ``make run``
first trains the runs that notebooks 05, 06 and
07 ask for (:func:`suite_runs`), ``jobs`` at a time, each in its own process with ``cores // jobs`` threads, exactly
as :func:`dmmlib.suite.pipeline.ensure_trained` would inside the notebooks; the notebooks then find each run
complete and load it. Nothing else changes: same configurations, same run folders, same seed (the notebooks'
default, 0). A run trained on one thread differs from one trained on two only in the rounding of its float
arithmetic, as the runs of a sweep (:mod:`dmmlib.suite.sweep`, one thread per job) do.

Of the ten runs of 05-07, eight are trained: DMM-EQ-FIX and DMM-DW-FIX are written from the trainings of their
AT twins, DMM-EQ-AT and DMM-CNN, which are the same (:mod:`dmmlib.suite.twins`). The measurements above were made
when all ten were trained.

A run that diverges is reported and left marked as such (:class:`dmmlib.suite.pipeline.RunDiverged`); its notebook
reports it again without retraining. ``jobs=1`` (``make run JOBS=1``) skips this step: the notebooks train their
runs themselves, one after the other, as a student running them in JupyterLab does.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from dmmlib.suite import pipeline, presets, provenance, session, twins
from dmmlib.suite.train_cli import Job, describe, table2_jobs

#: The notebooks whose runs :func:`suite_runs` lists; a suite run without any of them trains nothing beforehand.
TRAINING_NOTEBOOKS = ("05_train_dmm_cnn", "06_run_ablations", "07_compare_weighting")
AUTO = "auto"


def suite_runs(preset: presets.Preset, notebooks: Collection[str] = TRAINING_NOTEBOOKS) -> list[Job]:
    """The runs ``notebooks`` (stems, of :data:`TRAINING_NOTEBOOKS`) train under ``preset`` (defaults, seed 0), in
    the order they ask for them, once each.

    05: DMM-CNN, DMM-EQ-AT and, where the preset rescales Eq. 4, DMM-CNN with Eq. 4 as printed; 06: the seven
    Table 1 variants; 07: Table 2's schemes (:func:`dmmlib.suite.pipeline.table2_schemes`). UW is DMM-EQ-AT and
    "ours" is DMM-CNN, so those share runs. ``tests/test_pretrain.py`` checks the notebooks train nothing more.
    """
    from dmmlib.config import TrainConfig
    from dmmlib.variants import VARIANTS

    unknown = set(notebooks) - set(TRAINING_NOTEBOOKS)
    if unknown:
        raise ValueError(f"no runs are listed for notebook(s) {sorted(unknown)}; only for {list(TRAINING_NOTEBOOKS)}")
    runs: list[Job] = []
    if TRAINING_NOTEBOOKS[0] in notebooks:
        runs += [("DMM-CNN", None, ()), ("DMM-EQ-AT", None, ())]
        if preset.train.get("dynamic_normalise", TrainConfig.dynamic_normalise):
            runs.append(("DMM-CNN", None, (("dynamic_normalise", False),)))
    if TRAINING_NOTEBOOKS[1] in notebooks:
        runs += [(variant, None, ()) for variant in VARIANTS]
    if TRAINING_NOTEBOOKS[2] in notebooks:
        runs += table2_jobs(pipeline.table2_schemes(preset))
    return list(dict.fromkeys(runs))


def resolve_jobs(jobs: int | str, preset: presets.Preset, runs: int) -> int:
    """How many runs to train at once. ``"auto"``: one per usable core (at most ``runs``) for synthetic data on a
    machine without CUDA; 1 otherwise (a GPU trains one run at a time best, and real CelebA is read from disk)."""
    if jobs == AUTO:
        if preset.data != "synthetic" or presets.cuda_available():
            return 1
        return max(1, min(provenance.usable_cores(), runs))
    try:
        count = int(jobs)
    except (TypeError, ValueError):
        raise ValueError(f"--jobs must be a positive whole number or 'auto', got {jobs!r}") from None
    if count < 1:
        raise ValueError(f"--jobs must be at least 1 (or 'auto'), got {jobs!r}")
    return count


def _limit_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _train(preset: str, seed: int, data_dir: str, job: Job) -> str:
    """Worker: train (or find complete) one run, as the notebooks would; returns what happened, in words."""
    variant, weighting, overrides = job
    ctx = session.start("pretrain", PRESET=preset, SEED=seed, DATA_DIR=data_dir)
    try:
        run = pipeline.ensure_trained(ctx, variant, weighting=weighting, progress=False, **dict(overrides))
    except pipeline.RunDiverged as failure:
        return str(failure)
    return f"trained: {run.run_dir.name}"


@dataclass(frozen=True)
class Pretraining:
    """What :func:`train_suite_runs` did: each run's outcome in words, how many at once, on how many threads."""

    outcomes: dict[str, str]
    jobs: int
    threads: int
    seconds: float
    notebooks: tuple[str, ...]  #: the notebooks whose runs these are
    written: int = 0  #: of the runs, how many were written from their AT twins' runs (:mod:`dmmlib.suite.twins`)

    def record(self) -> dict[str, Any]:
        """The form ``suite.json`` keeps under :data:`dmmlib.suite.guide.TRAINED_BEFORE` (:mod:`dmmlib.suite.runner`)."""
        return {"seconds": round(self.seconds, 1), "runs": len(self.outcomes), "jobs": self.jobs,
                "threads per job": self.threads, "for notebooks": list(self.notebooks),
                "written from their twins' runs": self.written}  # fmt: skip


def train_suite_runs(preset: str, jobs: int | str = AUTO, seed: int = 0, data_dir: str = "",
                     notebooks: Collection[str] = TRAINING_NOTEBOOKS, runs: Sequence[Job] | None = None,
                     progress: bool = True) -> Pretraining | None:  # fmt: skip
    """Train ``runs`` (default: :func:`suite_runs` of ``notebooks``) ``jobs`` at a time, or None when there is
    nothing to do here: one job (the notebooks train the runs themselves), or every run already complete.

    The synthetic data (and its landmarks) are made first, here, so that the workers only read them.
    """
    start = time.perf_counter()
    ctx = session.start("pretrain", PRESET=preset, SEED=seed, DATA_DIR=data_dir)
    chosen = list(suite_runs(ctx.preset, notebooks) if runs is None else runs)
    count = resolve_jobs(jobs, ctx.preset, len(chosen))
    todo = [job for job in chosen if not _complete(ctx, job)]
    if count <= 1 or not todo:
        return None
    # a FIX variant is written from its AT twin's run (dmmlib.suite.twins): the pool trains the twin, then this
    # process writes the FIX run, in a second; asking the pool for both would leave one worker waiting on the other
    training = list(dict.fromkeys(_trained_as(job) for job in todo))
    count = min(count, len(training))
    cfg = pipeline.train_config(ctx)
    for split, train in (("train", True), ("valid", False)):
        pipeline.celeba_split(ctx, split, cfg, train=train, progress=progress).prepare_landmarks()
    threads = max(1, provenance.usable_cores() // count)
    written = [job for job in todo if job not in training]
    print(f"Training {len(training)} run(s) before the notebooks, {count} at a time on {threads} thread(s) each "
          f"(make run JOBS=1 leaves the training to the notebooks)"
          + (f"; {len(written)} more written from their twins' runs" if written else ""), flush=True)  # fmt: skip
    from tqdm.auto import tqdm

    outcomes: dict[str, str] = {}
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch thread pool inherited
    with ProcessPoolExecutor(count, mp_context=spawn, initializer=_limit_threads, initargs=(threads,)) as pool:
        futures = {pool.submit(_train, ctx.preset.name, seed, data_dir, job): describe(job) for job in training}
        with tqdm(total=len(futures), desc="runs", unit="run", disable=not progress) as bar:
            for future in as_completed(futures):
                outcomes[futures[future]] = future.result()
                bar.write(f"    {futures[future]}: {outcomes[futures[future]]}")
                bar.update()
    for job in written:
        outcomes[describe(job)] = _train(ctx.preset.name, seed, data_dir, job)
    return Pretraining(outcomes, count, threads, time.perf_counter() - start, tuple(notebooks), len(written))


def _trained_as(job: Job) -> Job:
    """The job whose training ``job`` shares: its AT twin for a FIX variant that has one, else itself."""
    variant, weighting, overrides = job
    twin = twins.adaptive_twin(variant)
    return job if twin is None else (twin, weighting, overrides)


def _complete(ctx: session.Session, job: Job) -> bool:
    variant, weighting, overrides = job
    cfg = pipeline.train_config(ctx, variant=variant, weighting=weighting, **dict(overrides))
    run_dir = pipeline.run_folder(ctx, pipeline.run_name(cfg))
    return pipeline.is_complete(run_dir) or (run_dir / pipeline.DIVERGED).exists()
