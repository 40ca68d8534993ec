"""A procedurally drawn face dataset in CelebA's exact on-disk format (and an LFWA-format one).

``generate(out_dir, num_images)`` writes the official CelebA layout: ``Anno/list_attr_celeba.txt``,
``Anno/list_landmarks_align_celeba.txt`` (5 integer points derived from the 68: eye centres, nose tip 30, mouth
corners 48/54), ``Anno/list_landmarks_68_align_celeba.txt`` (exact ground truth; format in
:mod:`dmmlib.data.celeba_format`), ``Eval/list_eval_partition.txt``, ``Img/img_align_celeba/000001.jpg`` ...
(178 x 218 JPEG), plus ``README.txt`` and ``synthetic.json`` (parameters, label-noise rates, and the
per-attribute ceiling of each split).
:class:`dmmlib.data.celeba.CelebA` reads it like the real thing. ``generate_lfwa`` writes the LFWA layout
(see :mod:`dmmlib.data.lfwa`) with a visible domain shift: 250 x 250, unaligned, smaller faces, cluttered
backgrounds and stronger lighting, and its ``synthetic.json`` the ceiling of its train and test splits.

Labels follow CelebA's frequencies and dependencies (:mod:`dmmlib.data.synthetic_labels`). Objective attributes
have salient cues and clean labels; subjective ones subtle cues and label noise (default: 10 % of labels wrong,
capped at half the minority-class rate). Visual cues (``synthetic_face``):

=====================  ============================================================================
attribute              cue
=====================  ============================================================================
5_o_Clock_Shadow       dark stubble dots over the lower face (beardless men)
Arched_Eyebrows        brows with a high arch (vs. nearly flat)
Attractive             symmetric features and clear skin (others: a slight left/right offset, blemishes)
Bags_Under_Eyes        dark crescents under the eyes
Bald                   no hair; a highlight on the scalp
Bangs                  a fringe of hair down to the brows
Big_Lips               thicker lips
Big_Nose               longer, wider nose
Black/Blond/Brown/     hair colour (at most one; other faces have auburn/red hair)
Gray_Hair
Blurry                 Gaussian blur, radius 1.6-2.4 px
Bushy_Eyebrows         thick brows
Chubby                 wide, square jaw
Double_Chin            a second fold under the chin
Eyeglasses             dark or brown frames around both eyes, bridge and temples
Goatee / Mustache      hair on the chin / above the upper lip (both imply No_Beard = -1)
No_Beard               -1: full beard over the jaw unless the beard is only a goatee and/or moustache
Heavy_Makeup           coloured eyeshadow and thick eyeliner
High_Cheekbones        light highlight and shadow line on the cheekbones
Male                   short hair, male-correlated cues (ties, beards); women mostly long hair
Mouth_Slightly_Open    dark gap between the lips
Narrow_Eyes            low eye opening
Oval_Face              narrow, elliptical, longer face
Pale_Skin              very light, desaturated skin
Pointy_Nose            nose tip jutting below the nostrils
Receding_Hairline      hairline pushed back at the temples (M shape)
Rosy_Cheeks            pink cheek patches
Sideburns              hair strips in front of the ears
Smiling                upturned, wider mouth (teeth when open)
Straight_Hair          long vertical strands drawn in the hair
Wavy_Hair              scalloped hair outline
Wearing_Earrings       gold discs under the ear lobes
Wearing_Hat            a hat with brim over the head
Wearing_Lipstick       red / pink / plum lips (vs. skin-toned)
Wearing_Necklace       a gold chain with pearls at the neck base
Wearing_Necktie        white collar and a coloured tie
Young                  -1: forehead wrinkles, crow's feet, nasolabial folds and a grey skin tint
=====================  ============================================================================

Pose (yaw, roll, scale, shift), lighting direction and strength, skin tone, clothes and background vary per image.

Knobs for what the paper's mechanisms rely on, each a parameter of :func:`generate` and of the command line,
recorded in ``synthetic.json``; the defaults reproduce the same images and annotation files byte for byte:

* ``label_noise`` (0.10): wrong labels per subjective attribute (:mod:`dmmlib.data.synthetic_labels`);
* ``imbalance`` (1.0 = CelebA's frequencies): pushes every attribute's frequency away from one half (> 1) or
  towards it (< 1; 0 gives 50/50), on the logit scale;
* ``geometry_strength`` (1.0): how far attributes move the face's geometry, i.e. its 68 landmarks, from a
  neutral face (0: landmarks independent of every attribute; 2: twice as far);
* ``split_fractions`` (CelebA's): train / valid / test proportions, hence the validation set's size;
* ``shift_jitter`` (2.5 px, the aligned look): how far (uniformly, in pixels, each axis) a face's centre may move
  from the aligned position. The aligned default keeps every cue at about the same place in every image, which
  spatial pooling bins can use; 30 px scatters the cues over the image (the control of the SPP premise in
  :mod:`dmmlib.suite.premises`; a face near the border may lose part of its hair or chin to the frame).

The truth: :func:`clean_labels` returns a split's labels before label noise, :func:`ceiling_accuracy` the best
accuracy any model can reach on it per attribute (:mod:`dmmlib.data.synthetic_ceiling` says how, and where it
is exact or an upper bound). Clean labels are recomputed from ``synthetic.json``'s parameters and checked
against the written labels; the ceiling is read from ``synthetic.json``, or recomputed the same way for a dataset
written before it was stored.

The same seed gives byte-identical files whatever the worker count (image i draws from ``rng(seed, i)``).
The dataset is written into a hidden temporary folder and renamed into place when complete, so an interrupted
run leaves no half-written dataset; re-running with the same parameters returns the finished one at once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from dmmlib.attributes import ATTRIBUTES, OBJECTIVE, SUBJECTIVE
from dmmlib.data import synthetic_ceiling
from dmmlib.data.celeba_format import celeba_filenames, write_annotation_files
from dmmlib.data.synthetic_face import (
    CELEBA_FRAMING,
    LFW_FRAMING,
    LFW_FUNNELED_FRAMING,
    Appearance,
    Framing,
    render,
    sample_appearance,
    sample_pose,
)
from dmmlib.data.synthetic_geometry import Pose
from dmmlib.data.synthetic_labels import (
    DEFAULT_LABEL_NOISE,
    LabelSample,
    label_model,
    noise_rates,
    sample_labels,
)
from dmmlib.files import lock
from dmmlib.files.atomic import write_text

#: CelebA's train / valid / test proportions (162,770 / 19,867 / 19,962 of 202,599).
CELEBA_SPLIT = (162770 / 202599, 19867 / 202599, 19962 / 202599)
JPEG_QUALITY = 90
FORMAT_VERSION = 1
_CHUNK = 64
SPLITS = ("train", "valid", "test")
#: Parameters added after datasets were first written, with the values those datasets were drawn with.
_KNOB_DEFAULTS = {"imbalance": 1.0, "geometry_strength": 1.0, "shift_jitter": CELEBA_FRAMING.shift_jitter}
Rng = np.random.Generator


def split_ids(num_images: int, fractions: Sequence[float]) -> np.ndarray:
    """Consecutive split ids (0 train, 1 valid, 2 test) as in CelebA, sizes rounded from ``fractions``."""
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"split_fractions must be three non-negative numbers summing to 1, got {fractions}")
    n_train = round(fractions[0] * num_images)
    n_valid = min(round(fractions[1] * num_images), num_images - n_train)
    return np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_train, n_valid, num_images - n_train - n_valid])


def _check_geometry_strength(geometry_strength: float) -> None:
    if not (np.isfinite(geometry_strength) and 0.0 <= geometry_strength <= 2.0):
        raise ValueError(f"geometry_strength must be in [0, 2] (1.0 = as designed), got {geometry_strength}")


def _framing(shift_jitter: float) -> Framing:
    """CelebA's aligned framing with faces moved by up to ``shift_jitter`` pixels (the default: CelebA's own)."""
    if shift_jitter == CELEBA_FRAMING.shift_jitter:
        return CELEBA_FRAMING
    return replace(CELEBA_FRAMING, shift_jitter=float(shift_jitter))


def _person(
    labels: np.ndarray, seed: int, index: int, geometry_strength: float,
    shift_jitter: float = CELEBA_FRAMING.shift_jitter,
) -> tuple[Appearance, Pose, Rng]:  # fmt: skip
    """Image ``index``'s person and pose, and its random generator in the state :func:`render` starts from."""
    rng = np.random.default_rng([seed, index])
    appearance = sample_appearance(labels, rng, geometry_strength)
    return appearance, sample_pose(rng, _framing(shift_jitter)), rng


def _draw_celeba_chunk(args: tuple[str, int, int, np.ndarray, float, float]) -> np.ndarray:
    folder, seed, start, clean, geometry_strength, shift_jitter = args
    points = np.empty((len(clean), 68, 2), dtype=np.float32)
    for k, labels in enumerate(clean):
        appearance, pose, rng = _person(labels, seed, start + k, geometry_strength, shift_jitter)
        image, points[k] = render(appearance, pose, _framing(shift_jitter), rng)
        image.save(os.path.join(folder, f"{start + k + 1:06d}.jpg"), quality=JPEG_QUALITY)
    return points


def _run_chunks(worker: Callable, tasks: list, workers: int, progress: bool, total: int, unit: str) -> list:
    """Map ``worker`` over tasks in order, in ``workers`` processes, with an optional progress bar."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit=unit, desc="drawing")
    results: list = []
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            iterator: Iterable = pool.map(worker, tasks)
            for result in iterator:
                results.append(result)
                if bar is not None:
                    bar.update(len(result[0]) if isinstance(result, tuple) else len(result))
    else:
        for task in tasks:
            results.append(worker(task))
            if bar is not None:
                bar.update(len(results[-1][0]) if isinstance(results[-1], tuple) else len(results[-1]))
    if bar is not None:
        bar.close()
    return results


def _prepare(out_dir: str | os.PathLike[str], params: dict, overwrite: bool) -> tuple[Path, Path, bool]:
    """(final folder, temporary folder, already done). Refuses to replace a different dataset unless asked."""
    out = Path(out_dir)
    marker = out / "synthetic.json"
    if out.exists():
        if marker.is_file() and _parameters(json.loads(marker.read_text())) == _parameters({"parameters": params}) and not overwrite:
            return out, out, True
        if not overwrite:
            raise FileExistsError(
                f"{out} exists and is not a synthetic dataset with these parameters ({params}); choose another "
                "folder, delete it, or pass overwrite=True (--overwrite)"
            )
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return out, tmp, False


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished temporary folder into place (replacing an old dataset only after it is complete)."""
    trash = None
    if out.exists():
        trash = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, trash)
    os.replace(tmp, out)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _parameters(info: dict) -> dict:
    """A dataset's generation parameters, with the values of knobs added since it was written filled in."""
    return {**_KNOB_DEFAULTS, **info["parameters"]}


def _metadata(kind: str, params: dict, rates: dict[str, float], extra: dict) -> str:
    info = {
        "generator": "dmmlib.data.synthetic",
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "parameters": params,
        "label_noise_rates": {
            "objective": {a: rates[a] for a in OBJECTIVE},
            "subjective": {a: rates[a] for a in SUBJECTIVE},
        },
        **extra,
    }
    return json.dumps(info, indent=2) + "\n"


def generate(
    out_dir: str | os.PathLike[str],
    num_images: int,
    seed: int = 0,
    *,
    split_fractions: Sequence[float] = CELEBA_SPLIT,
    workers: int = 1,
    progress: bool = True,
    label_noise: float = DEFAULT_LABEL_NOISE,
    imbalance: float = 1.0,
    geometry_strength: float = 1.0,
    shift_jitter: float = CELEBA_FRAMING.shift_jitter,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic CelebA-format dataset of ``num_images`` faces into ``out_dir``; returns its root.

    The knobs ``label_noise``, ``imbalance``, ``geometry_strength``, ``split_fractions`` and ``shift_jitter`` are described in
    the module's docstring; their defaults give the suite's datasets. ``synthetic.json`` records them, and the
    ceiling of every non-empty split (:func:`ceiling_accuracy`).
    """
    if num_images < 1:
        raise ValueError(f"num_images must be at least 1, got {num_images}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    _check_geometry_strength(geometry_strength)
    if not (np.isfinite(shift_jitter) and 0.0 <= shift_jitter <= 40.0):
        raise ValueError(f"shift_jitter must be in [0, 40] pixels (2.5 = aligned as CelebA), got {shift_jitter}")
    noise_rates(label_noise, imbalance)  # checks both
    params = {"num_images": num_images, "seed": seed, "split_fractions": [float(f) for f in split_fractions],
              "label_noise": label_noise, "imbalance": float(imbalance),
              "geometry_strength": float(geometry_strength)}  # fmt: skip
    if shift_jitter != CELEBA_FRAMING.shift_jitter:  # recorded only when changed: older datasets keep their record
        params["shift_jitter"] = float(shift_jitter)
    ids = split_ids(num_images, split_fractions)
    with lock.exclusive(lock.lock_path(Path(out_dir)), what=f"the dataset {out_dir}, which another process makes"):
        out, tmp, done = _prepare(out_dir, params, overwrite)
        if done:
            return out
        try:
            sample = sample_labels(num_images, seed, label_noise, imbalance=imbalance)
            images = tmp / "Img" / "img_align_celeba"
            images.mkdir(parents=True)
            tasks = [
                (str(images), seed, s, sample.clean[s : s + _CHUNK], geometry_strength, shift_jitter)
                for s in range(0, num_images, _CHUNK)
            ]
            points = np.concatenate(_run_chunks(_draw_celeba_chunk, tasks, workers, progress, num_images, "img"))
            write_annotation_files(tmp, celeba_filenames(num_images), sample.labels, points, ids)
            counts = {split: int((ids == k).sum()) for k, split in enumerate(SPLITS)}
            ceilings = _ceilings(params, sample, _celeba_rows(ids))
            extra = {"split_sizes": counts, "ceiling_accuracy": ceilings}
            write_text(tmp / "synthetic.json", _metadata("celeba", params, sample.noise_rates, extra))
            readme = _README.format(
                n=num_images, seed=seed, noise=label_noise, options=_options(params), **counts
            )
            write_text(tmp / "README.txt", readme)
            _publish(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


_README = """Synthetic CelebA-format face dataset drawn by dmmlib.data.synthetic (not photographs).
{n} images, seed {seed}; splits train {train} / valid {valid} / test {test}.
Layout and text formats are CelebA's (official layout); Anno/list_landmarks_68_align_celeba.txt adds exact
iBUG 68-point landmarks. Objective attributes are labelled without noise; subjective attributes carry label
noise (label_noise = {noise}; per-attribute rates in synthetic.json).
synthetic.json also holds every generation parameter and "ceiling_accuracy": per split and attribute, the
best accuracy any model can reach (dmmlib.data.synthetic.ceiling_accuracy). The labels before noise are
dmmlib.data.synthetic.clean_labels(DIR, split).
Regenerate: python -m dmmlib.data.synthetic --out DIR --num {n} --seed {seed}{options}
"""


def _options(params: dict) -> str:
    """The command-line options that reproduce ``params`` beyond --num and --seed (none for the defaults)."""
    flags = []
    if params["split_fractions"] != [float(f) for f in CELEBA_SPLIT]:
        flags.append("--split-fractions " + " ".join(f"{f:g}" for f in params["split_fractions"]))
    for name, default in (("label_noise", DEFAULT_LABEL_NOISE), *_KNOB_DEFAULTS.items()):
        if params.get(name, default) != default:
            flags.append(f"--{name.replace('_', '-')} {params[name]!r}")
    return "".join(" " + flag for flag in flags)


def _image_facts(
    clean: np.ndarray, seed: int, geometry_strength: float, rows: np.ndarray,
    shift_jitter: float = CELEBA_FRAMING.shift_jitter,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """For the images in ``rows``: drawn with long hair (n,), and the cues each does not show (n, 40) bool.

    Re-draws each person (cheap) and, where an occluder could hide a cue, the face itself (two renders)."""
    always = [ATTRIBUTES.index(a) for a in synthetic_ceiling.hidden_attributes(geometry_strength)]
    long_hair = np.zeros(rows.size, dtype=bool)
    hidden = np.zeros((rows.size, len(ATTRIBUTES)), dtype=bool)
    hidden[:, always] = True
    for r, i in enumerate(rows):
        appearance, pose, rng = _person(clean[i], seed, int(i), geometry_strength, shift_jitter)
        long_hair[r] = appearance.long_hair
        for attribute in synthetic_ceiling.hidden_cues(appearance, pose, _framing(shift_jitter), rng):
            hidden[r, ATTRIBUTES.index(attribute)] = True
    return long_hair, hidden


def _ceilings(
    params: dict, sample: LabelSample, rows: dict[str, np.ndarray], kind: str = "celeba"
) -> dict[str, dict[str, float]]:
    """{split: {attribute: ceiling}} of the splits in ``rows`` ({split: its image rows}) of a dataset of ``kind``
    ("celeba" or "lfwa"); an LFWA split is scored over each of its versions (:data:`LFWA_SPLITS`)."""
    model = label_model(params["imbalance"])
    flips = synthetic_ceiling.flip_probabilities(sample.clean, sample.labels)
    seed, geometry_strength = params["seed"], params["geometry_strength"]
    out = {}
    for split, split_rows in rows.items():
        if kind == "lfwa":
            long_hair, hidden = _lfw_image_facts(
                sample.clean, seed, geometry_strength, split_rows, LFWA_SPLITS[split]
            )
        else:
            long_hair, hidden = _image_facts(sample.clean, seed, geometry_strength, split_rows,
                                             params.get("shift_jitter", CELEBA_FRAMING.shift_jitter))
            long_hair, hidden = long_hair[None], hidden[None]  # one version of each image
        copies = len(long_hair)  # versions of each image
        out[split] = synthetic_ceiling.ceiling(
            np.tile(sample.clean[split_rows], (copies, 1)),
            np.tile(sample.labels[split_rows], (copies, 1)),
            long_hair.reshape(-1),
            hidden.reshape(-1, len(ATTRIBUTES)),
            flips,
            model,
        )
    return out


def _celeba_rows(ids: np.ndarray) -> dict[str, np.ndarray]:
    """{split: its image rows} for each non-empty split of a CelebA-format dataset with split ``ids``."""
    rows = {split: np.flatnonzero(ids == k) for k, split in enumerate(SPLITS)}
    return {split: r for split, r in rows.items() if r.size}


def _info(dataset_dir: str | os.PathLike[str]) -> dict:
    path = Path(dataset_dir) / "synthetic.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: {dataset_dir} is not a dataset written by dmmlib.data.synthetic"
        )
    info = json.loads(path.read_text())
    if info.get("kind") not in ("celeba", "lfwa"):
        raise ValueError(f"{path} names the kind {info.get('kind')!r}; only 'celeba' and 'lfwa' datasets have "
                         "clean labels and ceilings here")  # fmt: skip
    return info


def _splits_of(info: dict) -> tuple[str, ...]:
    return SPLITS if info["kind"] == "celeba" else tuple(LFWA_SPLITS)


def _split_rows(ids: np.ndarray, split: str) -> np.ndarray:
    if split == "all":
        return np.arange(ids.size)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or all, got {split!r}")
    return np.flatnonzero(ids == SPLITS.index(split))


def _regenerate_labels(dataset_dir: str | os.PathLike[str], params: dict) -> tuple[LabelSample, np.ndarray]:
    """The labels and split ids the parameters generate, checked against the dataset's written files."""
    sample = sample_labels(
        params["num_images"], params["seed"], params["label_noise"], imbalance=params["imbalance"]
    )
    ids = split_ids(params["num_images"], params["split_fractions"])
    attributes = Path(dataset_dir) / "Anno" / "list_attr_celeba.txt"
    if attributes.is_file():
        from dmmlib.data.celeba_format import read_attributes

        _, _, written = read_attributes(attributes)
        if not np.array_equal(written, sample.labels):
            raise ValueError(
                f"{attributes} differs from the labels its synthetic.json parameters generate (edited, or written "
                "by another version of the generator): its clean labels and ceiling are unknown"
            )
    return sample, ids


def clean_labels(dataset_dir: str | os.PathLike[str], split: str = "test") -> np.ndarray:
    """The labels of a generated CelebA-format dataset's ``split`` (train, valid, test or all) *before* label
    noise, (n, 40) int8 +1/-1 in the order of the dataset's files: what the images show.

    Recomputed from ``synthetic.json``'s parameters (the sampler is deterministic), after checking that they
    reproduce the written ``list_attr_celeba.txt``. For an LFWA-format dataset (splits train, test or all): one
    row per image in the order of ``lfw_att_40.mat``, although LFWA's training split lists each image twice
    (original and deep-funneled), after checking ``lfw_att_40.mat`` and ``indices_train_test.mat``.
    """
    info = _info(dataset_dir)
    params = _parameters(info)
    if info["kind"] == "lfwa":
        sample, rows = _regenerate_lfwa(dataset_dir, params)
        if split == "all":
            return sample.clean
        if split not in rows:
            raise ValueError(f"an LFWA split is train, test or all, got {split!r}")
        return sample.clean[rows[split]]
    sample, ids = _regenerate_labels(dataset_dir, params)
    return sample.clean[_split_rows(ids, split)]


def ceiling_accuracy(
    dataset_dir: str | os.PathLike[str], split: str = "test", *, recompute: bool = False
) -> dict[str, float]:
    """The best accuracy any model can reach on each attribute of a generated CelebA-format dataset's ``split``
    (train, valid or test), scored on its written labels: the accuracy of the Bayes-optimal classifier, or the
    split's majority-class rate if that is higher.

    Exact for a model that sees the stored images wherever an image shows an attribute's cue (all but
    ``Male``, a receding hairline under some hats, and the geometric attributes when ``geometry_strength`` is 0):
    the best answer there is the clean label. Where the cue is hidden, exact up to the label model's
    large-sample limit (the conditional majority given everything the image shows). An upper bound for a
    model that sees the images downscaled (tiny cues can vanish) and for ``0 < geometry_strength < 1`` (cue
    ranges can overlap). :mod:`dmmlib.data.synthetic_ceiling` gives the details.

    An LFWA-format dataset (splits train and test) is scored as :class:`dmmlib.data.lfwa.LFWA` reads it by
    default (:data:`LFWA_SPLITS`): training on both versions of each image, testing on the originals. The same
    rules decide what an image shows (``tests/test_ceiling.py`` checks them in LFW's framings too), but LFW's
    faces are drawn smaller (face scale 34 and 38 px against CelebA's 42, in a 250 x 250 picture against
    178 x 218), so for a model that sees them downscaled this ceiling is a looser upper bound than CelebA's.

    Read from ``synthetic.json``, written at generation; computed from the dataset's parameters when it has no
    stored value (a dataset written before the ceiling was stored) or when ``recompute`` is true.
    """
    info = _info(dataset_dir)
    splits = _splits_of(info)
    if split not in splits:
        raise ValueError(f"the ceiling is per split: split must be one of {', '.join(splits)}, got {split!r}")
    stored = info.get("ceiling_accuracy", {})
    if split in stored and not recompute:
        return dict(stored[split])
    params = _parameters(info)
    if info["kind"] == "lfwa":
        sample, rows = _regenerate_lfwa(dataset_dir, params)
    else:
        sample, ids = _regenerate_labels(dataset_dir, params)
        rows = _celeba_rows(ids)
        if split not in rows:
            raise ValueError(f"{dataset_dir} has no {split} images: no ceiling")
    return _ceilings(params, sample, {split: rows[split]}, info["kind"])[split]


_FIRST = (
    "Ada",
    "Bo",
    "Cy",
    "Dee",
    "Eli",
    "Fay",
    "Gus",
    "Hal",
    "Ivy",
    "Jo",
    "Kai",
    "Lu",
    "Mo",
    "Ned",
    "Oz",
    "Pia",
)
_LAST = ("Abara", "Brandt", "Castro", "Dumas", "Egan", "Fujita", "Grell", "Hanson", "Ito", "Jensen", "Kowal",
         "Lindqvist", "Moreau", "Nakata", "Osei", "Petrov", "Quinn", "Rossi", "Sato", "Tanaka")  # fmt: skip


def lfw_names(num_images: int, rng: np.random.Generator) -> list[str]:
    """LFW-style relative paths ``First_Last/First_Last_0001.jpg``: 1-4 images per made-up person."""
    paths: list[str] = []
    taken: set[str] = set()
    while len(paths) < num_images:
        parts = [_FIRST[rng.integers(len(_FIRST))], _LAST[rng.integers(len(_LAST))]]
        while "_".join(parts) in taken:  # a middle name, as in LFW's "Ana_Paula_Gerard"
            parts.insert(1, _FIRST[rng.integers(len(_FIRST))])
        name = "_".join(parts)
        taken.add(name)
        for k in range(min(int(rng.integers(1, 5)), num_images - len(paths))):
            paths.append(f"{name}/{name}_{k + 1:04d}.jpg")
    return paths


#: The LFW versions each LFWA split is scored on, as :class:`dmmlib.data.lfwa.LFWA` reads them by default (the
#: paper's protocol): both for training, the original photographs for testing.
LFWA_SPLITS: dict[str, tuple[str, ...]] = {"train": ("lfw", "lfw-deepfunneled"), "test": ("lfw",)}
#: Each LFW version's folder and framing, in the order :func:`_draw_lfw_chunk` draws them.
_LFW_VERSIONS = (("lfw", LFW_FRAMING), ("lfw-deepfunneled", LFW_FUNNELED_FRAMING))


def _lfw_person(
    labels: np.ndarray, seed: int, index: int, geometry_strength: float
) -> tuple[Appearance, Rng]:
    """LFWA image ``index``'s person, and the random generator each version's pose and drawing then take from
    in the order of :data:`_LFW_VERSIONS` (the deep-funneled copy's pose follows the original's drawing)."""
    rng = np.random.default_rng([seed, 1, index])
    return sample_appearance(labels, rng, geometry_strength), rng


def _draw_lfw_chunk(
    args: tuple[str, int, int, np.ndarray, list[str], float],
) -> tuple[np.ndarray, np.ndarray]:
    root, seed, start, clean, names, geometry_strength = args
    points = np.empty((2, len(clean), 68, 2), dtype=np.float32)
    for k, (labels, name) in enumerate(zip(clean, names)):
        person, rng = _lfw_person(labels, seed, start + k, geometry_strength)
        for v, (folder, framing) in enumerate(_LFW_VERSIONS):
            image, points[v, k] = render(person, sample_pose(rng, framing), framing, rng)
            path = Path(root, folder, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path, quality=JPEG_QUALITY)
    return points[0], points[1]


def lfwa_split_rows(num_images: int, seed: int, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """The 0-based, sorted rows of a generated LFWA set's train and test images (its index file holds them + 1)."""
    order = np.random.default_rng([seed, 3]).permutation(num_images)
    n_train = min(max(round(train_fraction * num_images), 1), num_images - 1)
    return np.sort(order[:n_train]), np.sort(order[n_train:])


def _lfw_image_facts(
    clean: np.ndarray, seed: int, geometry_strength: float, rows: np.ndarray, versions: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`_image_facts`, for LFWA's images ``rows`` in each of ``versions``: long hair (v, n) and hidden
    cues (v, n, 40). Replays :func:`_draw_lfw_chunk`'s random numbers; an image is drawn again only where an
    occluder could hide a cue (and, for its deep-funneled copy, once more to reach that copy's random state)."""
    always = [ATTRIBUTES.index(a) for a in synthetic_ceiling.hidden_attributes(geometry_strength)]
    occluders = {occluder for _, occluder in synthetic_ceiling.OCCLUDABLE}
    long_hair = np.zeros((len(versions), rows.size), dtype=bool)
    hidden = np.zeros((len(versions), rows.size, len(ATTRIBUTES)), dtype=bool)
    hidden[..., always] = True
    for r, i in enumerate(rows):
        person, rng = _lfw_person(clean[i], seed, int(i), geometry_strength)
        long_hair[:, r] = person.long_hair
        if not occluders & person.attrs:
            continue  # nothing drawn can hide a cue, in either version
        for folder, framing in _LFW_VERSIONS:
            pose = sample_pose(rng, framing)
            if folder in versions:
                for attribute in synthetic_ceiling.hidden_cues(person, pose, framing, rng):
                    hidden[versions.index(folder), r, ATTRIBUTES.index(attribute)] = True
            if folder == versions[-1]:
                break
            render(person, pose, framing, rng)  # the draw the next version's random state follows
    return long_hair, hidden


def _regenerate_lfwa(
    dataset_dir: str | os.PathLike[str], params: dict
) -> tuple[LabelSample, dict[str, np.ndarray]]:
    """An LFWA-format dataset's labels and split rows from its parameters, checked against its written files."""
    from dmmlib.data.lfwa_format import read_indices, read_lfw_att_40

    sample = sample_labels(params["num_images"], params["seed"], params["label_noise"], stream=1,
                           imbalance=params["imbalance"])  # fmt: skip
    rows = dict(
        zip(LFWA_SPLITS, lfwa_split_rows(params["num_images"], params["seed"], params["train_fraction"]))
    )
    root = Path(dataset_dir)
    if (root / "lfw_att_40.mat").is_file():
        written = read_lfw_att_40(root / "lfw_att_40.mat")[2]
        if not np.array_equal(written, sample.labels):
            raise ValueError(
                f"{root / 'lfw_att_40.mat'} differs from the labels its synthetic.json parameters generate (edited, "
                "or written by another version of the generator): its clean labels and ceiling are unknown"
            )
    if (root / "indices_train_test.mat").is_file():
        train, test = read_indices(root / "indices_train_test.mat")
        if not (
            np.array_equal(np.sort(train), rows["train"]) and np.array_equal(np.sort(test), rows["test"])
        ):
            raise ValueError(
                f"{root / 'indices_train_test.mat'} differs from the splits its synthetic.json parameters generate: "
                "its clean labels and ceiling are unknown"
            )
    return sample, rows


def generate_lfwa(
    out_dir: str | os.PathLike[str],
    num_images: int,
    seed: int = 0,
    *,
    train_fraction: float = 0.5,
    workers: int = 1,
    progress: bool = True,
    label_noise: float = DEFAULT_LABEL_NOISE,
    imbalance: float = 1.0,
    geometry_strength: float = 1.0,
    indices_format: str = "v7.3",
    overwrite: bool = False,
) -> Path:
    """Write a synthetic LFWA-format dataset (``lfw/``, ``lfw-deepfunneled/``, ``lfw_att_40.mat``,
    ``indices_train_test.mat`` (``indices_format`` "v7.3" or "v5"), ``landmarks_68_<version>.npy``).
    ``label_noise``, ``imbalance`` and ``geometry_strength`` act as in :func:`generate`."""
    from dmmlib.data.lfwa_format import write_indices, write_lfw_att_40

    if num_images < 2:
        raise ValueError(f"num_images must be at least 2 (a train and a test image), got {num_images}")
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    _check_geometry_strength(geometry_strength)
    noise_rates(label_noise, imbalance)  # checks both
    params = {"num_images": num_images, "seed": seed, "train_fraction": train_fraction, "label_noise": label_noise,
              "indices_format": indices_format, "imbalance": float(imbalance),
              "geometry_strength": float(geometry_strength)}  # fmt: skip
    with lock.exclusive(lock.lock_path(Path(out_dir)), what=f"the dataset {out_dir}, which another process makes"):
        out, tmp, done = _prepare(out_dir, params, overwrite)
        if done:
            return out
        try:
            sample = sample_labels(num_images, seed, label_noise, stream=1, imbalance=imbalance)
            names = lfw_names(num_images, np.random.default_rng([seed, 2]))
            tasks = [
                (str(tmp), seed, s, sample.clean[s : s + _CHUNK], names[s : s + _CHUNK], geometry_strength)
                for s in range(0, num_images, _CHUNK)
            ]
            results = _run_chunks(_draw_lfw_chunk, tasks, workers, progress, num_images, "img")
            for v, version in enumerate(("lfw", "lfw-deepfunneled")):
                with open(tmp / f"landmarks_68_{version}.npy", "wb") as handle:
                    np.save(handle, np.concatenate([r[v] for r in results]))
            write_lfw_att_40(tmp / "lfw_att_40.mat", [n.replace("/", "\\") for n in names], sample.labels > 0)
            rows = dict(zip(LFWA_SPLITS, lfwa_split_rows(num_images, seed, train_fraction)))
            write_indices(tmp / "indices_train_test.mat", rows["train"] + 1, rows["test"] + 1, indices_format)
            extra = {"split_sizes": {split: int(r.size) for split, r in rows.items()},
                     "ceiling_accuracy": _ceilings(params, sample, rows, "lfwa")}  # fmt: skip
            write_text(tmp / "synthetic.json", _metadata("lfwa", params, sample.noise_rates, extra))
            _publish(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m dmmlib.data.synthetic --out DIR --num N --seed S [--lfwa] [--workers W]``."""
    parser = argparse.ArgumentParser(
        prog="python -m dmmlib.data.synthetic", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", required=True, help="folder to create (its parent must be writable)")
    parser.add_argument("--num", type=int, required=True, help="number of images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes drawing images (output does not depend on it)"
    )
    parser.add_argument(
        "--label-noise", type=float, default=DEFAULT_LABEL_NOISE, help="subjective label noise rate"
    )
    parser.add_argument(
        "--imbalance", type=float, default=1.0,
        help="push attribute frequencies away from 1/2 (> 1) or towards it (< 1); 1 = CelebA's",
    )  # fmt: skip
    parser.add_argument(
        "--geometry-strength", type=float, default=1.0,
        help="how far attributes move the face's landmarks (0 = not at all, 1 = as designed, up to 2)",
    )  # fmt: skip
    parser.add_argument(
        "--split-fractions", type=float, nargs=3, metavar=("TRAIN", "VALID", "TEST"), default=None,
        help="train / valid / test proportions (default CelebA's; not with --lfwa)",
    )  # fmt: skip
    parser.add_argument(
        "--shift-jitter", type=float, default=None,
        help="largest shift of a face from the aligned position, pixels per axis (default 2.5; not with --lfwa)",
    )  # fmt: skip
    parser.add_argument(
        "--lfwa", action="store_true", help="write the LFWA-format set instead of the CelebA one"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.lfwa and args.split_fractions is not None:
        parser.error(
            "--split-fractions is for the CelebA-format set (the LFWA set has train and test halves)"
        )
    make = generate_lfwa if args.lfwa else generate
    if args.lfwa and args.shift_jitter is not None:
        parser.error("--shift-jitter is for the CelebA-format set (the LFWA set has its own framing)")
    extra = {} if args.split_fractions is None else {"split_fractions": args.split_fractions}
    if args.shift_jitter is not None:
        extra["shift_jitter"] = args.shift_jitter
    try:
        root = make(args.out, args.num, args.seed, workers=args.workers, progress=not args.quiet,
                    label_noise=args.label_noise, imbalance=args.imbalance,
                    geometry_strength=args.geometry_strength, overwrite=args.overwrite, **extra)  # fmt: skip
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
