"""The label sampler of the synthetic dataset: CelebA's 40 attribute frequencies with plausible dependencies.

Labels are drawn for the whole dataset at once, before any image is drawn, so that a test can check
frequencies and dependencies on thousands of labels in milliseconds.

How: each attribute in turn gets a latent score, ``weights . parents + N(0, 1)`` (parents are attributes sampled
before it, as 0/1), and the ``round(p * N)`` eligible images with the highest scores become positive, where p is
the attribute's CelebA frequency (``resources/celeba_attribute_counts.csv``). Frequencies are therefore exact up
to rounding at any N, while the weights create the dependencies (women wear lipstick, old men go bald). Hard
constraints are eligibility masks: at most one hair colour; Bald excludes Bangs, hair colours and hair texture;
goatees and moustaches only on bearded faces (so either implies ``No_Beard = -1``); Wavy_Hair excludes
Straight_Hair; 5 o'clock shadow only on beardless men.

Label noise: the drawing uses the *clean* labels. The written labels of each subjective attribute
(:data:`dmmlib.attributes.SUBJECTIVE`) are wrong for a fraction ``min(label_noise, min(p, 1 - p) / 2)`` of the
images, half of them flipped each way so that frequencies stay exact; the cap keeps rare attributes learnable.
Objective attributes carry no noise. This mimics the paper's argument that subjective attributes are harder:
their cues are subtle and their annotations disagree.

Imbalance (``imbalance``, default 1.0 = CelebA's frequencies): every target frequency p becomes
``sigmoid(imbalance * logit(p))``, so 0 makes every attribute 50/50, values below 1 pull frequencies towards
one half and values above 1 push them away from it (rare attributes rarer, common ones commoner). The noise cap
follows the new frequencies. Eligibility still binds: an attribute cannot have more positives than eligible
images (Bald only on men), so extreme settings can leave a frequency below its target.

:func:`label_model` gives the sampler's large-sample limit as a Bayesian network (each attribute positive with
probability ``Phi(weights . parents - threshold)`` when eligible), which the ceiling of
:mod:`dmmlib.data.synthetic_ceiling` uses to infer attributes whose cue an image does not show.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from dmmlib.attributes import ATTRIBUTES, SUBJECTIVE

#: Default fraction of wrong labels per subjective attribute (before the rare-attribute cap).
DEFAULT_LABEL_NOISE = 0.10


def target_frequencies() -> dict[str, float]:
    """Positive fraction of each attribute over all 202,599 CelebA images, in CelebA order."""
    text = resources.files("dmmlib").joinpath("resources/celeba_attribute_counts.csv").read_text()
    rows = {
        row["attribute"]: int(row["positives"]) / int(row["total"])
        for row in csv.DictReader(text.splitlines())
    }
    return {name: rows[name] for name in ATTRIBUTES}


def frequencies(imbalance: float = 1.0) -> dict[str, float]:
    """Target positive fraction of each attribute: CelebA's, pushed by ``imbalance`` on the logit scale."""
    if not (np.isfinite(imbalance) and imbalance >= 0):
        raise ValueError(
            f"imbalance must be a finite number >= 0 (1.0 = CelebA's frequencies), got {imbalance}"
        )
    freq = target_frequencies()
    if imbalance == 1.0:
        return freq
    return {name: float(1.0 / (1.0 + np.exp(-imbalance * np.log(p / (1.0 - p))))) for name, p in freq.items()}


# (attribute, {parent: weight}, eligibility) in sampling order. Eligibility names attributes that must be
# positive ("+Male") or negative ("-Bald") for an image to be eligible.
_RULES: tuple[tuple[str, dict[str, float], tuple[str, ...]], ...] = (
    ("Male", {}, ()),
    ("Young", {"Male": -0.6}, ()),
    ("Bald", {"Young": -2.0}, ("+Male",)),
    ("Gray_Hair", {"Young": -2.5}, ("-Bald",)),
    ("Blond_Hair", {"Male": -2.0, "Young": 1.0}, ("-Bald", "-Gray_Hair")),
    ("Black_Hair", {"Male": 0.3}, ("-Bald", "-Gray_Hair", "-Blond_Hair")),
    ("Brown_Hair", {"Male": -0.3}, ("-Bald", "-Gray_Hair", "-Blond_Hair", "-Black_Hair")),
    ("Receding_Hairline", {"Male": 1.5, "Young": -1.5}, ("-Bald",)),
    ("Bangs", {"Male": -1.2}, ("-Bald", "-Receding_Hairline")),
    ("Wavy_Hair", {"Male": -1.5}, ("-Bald",)),
    ("Straight_Hair", {}, ("-Bald", "-Wavy_Hair")),
    ("Beard", {"Young": -0.5}, ("+Male",)),  # the complement of No_Beard
    ("Goatee", {}, ("+Beard",)),
    ("Mustache", {"Goatee": 1.5}, ("+Beard",)),
    ("Sideburns", {"Beard": 2.0}, ("+Male",)),
    ("5_o_Clock_Shadow", {"Young": 0.3}, ("+Male", "-Beard")),
    ("Wearing_Lipstick", {"Male": -4.0, "Young": 0.5}, ()),
    ("Heavy_Makeup", {"Male": -3.0, "Wearing_Lipstick": 2.5}, ()),
    ("Wearing_Earrings", {"Male": -2.5, "Wearing_Lipstick": 0.5}, ()),
    ("Wearing_Necklace", {"Male": -2.0}, ()),
    ("Wearing_Necktie", {"Male": 3.0}, ()),
    ("Wearing_Hat", {}, ()),
    ("Eyeglasses", {"Young": -1.0, "Male": 0.5}, ()),
    ("Smiling", {"Male": -0.3}, ()),
    ("Mouth_Slightly_Open", {"Smiling": 1.5}, ()),
    ("High_Cheekbones", {"Smiling": 2.5, "Male": -0.5}, ()),
    ("Narrow_Eyes", {"Smiling": 0.8}, ()),
    ("Chubby", {"Male": 1.5, "Young": -1.5}, ()),
    ("Double_Chin", {"Chubby": 2.5, "Young": -1.5}, ()),
    ("Oval_Face", {"Chubby": -2.0, "Male": -0.5}, ()),
    ("Big_Nose", {"Male": 1.2, "Young": -0.8}, ()),
    ("Pointy_Nose", {"Big_Nose": -1.5, "Male": -0.5}, ()),
    ("Big_Lips", {"Male": -0.5}, ()),
    ("Bushy_Eyebrows", {"Male": 1.5}, ()),
    ("Arched_Eyebrows", {"Male": -1.5, "Heavy_Makeup": 1.0}, ()),
    ("Bags_Under_Eyes", {"Young": -1.5, "Male": 0.8}, ()),
    ("Rosy_Cheeks", {"Male": -1.5, "Heavy_Makeup": 1.0}, ()),
    ("Pale_Skin", {"Male": -0.5}, ()),
    ("Blurry", {}, ()),
    (
        "Attractive",
        {"Male": -1.5, "Young": 1.5, "Chubby": -1.0, "Bags_Under_Eyes": -0.8, "Big_Nose": -0.5},
        (),
    ),
)


@dataclass(frozen=True)
class LabelSample:
    """Labels of a synthetic dataset, (N, 40) int8 +1/-1 in CelebA order.

    ``clean`` drives the drawing; ``labels`` (clean plus the subjective label noise) is what the files say.
    ``noise_rates`` maps each attribute to its fraction of wrong labels.
    """

    clean: np.ndarray
    labels: np.ndarray
    noise_rates: dict[str, float]


def _top_k(score: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    chosen = np.zeros(score.shape[0], dtype=bool)
    candidates = np.flatnonzero(eligible)
    k = min(k, candidates.size)
    if k > 0:
        best = np.argsort(-score[candidates], kind="stable")[:k]
        chosen[candidates[best]] = True
    return chosen


def _eligible(drawn: dict[str, np.ndarray], conditions: tuple[str, ...], num_images: int) -> np.ndarray:
    eligible = np.ones(num_images, dtype=bool)
    for condition in conditions:
        parent = drawn[condition[1:]]
        eligible &= parent if condition[0] == "+" else ~parent
    return eligible


def _top_k_by_partition(score: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """:func:`_top_k` in linear time, for the reference sample (ties, which have probability 0, may differ)."""
    candidates = score[eligible]
    k = min(k, candidates.size)
    if k == 0:
        return np.zeros(score.shape[0], dtype=bool)
    kth = np.partition(candidates, candidates.size - k)[candidates.size - k]
    return eligible & (score >= kth)


def _draw(
    num_images: int, rng: np.random.Generator, imbalance: float, fast: bool = False
) -> tuple[dict[str, np.ndarray], dict]:
    """The sampler: labels by rule name (with ``Beard``), and each rule's score cut-off (+-inf if none binds).
    ``fast`` selects by partition instead of a stable sort (only for the reference sample)."""
    freq = frequencies(imbalance)
    freq["Beard"] = 1.0 - freq["No_Beard"]
    drawn: dict[str, np.ndarray] = {}
    cutoffs: dict[str, float] = {}
    for name, weights, conditions in _RULES:
        score = rng.standard_normal(num_images)
        for parent, weight in weights.items():
            score += weight * drawn[parent]
        eligible = _eligible(drawn, conditions, num_images)
        drawn[name] = (_top_k_by_partition if fast else _top_k)(
            score, eligible, round(freq[name] * num_images)
        )
        chosen, rest = score[drawn[name]], score[eligible & ~drawn[name]]
        if not chosen.size:
            cutoffs[name] = np.inf
        elif not rest.size:
            cutoffs[name] = -np.inf
        else:
            cutoffs[name] = float(chosen.min() + rest.max()) / 2
    return drawn, cutoffs


def sample_clean_labels(num_images: int, rng: np.random.Generator, imbalance: float = 1.0) -> np.ndarray:
    """Noise-free labels, (N, 40) bool in CelebA order, with CelebA's frequencies (pushed by ``imbalance``) and
    the dependencies above."""
    if num_images < 1:
        raise ValueError(f"num_images must be at least 1, got {num_images}")
    drawn, _ = _draw(num_images, rng, imbalance)
    drawn["No_Beard"] = ~drawn.pop("Beard")
    return np.stack([drawn[name] for name in ATTRIBUTES], axis=1)


@dataclass(frozen=True)
class LabelModel:
    """The label sampler's large-sample limit, a Bayesian network over the clean labels.

    ``rules`` are the sampling rules (attribute, {parent: weight}, eligibility) in order, with ``Beard`` (the
    complement of ``No_Beard``) in place of ``No_Beard``; ``cutoffs`` the score threshold of each rule. An
    eligible image is positive with probability ``Phi(weights . parents - cutoff)``, an ineligible one never.
    The cut-offs are measured once on a large reference sample (:data:`REFERENCE_SIZE` images), so they carry
    a small Monte Carlo error (about 0.01 in score units).
    """

    rules: tuple[tuple[str, dict[str, float], tuple[str, ...]], ...]
    cutoffs: dict[str, float]

    def parents(self, name: str) -> set[str]:
        """The rules whose labels ``name``'s probability depends on (weights and eligibility)."""
        rule = next(r for r in self.rules if r[0] == name)
        return set(rule[1]) | {condition[1:] for condition in rule[2]}

    def log_factor(self, name: str, labels: dict[str, np.ndarray]) -> np.ndarray:
        """``log P(labels[name] | its parents)`` per image, ``-inf`` where impossible; ``labels`` maps rule
        names (``Beard``, not ``No_Beard``) to bool arrays of one length."""
        from scipy.special import log_ndtr

        _, weights, conditions = next(r for r in self.rules if r[0] == name)
        x = np.asarray(labels[name], dtype=bool)
        z = sum((w * labels[p] for p, w in weights.items()), np.zeros(x.shape)) - self.cutoffs[name]
        eligible = _eligible(labels, conditions, x.shape[0])
        with np.errstate(divide="ignore"):
            return np.where(eligible, np.where(x, log_ndtr(z), log_ndtr(-z)), np.where(x, -np.inf, 0.0))


#: Images in the reference sample that measures :class:`LabelModel`'s cut-offs.
REFERENCE_SIZE = 200_000


def label_model(imbalance: float = 1.0) -> LabelModel:
    """The :class:`LabelModel` of the sampler at this ``imbalance`` (cut-offs from a fixed reference sample)."""
    return _label_model(float(imbalance))


@lru_cache(maxsize=8)
def _label_model(imbalance: float) -> LabelModel:
    _, cutoffs = _draw(REFERENCE_SIZE, np.random.default_rng([0x5EED, 0xCE11]), imbalance, fast=True)
    # +-10 instead of +-inf: "never" / "always" stay hard where eligibility says so, and become merely very
    # unlikely (Phi(-10) ~ 1e-23) where a smaller dataset's rounding gives one more or one fewer positive.
    return LabelModel(rules=_RULES, cutoffs={k: float(np.clip(v, -10.0, 10.0)) for k, v in cutoffs.items()})


def noise_rates(label_noise: float = DEFAULT_LABEL_NOISE, imbalance: float = 1.0) -> dict[str, float]:
    """Fraction of wrong labels per attribute: capped ``label_noise`` for subjective ones, 0 for objective."""
    if not 0.0 <= label_noise < 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    freq = frequencies(imbalance)
    return {
        name: (min(label_noise, min(p, 1.0 - p) / 2.0) if name in SUBJECTIVE else 0.0)
        for name, p in freq.items()
    }


def sample_labels(
    num_images: int, seed: int = 0, label_noise: float = DEFAULT_LABEL_NOISE, *, stream: int = 0,
    imbalance: float = 1.0,
) -> LabelSample:  # fmt: skip
    """Sample clean labels, then flip a balanced subset of each subjective attribute's labels.

    ``stream`` separates independent label sets drawn with one seed (the CelebA-like and the LFWA-like set);
    ``imbalance`` pushes the frequencies (see the module's docstring).
    """
    rates = noise_rates(label_noise, imbalance)
    rng = np.random.default_rng([seed, 0x1AB, stream])
    clean = sample_clean_labels(num_images, rng, imbalance)
    noisy = clean.copy()
    for j, name in enumerate(ATTRIBUTES):
        flips = round(rates[name] / 2.0 * num_images)
        if flips == 0:
            continue
        positives, negatives = np.flatnonzero(clean[:, j]), np.flatnonzero(~clean[:, j])
        flips = min(flips, positives.size, negatives.size)
        noisy[rng.choice(positives, flips, replace=False), j] = False
        noisy[rng.choice(negatives, flips, replace=False), j] = True
    as_pm1 = lambda b: np.where(b, 1, -1).astype(np.int8)  # noqa: E731
    return LabelSample(clean=as_pm1(clean), labels=as_pm1(noisy), noise_rates=rates)
