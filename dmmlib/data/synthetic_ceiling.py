"""The best accuracy any model can reach on a synthetic dataset, per attribute: its Bayes-optimal *ceiling*.

The generator knows everything about an image: its clean labels, which written labels were flipped, and what
was drawn. The Bayes-optimal classifier predicts, for each image and attribute, the written label that is more
probable given everything the image shows. Its accuracy on a split's written labels is the ceiling computed here.

**What an image shows.** Every attribute's cue was checked in :mod:`dmmlib.data.synthetic_face`, including the
cases where something drawn later covers it (``tests/test_ceiling.py`` renders each case with and without the
attribute). At the stored resolution (178 x 218) every attribute's cue stays visible in every image, with two
exceptions:

* ``Male`` has no cue of its own: the only thing drawn from it is hair length (women have long hair with
  probability :data:`~dmmlib.data.synthetic_face.LONG_HAIR_RATE`, men never). Everything else that tells a man
  from a woman is another attribute (beards, lipstick, ties, ...), correlated with ``Male`` by the label model.
* With ``geometry_strength = 0`` the attributes of :data:`~dmmlib.data.synthetic_face.GEOMETRIC_ATTRIBUTES`
  (their only cue is the face's geometry) are not drawn at all.

Occlusions never remove a cue completely: a hat leaves a sliver of a receding hairline or of bangs (1-3 px)
below its brim; bangs and hats cover only the tops of the eyebrows; a beard leaves the lower fold of a double
chin; a chubby jaw covers half of an earring; straight-hair strands on black hair differ from it by only 5-15
grey levels. These *tiny cues* (also: stubble dots, the 1-2 px asymmetry of unattractive faces, blemishes,
anything on a blurry face) are counted as visible. A model that sees the images downscaled (the smoke and
teach presets use 64 and 96 px) can lose them, so for such a model the ceiling is an upper bound.

**How the ceiling is computed, per image i and attribute j** (``q1_j`` = P(written positive | clean positive),
``q0_j`` = P(written positive | clean negative), measured on the whole dataset, whose flips the generator
chose at random among each class):

* cue visible: the image shows the clean label c, so the best guess is the written label more probable given c
  (c itself unless a class lost more than half its labels to flips, which the noise cap prevents). Exact.
* cue not shown (``Male``; the geometric attributes at strength 0): the best guess is the more probable written
  label given everything visible, i.e. the conditional majority. Its probability comes from the label sampler's
  Bayesian network (:func:`dmmlib.data.synthetic_labels.label_model`): all visible clean labels, hair length
  for ``Male``, summing over the hidden attributes' combinations. Exact for the sampler's large-sample limit
  (the network's cut-offs carry a Monte Carlo error of about 0.01 standard deviations, which can only flip a
  decision whose posterior is within about 0.005 of one half).

The ceiling of a split is the accuracy of these decisions on its written labels, raised to the split's
majority-class rate where it falls below it (possible only in a tiny split whose few flips happen to all go one
way): the constant classifier that a table's majority column describes is one of the models the ceiling bounds.
Values therefore lie between the majority rate and 1.

Not modelled: for ``0 < geometry_strength < 1`` the random variation within a geometric cue can overlap the
other class's range; the ceiling treats these cues as visible, so it is an upper bound there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import numpy as np

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.synthetic_face import GEOMETRIC_ATTRIBUTES, LONG_HAIR_RATE
from dmmlib.data.synthetic_labels import LabelModel

_INDEX = {name: j for j, name in enumerate(ATTRIBUTES)}


def hidden_attributes(geometry_strength: float = 1.0) -> tuple[str, ...]:
    """Attributes no image shows a cue of, at full resolution (see the module's docstring)."""
    hidden = ["Male"]
    if geometry_strength == 0:
        hidden += GEOMETRIC_ATTRIBUTES
    return tuple(sorted(hidden, key=_INDEX.__getitem__))


def _rule_name(attribute: str) -> str:
    return "Beard" if attribute == "No_Beard" else attribute


def _as_bool(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    return labels > 0


def posterior(
    clean: np.ndarray, long_hair: np.ndarray, hidden: Sequence[str], model: LabelModel
) -> dict[str, np.ndarray]:
    """P(clean label positive | what the image shows) for each ``hidden`` attribute, per image.

    ``clean``: (n, 40) +1/-1 (or bool) clean labels; their ``hidden`` columns are ignored. ``long_hair``: (n,)
    bool, drawn hair length. Exact inference in ``model`` by enumerating the hidden attributes' 2^k
    combinations; only the factors that involve a hidden attribute are evaluated (the rest cancel).
    """
    clean = _as_bool(clean)
    long_hair = np.asarray(long_hair, dtype=bool)
    n = clean.shape[0]
    if not hidden:
        return {}
    labels = {_rule_name(a): clean[:, j] for a, j in _INDEX.items()}
    labels["Beard"] = ~labels["Beard"]
    rules = [_rule_name(a) for a in hidden]
    involved = [name for name, _, _ in model.rules if name in rules or model.parents(name) & set(rules)]
    scopes = {
        name: [k for k, h in enumerate(rules) if h == name or h in model.parents(name)] for name in involved
    }
    cache: dict[tuple, np.ndarray] = {}  # a factor depends on few hidden attributes: evaluate each case once
    log_weights = []
    for config in product((False, True), repeat=len(rules)):
        total = np.zeros(n)
        for name in involved:
            key = (name, *(config[k] for k in scopes[name]))
            if key not in cache:
                for k in scopes[name]:
                    labels[rules[k]] = np.full(n, config[k])
                cache[key] = model.log_factor(name, labels)
            total = total + cache[key]
        if "Male" in rules:
            with np.errstate(divide="ignore"):
                if config[rules.index("Male")]:
                    hair = np.where(long_hair, -np.inf, 0.0)
                else:
                    hair = np.log(np.where(long_hair, LONG_HAIR_RATE, 1.0 - LONG_HAIR_RATE))
            total = total + hair
        log_weights.append(total)
    weights = np.stack(log_weights)  # (2^k, n)
    top = weights.max(axis=0)
    if not np.isfinite(top).all():
        raise ValueError("an image's visible labels are impossible under the label model")
    weights = np.exp(weights - top)
    weights /= weights.sum(axis=0)
    configs = np.array(list(product((False, True), repeat=len(rules))))  # (2^k, k)
    out = {}
    for k, attribute in enumerate(hidden):
        p = (weights * configs[:, k : k + 1]).sum(axis=0)
        out[attribute] = 1.0 - p if attribute == "No_Beard" else p
    return out


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
    flips: tuple[np.ndarray, np.ndarray],
    hidden: Sequence[str],
    model: LabelModel,
) -> np.ndarray:
    """The Bayes-optimal classifier's +1/-1 answers, (n, 40): the more probable written label per image."""
    prob = _as_bool(clean).astype(np.float64)  # P(clean positive | image): 0 or 1 where the cue shows
    for attribute, p in posterior(clean, long_hair, hidden, model).items():
        prob[:, _INDEX[attribute]] = p
    q1, q0 = flips
    written_positive = prob * q1 + (1.0 - prob) * q0
    return np.where(written_positive > 0.5, 1, -1).astype(np.int8)


def majority_rate(written: np.ndarray) -> np.ndarray:
    """Per attribute, the accuracy of always answering the split's majority class (as ``dmmlib.metrics``)."""
    written = np.asarray(written)
    majority = np.where((written > 0).mean(axis=0) > 0.5, 1, -1)
    return (written == majority).mean(axis=0)


def ceiling(
    clean: np.ndarray,
    written: np.ndarray,
    long_hair: np.ndarray,
    flips: tuple[np.ndarray, np.ndarray],
    hidden: Sequence[str],
    model: LabelModel,
) -> dict[str, float]:
    """The ceiling of one split (rows of ``clean``, ``written``, ``long_hair``), {attribute: accuracy}."""
    written = np.asarray(written)
    if written.shape[0] == 0:
        raise ValueError("the split has no images")
    answers = bayes_predictions(clean, long_hair, flips, hidden, model)
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
