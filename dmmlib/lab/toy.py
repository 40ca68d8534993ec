"""Small made-up inputs for teaching the loss weighting and the thresholds without training a network.

- :func:`loss_sequence`: per-attribute validation losses over updates, each decaying to its own floor at its own
  rate (an "easy" attribute drops fast and low, a "hard" one slowly and stays high), with a little noise.
- :func:`weight_trajectories`: lambda of each weighting scheme of Table 2 fed that sequence, as a long table.
- :func:`simulated_outputs`: network-like outputs for +1/-1 labels (label * separation + Gaussian noise).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dmmlib import weighting

#: Display names of the weighting schemes (Table 2 of the paper).
SCHEME_NAMES = {"uniform": "UW", "dynamic": "ours (Eq. 4)", "dwa": "DWA", "aw": "AW"}


def loss_sequence(num_updates: int = 30, start: Sequence[float] = (1.0, 1.0, 1.0),
                  floor: Sequence[float] = (0.1, 0.3, 0.6), rate: Sequence[float] = (0.35, 0.12, 0.05),
                  noise: float = 0.005, seed: int = 0) -> np.ndarray:  # fmt: skip
    """``(num_updates, J)`` losses ``floor + (start - floor) * exp(-rate * t)`` times (1 + noise * N(0, 1))."""
    starts, floors, rates = (np.asarray(v, dtype=np.float64) for v in (start, floor, rate))
    if not starts.shape == floors.shape == rates.shape:
        raise ValueError("start, floor and rate need one value per attribute each")
    if num_updates < 1:
        raise ValueError(f"num_updates must be >= 1, got {num_updates}")
    t = np.arange(num_updates, dtype=np.float64)[:, None]
    clean = floors + (starts - floors) * np.exp(-rates * t)
    jitter = 1.0 + noise * np.random.default_rng(seed).standard_normal(clean.shape)
    return clean * jitter


def weight_trajectories(losses: np.ndarray, names: Sequence[str],
                        schemes: Sequence[str] = tuple(SCHEME_NAMES)) -> pd.DataFrame:  # fmt: skip
    """Feed ``losses`` (one row per update) to each scheme; one row per (scheme, update, attribute) with its
    lambda *after* that update. DWA is meant for epoch-mean training losses; here each row plays an epoch."""
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 2 or losses.shape[1] != len(names):
        raise ValueError(f"losses must be (updates, {len(names)}), got {losses.shape}")
    rows = []
    for scheme in schemes:
        scheme_weights = weighting.make_weighting(scheme, len(names))
        for update, row in enumerate(losses, start=1):
            lam = scheme_weights.update(row).tolist()
            rows += [{"scheme": SCHEME_NAMES.get(scheme, scheme), "update": update, "attribute": name,
                      "loss": float(loss), "lambda": float(value)}
                     for name, loss, value in zip(names, row, lam)]  # fmt: skip
    return pd.DataFrame(rows)


def simulated_outputs(labels: np.ndarray, separation: float = 0.6, noise: float = 0.5,
                      seed: int = 0) -> np.ndarray:  # fmt: skip
    """Outputs ``separation * label + noise * N(0, 1)`` (float32, the labels' shape): a model whose scores
    separate the classes by ``2 * separation`` with Gaussian overlap. Clearly not a trained network."""
    labels = np.sign(np.asarray(labels, dtype=np.float64))
    rng = np.random.default_rng(seed)
    return (separation * labels + noise * rng.standard_normal(labels.shape)).astype(np.float32)
