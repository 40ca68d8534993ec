"""Which weights the trunk starts from: one environment variable, ``DMM_WEIGHTS``, read by the pipeline.

Every way of running the suite reaches :func:`dmmlib.suite.pipeline.train_config` (notebooks under papermill or
Jupyter, ``make paper``, ``python -m dmmlib.suite.train_cli``), so that is where the choice is applied, as the
``pretrained`` field of :class:`dmmlib.config.TrainConfig` (the preset's value when the variable is unset):

- ``DMM_WEIGHTS=imagenet``: torchvision's ImageNet weights (:data:`dmmlib.model.IMAGENET_WEIGHTS`), from torch's hub
  cache or downloaded there; the paper preset's default.
- ``DMM_WEIGHTS=/path/to/resnet50-0676ba61.pth``: a local file (checked against the SHA-256 prefix in its name when
  torchvision publishes a file of that name); for machines without internet access.
- ``DMM_WEIGHTS=none``: from scratch (random initialisation).

``make paper WEIGHTS=...`` exports it; ``train_cli --weights ...`` sets it. A run's folder name depends on what the
weights are, not where the file lies (:func:`dmmlib.model.initialisation_key`), so the downloaded file and a copy of
it share their runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ENV = "DMM_WEIGHTS"
#: values that mean "train from scratch"
SCRATCH = ("none", "scratch", "random")


def parse(value: str, name: str = ENV) -> bool | str:
    """``"imagenet"``, False (from scratch) or the absolute path of an existing file, from a ``DMM_WEIGHTS`` value."""
    text = value.strip()
    if text.lower() == "imagenet":
        return "imagenet"
    if text.lower() in SCRATCH:
        return False
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError(
            f"{name}={value!r}: no such file. Use imagenet (torchvision's ImageNet weights), none (from scratch) or "
            "the path of a weights file, e.g. resnet50-0676ba61.pth"
        )
    return str(path.resolve())


def from_environment() -> dict[str, Any]:
    """``{"pretrained": ...}`` when ``DMM_WEIGHTS`` is set (and not empty), else ``{}`` (the preset decides)."""
    value = os.environ.get(ENV, "")
    return {"pretrained": parse(value)} if value.strip() else {}
