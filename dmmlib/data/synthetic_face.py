"""Draws one synthetic face from its 40 clean attribute labels, and returns it with its 68 exact landmarks.

Objective attributes get salient cues, subjective ones subtle cues (see the table in
:mod:`dmmlib.data.synthetic`). Drawing uses PIL's ImageDraw polygons only, plus a Gaussian blur for Blurry faces,
so that one core draws and encodes several hundred faces per second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.synthetic_geometry import EYE_X, Pose, Shape, ellipse, landmarks_canonical

_INDEX = {name: j for j, name in enumerate(ATTRIBUTES)}

HAIR_COLOURS = {
    "Black_Hair": (24, 20, 20),
    "Blond_Hair": (228, 198, 120),
    "Brown_Hair": (105, 66, 38),
    "Gray_Hair": (178, 178, 182),
}
_OTHER_HAIR = ((150, 52, 28), (120, 40, 30), (178, 84, 44))  # auburn / red: "no labelled hair colour"
_LIPSTICK = ((200, 20, 50), (170, 20, 90), (225, 60, 110), (140, 10, 30))
#: Fraction of women drawn with long hair (men: none). Hair length is the only cue drawn from ``Male`` itself.
LONG_HAIR_RATE = 0.85
#: Attributes whose only cue is the face's geometry (they move landmarks and nothing else is drawn for them):
#: with ``geometry_strength = 0`` no image shows them.
GEOMETRIC_ATTRIBUTES = ("Arched_Eyebrows", "Big_Lips", "Big_Nose", "Chubby", "Mouth_Slightly_Open",
                        "Narrow_Eyes", "Oval_Face", "Smiling")  # fmt: skip


@dataclass(frozen=True)
class Framing:
    """Image size and where (and how variably) faces are placed: the CelebA-aligned look or an LFW-like one."""

    width: int = 178
    height: int = 218
    eye_y: float = 111.0
    scale: float = 42.0
    scale_jitter: float = 0.05
    shift_jitter: float = 2.5
    roll_deg: float = 5.0
    yaw: float = 0.25
    clutter: bool = False  # LFW-like busy background instead of a plain gradient
    light: float = 0.30  # strength of the directional lighting falloff


CELEBA_FRAMING = Framing()
#: LFW's 250 x 250 images show more of the scene, less tightly aligned, with cluttered backgrounds.
LFW_FRAMING = Framing(width=250, height=250, eye_y=112.0, scale=34.0, scale_jitter=0.12, shift_jitter=10.0,
                      roll_deg=12.0, yaw=0.4, clutter=True, light=0.45)  # fmt: skip
#: Deep funneling re-aligns LFW faces: centred and upright, slightly larger.
LFW_FUNNELED_FRAMING = replace(LFW_FRAMING, scale=38.0, shift_jitter=2.0, roll_deg=2.0, eye_y=108.0)


@dataclass(frozen=True)
class Appearance:
    """Everything about one person that is not pose: attributes, geometry and colours."""

    attrs: frozenset[str]
    shape: Shape
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    iris: tuple[int, int, int]
    lips: tuple[int, int, int]
    shadow: tuple[int, int, int]
    clothes: tuple[int, int, int]
    accessory: tuple[int, int, int]
    background: tuple[tuple[int, int, int], tuple[int, int, int]]
    long_hair: bool
    seed: int


def _rgb(values) -> tuple[int, int, int]:
    r, g, b = (min(255, max(0, round(float(v)))) for v in values)
    return r, g, b


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return _rgb([x * (1 - t) + y * t for x, y in zip(a, b)])


def _geo(value: float, neutral: float, strength: float) -> float:
    """An attribute's displacement of a shape parameter from its ``neutral`` value, scaled by ``strength``."""
    return value if strength == 1.0 else neutral + strength * (value - neutral)


def sample_appearance(
    labels: np.ndarray, rng: np.random.Generator, geometry_strength: float = 1.0
) -> Appearance:
    """Turn one row of clean +1/-1 labels into a person's geometry and colours (random within each cue).

    ``geometry_strength`` scales how far attributes move the face's geometry (the :class:`Shape` parameters that
    place the 68 landmarks) from its neutral shape: 1.0 as designed, 0.0 none (landmarks then depend on no
    attribute, and the cues of :data:`GEOMETRIC_ATTRIBUTES` vanish), 2.0 twice as far. Random variation within
    each cue is unchanged.
    """
    attrs = frozenset(name for name, j in _INDEX.items() if labels[j] > 0)
    has = attrs.__contains__
    draws = iter(rng.random(64).tolist())  # one numpy call instead of ~30: per-call overhead dominated here

    def u(low: float = 0.0, high: float = 1.0, n: int | None = None):
        if n is None:
            return low + (high - low) * next(draws)
        return [low + (high - low) * next(draws) for _ in range(n)]

    g = geometry_strength
    shape = Shape(
        jaw_width=_geo(1.07 if has("Chubby") else 0.87 if has("Oval_Face") else 0.95, 0.95, g)
        + u(-0.02, 0.02),
        jaw_power=_geo(2.9 if has("Chubby") else 2.0 if has("Oval_Face") else 2.45, 2.45, g),
        chin_y=_geo(1.52 if has("Oval_Face") else 1.42, 1.42, g) + u(-0.03, 0.03),
        eye_half_height=max(_geo(0.035 if has("Narrow_Eyes") else 0.08, 0.08, g) + u(-0.006, 0.006), 0.01),
        brow_arch=_geo(0.11 if has("Arched_Eyebrows") else 0.035, 0.035, g) + u(-0.01, 0.01),
        nose_tip_y=_geo(0.68 if has("Big_Nose") else 0.60, 0.60, g) + u(-0.02, 0.02),
        nose_half_width=_geo(0.25 if has("Big_Nose") else 0.18, 0.18, g) + u(-0.015, 0.015),
        nose_point=0.09 if has("Pointy_Nose") else 0.0,
        lip_thickness=_geo(0.095 if has("Big_Lips") else 0.062, 0.062, g) + u(-0.006, 0.006),
        mouth_open=_geo(
            (0.13 if has("Mouth_Slightly_Open") else 0.0)
            + (u(0.0, 0.03) if has("Mouth_Slightly_Open") else 0),
            0.0,
            g,
        ),
        smile=_geo(1.0 if has("Smiling") else 0.0, 0.0, g) + u(-0.15, 0.15),
        mouth_half_width=0.31 + u(-0.02, 0.02),
        asymmetry=_geo(0.0 if has("Attractive") else u(0.02, 0.04) * (1.0 if u() < 0.5 else -1.0), 0.0, g),
    )
    if has("Pale_Skin"):
        skin = _rgb([c + d for c, d in zip((242, 226, 216), u(-6, 6, 3))])
    else:
        skin = _mix((222, 178, 148), (112, 74, 52), u(0, 1) ** 1.3)
    if not has("Young"):
        skin = _mix(skin, (150, 140, 135), 0.2)
    colour = next((c for name, c in HAIR_COLOURS.items() if has(name)), None)
    tint = u(0.9, 1.08)
    hair = _rgb([c * tint for c in (colour or _OTHER_HAIR[int(u(0, 2.999))])])
    if has("Wearing_Lipstick"):
        lips = _LIPSTICK[int(u(0, len(_LIPSTICK) - 0.001))]
    else:
        lips = _mix(skin, (150, 70, 70), 0.35)
    background = (_rgb(u(40, 235, 3)), _rgb(u(40, 235, 3)))
    return Appearance(
        attrs=attrs, shape=shape, skin=skin, hair=hair, iris=_rgb(u(20, 140, 3)), lips=lips,
        shadow=_rgb(u(60, 200, 3)), clothes=_rgb(u(20, 230, 3)), accessory=_rgb(u(0, 255, 3)),
        background=background, long_hair=not has("Male") and u() < LONG_HAIR_RATE, seed=int(u(0, 2**31 - 1)),
    )  # fmt: skip


def sample_pose(rng: np.random.Generator, framing: Framing) -> Pose:
    """Small random yaw, roll, scale and shift around the framing's template."""
    scale = framing.scale * (1 + rng.uniform(-framing.scale_jitter, framing.scale_jitter))
    return Pose(
        cx=framing.width / 2 + rng.uniform(-framing.shift_jitter, framing.shift_jitter),
        cy=framing.eye_y + rng.uniform(-framing.shift_jitter, framing.shift_jitter),
        scale=scale,
        roll=np.deg2rad(rng.uniform(-framing.roll_deg, framing.roll_deg)),
        yaw=rng.uniform(-framing.yaw, framing.yaw),
    )


def _gradient(width: int, height: int, angle: float, low: float) -> Image.Image:
    """An 'L' mask falling linearly from 255 to ``low * 255`` along direction ``angle``."""
    y, x = np.mgrid[0:height, 0:width]
    t = (x - width / 2) * np.cos(angle) + (y - height / 2) * np.sin(angle)
    t = (t - t.min()) / max(np.ptp(t), 1e-6)
    return Image.fromarray(np.round(255 * (1 - (1 - low) * t)).astype(np.uint8), "L")


_MASKS: dict[tuple[int, int, int, int], Image.Image] = {}


def _mask(width: int, height: int, direction: int, level: int) -> Image.Image:
    """Cached gradient masks: 8 directions x 4 strengths per image size (computing one per image is slow)."""
    key = (width, height, direction, level)
    if key not in _MASKS:
        _MASKS[key] = _gradient(width, height, direction * np.pi / 4, 1.0 - 0.25 * (level + 1))
    return _MASKS[key]


class _Painter:
    """Records canonical-frame shapes, then maps all their points through the pose at once and draws them.

    One vectorised pose mapping per image instead of one per shape: small numpy calls dominated the run time.
    """

    def __init__(self, pose: Pose) -> None:
        self.pose = pose
        self.shapes: list[tuple[str, np.ndarray, bool, dict]] = []

    def poly(self, pts, fill, outline=None, depth: bool = True) -> None:
        self.shapes.append(
            ("polygon", np.asarray(pts, dtype=np.float64), depth, {"fill": fill, "outline": outline})
        )

    def line(self, pts, fill, width: float = 1.0, depth: bool = True) -> None:
        px = max(1, round(width * self.pose.scale / 42.0))
        self.shapes.append(("line", np.asarray(pts, dtype=np.float64), depth, {"fill": fill, "width": px}))

    def dots(self, pts, fill) -> None:
        self.shapes.append(("point", np.asarray(pts, dtype=np.float64), True, {"fill": fill}))

    def paint(self, image: Image.Image) -> None:
        sizes = [len(pts) for _, pts, _, _ in self.shapes]
        flags = np.repeat([float(d) for _, _, d, _ in self.shapes], sizes)
        # One flat [x0, y0, x1, y1, ...] list: ImageDraw takes flat coordinates, so no per-shape tuple lists.
        xy = self.pose.apply(np.concatenate([pts for _, pts, _, _ in self.shapes]), flags).ravel().tolist()
        draw = ImageDraw.Draw(image)
        start = 0
        for (kind, _, _, kwargs), n in zip(self.shapes, sizes):
            pts = xy[2 * start : 2 * (start + n)]
            start += n
            if kind == "polygon":
                draw.polygon(pts, **kwargs)
            elif kind == "line":
                draw.line(pts, joint="curve", **kwargs)
            else:
                draw.point(pts, **kwargs)


def _background(a: Appearance, f: Framing, rng: np.random.Generator) -> Image.Image:
    # = Image.composite(colour 0, colour 1, mask), without allocating and copying two full-size images
    image = Image.new("RGB", (f.width, f.height), a.background[1])
    image.paste(a.background[0], (0, 0, f.width, f.height), _mask(f.width, f.height, int(rng.integers(8)), 1))
    if f.clutter:
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(4, 9))):
            x0, y0 = rng.uniform(0, f.width), rng.uniform(0, f.height)
            box = [x0, y0, x0 + rng.uniform(15, 90), y0 + rng.uniform(15, 90)]
            draw.rectangle(box, fill=_rgb(rng.uniform(20, 240, 3)))
    return image


def _hair_back(p: _Painter, a: Appearance) -> None:
    if "Bald" in a.attrs:
        return
    wavy, straight = "Wavy_Hair" in a.attrs, "Straight_Hair" in a.attrs
    bottom = 2.3 if a.long_hair else 0.55
    top = ellipse(0, -0.2, 1.22, 1.22, 20, np.pi, 2 * np.pi)
    sides = np.array([[1.22, -0.2], [1.25, bottom], [-1.25, bottom], [-1.22, -0.2]])
    outline = np.concatenate([top, sides])
    p.poly(outline, a.hair, depth=False)
    if wavy:  # scalloped outline: bumps along the sides
        for y in np.arange(-0.2, bottom, 0.3):
            for x in (-1.25, 1.25):
                p.poly(ellipse(x, y, 0.17, 0.15, 10), a.hair, depth=False)
    if straight:  # long vertical strands
        dark = _mix(a.hair, (0, 0, 0), 0.35)
        for x in np.linspace(-1.15, 1.15, 9):
            p.line([[x, -0.5], [x, bottom - 0.05]], dark, 1.0, depth=False)


def _body(p: _Painter, a: Appearance) -> None:
    has = a.attrs.__contains__
    p.poly(ellipse(0, 3.0, 2.3, 1.25, 24), a.clothes, depth=False)
    p.poly([[-0.42, 1.1], [0.42, 1.1], [0.5, 2.05], [-0.5, 2.05]], _mix(a.skin, (0, 0, 0), 0.12), depth=False)
    if has("Wearing_Necktie"):
        p.poly(
            [[-0.55, 1.85], [0, 2.25], [0.55, 1.85], [0.35, 2.6], [-0.35, 2.6]], (240, 240, 240), depth=False
        )
        p.poly([[-0.1, 2.05], [0.1, 2.05], [0.16, 2.9], [0, 3.1], [-0.16, 2.9]], a.accessory, depth=False)
    if has("Wearing_Necklace"):
        arc = ellipse(0, 1.75, 0.48, 0.32, 9, 0.15 * np.pi, 0.85 * np.pi)
        p.line(arc, (230, 200, 80), 2.0, depth=False)
        for x, y in arc[::2]:
            p.poly(ellipse(x, y, 0.05, 0.05, 6), (245, 240, 230), depth=False)


def _ears(p: _Painter, a: Appearance) -> None:
    for side in (-1, 1):
        p.poly(ellipse(side * 0.98, 0.35, 0.14, 0.25, 12), _mix(a.skin, (0, 0, 0), 0.06))
        if "Wearing_Earrings" in a.attrs:
            p.poly(ellipse(side * 1.0, 0.68, 0.07, 0.07, 8), (235, 195, 60), outline=(150, 110, 20))


def _face(p: _Painter, a: Appearance, lm: np.ndarray, rng: np.random.Generator) -> None:
    has = a.attrs.__contains__
    s = a.shape
    forehead = ellipse(0, -0.02, s.jaw_width, 0.98, 14, 0.0, -np.pi)
    if has("Double_Chin"):
        p.poly(ellipse(0, s.chin_y - 0.02, 0.42, 0.17, 14), _mix(a.skin, (0, 0, 0), 0.08))
    p.poly(np.concatenate([lm[0:17], forehead[1:-1]]), a.skin)
    if has("Double_Chin"):
        p.line(
            ellipse(0, s.chin_y - 0.06, 0.32, 0.12, 9, 0.15 * np.pi, 0.85 * np.pi),
            _mix(a.skin, (0, 0, 0), 0.3),
            1.0,
        )
    shade = _mix(a.skin, (0, 0, 0), 0.25)
    if has("Rosy_Cheeks"):
        for side in (-1, 1):
            p.poly(ellipse(side * 0.55, 0.55, 0.2, 0.12, 12), _mix(a.skin, (235, 70, 90), 0.45))
    if has("High_Cheekbones"):
        for side in (-1, 1):
            p.poly(ellipse(side * 0.6, 0.33, 0.2, 0.07, 10), _mix(a.skin, (255, 255, 255), 0.35))
            p.line(ellipse(side * 0.62, 0.45, 0.22, 0.1, 6, 0.1 * np.pi, 0.9 * np.pi), shade, 1.0)
    if has("Bags_Under_Eyes"):
        for cx in (-EYE_X, EYE_X):
            p.line(
                ellipse(cx, 0.1, 0.14, 0.07, 7, 0.1 * np.pi, 0.9 * np.pi),
                _mix(a.skin, (70, 40, 60), 0.45),
                1.5,
            )
    if not has("Young"):
        for y in (-0.62, -0.72, -0.82):
            p.line([[-0.45, y], [0.0, y - 0.02], [0.45, y]], shade, 1.0)
        for side in (-1, 1):
            for dy in (-0.05, 0.05):
                p.line([[side * 0.66, dy * 0.5], [side * 0.8, dy * 1.8]], shade, 1.0)
            p.line([[side * 0.24, 0.72], [side * 0.38, 1.0]], shade, 1.0)
    if not has("Attractive"):  # blemishes; attractive faces are also symmetric (Shape.asymmetry)
        spots = np.column_stack([rng.uniform(-0.7, 0.7, 6), rng.uniform(-0.7, 1.2, 6)])
        for x, y in spots:
            p.poly(ellipse(x, y, 0.03, 0.03, 5), _mix(a.skin, (90, 40, 30), 0.45))


def _facial_hair(p: _Painter, a: Appearance, lm: np.ndarray, rng: np.random.Generator) -> None:
    has = a.attrs.__contains__
    beard = _mix(a.hair, (0, 0, 0), 0.2) if "Blond_Hair" not in a.attrs else _mix(a.hair, (90, 60, 20), 0.4)
    full = "No_Beard" not in a.attrs and not has("Goatee") and not has("Mustache")
    if full:
        p.poly(np.concatenate([lm[2:15], [[0.5, 0.85], [0.0, 0.8], [-0.5, 0.85]]]), beard)
    if has("Goatee"):
        m = a.shape.mouth_y + a.shape.mouth_open + 0.16
        p.poly([[-0.25, m], [0.25, m], [0.2, a.shape.chin_y + 0.03], [-0.2, a.shape.chin_y + 0.03]], beard)
    if has("Mustache"):
        y = a.shape.mouth_y - 1.1 * a.shape.lip_thickness
        p.poly([[-0.38, y + 0.04], [0.0, y - 0.1], [0.38, y + 0.04], [0.0, y - 0.01]], beard)
    if has("Sideburns"):
        for side in (-1, 1):
            p.poly([[side * 0.97, -0.3], [side * 0.8, -0.3], [side * 0.8, 0.6], [side * 0.94, 0.7]], beard)
    if has("5_o_Clock_Shadow"):
        n = 260
        t = rng.uniform(0.15 * np.pi, 0.85 * np.pi, n)
        r = np.sqrt(rng.uniform(0.0, 1.0, n))
        pts = np.column_stack([0.85 * r * np.cos(t), 0.75 + (a.shape.chin_y - 0.8) * r * np.sin(t)])
        p.dots(pts, _mix(a.skin, (30, 30, 30), 0.6))


def _eyes(p: _Painter, a: Appearance, lm: np.ndarray) -> None:
    has = a.attrs.__contains__
    for first in (36, 42):
        eye = lm[first : first + 6]
        centre = eye.mean(axis=0)
        if has("Heavy_Makeup"):
            lid = eye[[0, 1, 2, 3]] + [[0, 0], [0, -0.09], [0, -0.09], [0, 0]]
            p.poly(np.concatenate([lid, eye[[2, 1]]]), a.shadow)
        p.poly(eye, (245, 245, 240))
        r = min(0.075, a.shape.eye_half_height * 1.1)
        p.poly(ellipse(centre[0], centre[1], 0.07, r, 10), a.iris)
        p.poly(ellipse(centre[0], centre[1], 0.03, min(0.03, r), 6), (10, 10, 10))
        p.line(np.concatenate([eye[[0, 1, 2, 3]]]), (30, 20, 20), 2.0 if has("Heavy_Makeup") else 1.0)
    brow_colour = _mix(a.hair, (0, 0, 0), 0.45)
    width = 4.5 if has("Bushy_Eyebrows") else 2.0
    for first in (17, 22):
        p.line(lm[first : first + 5], brow_colour, width)


def _nose(p: _Painter, a: Appearance, lm: np.ndarray) -> None:
    shade = _mix(a.skin, (0, 0, 0), 0.35)
    p.line(lm[27:31], _mix(a.skin, (0, 0, 0), 0.15), 1.0)
    tip = lm[30] + [0, a.shape.nose_point]
    p.poly([lm[31], tip, lm[35], lm[33]], _mix(a.skin, (0, 0, 0), 0.1))
    p.line([lm[31], lm[32], lm[33], lm[34], lm[35]], shade, 1.5)
    if a.shape.nose_point:
        p.line([lm[31], tip, lm[35]], shade, 1.0)
    for j in (32, 34):
        p.poly(ellipse(lm[j][0], lm[j][1] - 0.01, 0.03, 0.018, 6), (60, 35, 30))


def _mouth(p: _Painter, a: Appearance, lm: np.ndarray) -> None:
    p.poly(lm[48:60], a.lips)
    if a.shape.mouth_open > 0:
        p.poly(lm[60:68], (60, 15, 20))
        if "Smiling" in a.attrs:
            upper = lm[[60, 61, 62, 63, 64]]
            p.poly(np.concatenate([upper, upper[::-1] + [0, 0.05]]), (245, 245, 240))
    else:
        p.line(lm[[60, 61, 62, 63, 64]], _mix(a.lips, (0, 0, 0), 0.5), 1.0)


def _hair_front(p: _Painter, a: Appearance) -> None:
    has = a.attrs.__contains__
    if has("Bald"):
        p.poly(ellipse(-0.3, -0.75, 0.18, 0.08, 8), _mix(a.skin, (255, 255, 255), 0.45))
        return
    cap = ellipse(0, -0.1, 1.08, 1.12, 18, np.pi, 2 * np.pi)
    if has("Bangs"):
        fringe = [[x, -0.36 + 0.05 * (i % 2)] for i, x in enumerate(np.linspace(0.98, -0.98, 9))]
    elif has("Receding_Hairline"):
        fringe = [
            [0.98, -0.2],
            [0.5, -0.9],
            [0.25, -0.93],
            [0.0, -0.78],
            [-0.25, -0.93],
            [-0.5, -0.9],
            [-0.98, -0.2],
        ]
    else:
        fringe = [[0.98, -0.15], [0.6, -0.62], [0.0, -0.7], [-0.6, -0.62], [-0.98, -0.15]]
    p.poly(np.concatenate([cap, fringe]), a.hair)


def _hat(p: _Painter, a: Appearance) -> None:
    if "Wearing_Hat" not in a.attrs:
        return
    crown = np.concatenate(
        [ellipse(0, -0.65, 0.9, 0.95, 14, np.pi, 2 * np.pi), [[0.95, -0.5], [-0.95, -0.5]]]
    )
    p.poly(crown, a.accessory)
    p.poly(ellipse(0, -0.5, 1.45, 0.16, 16), _mix(a.accessory, (0, 0, 0), 0.3))


def _glasses(p: _Painter, a: Appearance, lm: np.ndarray) -> None:
    if "Eyeglasses" not in a.attrs:
        return
    frame = (15, 15, 15) if a.seed % 3 else (120, 90, 40)
    for cx, cy in (lm[36:42].mean(axis=0), lm[42:48].mean(axis=0)):
        p.line(np.concatenate([ellipse(cx, cy + 0.02, 0.27, 0.19, 16)]), frame, 2.2)
    p.line([[-0.18, 0.0], [0.18, 0.0]], frame, 2.0)
    for side in (-1, 1):
        p.line([[side * 0.72, 0.0], [side * 0.97, 0.05]], frame, 2.0)


def render(
    a: Appearance, pose: Pose, framing: Framing, rng: np.random.Generator
) -> tuple[Image.Image, np.ndarray]:
    """Draw one face; returns the RGB image and its 68 landmarks in pixels, (68, 2) float32."""
    lm = landmarks_canonical(a.shape)
    image = _background(a, framing, rng)
    p = _Painter(pose)
    _hair_back(p, a)
    _body(p, a)
    _ears(p, a)
    _face(p, a, lm, rng)
    _facial_hair(p, a, lm, rng)
    _eyes(p, a, lm)
    _nose(p, a, lm)
    _mouth(p, a, lm)
    _hair_front(p, a)
    _hat(p, a)
    _glasses(p, a, lm)
    p.paint(image)
    light = _mask(
        framing.width, framing.height, int(rng.integers(8)), int(framing.light > 0.35) + int(rng.integers(2))
    )
    lit = Image.new("RGB", image.size, 0)  # = Image.composite(image, black, light), one copy fewer
    lit.paste(image, None, light)
    image = lit
    if "Blurry" in a.attrs:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(1.6, 2.4)))
    return image, pose.apply(lm).astype(np.float32)


def draw_face(
    labels: np.ndarray, rng: np.random.Generator, framing: Framing = CELEBA_FRAMING,
    geometry_strength: float = 1.0,
) -> tuple[Image.Image, np.ndarray]:  # fmt: skip
    """Sample a person and a pose from ``rng`` and draw them: ``(image, landmarks (68, 2) pixels)``."""
    appearance = sample_appearance(labels, rng, geometry_strength)
    return render(appearance, sample_pose(rng, framing), framing, rng)
