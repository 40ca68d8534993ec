"""The best accuracy any model can reach on a synthetic dataset, per attribute: its Bayes-optimal *ceiling*.

The generator knows everything about an image: its clean labels, which written labels were flipped, and what
was drawn. The Bayes-optimal classifier answers, for each image and attribute, the written label that is more
probable given everything the image shows. Its accuracy on a split's written labels is the ceiling computed here.

**What an image shows.** Every attribute's cue in :mod:`dmmlib.data.synthetic_face` was checked, including the
cases where something drawn later covers it (``tests/test_ceiling.py`` draws them with and without the
attribute, in CelebA's framing and in LFWA's two). At the stored resolution (178 x 218; LFWA's 250 x 250) a
cue is hidden in three situations only:

* ``Male`` has no cue of its own: the only thing drawn from it is hair length (women have long hair with
  probability :data:`~dmmlib.data.synthetic_face.LONG_HAIR_RATE`, men never). Everything else that tells a man
  from a woman is another attribute (beards, lipstick, ties, ...), correlated with ``Male`` by the label model.
* With ``geometry_strength = 0`` the attributes of :data:`~dmmlib.data.synthetic_face.GEOMETRIC_ATTRIBUTES`
  (their only cue is the face's geometry) are not drawn at all.
* A hat (:data:`OCCLUDABLE`) leaves a sliver of a receding hairline or of bangs visible below its brim, but in
  about 2 % of hat wearers' images it covers the receding hairline completely. Whether it does is decided per
  image, exactly: the face is drawn again with the attribute flipped, and the cue is hidden if the picture is
  the same pixel for pixel (:func:`hidden_cues`; bangs and baldness, which exclude a receding hairline, hide
  it too).

Other occlusions never remove a cue: bangs and hats cover only the tops of the eyebrows, a beard leaves the
lower fold of a double chin, a chubby jaw half of an earring. Some cues are *tiny*: straight-hair strands on
black hair differ from it by 2-15 grey levels, stubble is single-pixel dots, an unattractive face's asymmetry
is 1-2 px, and a blurry face fades bags, lips, a pointy nose and a double chin to a few grey levels. These count
as visible. A model that sees the images downscaled (the smoke and teach presets use 64 and 96 px) can lose
them, so for such a model the ceiling is an upper bound.

**How the ceiling is computed, per image and attribute** (``q1`` = P(written positive | clean positive),
``q0`` = P(written positive | clean negative), measured over the whole dataset, whose flips the generator chose
at random within each class):

* cue shown: the image shows the clean label c, so the best answer is the written label more probable given c
  (c itself unless a class lost more than half of its labels to flips, which the noise cap prevents). Exact.
* cue hidden: the best answer is the more probable written label given everything the image shows, i.e. the
  conditional majority. Its probability comes from the label sampler's Bayesian network
  (:func:`dmmlib.data.synthetic_labels.label_model`): all labels the image shows, hair length for ``Male``,
  summing over the hidden attributes' combinations. Exact for the sampler's large-sample limit (the network's
  cut-offs carry a Monte Carlo error of about 0.01 standard deviations, which can only change a decision
  whose posterior is within about 0.005 of one half).

The ceiling of a split is the accuracy of these answers on its written labels, raised to the split's
majority-class rate where it falls below it (possible only in a small split whose few flips happen to go one
way, e.g. a 59-image split whose only two Rosy_Cheeks were both written negative): the constant classifier of a
table's majority column is one of the models the ceiling bounds. So every value lies between the majority rate
and 1.

Not modelled: for ``0 < geometry_strength < 1`` the random variation within a geometric cue can overlap the
other class's range; the ceiling treats these cues as shown, so it is an upper bound there.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from itertools import product

import numpy as np

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.synthetic_face import GEOMETRIC_ATTRIBUTES, LONG_HAIR_RATE, Appearance, Framing, render
from dmmlib.data.synthetic_geometry import Pose
from dmmlib.data.synthetic_labels import LabelModel

_INDEX = {name: j for j, name in enumerate(ATTRIBUTES)}


#: Cues that an occluder drawn later can hide completely in some images, as (attribute, occluder): whether it
#: does in a given image is decided by drawing that image again with the attribute flipped (:func:`hidden_cues`).
OCCLUDABLE: tuple[tuple[str, str], ...] = (("Bangs", "Wearing_Hat"), ("Receding_Hairline", "Wearing_Hat"))


def hidden_attributes(geometry_strength: float = 1.0) -> tuple[str, ...]:
    """Attributes no image shows a cue of, at full resolution (see the module's docstring)."""
    hidden = ["Male"]
    if geometry_strength == 0:
        hidden += GEOMETRIC_ATTRIBUTES
    return tuple(sorted(hidden, key=_INDEX.__getitem__))


def hidden_cues(appearance: Appearance, pose: Pose, framing: Framing, rng: np.random.Generator) -> set[str]:
    """The :data:`OCCLUDABLE` attributes whose cue this face, drawn with ``rng`` in its present state, does not
    show: drawn again with the attribute flipped, the picture is the same pixel for pixel. ``rng`` is not
    advanced (copies are drawn from)."""
    hidden: set[str] = set()
    original = None
    for attribute, occluder in OCCLUDABLE:
        if occluder not in appearance.attrs:
            continue
        if original is None:
            original = render(appearance, pose, framing, copy.deepcopy(rng))[0].tobytes()
        flipped = replace(appearance, attrs=appearance.attrs ^ {attribute})
        if render(flipped, pose, framing, copy.deepcopy(rng))[0].tobytes() == original:
            hidden.add(attribute)
    return hidden


def _rule_name(attribute: str) -> str:
    return "Beard" if attribute == "No_Beard" else attribute


def _as_bool(labels: np.ndarray) -> np.ndarray:
    return np.asarray(labels) > 0


def posterior(clean: np.ndarray, long_hair: np.ndarray, hidden: np.ndarray, model: LabelModel) -> np.ndarray:
    """P(clean label positive | what the image shows), (n, 40): 0 or 1 where the cue shows, else inferred.

    ``clean``: (n, 40) +1/-1 (or bool) clean labels, ignored where hidden; ``long_hair``: (n,) bool, drawn hair
    length; ``hidden``: (n, 40) bool, the cues each image does not show. Exact inference in ``model``: the
    2^k combinations of the k attributes hidden anywhere are enumerated (those contradicting what an image
    shows get weight 0), and only the factors that involve one of them are evaluated (the rest cancel).
    """
    clean, hidden = _as_bool(clean), np.asarray(hidden, dtype=bool)
    long_hair = np.asarray(long_hair, dtype=bool)
    n = clean.shape[0]
    prob = clean.astype(np.float64)
    columns = [j for j in range(len(ATTRIBUTES)) if hidden[:, j].any()]
    if not columns:
        return prob
    observed = {_rule_name(a): clean[:, j] for a, j in _INDEX.items()}
    observed["Beard"] = ~observed["Beard"]
    rules = [_rule_name(ATTRIBUTES[j]) for j in columns]
    shown = [~hidden[:, j] for j in columns]
    labels = dict(observed)
    involved = [name for name, _, _ in model.rules if name in rules or model.parents(name) & set(rules)]
    scopes = {
        name: [k for k, h in enumerate(rules) if h == name or h in model.parents(name)] for name in involved
    }
    cache: dict[tuple, np.ndarray] = {}  # a factor depends on few hidden attributes: evaluate each case once
    configs = list(product((False, True), repeat=len(rules)))
    log_weights = np.empty((len(configs), n))
    for c, config in enumerate(configs):
        total = np.zeros(n)
        for name in involved:
            key = (name, *(config[k] for k in scopes[name]))
            if key not in cache:
                for k in scopes[name]:
                    labels[rules[k]] = np.full(n, config[k])
                cache[key] = model.log_factor(name, labels)
            total += cache[key]
        for k, rule in enumerate(rules):  # where the image shows the cue, only its own label is possible
            total[shown[k] & (observed[rule] != config[k])] = -np.inf
        if "Male" in rules:
            with np.errstate(divide="ignore"):
                if config[rules.index("Male")]:
                    total += np.where(long_hair, -np.inf, 0.0)
                else:
                    total += np.log(np.where(long_hair, LONG_HAIR_RATE, 1.0 - LONG_HAIR_RATE))
        log_weights[c] = total
    top = log_weights.max(axis=0)
    if not np.isfinite(top).all():
        raise ValueError("an image's visible labels are impossible under the label model")
    weights = np.exp(log_weights - top)
    weights /= weights.sum(axis=0)
    values = np.array(configs)  # (2^k, k)
    for k, j in enumerate(columns):
        p = weights.T @ values[:, k]
        p = 1.0 - p if ATTRIBUTES[j] == "No_Beard" else p
        prob[:, j] = np.where(hidden[:, j], p, prob[:, j])
    return prob


def flip_probabilities(clean: np.ndarray, written: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q1, q0), each (40,): P(written positive | clean positive) and P(written positive | clean negative),
    measured over a whole dataset (pass all images, not one split: the flips were drawn over all of them)."""
    clean, written = _as_bool(clean), _as_bool(written)
    positives, negatives = clean.sum(axis=0), (~clean).sum(axis=0)
    q1 = np.where(positives > 0, (written & clean).sum(axis=0) / np.maximum(positives, 1), 1.0)
    q0 = np.where(negatives > 0, (written & ~clean).sum(axis=0) / np.maximum(negatives, 1), 0.0)
    return q1, q0


def bayes_predictions(
    clean: np.ndarray,
    long_hair: np.ndarray,
    hidden: np.ndarray,
    flips: tuple[np.ndarray, np.ndarray],
    model: LabelModel,
) -> np.ndarray:
    """The Bayes-optimal classifier's +1/-1 answers, (n, 40): per image, the more probable written label."""
    prob = posterior(clean, long_hair, hidden, model)
    q1, q0 = flips
    return np.where(prob * q1 + (1.0 - prob) * q0 > 0.5, 1, -1).astype(np.int8)


def majority_rate(written: np.ndarray) -> np.ndarray:
    """Per attribute, the accuracy of always answering the split's majority class (as ``dmmlib.metrics``)."""
    written = np.asarray(written)
    majority = np.where((written > 0).mean(axis=0) > 0.5, 1, -1)
    return (written == majority).mean(axis=0)


def ceiling(
    clean: np.ndarray,
    written: np.ndarray,
    long_hair: np.ndarray,
    hidden: np.ndarray,
    flips: tuple[np.ndarray, np.ndarray],
    model: LabelModel,
) -> dict[str, float]:
    """The ceiling of one split (rows of ``clean``, ``written``, ``long_hair``, ``hidden``), {attribute: value}."""
    written = np.asarray(written)
    if written.shape[0] == 0:
        raise ValueError("the split has no images")
    answers = bayes_predictions(clean, long_hair, hidden, flips, model)
    accuracy = np.maximum((answers == written).mean(axis=0), majority_rate(written))
    return {name: float(accuracy[j]) for name, j in _INDEX.items()}


def summary(values: Mapping[str, float]) -> dict[str, float]:
    """Mean ceiling over all, objective and subjective attributes."""
    from dmmlib.attributes import OBJECTIVE, SUBJECTIVE

    return {
        "all": float(np.mean([values[a] for a in ATTRIBUTES])),
        "objective": float(np.mean([values[a] for a in OBJECTIVE])),
        "subjective": float(np.mean([values[a] for a in SUBJECTIVE])),
    }
