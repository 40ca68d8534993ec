"""Which run a notebook loads a model from, and what data that model was trained on.

Notebook 10's ``CHECKPOINT`` parameter names any run folder (``runs/paper/models/DMM-CNN-<hash>``, one of the
smoke or teach runs, or a copy elsewhere) or the checkpoint file inside it. :func:`resolve_checkpoint` validates
it; :func:`origin` says whether the model was trained on synthetic drawn faces or on real CelebA, and how it knows.

A run trained by this version records its data in its ``config.json`` (key ``dataset``: kind, synthetic or real,
the root as given, data seed and generator knobs; :mod:`dmmlib.data.source`), and :func:`origin` reads it. A run
folder without that record (trained before it existed) still loads; its data are then guessed from the suite's own
conventions, and :attr:`Origin.dataset_source` says so:

1. a run folder under ``<runs>/<preset>/models/`` belongs to that preset, and each preset has one kind of data
   (smoke and teach: synthetic; paper: real CelebA from ``DATA_DIR``);
2. elsewhere, the run's network (backbone and input size, from its saved configuration) is compared with the
   presets': the small trunks of smoke and teach only ever train on synthetic data here;
3. otherwise the data are unknown, and the notebook says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dmmlib.checkpoint import CHECKPOINT_NAME
from dmmlib.config import TrainConfig
from dmmlib.suite import paths, presets
from dmmlib.suite.session import ParameterError
from dmmlib.train import CONFIG_NAME, DATASET_KEY

SYNTHETIC, REAL, UNKNOWN = "synthetic", "real", "unknown"
#: :attr:`Origin.dataset_source`: read from the run's record, or inferred for a run that has none
RECORDED, GUESSED = "recorded in the run's config.json", "guessed from folder layout"
#: The configuration fields that tell the presets' networks apart.
NETWORK_FIELDS = ("backbone", "input_size")


@dataclass(frozen=True)
class Origin:
    """Where a run's model comes from: its folder, its training data (synthetic, real or unknown) and why."""

    run_dir: Path
    data: str
    preset: str | None
    evidence: str
    dataset_source: str = GUESSED
    #: the run's own record of its data (``config.json``'s ``dataset``), when it has one
    dataset: dict[str, Any] | None = None

    @property
    def synthetic(self) -> bool:
        return self.data == SYNTHETIC

    def statement(self) -> str:
        """One plain paragraph for the notebook's output."""
        if self.data == SYNTHETIC:
            return (
                "THIS MODEL WAS TRAINED ON SYNTHETIC DRAWN FACES, not on photographs "
                f"({self.evidence}). Its predictions on a real photo show that the pipeline runs end to end; they "
                "say nothing about the person in the photo. Set CHECKPOINT to a run trained with the paper preset "
                "for a model trained on real CelebA."
            )
        if self.data == REAL:
            return (
                f"This model was trained on real CelebA photographs ({self.evidence}). Its outputs reproduce the "
                "labels CelebA's annotators gave to celebrity photos, with their subjectivity and their biases; "
                "they are not facts about the person in the photo."
            )
        return (
            f"The training data of this model are not known ({self.evidence}). Treat its predictions as those of "
            "an unknown model."
        )


def _candidates(value: str) -> list[Path]:
    path = Path(value).expanduser()
    if path.is_absolute():
        return [path]
    return [Path.cwd() / path, paths.repo_root() / path]


def resolve_checkpoint(value: str | None) -> Path | None:
    """The run folder named by a ``CHECKPOINT`` parameter (a run folder or its checkpoint file); None when empty.

    A relative path is looked up from the working directory, then from the repository root. Raises
    :class:`ParameterError` naming the parameter when the path does not hold a checkpoint.
    """
    if value in ("", None):
        return None
    if not isinstance(value, str):
        raise ParameterError(f"parameter CHECKPOINT must be a path (a string), got {value!r}")
    for path in _candidates(value):
        if path.is_file():
            return path.resolve().parent
        if (path / CHECKPOINT_NAME).is_file():
            return path.resolve()
    tried = " or ".join(str(p) for p in _candidates(value))
    raise ParameterError(
        f"parameter CHECKPOINT={value!r}: no run folder or checkpoint file at {tried}. Pass a run folder "
        f"holding {CHECKPOINT_NAME} (runs/<preset>/models/<run>, e.g. a run of `make paper`) or that file"
    )


def _network(values: object) -> dict[str, Any]:
    """The fields of :data:`NETWORK_FIELDS` of a TrainConfig or a preset's overrides, lists as tuples."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name, None)
    found = {name: get(name) for name in NETWORK_FIELDS}
    return {name: tuple(v) if isinstance(v, list | tuple) else v for name, v in found.items()}


def recorded_dataset(run_dir: Path) -> dict[str, Any] | None:
    """The data record a run's ``config.json`` keeps (None for a run trained before runs recorded it)."""
    try:
        saved = json.loads((Path(run_dir) / CONFIG_NAME).read_text())
    except (OSError, ValueError):
        return None
    found = saved.get(DATASET_KEY) if isinstance(saved, dict) else None
    return found if isinstance(found, dict) and found.get("source") in (SYNTHETIC, REAL) else None


def _short(value: Any) -> str:
    """A knob's value in a sentence: numbers to 3 significant digits (``split_fractions`` as a tuple)."""
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _folder_preset(run_dir: Path) -> str:
    """The preset whose run folder (``<runs>/<preset>/models/``) holds ``run_dir``; "" elsewhere."""
    name = run_dir.parent.parent.name if run_dir.parent.name == "models" else ""
    return name if name in presets.PRESETS else ""


def _from_record(run_dir: Path, found: dict[str, Any]) -> Origin:
    kind = {"celeba": "CelebA", "lfwa": "LFWA"}.get(found.get("kind", ""), str(found.get("kind")))
    if found["source"] == SYNTHETIC:
        knobs = ", ".join(f"{k}={_short(v)}" for k, v in sorted((found.get("knobs") or {}).items()))
        said = (f"synthetic {kind}-format data from {found.get('root')}, data seed {found.get('data_seed')}"
                + (f" ({knobs})" if knobs else ""))  # fmt: skip
    else:
        said = f"real {kind} from {found.get('root')}"
    return Origin(run_dir, found["source"], _folder_preset(run_dir) or None, f"the run records its training data: "
                  f"{said}", RECORDED, found)  # fmt: skip


def origin(run_dir: Path, cfg: TrainConfig) -> Origin:
    """What data the model in ``run_dir`` (with configuration ``cfg``) was trained on; see the module docstring."""
    run_dir = Path(run_dir)
    found = recorded_dataset(run_dir)
    if found is not None:
        return _from_record(run_dir, found)
    return _guess(run_dir, cfg)


def _guess(run_dir: Path, cfg: TrainConfig) -> Origin:
    """The inference for a run without a record (older runs), from the folder layout and then the network."""
    folder_preset = _folder_preset(run_dir)
    if folder_preset:
        preset = presets.PRESETS[folder_preset]
        data = REAL if preset.data == "real" else SYNTHETIC
        described = "real CelebA" if data == REAL else "synthetic data only"
        return Origin(run_dir, data, folder_preset, f"{GUESSED}: its folder belongs to the {folder_preset} preset, "
                      f"which trains on {described}")  # fmt: skip
    network = _network(cfg)
    for name, preset in presets.PRESETS.items():
        if _network(preset.train) == network:
            shown = f"backbone {network['backbone']}, input {network['input_size'][0]} x {network['input_size'][1]}"
            if preset.data == "real":
                return Origin(run_dir, REAL, name, f"{GUESSED}: the run does not record its dataset; its network "
                              f"({shown}) is the {name} preset's, which trains on real CelebA")  # fmt: skip
            return Origin(run_dir, SYNTHETIC, name, f"{GUESSED}: its network ({shown}) is the {name} preset's, which "
                          "trains on synthetic data only")  # fmt: skip
    return Origin(run_dir, UNKNOWN, None, f"{GUESSED}: {run_dir} is not in a preset's run folder and its network "
                  "matches no preset")  # fmt: skip
