"""Face geometry of the synthetic dataset: 68 iBUG landmarks and the contours drawn around them.

Everything is built in a *canonical* frame (eye centres at (-0.45, 0) and (+0.45, 0), y pointing down, chin near
y = 1.45; "left" means the image's left, i.e. the subject's right, as in iBUG), then mapped to pixels by one
:class:`Pose` (yaw as a depth-dependent horizontal shift, roll, scale, shift). Drawing and ground-truth landmarks
share that mapping, so the landmarks are exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

EYE_X = 0.45  # canonical eye-centre offset from the midline


@dataclass(frozen=True)
class Shape:
    """Per-face geometric parameters (canonical units), set from attributes plus small random variation."""

    jaw_width: float = 0.95
    jaw_power: float = 2.4  # superellipse exponent: 2 = elliptical (oval), larger = squarer / rounder jaw
    chin_y: float = 1.45
    eye_half_width: float = 0.17
    eye_half_height: float = 0.075
    brow_y: float = -0.30
    brow_arch: float = 0.05
    nose_tip_y: float = 0.62
    nose_half_width: float = 0.19
    nose_point: float = 0.0  # how far the tip juts below the base (pointy nose)
    mouth_y: float = 1.0
    mouth_half_width: float = 0.31
    lip_thickness: float = 0.07
    mouth_open: float = 0.0
    smile: float = 0.0
    asymmetry: float = 0.0  # vertical offset of the image-right eye and brow


def landmarks_canonical(s: Shape) -> np.ndarray:
    """The 68 iBUG points, (68, 2) float64, in the canonical frame."""
    p = np.zeros((68, 2))
    t = np.linspace(0.0, np.pi, 17)
    c, si = np.cos(t), np.sin(t)
    e = 2.0 / s.jaw_power
    p[0:17, 0] = -s.jaw_width * np.sign(c) * np.abs(c) ** e
    p[0:17, 1] = -0.02 + (s.chin_y + 0.02) * np.abs(si) ** e
    u = np.linspace(0.0, 1.0, 5)
    arch = s.brow_y - s.brow_arch * np.sin(np.pi * u**0.8) - 0.02 * u
    p[17:22, 0] = -0.74 + 0.54 * u
    p[17:22, 1] = arch
    p[22:27, 0] = -p[17:22, 0][::-1]
    p[22:27, 1] = arch[::-1] + s.asymmetry
    p[27:31, 0] = 0.0
    p[27:31, 1] = np.linspace(0.08, s.nose_tip_y, 4)
    base_y = s.nose_tip_y + 0.08
    w = s.nose_half_width
    p[31:36] = [
        [-w, base_y - 0.02],
        [-w / 2, base_y + 0.02],
        [0, base_y + 0.04],
        [w / 2, base_y + 0.02],
        [w, base_y - 0.02],
    ]
    hw, hh = s.eye_half_width, s.eye_half_height
    for first, cx, dy in ((36, -EYE_X, 0.0), (42, EYE_X, s.asymmetry)):
        p[first : first + 6] = [
            [cx - hw, 0.0], [cx - hw / 3, -hh], [cx + hw / 3, -hh], [cx + hw, 0.0], [cx + hw / 3, hh * 0.9],
            [cx - hw / 3, hh * 0.9],
        ]  # fmt: skip
        p[first : first + 6, 1] += dy
    m, mw, th, op = s.mouth_y, s.mouth_half_width + 0.05 * s.smile, s.lip_thickness, s.mouth_open
    corner = m - 0.09 * s.smile
    p[48:60] = [
        [-mw, corner], [-0.55 * mw, m - 0.9 * th], [-0.2 * mw, m - 1.25 * th], [0, m - 1.0 * th],
        [0.2 * mw, m - 1.25 * th], [0.55 * mw, m - 0.9 * th], [mw, corner],
        [0.55 * mw, m + op + 1.4 * th], [0.2 * mw, m + op + 1.6 * th], [0, m + op + 1.6 * th],
        [-0.2 * mw, m + op + 1.6 * th], [-0.55 * mw, m + op + 1.4 * th],
    ]  # fmt: skip
    sag = 0.05 * s.smile  # a smile curves the lip line upwards at the corners
    p[60:68] = [
        [-0.85 * mw, corner], [-0.4 * mw, m + sag], [0, m + sag], [0.4 * mw, m + sag], [0.85 * mw, corner],
        [0.4 * mw, m + op + sag], [0, m + op + sag], [-0.4 * mw, m + op + sag],
    ]  # fmt: skip
    return p


@lru_cache(maxsize=256)
def _unit_arc(n: int, start: float, stop: float) -> np.ndarray:
    a = np.linspace(start, stop, n)
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def ellipse(
    cx: float, cy: float, rx: float, ry: float, n: int = 24, start: float = 0.0, stop: float = 2 * np.pi
):
    """Points on an (axis-aligned, canonical-frame) ellipse arc, (n, 2)."""
    return _unit_arc(n, start, stop) * (rx, ry) + (cx, cy)


def depth(points: np.ndarray) -> np.ndarray:
    """Rough depth of canonical points (nose forward, face edges back), for the yaw approximation."""
    x, y = points[:, 0], points[:, 1]
    z = 0.55 * np.sqrt(np.clip(1.0 - (x / 1.15) ** 2, 0.0, 1.0))
    nose = np.exp(-((x / 0.22) ** 2) - ((y - 0.55) / 0.35) ** 2)
    return z + 0.35 * nose


@dataclass(frozen=True)
class Pose:
    """Canonical frame -> pixels: eye midpoint at (cx, cy), ``scale`` pixels per unit, roll and yaw in radians."""

    cx: float
    cy: float
    scale: float
    roll: float = 0.0
    yaw: float = 0.0

    def apply(self, points: np.ndarray, with_depth: bool | np.ndarray = True) -> np.ndarray:
        """Canonical (n, 2) -> pixels (n, 2); ``with_depth`` (per point, or for all) turns on the yaw parallax."""
        pts = np.asarray(points, dtype=np.float64)
        x = pts[:, 0] * np.cos(self.yaw)
        if np.any(with_depth):
            x = x + depth(pts) * np.sin(self.yaw) * with_depth
        y = pts[:, 1]
        c, s = np.cos(self.roll), np.sin(self.roll)
        out = np.empty_like(pts)
        out[:, 0] = self.cx + self.scale * (c * x - s * y)
        out[:, 1] = self.cy + self.scale * (s * x + c * y)
        return out
