"""Papermill batch sweeps: a grid of notebook parameters, run in parallel, resumable and shardable.

    python -m dmmlib.suite sweep sweeps/table1-seeds.yml [--jobs N] [--shard I/N] [--dry-run]
    python -m dmmlib.suite collect table1-seeds

A spec (YAML in ``sweeps/``) names the notebooks (manifest stems or prefixes), a preset, a ``grid`` of notebook
parameters (the product of its lists), ``fixed`` parameters shared by every point and, optionally, the
``reference`` run that paired differences are taken against. Every grid point runs its notebooks in manifest order
with papermill (as :mod:`dmmlib.suite.runner` does) into ``build/sweeps/<name>/<point>/``, where ``<point>`` is
``KEY=value`` pairs with sorted keys (``SEED=3``, ``EPOCHS=4,SEED=3``). A point has its own artefact folder
(``DMM_RUNS_DIR=<point>/runs``), so no two points write the same file; the synthetic dataset is generated once into
``build/sweeps/<name>/shared/`` and each point's ``runs/<preset>/data`` links to it.

- ``--jobs N`` runs N points at once, each in its own process with ``cores // N`` threads (``OMP_NUM_THREADS``,
  ``MKL_NUM_THREADS``, which torch follows) and, on a CUDA machine, its own GPU (``CUDA_VISIBLE_DEVICES``, round
  robin over the job slots). Papermill's per-notebook progress bars are off when N > 1 (each point then logs to
  ``<point>/log.txt``); one bar follows the whole sweep.
- A finished point is marked by ``<point>/done.json`` (written atomically, with its timings) and skipped when the
  command is repeated; a point whose run was interrupted (even by ``kill -9``) runs again, resuming its training
  runs from their checkpoints. A failing point is reported by id with the notebook, cell, error and the path of
  its partly executed notebook (also in ``<point>/failed.json``); the other points still run and the command exits
  with status 1.
- ``--shard I/N`` runs the I-th of N disjoint slices of the grid (1-based), for a scheduler's job array;
  ``--dry-run`` prints the points, their state and where they go.

At the end of every sweep (and by ``collect``) :mod:`dmmlib.suite.stats` gathers the points' results into
``results.csv``, ``summary.csv`` and ``paired.csv`` beside the points.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import os
import queue
import re
import shlex
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dmmlib.files import atomic, lock
from dmmlib.suite import manifest, paths, presets, provenance, stats
from dmmlib.suite.stats import SWEEP_FILE, sweep_dir

SPEC_KEYS = ("name", "preset", "notebooks", "grid", "fixed", "reference", "description")
REQUIRED_KEYS = ("name", "preset", "notebooks", "grid")
POINT_FILE, DONE_FILE, FAILED_FILE, LOG_FILE = "point.json", "done.json", "failed.json", "log.txt"
SHARED = "shared"
#: Parameters a spec may not set: the preset has its own key.
RESERVED = ("PRESET",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9._+-]*$")
#: Notebook sources that ask for the LFWA-format dataset (it is then generated once for the sweep too).
_LFWA_CALLS = ("lfwa_root", "lfwa_split", "ensure_finetuned_lfwa")


class SpecError(ValueError):
    """A sweep spec that cannot be run; the message names the file and the key."""


# --------------------------------------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Spec:
    """A validated sweep spec. ``notebooks`` are manifest file names, in manifest order."""

    name: str
    preset: str
    notebooks: tuple[str, ...]
    grid: dict[str, list[Any]]
    fixed: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None
    description: str = ""
    source: str = "<spec>"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "preset": self.preset, "notebooks": list(self.notebooks), "grid": self.grid,
                "fixed": self.fixed, "reference": self.reference, "description": self.description,
                "source": self.source}  # fmt: skip

    @property
    def parameter_names(self) -> list[str]:
        return list(self.grid) + [k for k in self.fixed if k not in self.grid]


def notebook_parameters(path: Path) -> dict[str, str]:
    """Name -> annotation of each assignment in a notebook's ``parameters``-tagged cell.

    Read as plain JSON: importing nbformat (its schema validator) costs seconds, which a repeated sweep that only
    skips finished points should not pay."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            found: dict[str, str] = {}
            for node in ast.parse(source if isinstance(source, str) else "".join(source)).body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    found[node.target.id] = ast.unparse(node.annotation)
                elif isinstance(node, ast.Assign):
                    found.update({t.id: "" for t in node.targets if isinstance(t, ast.Name)})
            return found
    return {}


def _select_notebooks(patterns: list[str], where: str) -> tuple[str, ...]:
    entries = manifest.load()
    chosen = set()
    for pattern in patterns:
        # "07" names notebook 07 only (not 07b); a longer pattern may name a stem's beginning ("06_run")
        hits = {e.file for e in entries
                if pattern in (e.number, e.file) or (len(pattern) > len(e.number) and e.stem.startswith(pattern))}
        if not hits:
            stems = ", ".join(e.stem for e in entries)
            raise SpecError(f"{where}: notebooks: {pattern!r} matches no notebook of the manifest ({stems})")
        chosen |= hits
    return tuple(e.file for e in entries if e.file in chosen)


def _check_parameters(spec_file: str, key: str, names: Sequence[str], notebooks: tuple[str, ...]) -> None:
    known = {file: notebook_parameters(paths.notebooks_dir() / file) for file in notebooks}
    for name in names:
        where = f"{spec_file}: {key}.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            raise SpecError(f"{where}: parameter names are Python identifiers (as in the parameters cell)")
        if name in RESERVED:
            raise SpecError(f"{where}: set the preset with the spec's top-level 'preset' key, not as a parameter")
        if not any(name in params for params in known.values()):
            listing = "; ".join(f"{f}: {', '.join(p)}" for f, p in known.items())
            raise SpecError(f"{where}: not a parameter of the sweep's notebooks ({listing})")


def parse_spec(data: Any, source: str = "<spec>") -> Spec:
    """Validate a spec's mapping; every error names ``source`` and the faulty key."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a sweep spec is a mapping with keys {', '.join(SPEC_KEYS)}; got {data!r}")
    for key in data:
        if key not in SPEC_KEYS:
            raise SpecError(f"{source}: {key}: unknown key; a spec has {', '.join(SPEC_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise SpecError(f"{source}: {key}: missing (required keys: {', '.join(REQUIRED_KEYS)})")
    name = data["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(f"{source}: name: {name!r} must be a folder name (letters, digits, '.', '_', '-')")
    preset = data["preset"]
    if preset not in [*presets.names(), presets.AUTO]:
        raise SpecError(f"{source}: preset: {preset!r} is not one of {[*presets.names(), presets.AUTO]}")
    patterns = data["notebooks"]
    if isinstance(patterns, (str, int)):
        patterns = [patterns]
    if not isinstance(patterns, list) or not patterns:
        raise SpecError(f"{source}: notebooks: expected a non-empty list of manifest stems or prefixes ('06')")
    notebooks = _select_notebooks([str(p) for p in patterns], source)
    grid = data["grid"]
    if not isinstance(grid, dict) or not grid:
        raise SpecError(f"{source}: grid: expected a non-empty mapping PARAMETER: [values, ...]")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SpecError(f"{source}: grid.{key}: expected a non-empty list of values, got {values!r}")
        ids = [_value_id(v) for v in values]
        if len(set(ids)) != len(ids):
            raise SpecError(f"{source}: grid.{key}: a value is listed twice ({values!r})")
    fixed = data.get("fixed") or {}
    if not isinstance(fixed, dict):
        raise SpecError(f"{source}: fixed: expected a mapping PARAMETER: value, got {fixed!r}")
    both = sorted(set(grid) & set(fixed))
    if both:
        raise SpecError(f"{source}: fixed.{both[0]}: also in grid; a parameter is either varied or fixed")
    _check_parameters(source, "grid", list(grid), notebooks)
    _check_parameters(source, "fixed", list(fixed), notebooks)
    reference = data.get("reference")
    if reference is not None and (not isinstance(reference, str) or not reference):
        raise SpecError(f"{source}: reference: expected the name of a run (e.g. Baseline), got {reference!r}")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise SpecError(f"{source}: description: expected text, got {description!r}")
    return Spec(name, preset, notebooks, dict(grid), dict(fixed), reference, description, source)


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read and validate a YAML spec."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such sweep spec (specs live in {paths.repo_root() / 'sweeps'})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not valid YAML: {error}") from None
    return parse_spec(data, str(path))


# -------------------------------------------------------------------------------------------------------- points
def _value_id(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if _PLAIN_VALUE.match(text) and text else urllib.parse.quote(text, safe="")


def point_id(values: dict[str, Any]) -> str:
    """A stable, readable folder name: ``KEY=value`` pairs, keys sorted, joined by commas."""
    return ",".join(f"{key}={_value_id(values[key])}" for key in sorted(values))


def points(spec: Spec) -> list[dict[str, Any]]:
    """Every grid point (the product of the grid's lists), in a fixed order: keys sorted, values as listed."""
    keys = sorted(spec.grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(spec.grid[k] for k in keys))]


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with 1 <= I <= N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise ValueError(f"--shard must look like I/N (e.g. 2/4), got {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"--shard {text}: need 1 <= I <= N")
    return index, count


def shard_of(items: Sequence[Any], index: int, count: int) -> list[Any]:
    """The ``index``-th (1-based) of ``count`` disjoint slices: every count-th item, so slices are balanced."""
    return list(items[index - 1 :: count])


def signature(spec: Spec, preset: str, values: dict[str, Any]) -> dict[str, Any]:
    """What a point computes: a done marker counts only for the same signature."""
    return {"preset": preset, "notebooks": list(spec.notebooks), "parameters": {**spec.fixed, **values}}


def point_state(point_dir: Path, expected: dict[str, Any] | None = None) -> str:
    """"done", "failed", "stale" (done for another signature), "started" (a folder, no marker) or "pending"."""
    done = point_dir / DONE_FILE
    if done.is_file():
        try:
            recorded = json.loads(done.read_text()).get("signature")
        except (OSError, json.JSONDecodeError):
            return "started"
        return "done" if expected is None or recorded == expected else "stale"
    if (point_dir / FAILED_FILE).is_file():
        return "failed"
    return "started" if point_dir.exists() else "pending"


# ----------------------------------------------------------------------------------------------- shared data
def resolved_preset(spec: Spec) -> str:
    return presets.resolve_name(spec.preset, spec.fixed.get("DATA_DIR", ""))


def _needs_lfwa(spec: Spec) -> bool:
    return any(any(call in (paths.notebooks_dir() / f).read_text(encoding="utf-8") for call in _LFWA_CALLS)
               for f in spec.notebooks)  # fmt: skip


def prepare_shared(spec: Spec, root: Path | None = None, progress: bool = True) -> Path:
    """Make the data every point shares, once, under ``<sweep>/shared/``; returns that folder.

    Synthetic presets: the CelebA-format set (and the LFWA-format one when a notebook asks for it), generated by
    :func:`dmmlib.data.synthetic.generate` with the arguments :func:`dmmlib.suite.pipeline.celeba_root` uses, so
    the notebooks find it complete. Real data: the dlib landmark caches of the CelebA splits (and of the LFWA
    splits, when a notebook asks for LFWA and LFWA_DIR is fixed), built once.
    """
    root = root or sweep_dir(spec.name)
    shared = root / SHARED
    preset = presets.PRESETS[resolved_preset(spec)]
    with lock.exclusive(root / ".shared.lock", what="the shared data of this sweep (another shard makes it)"):
        if preset.data == "synthetic":
            from dmmlib.data import synthetic

            for folder, arguments in _data_folders(spec):
                synthetic.generate(shared / folder / "data" / "celeba", preset.num_images, seed=presets.DATA_SEED,
                                   workers=provenance.usable_cores(), progress=progress, **arguments)  # fmt: skip
            if _needs_lfwa(spec):
                synthetic.generate_lfwa(shared / "data" / "lfwa", preset.num_lfwa_images, seed=presets.DATA_SEED,
                                        workers=provenance.usable_cores(), progress=progress)  # fmt: skip
        else:
            from dmmlib.data.celeba import CelebA

            data_dir = spec.fixed.get("DATA_DIR") or ""
            for split in ("train", "valid", "test"):
                CelebA(data_dir, split, None, landmarks="build", landmark_cache_dir=shared / "cache",
                       landmark_workers=provenance.usable_cores()).prepare_landmarks()  # fmt: skip
            lfwa_dir = spec.fixed.get("LFWA_DIR") or ""
            if lfwa_dir and _needs_lfwa(spec):
                from dmmlib.data.lfwa import LFWA

                for split in ("train", "test"):  # as pipeline.lfwa_split reads them
                    LFWA(lfwa_dir, split, landmarks="build", landmark_cache_dir=shared / "cache",
                         landmark_workers=provenance.usable_cores()).prepare_landmarks()  # fmt: skip
    return shared


def _data_folders(spec: Spec) -> list[tuple[str, dict[str, Any]]]:
    """(folder under ``shared/`` and a point's ``runs/<preset>/``, generator arguments) of each CelebA-format data set
    the points read: the suite's default (folder "") for points without a ``KNOB``, and one per knob of the grid."""
    from dmmlib.suite import knobs, session

    names = [str(v) for v in spec.grid["KNOB"]] if "KNOB" in spec.grid else [str(spec.fixed.get("KNOB") or "")]
    found = {}
    for name in names:
        knob = knobs.KNOBS.get(name)
        arguments = knob.generator_arguments() if knob else {}
        found[session.knob_folder(arguments) if arguments else ""] = arguments
    return list(found.items())


def _link_shared(point_dir: Path, shared: Path, preset: str) -> None:
    """``<point>/runs/<preset>/{data,cache}`` (and ``knobs/<knob>=<value>/data``) -> the shared folders (relative
    links: the sweep may move)."""
    run_dir = point_dir / "runs" / preset
    run_dir.mkdir(parents=True, exist_ok=True)
    targets = ["data", "cache", *(str(p.relative_to(shared)) for p in sorted(shared.glob("knobs/*/data")))]
    for name in targets:
        target, link = shared / name, run_dir / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and not link.exists() and not link.is_symlink():
            link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)


# ------------------------------------------------------------------------------------------------ the sweep
@dataclass
class PointFailure:
    point: str
    notebook: str | None
    cell: int | None
    error: str
    executed: str | None
    log: str | None

    def __str__(self) -> str:
        where = f" in {self.notebook}" if self.notebook else ""
        where += f", cell {self.cell}" if self.cell is not None else ""
        lines = [f"point {self.point} failed{where}: {self.error}"]
        if self.executed:
            lines.append(f"    partly executed notebook: {self.executed}")
        if self.log:
            lines.append(f"    log: {self.log}")
        return "\n".join(lines)


@dataclass
class SweepOutcome:
    folder: Path
    selected: list[str]
    skipped: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    failed: list[PointFailure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def _gpus() -> list[str]:
    """The GPUs to hand out: the entries of CUDA_VISIBLE_DEVICES if set, else torch's devices (none on a CPU)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [v.strip() for v in visible.split(",") if v.strip() and v.strip() != "-1"]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    except ImportError:  # pragma: no cover
        return []


def point_environment(point_dir: Path, threads: int, gpu: str | None, command: str) -> dict[str, str]:
    """The environment of one point's process (inherited by its notebook kernels)."""
    env = dict(os.environ)
    env.update({"DMM_RUNS_DIR": str(point_dir / "runs"), "OMP_NUM_THREADS": str(threads),
                "MKL_NUM_THREADS": str(threads), "DMM_COMMAND": command, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    return env


def _read_failure(point: str, point_dir: Path, returncode: int, log: Path | None) -> PointFailure:
    try:
        info = json.loads((point_dir / FAILED_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        info = {"error": f"the point's process exited with status {returncode} without a result"}
    return PointFailure(point, info.get("notebook"), info.get("cell"), info.get("error", "?"),
                        info.get("executed_notebook"), str(log) if log else None)  # fmt: skip


def run_sweep(spec: Spec, *, jobs: int = 1, shard: tuple[int, int] = (1, 1), dry_run: bool = False,
              progress: bool = True, collect_results: bool = True) -> SweepOutcome:  # fmt: skip
    """Run (or, with ``dry_run``, list) the points of ``spec`` in this shard; see the module docstring."""
    jobs = provenance.usable_cores() if jobs == 0 else jobs
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1 (0: one per core), got {jobs}")
    preset = resolved_preset(spec)
    presets.resolve(preset, spec.fixed.get("DATA_DIR", ""))  # the paper preset without data fails here
    root = sweep_dir(spec.name)
    grid = points(spec)
    selected = shard_of(grid, *shard)
    ids = [point_id(v) for v in selected]
    if len(set(point_id(v) for v in grid)) != len(grid):
        raise SpecError(f"{spec.source}: grid: two points get the same folder name; use distinct values")
    states = {pid: point_state(root / pid, signature(spec, preset, v)) for pid, v in zip(ids, selected)}
    outcome = SweepOutcome(root, ids)
    shard_note = f", shard {shard[0]}/{shard[1]}" if shard != (1, 1) else ""
    if dry_run:
        print(f"sweep {spec.name} ({spec.source}): {len(selected)} of {len(grid)} point(s){shard_note}, preset "
              f"{preset}, notebooks {', '.join(spec.notebooks)}, into {root}")  # fmt: skip
        for pid, values in zip(ids, selected):
            print(f"  {pid:30s} {states[pid]:8s} {root / pid}   parameters {json.dumps({**spec.fixed, **values})}")
        return outcome

    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    atomic.write_json(root / SWEEP_FILE, {**spec.to_dict(), "resolved_preset": preset,
                                          "points": [point_id(v) for v in grid]})  # fmt: skip
    todo = [(pid, v) for pid, v in zip(ids, selected) if states[pid] != "done"]
    outcome.skipped = [pid for pid in ids if states[pid] == "done"]
    print(f"sweep {spec.name}: {len(selected)} point(s){shard_note}, {len(outcome.skipped)} already done, "
          f"{len(todo)} to run with {jobs} job(s); preset {preset}; {root}", flush=True)  # fmt: skip
    if todo:
        shared = prepare_shared(spec, root, progress=progress)
        _run_points(spec, preset, root, shared, todo, jobs, outcome, progress)
    outcome.seconds = round(time.perf_counter() - started, 1)
    for failure in outcome.failed:
        print(failure, file=sys.stderr, flush=True)
    print(f"sweep {spec.name}: {len(outcome.ran)} point(s) ran, {len(outcome.skipped)} skipped (already done), "
          f"{len(outcome.failed)} failed, in {outcome.seconds:.1f} s", flush=True)  # fmt: skip
    if collect_results:
        stats.collect(spec.name)
    return outcome


def _run_points(spec: Spec, preset: str, root: Path, shared: Path, todo: list[tuple[str, dict[str, Any]]],
                jobs: int, outcome: SweepOutcome, progress: bool) -> None:  # fmt: skip
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    jobs = min(jobs, len(todo))
    threads = max(1, provenance.usable_cores() // jobs)
    gpus = _gpus()
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    lock = threading.Lock()
    running: set[str] = set()
    command = shlex.join([Path(sys.executable).name, "-m", "dmmlib.suite", "sweep", spec.source])
    cell_timeout = presets.PRESETS[preset].cell_timeout
    bar = tqdm(total=len(outcome.selected), initial=len(outcome.skipped), desc=f"sweep {spec.name}", unit="point",
               disable=not progress, dynamic_ncols=True)  # fmt: skip

    def show(refresh: bool = True) -> None:
        done = len(outcome.skipped) + len(outcome.ran)
        bar.set_postfix_str(f"done {done}, failed {len(outcome.failed)}, running {len(running)}", refresh=refresh)

    def run_one(pid: str, values: dict[str, Any]) -> None:
        slot = slots.get()
        point_dir = root / pid
        try:
            with lock:
                running.add(pid)
                show()
            point_dir.mkdir(parents=True, exist_ok=True)
            (point_dir / DONE_FILE).unlink(missing_ok=True)  # a stale marker (another signature) is redone
            _link_shared(point_dir, shared, preset)
            atomic.write_json(point_dir / POINT_FILE, {
                "sweep": spec.name, "point": pid, "preset": preset, "values": values,
                "signature": signature(spec, preset, values),
                "parameters": {"PRESET": preset, **spec.fixed, **values},
                "notebooks": [str(paths.notebooks_dir() / f) for f in spec.notebooks],
                "cwd": str(paths.notebooks_dir()), "cell_timeout": cell_timeout, "progress_bar": jobs == 1,
                "threads": threads,
            })  # fmt: skip
            gpu = gpus[slot % len(gpus)] if gpus else None
            env = point_environment(point_dir, threads, gpu, f"{command} (point {pid})")
            argv = [sys.executable, "-m", "dmmlib.suite.sweep", "point", str(point_dir)]
            log = point_dir / LOG_FILE if jobs > 1 else None
            if log is not None:
                with open(log, "w") as handle:
                    code = subprocess.run(argv, env=env, stdout=handle, stderr=subprocess.STDOUT).returncode
            else:
                code = subprocess.run(argv, env=env).returncode
            with lock:
                if code == 0 and (point_dir / DONE_FILE).is_file():
                    outcome.ran.append(pid)
                else:
                    outcome.failed.append(_read_failure(pid, point_dir, code, log))
                    bar.write(f"point {pid} failed (details at the end)")
        except Exception as error:  # preparing the point failed (disk, links): report it as that point's failure
            with lock:
                outcome.failed.append(PointFailure(pid, None, None, f"{type(error).__name__}: {error}", None, None))
        finally:
            with lock:
                running.discard(pid)
                show(refresh=False)
                bar.update(1)
            slots.put(slot)

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for future in [pool.submit(run_one, pid, values) for pid, values in todo]:
                future.result()
    finally:
        bar.close()


# ----------------------------------------------------------------------------------------- one point (child)
def run_point(point_dir: Path) -> int:
    """Execute one point's notebooks in order (the process :func:`run_sweep` starts per point)."""
    import papermill

    job = json.loads((point_dir / POINT_FILE).read_text())
    (point_dir / FAILED_FILE).unlink(missing_ok=True)
    started, timings = time.time(), {}
    for notebook in map(Path, job["notebooks"]):
        target = point_dir / notebook.name
        t0 = time.perf_counter()
        failure: dict[str, Any] | None = None
        try:
            papermill.execute_notebook(str(notebook), str(target), parameters=job["parameters"],
                                       kernel_name="python3", cwd=job["cwd"], progress_bar=job["progress_bar"],
                                       report_mode=False, execution_timeout=job["cell_timeout"])  # fmt: skip
        except papermill.PapermillExecutionError as error:
            failure = {"cell": error.exec_count, "error": f"{error.ename}: {error.evalue}"}
        except Exception as error:  # a dead kernel, a cell timeout: report it the same way
            failure = {"cell": None, "error": f"{type(error).__name__}: {error}"}
        if failure is not None:
            atomic.write_json(point_dir / FAILED_FILE, {"point": job["point"], "notebook": notebook.name,
                                                        "executed_notebook": str(target), **failure})  # fmt: skip
            print(f"point {job['point']}: {notebook.name} failed in cell {failure['cell']}: {failure['error']}",
                  file=sys.stderr)  # fmt: skip
            return 1
        timings[notebook.name] = round(time.perf_counter() - t0, 1)
    atomic.write_json(point_dir / DONE_FILE, {
        "point": job["point"], "signature": job["signature"], "notebooks": timings,
        "seconds": round(sum(timings.values()), 1), "threads": job["threads"],
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })  # fmt: skip
    return 0


# ------------------------------------------------------------------------------------------- command line
COMMANDS = ("sweep", "collect")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep`` and ``collect`` on the suite's command line (:func:`dmmlib.suite.runner.main`)."""
    run = sub.add_parser("sweep", help="run a papermill batch sweep from a YAML spec (sweeps/*.yml)")
    run.add_argument("spec", help="the sweep spec, e.g. sweeps/table1-seeds.yml")
    run.add_argument("--jobs", type=int, default=1, help="points at once, each in its own process (0: one per core)")
    run.add_argument("--shard", default="1/1", help="run the I-th of N disjoint slices of the grid (I/N, 1-based)")
    run.add_argument("--dry-run", action="store_true", help="print the points and where they go; run nothing")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.set_defaults(handler=_sweep_command)
    collect = sub.add_parser("collect", help="gather a sweep's results into results/summary/paired CSV files")
    collect.add_argument("name", help="the sweep's name (its folder under build/sweeps/) or its spec file, or a "
                                      "folder of executed notebooks (e.g. from a papermill loop of your own)")  # fmt: skip
    collect.add_argument("--reference", default=None,
                         help="for a folder of notebooks: the run the paired differences are taken against "
                              "(e.g. Baseline); a sweep takes its spec's")  # fmt: skip
    collect.set_defaults(handler=_collect_command)


def _sweep_command(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(args.spec)
        outcome = run_sweep(spec, jobs=args.jobs, shard=parse_shard(args.shard), dry_run=args.dry_run,
                            progress=not args.no_progress)  # fmt: skip
    except ValueError as error:  # SpecError included
        print(f"sweep: {error}", file=sys.stderr)
        return 2
    return 0 if outcome.ok else 1


def _collect_command(args: argparse.Namespace) -> int:
    name = args.name
    if name.endswith((".yml", ".yaml")) and Path(name).is_file():
        name = load_spec(name).name
    try:
        folder = Path(name)
        if "/" in name and (folder / SWEEP_FILE).is_file():  # a sweep's folder, named by its path
            stats.collect(folder.name, folder)
        elif folder.is_dir() and not (sweep_dir(name) / SWEEP_FILE).is_file():  # executed notebooks of one's own
            stats.collect_notebooks(folder, args.reference)
        else:
            stats.collect(name)
    except (FileNotFoundError, ValueError) as error:
        print(f"collect: {error}", file=sys.stderr)
        return 2
    return 0


def dispatch(args: argparse.Namespace) -> int:
    return int(args.handler(args))


def main(argv: list[str] | None = None) -> int:
    """``python -m dmmlib.suite.sweep``: the sweep commands alone, plus ``point DIR`` (one point, internal)."""
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.sweep", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_commands(sub)
    point = sub.add_parser("point", help="(internal) run one prepared point folder")
    point.add_argument("folder", type=Path)
    point.set_defaults(handler=lambda args: run_point(args.folder))
    return dispatch(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
