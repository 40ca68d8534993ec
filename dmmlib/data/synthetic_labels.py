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
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
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


def sample_clean_labels(num_images: int, rng: np.random.Generator) -> np.ndarray:
    """Noise-free labels, (N, 40) bool in CelebA order, with CelebA's frequencies and the dependencies above."""
    if num_images < 1:
        raise ValueError(f"num_images must be at least 1, got {num_images}")
    freq = target_frequencies()
    freq["Beard"] = 1.0 - freq["No_Beard"]
    drawn: dict[str, np.ndarray] = {}
    for name, weights, conditions in _RULES:
        score = rng.standard_normal(num_images)
        for parent, weight in weights.items():
            score += weight * drawn[parent]
        eligible = np.ones(num_images, dtype=bool)
        for condition in conditions:
            parent = drawn[condition[1:]]
            eligible &= parent if condition[0] == "+" else ~parent
        drawn[name] = _top_k(score, eligible, round(freq[name] * num_images))
    drawn["No_Beard"] = ~drawn.pop("Beard")
    return np.stack([drawn[name] for name in ATTRIBUTES], axis=1)


def noise_rates(label_noise: float = DEFAULT_LABEL_NOISE) -> dict[str, float]:
    """Fraction of wrong labels per attribute: capped ``label_noise`` for subjective ones, 0 for objective."""
    if not 0.0 <= label_noise < 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    freq = target_frequencies()
    return {
        name: (min(label_noise, min(p, 1.0 - p) / 2.0) if name in SUBJECTIVE else 0.0)
        for name, p in freq.items()
    }


def sample_labels(
    num_images: int, seed: int = 0, label_noise: float = DEFAULT_LABEL_NOISE, *, stream: int = 0
) -> LabelSample:
    """Sample clean labels, then flip a balanced subset of each subjective attribute's labels.

    ``stream`` separates independent label sets drawn with one seed (the CelebA-like and the LFWA-like set).
    """
    rng = np.random.default_rng([seed, 0x1AB, stream])
    clean = sample_clean_labels(num_images, rng)
    rates = noise_rates(label_noise)
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
