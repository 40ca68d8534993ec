"""CelebA-scale dry run: a synthetic dataset of CelebA's size, read, landmark-loaded and streamed once through the
training loader, with wall time and peak memory per step. Not part of ``make test``.

Run: ``python -m bench.celeba_scale_dry_run [--num 202599] [--workers 2] [--max-batches N] [--keep]``.
Writes ``build/bench/celeba_scale.json``. Steps:

1. generate: ``dmmlib.data.synthetic.generate`` (CelebA's split sizes at 202,599 images). A probe of
   ``--probe`` images measures the rate first. When the full set would exceed ``--max-generate-minutes``,
   ``--draw`` images are drawn instead (their rate is measured and the full time extrapolated, marked as such)
   and the remaining file names are hard links cycling over them, with annotation rows copied alike: a
   full-size CelebA-format folder (202,599 names, real split sizes) for the reading and loader steps.
2. read: ``CelebA(root, "train")`` (attribute + partition files, listing of the image folder).
3. landmarks: the 68-point file (``landmarks="file"``) parsed alone; then dlib's 68 points for every image
   through the project's cache (``landmarks="build"``: the five-point box fast path, ``--workers`` processes, one
   ``.npz`` written atomically), a second construction that reads the cache back, and the train split built
   with the cached points. ``--skip-dlib`` leaves the dlib extraction out.
4. loader: one pass of the training loader (flip augmentation, paper input size 218 x 178, batch 64,
   ``--workers`` worker processes) over the train split, or its first ``--max-batches`` batches (then images/s
   and the extrapolated full-pass time are reported, marked as extrapolated).

Memory: per step, the resident set of this process before the step and its peak during the step (Linux:
``/proc/self/status`` VmRSS and VmHWM, reset before each step through ``/proc/self/clear_refs``; memory the
allocator kept from earlier steps counts in both) and ``getrusage(RUSAGE_CHILDREN)`` for worker processes (a
maximum over all children so far). tracemalloc is not used: worker processes forked from a traced process
inherit the tracing, which slowed generation about 2.5x in a trial. Nothing holds all
images in memory: images are written and read one at a time; arrays of all labels / landmarks are kept (a few
hundred MB at most). The dataset folder is deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CELEBA_IMAGES = 202_599
PAPER_INPUT = (218, 178)


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(name: str, work: Callable[[], Any], results: dict[str, Any]) -> Any:
    """Run ``work`` and record its wall time and memory peaks under ``results["steps"][name]``."""
    rss_before = _status_kib("VmRSS")
    reset = _reset_peak_rss()
    started = time.perf_counter()
    value = work()
    wall = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    results["steps"][name] = {
        "wall_s": round(wall, 2),
        "rss_before_mib": round(rss_before / 1024, 1) if rss_before else None,
        "peak_rss_mib": round(peak / 1024, 1) if peak and reset else None,
        "process_max_rss_mib_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_max_rss_mib_so_far": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }
    print(f"{name}: {json.dumps(results['steps'][name])}", flush=True)
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=CELEBA_IMAGES)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--probe", type=int, default=2000, help="images generated first to measure the rate")
    parser.add_argument("--max-generate-minutes", type=float, default=30.0)
    parser.add_argument(
        "--skip-dlib", action="store_true", help="use the 68-point file instead of dlib's cache"
    )
    parser.add_argument(
        "--draw", type=int, default=20000, help="images drawn when the full set would be too slow"
    )
    parser.add_argument("--max-batches", type=int, default=0, help="0 = the whole train split")
    parser.add_argument("--data", default="build/bench/celeba_scale_data")
    parser.add_argument("--out", default="build/bench/celeba_scale.json")
    parser.add_argument("--keep", action="store_true", help="keep the generated dataset")
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from dmmlib.data.celeba import CelebA, read_attributes, read_landmarks_68
    from dmmlib.data.celeba_format import celeba_filenames, write_annotation_files
    from dmmlib.data.synthetic import CELEBA_SPLIT, generate, split_ids
    from dmmlib.data.transforms import make_loader, train_transform
    from dmmlib.files import atomic

    torch.set_num_threads(1)
    data, out = Path(args.data), Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ids = split_ids(args.num, CELEBA_SPLIT)
    results: dict[str, Any] = {
        "num_images": args.num, "split_sizes": {k: int((ids == v).sum()) for k, v in (("train", 0), ("valid", 1),
                                                                                     ("test", 2))},
        "workers": args.workers, "cpu_count": os.cpu_count(), "load_average_at_start": os.getloadavg(),
        "python": sys.version.split()[0], "platform": platform.platform(), "torch": torch.__version__,
        "input_size": list(PAPER_INPUT), "steps": {},
    }  # fmt: skip

    def save() -> None:
        atomic.write_json(out, results)

    probe_dir = data.parent / f"{data.name}_probe"
    shutil.rmtree(probe_dir, ignore_errors=True)
    measure(
        "generate_probe",
        lambda: generate(probe_dir, args.probe, workers=args.workers, progress=False),
        results,
    )
    shutil.rmtree(probe_dir, ignore_errors=True)
    rate = args.probe / results["steps"]["generate_probe"]["wall_s"]
    results["generate_probe_images_per_s"] = round(rate, 1)
    results["generate_extrapolated_s"] = round(args.num / rate, 1)
    save()

    def tile(drawn: Path) -> None:
        """Fill ``drawn`` (``args.draw`` images) up to ``args.num`` names by hard links and copied rows."""
        folder = drawn / "Img" / "img_align_celeba"
        names = celeba_filenames(args.num)
        for i in range(args.draw, args.num):
            os.link(folder / names[i % args.draw], folder / names[i])
        _, _, labels = read_attributes(drawn / "Anno" / "list_attr_celeba.txt")
        _, points = read_landmarks_68(drawn / "Anno" / "list_landmarks_68_align_celeba.txt")
        cycle = [i % args.draw for i in range(args.num)]
        write_annotation_files(drawn, names, labels[cycle], points[cycle], ids)

    try:
        shutil.rmtree(data, ignore_errors=True)
        if args.num / rate <= 60 * args.max_generate_minutes:
            measure(
                "generate", lambda: generate(data, args.num, workers=args.workers, progress=False), results
            )
            results["generate_images_per_s"] = round(args.num / results["steps"]["generate"]["wall_s"], 1)
            results["generate_is_extrapolated"] = False
        else:
            measure(
                "generate", lambda: generate(data, args.draw, workers=args.workers, progress=False), results
            )
            drawn_rate = args.draw / results["steps"]["generate"]["wall_s"]
            results["generate_images_per_s"] = round(drawn_rate, 1)
            results["generate_full_extrapolated_s"] = round(args.num / drawn_rate, 1)
            results["generate_is_extrapolated"] = True
            results["generate_note"] = (
                f"the probe predicted {args.num / rate / 60:.1f} min for {args.num} images (> "
                f"{args.max_generate_minutes} min): {args.draw} images drawn, full time extrapolated from their "
                f"rate; names {args.draw + 1}..{args.num} are hard links cycling over them (rows copied alike)"
            )
            measure("tile_to_full_size", lambda: tile(data), results)
        results["dataset_bytes"] = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
        save()
        measure("read_train_split", lambda: CelebA(data, "train"), results)
        landmark_file = data / "Anno" / "list_landmarks_68_align_celeba.txt"
        measure("parse_landmarks_68_file", lambda: read_landmarks_68(landmark_file), results)
        if args.skip_dlib:
            landmarks: Any = "file"
        else:
            cache_dir = data.parent / f"{data.name}_landmark_cache"
            shutil.rmtree(cache_dir, ignore_errors=True)

            def dlib_all() -> CelebA:
                every = CelebA(data, "all", landmarks="build", landmark_cache_dir=cache_dir,
                               landmark_workers=args.workers, check_images=False)  # fmt: skip
                every.prepare_landmarks()
                return every

            every = measure("landmark_cache_dlib_all_images", dlib_all, results)
            sources = np.bincount(every.landmark_table[1].astype(np.int64), minlength=8).tolist()
            results["landmark_sources_counts"] = sources
            results["landmark_cache_bytes"] = sum(f.stat().st_size for f in cache_dir.glob("*.npz"))
            results["landmark_images_per_s"] = round(args.num / results["steps"]["landmark_cache_dlib_all_images"]
                                                      ["wall_s"], 1)  # fmt: skip
            save()
            again = measure("landmark_cache_read_back", dlib_all, results)
            train = np.flatnonzero(np.asarray(split_ids(args.num, CELEBA_SPLIT)) == 0)
            points, codes = again.landmark_table
            landmarks = (points[train], codes[train])
            del every, again
        dataset = measure(
            "train_split_with_landmarks",
            lambda: CelebA(data, "train", train_transform(PAPER_INPUT), landmarks=landmarks),
            results,
        )
        save()

        def one_pass() -> dict[str, Any]:
            loader = make_loader(dataset, 64, shuffle=True, generator=torch.Generator().manual_seed(0),
                                 num_workers=args.workers)  # fmt: skip
            images, batches, started = 0, 0, time.perf_counter()
            for batch in loader:
                images += len(batch["image"])
                batches += 1
                if args.max_batches and batches >= args.max_batches:
                    break
            wall = time.perf_counter() - started
            full = len(dataset) / (images / wall)
            return {"images": images, "batches": batches, "images_per_s": round(images / wall, 1),
                    "full_pass_s": round(full, 1), "full_pass_is_extrapolated": images < len(dataset)}  # fmt: skip

        results["loader"] = measure("loader_pass", one_pass, results)
        save()
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(data.parent / f"{data.name}_landmark_cache", ignore_errors=True)
            results["dataset_deleted"] = True
        save()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
