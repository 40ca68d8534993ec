"""What every notebook does after its ``parameters`` cell: validate, resolve the preset, seed, find folders.

A notebook calls ``ctx = session.start("05_train_dmm_cnn", PRESET=PRESET, SEED=SEED, DATA_DIR=DATA_DIR)``.
Bad parameters fail here with a message naming the parameter and what to do, before any work starts. In a notebook
the call's first output is the notebook's header from the manifest: its learning objectives, the minutes a student
needs and the machine's run time with this preset when a run measured it (:func:`dmmlib.suite.guide.header`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dmmlib.device import seed_everything
from dmmlib.suite import guide, paths, presets, provenance
from dmmlib.suite.presets import Preset


class ParameterError(ValueError):
    """A notebook parameter has a value the suite cannot use."""


def knob_folder(data_knobs: dict[str, Any]) -> str:
    """``knobs/<knob>=<value>[,...]``: where a session with generator knobs keeps its data, runs and results."""
    return "knobs/" + ",".join(f"{k}={v}" for k, v in sorted(data_knobs.items()))


@dataclass
class Session:
    """The resolved parameters of one notebook run."""

    notebook: str
    preset: Preset
    seed: int
    data_dir: Path | None
    lfwa_dir: Path | None
    extra: dict[str, Any] = field(default_factory=dict)
    #: knobs of the synthetic generator (:func:`dmmlib.data.synthetic.generate`) that differ from the suite's
    #: embedded default; a session with knobs keeps its data, runs and results in a folder of its own
    data_knobs: dict[str, Any] = field(default_factory=dict)
    #: the notebook's ``TRAIN_ON_CPU``: train a GPU preset's runs on a machine without CUDA anyway
    #: (:mod:`dmmlib.suite.cpu_guard`; ``DMM_TRAIN_ON_CPU=1`` in the environment says the same)
    train_on_cpu: bool = False

    @property
    def run_dir(self) -> Path:
        """``runs/<preset>/``: datasets, caches, checkpoints and results of this preset (with generator knobs:
        ``runs/<preset>/knobs/<knob>=<value>[,...]/``)."""
        path = paths.runs_dir(self.preset.name)
        if self.data_knobs:
            path = path / knob_folder(self.data_knobs)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def results_path(self, name: str) -> Path:
        path = self.run_dir / "results" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def dataset_label(self) -> str:
        """How results of this run must describe their data."""
        if self.preset.data == "real":
            return f"real CelebA from {self.data_dir}"
        knobs = "".join(f", {k}={v}" for k, v in sorted(self.data_knobs.items()))
        return (f"synthetic CelebA-format data ({self.preset.num_images} generated images, data seed "
                f"{presets.DATA_SEED}{knobs})")  # fmt: skip

    def provenance(self, **extra: Any) -> dict[str, Any]:
        return provenance.record(
            preset=self.preset.name, dataset=self.dataset_label, seed=self.seed, notebook=self.notebook, **extra
        )

    def save_results(self, name: str, results: dict[str, Any], **extra: Any) -> Path:
        """Write ``runs/<preset>/results/<name>.json`` with provenance, atomically."""
        return provenance.save_results(self.results_path(name), results, self.provenance(**extra))


def _check_int(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"parameter {name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ParameterError(f"parameter {name} must be >= {minimum}, got {value}")
    return value


def _check_dir(name: str, value: Any) -> Path | None:
    if value in ("", None):
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ParameterError(f"parameter {name} must be a folder path (a string), got {value!r}")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ParameterError(f"parameter {name}={str(value)!r}: no such folder; pass the dataset's root folder")
    return path.resolve()


def show_header(notebook: str, preset: str) -> bool:
    """Display the notebook's objectives and times (:func:`guide.header`) when running in an IPython kernel.

    Returns whether it displayed anything: outside IPython (a script, pytest) or for a notebook the manifest does
    not list (or without the repository's manifest) it shows nothing.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the suite extra
        return False
    if get_ipython() is None:
        return False
    bundle = guide.header(notebook, preset)
    if bundle is None:
        return False
    # marked, so that the book can restate it with the time of the run its page shows (guide.restamp_header)
    display(bundle, raw=True, metadata={guide.HEADER_METADATA: notebook})
    return True


def start(
    notebook: str,
    *,
    PRESET: str = presets.AUTO,  # noqa: N803 - notebook parameters are upper case
    SEED: int = 0,  # noqa: N803
    DATA_DIR: str = "",  # noqa: N803
    LFWA_DIR: str = "",  # noqa: N803
    TRAIN_ON_CPU: bool = False,  # noqa: N803
    **counts: Any,
) -> Session:
    """Validate a notebook's parameters and return its :class:`Session`.

    ``TRAIN_ON_CPU`` (True or False) lets a GPU preset train on a machine without CUDA (:mod:`dmmlib.suite.cpu_guard`).
    ``counts`` are further integer parameters (``EPOCHS=...``); each must be a non-negative integer, or None
    for "the preset's value".
    """
    if not isinstance(TRAIN_ON_CPU, bool):
        raise ParameterError(f"parameter TRAIN_ON_CPU must be True or False, got {TRAIN_ON_CPU!r}")
    seed = _check_int("SEED", SEED)
    data_dir = _check_dir("DATA_DIR", DATA_DIR)
    lfwa_dir = _check_dir("LFWA_DIR", LFWA_DIR)
    try:
        preset = presets.resolve(PRESET, data_dir)
    except (ValueError, TypeError) as error:
        raise ParameterError(f"parameter PRESET: {error}") from None
    extra = {name: (None if value is None else _check_int(name, value)) for name, value in counts.items()}
    show_header(notebook, preset.name)
    seed_everything(seed)
    return Session(notebook, preset, seed, data_dir, lfwa_dir, extra, train_on_cpu=TRAIN_ON_CPU)
