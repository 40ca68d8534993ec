"""The synthetic data's ceiling (the best accuracy any model can reach) and the generator's knobs."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (
    NUM_IMAGES,
    synthetic_celeba,  # noqa: F401  (a fixture, used by parameter name)
    synthetic_lfwa,  # noqa: F401
)

from dmmlib.attributes import ATTRIBUTES, OBJECTIVE, SUBJECTIVE
from dmmlib.data import synthetic, synthetic_ceiling
from dmmlib.data.celeba_format import read_attributes, read_partition
from dmmlib.data.lfwa_format import read_indices, read_lfw_att_40, write_indices
from dmmlib.data.synthetic_face import (
    CELEBA_FRAMING,
    GEOMETRIC_ATTRIBUTES,
    LFW_FRAMING,
    LFW_FUNNELED_FRAMING,
    Framing,
    render,
    sample_appearance,
    sample_pose,
)
from dmmlib.data.synthetic_geometry import landmarks_canonical
from dmmlib.data.synthetic_labels import frequencies, label_model, noise_rates, sample_labels
from dmmlib.metrics import majority_accuracy

SPLITS = ("train", "valid", "test")
COL = {name: j for j, name in enumerate(ATTRIBUTES)}


@pytest.fixture(scope="module")
def dataset_300(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 images with a 120-image test split (the suite's default split gives only 10 % to test)."""
    out = tmp_path_factory.mktemp("ceiling") / "celeba"
    return synthetic.generate(out, 300, seed=0, split_fractions=(0.4, 0.2, 0.4), progress=False)


def written_labels(root: Path, split: str) -> np.ndarray:
    _, _, labels = read_attributes(root / "Anno" / "list_attr_celeba.txt")
    _, ids = read_partition(root / "Eval" / "list_eval_partition.txt")
    return labels[ids == SPLITS.index(split)]


def test_clean_label_oracle_scores_the_ceiling_wherever_the_cue_shows(dataset_300: Path):
    # No tolerance beyond rounding: the ceiling is measured on the same split's written labels as the oracle,
    # so there is no sampling error between them. Where a cue shows, the Bayes-optimal answer is the clean
    # label; the ceiling is raised to the majority rate in the rare split where that is higher.
    hidden = set(synthetic_ceiling.hidden_attributes()) | {a for a, _ in synthetic_ceiling.OCCLUDABLE}
    for split in SPLITS:
        written = written_labels(dataset_300, split)
        oracle = (synthetic.clean_labels(dataset_300, split) == written).mean(axis=0)
        majority = majority_accuracy(written)
        ceiling = synthetic.ceiling_accuracy(dataset_300, split)
        for name, j in COL.items():
            if name in hidden:  # the oracle sees what no image shows
                assert oracle[j] >= ceiling[name] - 1e-12, (split, name)
            else:
                assert ceiling[name] == pytest.approx(max(oracle[j], majority[j]), abs=1e-12), (split, name)


@pytest.mark.parametrize("geometry_strength", [1.0, 0.0])
def test_hidden_cue_ceilings_are_what_the_bayes_rule_scores_within_sampling_error(geometry_strength: float):
    # Where no image shows a cue, the ceiling rests on the label model's posterior. On 10,000 fresh label sets
    # (another seed than the model's reference sample), the Bayes rule must score its own predicted accuracy,
    # mean(max(p, 1 - p)), within 4 standard errors of that mean (SE = sqrt(sum p(1 - p)) / n, each answer
    # being right with probability max(p, 1 - p) if the posterior is calibrated).
    n = 10_000
    sample = sample_labels(n, seed=21)
    long_hair = np.array(
        [sample_appearance(row, np.random.default_rng([21, i]), geometry_strength).long_hair
         for i, row in enumerate(sample.clean)]
    )  # fmt: skip
    names = synthetic_ceiling.hidden_attributes(geometry_strength)
    hidden = np.zeros(sample.clean.shape, dtype=bool)
    hidden[:, [COL[a] for a in names]] = True
    q1, q0 = synthetic_ceiling.flip_probabilities(sample.clean, sample.labels)
    prob = synthetic_ceiling.posterior(sample.clean, long_hair, hidden, label_model())
    written_positive = prob * q1 + (1 - prob) * q0
    right = np.maximum(written_positive, 1 - written_positive)
    answers = synthetic_ceiling.bayes_predictions(sample.clean, long_hair, hidden, (q1, q0), label_model())
    for name in names:
        j = COL[name]
        expected, scored = right[:, j].mean(), (answers[:, j] == sample.labels[:, j]).mean()
        se = np.sqrt((right[:, j] * (1 - right[:, j])).sum()) / n
        assert abs(scored - expected) <= 4 * se, (name, scored, expected, se)
        assert scored >= majority_accuracy(sample.labels[:, [j]])[0] - 4 * se  # at least the majority class


def test_every_ceiling_lies_between_the_majority_rate_and_one(dataset_300: Path, synthetic_celeba: Path):
    for root in (dataset_300, synthetic_celeba):
        for split in SPLITS:
            majority = majority_accuracy(written_labels(root, split))
            ceiling = synthetic.ceiling_accuracy(root, split)
            for name, j in COL.items():
                assert majority[j] - 1e-12 <= ceiling[name] <= 1.0, (root.name, split, name)


def test_objective_attributes_whose_cue_always_shows_have_ceiling_one(dataset_300: Path):
    always_shown = set(OBJECTIVE) - set(synthetic_ceiling.hidden_attributes())
    always_shown -= {a for a, _ in synthetic_ceiling.OCCLUDABLE}
    assert len(always_shown) == 19 and synthetic_ceiling.hidden_attributes() == ("Male",)
    for split in SPLITS:
        ceiling = synthetic.ceiling_accuracy(dataset_300, split)
        assert all(ceiling[name] == 1.0 for name in always_shown), split


def test_stored_ceiling_equals_a_recomputation(dataset_300: Path, synthetic_celeba: Path):
    for root in (dataset_300, synthetic_celeba):
        stored = json.loads((root / "synthetic.json").read_text())["ceiling_accuracy"]
        assert set(stored) == {s for s in SPLITS if len(written_labels(root, s))}
        for split, values in stored.items():
            assert synthetic.ceiling_accuracy(root, split) == values
            assert synthetic.ceiling_accuracy(root, split, recompute=True) == values


def test_a_dataset_written_before_the_ceiling_still_works(synthetic_celeba: Path, tmp_path: Path):
    old = tmp_path / "old"
    shutil.copytree(synthetic_celeba, old)
    info = json.loads((old / "synthetic.json").read_text())
    stored = info.pop("ceiling_accuracy")
    for knob in ("imbalance", "geometry_strength"):
        del info["parameters"][knob]
    (old / "synthetic.json").write_text(json.dumps(info))
    for split, values in stored.items():
        assert synthetic.ceiling_accuracy(old, split) == values
    assert np.array_equal(synthetic.clean_labels(old, "all"), synthetic.clean_labels(synthetic_celeba, "all"))
    assert synthetic.generate(old, NUM_IMAGES, seed=0, progress=False) == old  # still "these parameters"


def test_clean_labels_differ_from_the_written_ones_by_the_documented_noise_only(
    synthetic_celeba: Path, tmp_path: Path
):
    clean = synthetic.clean_labels(synthetic_celeba, "all")
    _, _, written = read_attributes(synthetic_celeba / "Anno" / "list_attr_celeba.txt")
    rates = noise_rates()
    for name, j in COL.items():
        wrong = int((clean[:, j] != written[:, j]).sum())
        assert wrong == 2 * round(rates[name] / 2 * NUM_IMAGES), name  # half flipped each way; 0 if objective
    assert len(synthetic.clean_labels(synthetic_celeba, "test")) == len(
        written_labels(synthetic_celeba, "test")
    )
    edited = tmp_path / "edited"
    shutil.copytree(synthetic_celeba, edited)
    attributes = edited / "Anno" / "list_attr_celeba.txt"
    lines = attributes.read_text().split("\n")
    lines[2] = lines[2][:-2] + ("-1" if lines[2].endswith(" 1") else " 1")
    attributes.write_text("\n".join(lines))
    with pytest.raises(ValueError, match="differs from the labels"):
        synthetic.clean_labels(edited, "test")
    with pytest.raises(ValueError, match="per split"):
        synthetic.ceiling_accuracy(synthetic_celeba, "all")


# --- LFWA: the same rules in LFW's framings, each split scored on the versions its protocol uses ----------


@pytest.fixture(scope="module")
def lfwa_300(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 LFWA-format images, 150 for training (each in both versions) and 150 for testing."""
    return synthetic.generate_lfwa(tmp_path_factory.mktemp("ceiling") / "lfwa", 300, seed=0, progress=False)


def lfwa_written(root: Path, split: str) -> np.ndarray:
    """The written labels of an LFWA split, one row per image (training's two versions share them)."""
    _, _, labels = read_lfw_att_40(root / "lfw_att_40.mat")
    train, test = read_indices(root / "indices_train_test.mat")
    return labels[train if split == "train" else test]


def test_lfwa_clean_label_oracle_scores_the_ceiling_wherever_the_cue_shows(lfwa_300: Path):
    hidden = set(synthetic_ceiling.hidden_attributes()) | {a for a, _ in synthetic_ceiling.OCCLUDABLE}
    for split in ("train", "test"):
        written = lfwa_written(lfwa_300, split)
        oracle = (synthetic.clean_labels(lfwa_300, split) == written).mean(axis=0)
        majority = majority_accuracy(written)
        ceiling = synthetic.ceiling_accuracy(lfwa_300, split)
        for name, j in COL.items():
            if name in hidden:
                assert oracle[j] >= ceiling[name] - 1e-12, (split, name)
            else:
                assert ceiling[name] == pytest.approx(max(oracle[j], majority[j]), abs=1e-12), (split, name)


def test_every_lfwa_ceiling_lies_between_the_majority_rate_and_one(lfwa_300: Path, synthetic_lfwa: Path):
    for root in (lfwa_300, synthetic_lfwa):
        for split in ("train", "test"):
            majority = majority_accuracy(lfwa_written(root, split))
            ceiling = synthetic.ceiling_accuracy(root, split)
            for name, j in COL.items():
                assert majority[j] - 1e-12 <= ceiling[name] <= 1.0, (root.name, split, name)


def test_stored_lfwa_ceiling_equals_a_recomputation(lfwa_300: Path, synthetic_lfwa: Path):
    for root in (lfwa_300, synthetic_lfwa):
        stored = json.loads((root / "synthetic.json").read_text())["ceiling_accuracy"]
        assert set(stored) == {"train", "test"}
        for split, values in stored.items():
            assert synthetic.ceiling_accuracy(root, split, recompute=True) == values


def lfw_redraws(labels: np.ndarray, index: int, seed: int = 0):
    """Image ``index`` of an LFWA set drawn again independently, version by version: (version, person, pose,
    random state before drawing, picture, landmarks)."""
    rng = np.random.default_rng([seed, 1, index])
    person = sample_appearance(labels, rng)
    for version in ("lfw", "lfw-deepfunneled"):
        framing = FRAMINGS[version]
        pose = sample_pose(rng, framing)
        before = copy.deepcopy(rng)
        image, points = render(person, pose, framing, rng)
        yield version, person, pose, before, image, points


def test_lfwa_images_are_drawn_again_as_the_generator_drew_them(lfwa_300: Path):
    clean = synthetic.clean_labels(lfwa_300, "all")
    stored = {v: np.load(lfwa_300 / f"landmarks_68_{v}.npy") for v in ("lfw", "lfw-deepfunneled")}
    for i in range(40):
        for version, *_, points in lfw_redraws(clean[i], i):
            np.testing.assert_allclose(points, stored[version][i], atol=1e-4, err_msg=f"{i} {version}")


def test_lfwa_ceiling_knows_in_each_version_which_hat_hides_a_cue():
    # The ceiling replays the generator's random numbers to decide, per version, whether a hat hides a cue
    # (the deep-funneled copy's pose follows the original's drawing). Compared here with redraws: a cue counts
    # as hidden exactly where flipping it leaves the picture unchanged, and some are, in both versions.
    clean = sample_labels(4000, 0, stream=1).clean
    rows = rows_with(clean, 150, Wearing_Hat=True, Bald=False, Bangs=False)
    versions = ("lfw", "lfw-deepfunneled")
    _, hidden = synthetic._lfw_image_facts(clean, 0, 1.0, np.array(rows), versions)
    found = {v: 0 for v in versions}
    for r, i in enumerate(rows):
        for version, person, pose, rng, image, _ in lfw_redraws(clean[i], i):
            other = replace(person, attrs=person.attrs ^ {"Receding_Hairline"})
            same = render(other, pose, FRAMINGS[version], rng)[0].tobytes() == image.tobytes()
            assert hidden[versions.index(version), r, COL["Receding_Hairline"]] == same, (i, version)
            found[version] += same
    assert min(found.values()) > 0, found


def test_lfwa_ceiling_is_refused_for_a_split_lfwa_lacks_or_files_it_did_not_write(synthetic_lfwa: Path,
                                                                                  tmp_path: Path):  # fmt: skip
    with pytest.raises(ValueError, match="train, test"):
        synthetic.ceiling_accuracy(synthetic_lfwa, "valid")
    edited = tmp_path / "edited"
    shutil.copytree(synthetic_lfwa, edited)
    train, test = read_indices(edited / "indices_train_test.mat")
    write_indices(edited / "indices_train_test.mat", np.append(train, test[0]) + 1, test[1:] + 1)
    with pytest.raises(ValueError, match="indices_train_test.mat differs"):
        synthetic.ceiling_accuracy(edited, "test", recompute=True)


# --- what an image shows: each claim of synthetic_ceiling's docstring, checked by drawing -----------------


def draw(labels: np.ndarray, index: int, geometry_strength: float = 1.0, flip: str | None = None,
         framing: Framing = CELEBA_FRAMING) -> bytes:
    """Image ``index`` drawn as the generator does; ``flip`` redraws it with one attribute's label flipped
    (an exact counterfactual for attributes that do not change how many random numbers are drawn)."""
    labels = labels.copy()
    if flip:
        labels[COL[flip]] = -labels[COL[flip]]
    rng = np.random.default_rng([3, index])
    appearance = sample_appearance(labels, rng, geometry_strength)
    image, _ = render(appearance, sample_pose(rng, framing), framing, rng)
    return np.asarray(image).tobytes()


#: The framings the generator draws in: CelebA's, and LFWA's two versions (smaller faces, other poses).
FRAMINGS = {"celeba": CELEBA_FRAMING, "lfw": LFW_FRAMING, "lfw-deepfunneled": LFW_FUNNELED_FRAMING}


@pytest.fixture(scope="module")
def labels_4000() -> np.ndarray:
    return sample_labels(4000, seed=8).clean


def rows_with(labels: np.ndarray, count: int, **wanted: bool) -> list[int]:
    match = np.all([(labels[:, COL[k]] > 0) == v for k, v in wanted.items()], axis=0)
    rows = np.flatnonzero(match)[:count].tolist()
    assert len(rows) == count, wanted
    return rows


@pytest.mark.parametrize(
    "attribute, occluder",
    [
        ("Bangs", {"Wearing_Hat": True, "Bald": False}),
        ("Arched_Eyebrows", {"Bangs": True}),
        ("Arched_Eyebrows", {"Wearing_Hat": True}),
        ("Bushy_Eyebrows", {"Bangs": True}),
        ("Bushy_Eyebrows", {"Wearing_Hat": True}),
        ("Double_Chin", {"No_Beard": False, "Goatee": False, "Mustache": False}),  # under a full beard
        ("Wearing_Earrings", {"Chubby": True}),
        ("Straight_Hair", {"Black_Hair": True, "Wavy_Hair": False}),
        ("Bags_Under_Eyes", {"Eyeglasses": True}),
        ("Young", {"Wearing_Hat": True}),
        ("Pointy_Nose", {"Blurry": True}),
    ],
)
@pytest.mark.parametrize("framing", FRAMINGS)
def test_occluders_and_blur_leave_a_cue_visible(labels_4000: np.ndarray, attribute: str, occluder: dict,
                                                framing: str):  # fmt: skip
    for i in rows_with(labels_4000, 12, **occluder):
        shown = draw(labels_4000[i], i, framing=FRAMINGS[framing])
        assert shown != draw(labels_4000[i], i, flip=attribute, framing=FRAMINGS[framing]), (attribute, i)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_hat_can_hide_a_receding_hairline_and_the_ceiling_knows_which(labels_4000: np.ndarray, framing: str):
    hidden = []
    for i in rows_with(labels_4000, 150, Wearing_Hat=True, Bald=False, Bangs=False):
        rng = np.random.default_rng([3, i])
        appearance = sample_appearance(labels_4000[i], rng)
        pose = sample_pose(rng, FRAMINGS[framing])
        cues = synthetic_ceiling.hidden_cues(appearance, pose, FRAMINGS[framing], rng)
        same = draw(labels_4000[i], i, framing=FRAMINGS[framing]) == draw(
            labels_4000[i], i, flip="Receding_Hairline", framing=FRAMINGS[framing]
        )
        assert ("Receding_Hairline" in cues) == same, i
        hidden += [i] if same else []
        assert "Bangs" not in cues
    assert 0 < len(hidden) < 15  # about 2 % of hat wearers


def test_male_draws_nothing_but_hair_length(labels_4000: np.ndarray):
    for i in range(20):
        rng = np.random.default_rng([3, i])
        appearance = sample_appearance(labels_4000[i], rng)
        pose = sample_pose(rng, CELEBA_FRAMING)
        other = replace(appearance, attrs=appearance.attrs ^ {"Male"})  # same hair length
        first = render(appearance, pose, CELEBA_FRAMING, copy.deepcopy(rng))[0]
        assert first.tobytes() == render(other, pose, CELEBA_FRAMING, copy.deepcopy(rng))[0].tobytes()


def test_at_geometry_strength_zero_the_geometric_attributes_draw_nothing(labels_4000: np.ndarray):
    for name in GEOMETRIC_ATTRIBUTES:
        for i in range(6):
            rng = np.random.default_rng([3, i])
            appearance = sample_appearance(labels_4000[i], rng, geometry_strength=0.0)
            pose = sample_pose(rng, CELEBA_FRAMING)
            other = replace(appearance, attrs=appearance.attrs ^ {name})
            first = render(appearance, pose, CELEBA_FRAMING, copy.deepcopy(rng))[0]
            assert first.tobytes() == render(other, pose, CELEBA_FRAMING, copy.deepcopy(rng))[0].tobytes()
            if name != "Mouth_Slightly_Open":  # it draws one more random number when positive
                assert draw(labels_4000[i], i, 0.0) == draw(labels_4000[i], i, 0.0, flip=name), (name, i)


# --- the knobs ---------------------------------------------------------------------------------------------


def test_imbalance_pushes_frequencies_away_from_or_towards_one_half():
    base, pushed, pulled = frequencies(1.0), frequencies(2.0), frequencies(0.5)
    for name, p in base.items():
        assert abs(pushed[name] - 0.5) > abs(p - 0.5) > abs(pulled[name] - 0.5), name
        assert (pushed[name] - 0.5) * (p - 0.5) > 0
    assert set(frequencies(0.0).values()) == {0.5}
    observed = {
        k: (sample_labels(4000, seed=3, imbalance=k).labels > 0).mean(axis=0) for k in (0.5, 1.0, 2.0)
    }
    rare = [COL[name] for name, p in base.items() if p < 0.2]  # Bald, Goatee, Mustache, Blurry, ...
    assert observed[2.0][rare].mean() < observed[1.0][rare].mean() < observed[0.5][rare].mean()
    assert noise_rates(0.1, imbalance=2.0)["Double_Chin"] < noise_rates(0.1)["Double_Chin"]  # the cap follows


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r; 0 for a constant variable (no geometry at all varies with nothing)."""
    return 0.0 if np.ptp(x) == 0 else float(np.corrcoef(x, y)[0, 1])


@pytest.mark.parametrize("geometry_strength", [0.0, 0.5, 1.0, 2.0])
def test_geometry_strength_ties_the_landmarks_to_the_attributes(geometry_strength: float):
    clean = sample_labels(1500, seed=5).clean
    points = np.stack(
        [landmarks_canonical(sample_appearance(row, np.random.default_rng([5, i]), geometry_strength).shape)
         for i, row in enumerate(clean)]
    )  # fmt: skip
    features = {  # one landmark measurement per geometric attribute, signed to grow with the attribute
        "Chubby": points[:, 13, 0] - points[:, 3, 0],
        "Oval_Face": points[:, 8, 1],
        "Narrow_Eyes": points[:, 37, 1] - points[:, 41, 1],
        "Arched_Eyebrows": -points[:, 19, 1],
        "Big_Nose": points[:, 35, 0] - points[:, 31, 0],
        "Big_Lips": -points[:, 51, 1],
        "Mouth_Slightly_Open": points[:, 66, 1] - points[:, 62, 1],
        "Smiling": points[:, 54, 0] - points[:, 48, 0],
    }
    assert set(features) == set(GEOMETRIC_ATTRIBUTES)
    r = {name: correlation(value, clean[:, COL[name]]) for name, value in features.items()}
    if geometry_strength == 0:  # independent: |r| within 4 standard errors (1 / sqrt(1500) = 0.026) of 0
        assert max(abs(v) for v in r.values()) < 0.1, r
    else:
        assert min(r.values()) > 0.3, r


def test_stronger_geometry_means_stronger_correlation():
    clean = sample_labels(800, seed=6).clean

    def jaw_correlation(strength: float) -> float:
        shapes = [
            sample_appearance(row, np.random.default_rng([6, i]), strength).shape
            for i, row in enumerate(clean)
        ]
        width = np.array([np.ptp(landmarks_canonical(shape)[:17, 0]) for shape in shapes])
        return correlation(width, clean[:, COL["Chubby"]])

    values = [jaw_correlation(s) for s in (0.0, 0.25, 0.5, 1.0, 2.0)]
    assert abs(values[0]) < 0.15 and values == sorted(values), values


def test_label_noise_and_geometry_strength_move_the_ceiling():
    n = 3000

    def ceiling(label_noise: float, geometry_strength: float) -> dict[str, float]:
        sample = sample_labels(n, seed=9, label_noise=label_noise)
        long_hair = np.array(
            [sample_appearance(row, np.random.default_rng([9, i]), geometry_strength).long_hair
             for i, row in enumerate(sample.clean)]
        )  # fmt: skip
        hidden = np.zeros(sample.clean.shape, dtype=bool)
        hidden[:, [COL[a] for a in synthetic_ceiling.hidden_attributes(geometry_strength)]] = True
        flips = synthetic_ceiling.flip_probabilities(sample.clean, sample.labels)
        return synthetic_ceiling.ceiling(sample.clean, sample.labels, long_hair, hidden, flips, label_model())

    low, high = synthetic_ceiling.summary(ceiling(0.02, 1.0)), synthetic_ceiling.summary(ceiling(0.2, 1.0))
    assert high["subjective"] < low["subjective"] - 0.05 and high["objective"] == low["objective"]
    drawn, flat = ceiling(0.1, 1.0), ceiling(0.1, 0.0)
    for name in GEOMETRIC_ATTRIBUTES:  # no cue at strength 0: the conditional majority only
        assert flat[name] < drawn[name], name


def test_split_fractions_set_the_validation_size_and_every_knob_is_recorded(tmp_path: Path):
    args = ["--out", str(tmp_path / "cli"), "--num", "20", "--seed", "4", "--quiet", "--split-fractions", "0.5",
            "0.3", "0.2", "--imbalance", "1.5", "--geometry-strength", "0.5", "--label-noise", "0.05"]  # fmt: skip
    assert synthetic.main(args) == 0
    info = json.loads((tmp_path / "cli" / "synthetic.json").read_text())
    assert info["split_sizes"] == {"train": 10, "valid": 6, "test": 4}
    assert info["parameters"] == {"num_images": 20, "seed": 4, "split_fractions": [0.5, 0.3, 0.2],
                                  "label_noise": 0.05, "imbalance": 1.5, "geometry_strength": 0.5}  # fmt: skip
    assert set(info["ceiling_accuracy"]) == set(SPLITS)
    assert info["label_noise_rates"]["subjective"] == {a: noise_rates(0.05, 1.5)[a] for a in SUBJECTIVE}
    readme = (tmp_path / "cli" / "README.txt").read_text()
    command = readme.split("Regenerate: python -m dmmlib.data.synthetic ")[1].split()  # reproduces the set
    again = tmp_path / "again"
    assert synthetic.main([str(again) if a == "DIR" else a for a in command] + ["--quiet"]) == 0
    for name in ("synthetic.json", "Anno/list_attr_celeba.txt", "Img/img_align_celeba/000020.jpg"):
        assert (again / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    lfwa = synthetic.generate_lfwa(tmp_path / "lfwa", 4, imbalance=0.5, geometry_strength=0.0, progress=False)
    recorded = json.loads((lfwa / "synthetic.json").read_text())["parameters"]
    assert (recorded["imbalance"], recorded["geometry_strength"]) == (0.5, 0.0)


def test_bad_knobs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture):
    with pytest.raises(ValueError, match="imbalance"):
        synthetic.generate(tmp_path / "x", 4, imbalance=-1.0, progress=False)
    with pytest.raises(ValueError, match="geometry_strength"):
        synthetic.generate(tmp_path / "x", 4, geometry_strength=3.0, progress=False)
    with pytest.raises(SystemExit):
        synthetic.main(
            ["--out", str(tmp_path / "y"), "--num", "4", "--lfwa", "--split-fractions", "1", "0", "0"]
        )
    assert "split-fractions" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
