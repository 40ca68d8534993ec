"""The set-up check of notebook 00: versions, devices, dlib and its model, datasets, and the preset ``auto`` picks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from dmmlib.suite import presets, provenance


def dlib_status() -> dict[str, Any]:
    """Load dlib's 68-point model and run it once on a blank image; say what worked and how long it took."""
    status: dict[str, Any] = {"dlib_imports": False, "model_loads": False, "points": 0}
    try:
        import dlib

        status["dlib_imports"] = True
        status["dlib_version"] = getattr(dlib, "__version__", "unknown")
        from dmmlib import landmarks

        start = time.perf_counter()
        points = landmarks.predict_landmarks(np.full((218, 178, 3), 128, np.uint8), (30, 60, 148, 190))
        status["model_loads"] = True
        status["points"] = int(points.shape[0])
        status["first_call_seconds"] = round(time.perf_counter() - start, 3)
    except Exception as error:  # noqa: BLE001 - the report shows any failure instead of stopping
        status["error"] = f"{type(error).__name__}: {error}"
    return status


def dataset_status(data_dir: str | Path | None, lfwa_dir: str | Path | None) -> dict[str, Any]:
    """Which real datasets are present under the given folders."""
    found: dict[str, Any] = {"celeba": None, "lfwa": None}
    if data_dir:
        from dmmlib.data import celeba

        try:
            found["celeba"] = str(celeba.find_celeba(data_dir).root)
        except (FileNotFoundError, ValueError) as error:
            found["celeba_error"] = str(error)
    if lfwa_dir:
        from dmmlib.data import lfwa

        try:
            found["lfwa"] = str(lfwa.find_lfwa(lfwa_dir))
        except (FileNotFoundError, ValueError) as error:
            found["lfwa_error"] = str(error)
    return found


def report(data_dir: str | Path | None = None, lfwa_dir: str | Path | None = None) -> dict[str, Any]:
    """Everything notebook 00 shows, as one JSON-able dictionary."""
    return {
        "versions": provenance.versions(),
        "hardware": provenance.hardware(),
        "dlib": dlib_status(),
        "datasets": dataset_status(data_dir, lfwa_dir),
        "auto_preset": presets.resolve_name(presets.AUTO, data_dir),
    }
