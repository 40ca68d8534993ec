"""Train the suite's runs from the command line, on one process or many (``torchrun``, DDP).

::

    python -m dmmlib.suite.train_cli --preset teach                          # one process
    torchrun --standalone --nproc_per_node=4 -m dmmlib.suite.train_cli --preset paper --data-dir /data/celeba --all
    python -m dmmlib.suite.train_cli --preset paper --data-dir /data/celeba --weights /models/resnet50-0676ba61.pth

Each run goes to the folder the notebooks look in (``runs/<preset>/models/<name>``, named by
:func:`dmmlib.suite.pipeline.run_name`) and is marked complete there, so the notebooks afterwards load it instead of
training it again. An interrupted command resumes each run from its last checkpoint when repeated. Rank 0
generates synthetic data and extracts landmarks first; the other ranks wait, then read the cache.

``--weights`` (imagenet | none | a file) sets ``DMM_WEIGHTS``, the one switch of the initial weights that the
notebooks read too (:mod:`dmmlib.suite.weights`); without it the environment's value, else the preset's, holds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence

from dmmlib import distributed
from dmmlib.suite import pipeline, presets, session, twins, weights
from dmmlib.variants import VARIANTS

#: One run to train: variant, Table 2 weighting override, and further TrainConfig overrides as sorted pairs.
Job = tuple[str, str | None, tuple[tuple[str, object], ...]]


def table2_jobs(schemes: Iterable[str]) -> list[Job]:
    """The runs of Table 2's ``schemes`` (names of :data:`dmmlib.suite.pipeline.TABLE2_SCHEMES`, and
    :data:`~dmmlib.suite.pipeline.TABLE2_RESCALED`), as :func:`dmmlib.suite.pipeline.ensure_scheme` trains them."""
    return [("DMM-CNN", None, (("dynamic_normalise", True),)) if scheme == pipeline.TABLE2_RESCALED
            else (*pipeline.TABLE2_SCHEMES[scheme], ()) for scheme in schemes]  # fmt: skip


def describe(job: Job) -> str:
    """A run in words: ``DMM-CNN (dwa)``, ``DMM-CNN, dynamic_normalise=False``."""
    variant, weighting, overrides = job
    extra = "".join(f", {key}={value}" for key, value in overrides)
    return f"{variant}{f' ({weighting})' if weighting else ''}{extra}"


def jobs(args: argparse.Namespace, preset: presets.Preset | None = None) -> list[Job]:
    """The runs to train, in order, without repeats. ``--table2`` takes the rows of
    :func:`dmmlib.suite.pipeline.table2_schemes` for ``preset`` (the rescaled Eq. 4 where it keeps Eq. 4 as printed)."""
    chosen: list[Job] = [(v, None, ()) for v in args.variant or []]
    if args.all or args.table1:
        chosen += [(v, None, ()) for v in VARIANTS]
    if args.all or args.table2:  # the runs notebooks 07 and 09 ask for
        chosen += table2_jobs(pipeline.table2_schemes(preset) if preset else pipeline.TABLE2_SCHEMES)
    chosen += [("DMM-CNN", w, ()) for w in args.weighting or []]
    return list(dict.fromkeys(chosen or [("DMM-CNN", None, ())]))


def train_one(ctx: session.Session, variant: str, weighting: str | None, progress: bool, device: str = "auto",
              **overrides: object) -> str:
    """Train (or resume, or skip when complete) one run on every rank; returns its folder."""
    from dmmlib import train

    cfg = pipeline.train_config(ctx, variant=variant, weighting=weighting, device=device, **overrides)
    run_dir = pipeline.run_folder(ctx, pipeline.run_name(cfg))
    if pipeline.is_complete(run_dir):
        return f"{run_dir} (already complete)"
    where = distributed.info()
    twin = twins.adaptive_twin(variant)
    if twin is not None:  # the same network as its AT twin's (dmmlib.suite.twins): train that, write this from it
        train_one(ctx, twin, weighting, progress, device, **overrides)
        source = pipeline.run_folder(ctx, pipeline.run_name(cfg.replace(variant=twin)))
        # rank 0 reads its own files and tells the others (other machines need no shared folder)
        shares = where.is_main and twins.can_give_twin(json.loads((source / train.HISTORY_NAME).read_text()))
        if distributed.broadcast_object(shares):
            pipeline.mark_complete(run_dir, twins.write_fixed_twin(source, run_dir, variant),
                                   world_size=where.world_size)  # fmt: skip
            distributed.barrier()
            return f"{run_dir} (written from {source.name}: the same training, tau = 0)"
    datasets = None
    for turn in ("main", "others"):  # rank 0 makes data and landmark caches; then the others read them
        if (turn == "main") == where.is_main:
            train_set = pipeline.celeba_split(ctx, "train", cfg, train=True)
            valid_set = pipeline.celeba_split(ctx, "valid", cfg)
            for dataset in (train_set, valid_set):
                dataset.prepare_landmarks()
            datasets = (train_set, valid_set)
        distributed.barrier()
    assert datasets is not None
    result = train.train(cfg, *datasets, run_dir, progress=progress)
    pipeline.mark_complete(run_dir, result, world_size=where.world_size)
    distributed.barrier()
    return str(run_dir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.train_cli", description=__doc__.splitlines()[0])
    presets.add_arguments(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", action="append", help=f"a Table 1 variant (repeatable): {', '.join(VARIANTS)}")
    parser.add_argument("--weighting", action="append", help="DMM-CNN with a Table 2 scheme (repeatable)")
    parser.add_argument("--table1", action="store_true", help="all seven Table 1 variants")
    parser.add_argument("--table2", action="store_true", help="DMM-CNN with each Table 2 weighting scheme")
    parser.add_argument("--all", action="store_true", help="--table1 and --table2")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present) or cpu; selects NCCL or gloo")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--weights", default=None,
                        help="initial weights: imagenet | none (from scratch) | /path/to/file (sets DMM_WEIGHTS; "
                             "default: DMM_WEIGHTS if set, else the preset's)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.weights is not None:
            weights.parse(args.weights, "--weights")  # a bad value fails here, before any work
            os.environ[weights.ENV] = args.weights
        where = distributed.init_from_env(args.device)
        ctx = session.start("train_cli", PRESET=args.preset, SEED=args.seed, DATA_DIR=args.data_dir,
                            LFWA_DIR=args.lfwa_dir)  # fmt: skip
        for job in jobs(args, ctx.preset):
            variant, weighting, overrides = job
            done = train_one(ctx, variant, weighting, progress=not args.quiet, device=args.device, **dict(overrides))
            if where.is_main:
                print(f"{describe(job)}: {done}", flush=True)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        distributed.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
