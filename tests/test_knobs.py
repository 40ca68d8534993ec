"""The knob study (dmmlib.suite.knobs): each knob's data, the mechanism it tests, and the comparison with the default."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dmmlib.data.synthetic import CELEBA_SPLIT
from dmmlib.suite import evidence, knobs


def test_each_knob_names_a_generator_argument_and_a_pair_of_table_1_variants():
    from dmmlib.variants import VARIANTS

    for knob in knobs.KNOBS.values():
        assert knob.value != knob.default
        assert {knob.mechanism.better, knob.mechanism.worse} <= set(VARIANTS)
        assert set(knob.generator_arguments()) <= {"imbalance", "geometry_strength", "label_noise", "split_fractions"}


def test_the_validation_fraction_moves_images_between_train_and_valid_only():
    train, valid, test = knobs.KNOBS["valid_fraction"].generator_arguments()["split_fractions"]
    assert valid == 0.3 and test == CELEBA_SPLIT[2] and train + valid + test == pytest.approx(1.0)


def test_a_session_with_a_knob_keeps_its_data_apart_and_says_so(tmp_path, monkeypatch):
    from dmmlib.suite import session

    monkeypatch.setenv("DMM_RUNS_DIR", str(tmp_path))
    plain = session.start("06_run_ablations", PRESET="smoke")
    assert knobs.with_knob(plain, "") is plain
    ctx = knobs.with_knob(plain, "label_noise")
    assert ctx.run_dir == tmp_path / "smoke" / "knobs" / "label_noise=0.25"
    assert "label_noise=0.25" in ctx.dataset_label and ctx.seed == plain.seed


def rows(knob: str | None, differences: list[float], base: float = 0.85) -> list[dict]:
    """Per seed 0-2: the mechanism's worse run at ``base`` and its better run at ``base + difference``."""
    mech = knobs.KNOBS[knob or "imbalance"].mechanism
    out = []
    for seed, d in enumerate(differences):
        for run, value in ((mech.worse, base), (mech.better, base + d)):
            out.append({"seed": seed, "point": f"SEED={seed}", "notebook": "06_run_ablations", "run": run,
                        "metric": "accuracy", "scope": "all", "value": value,
                        **({"knob": knob, "knob_value": knobs.KNOBS[knob].value} if knob else {})})
    return out


def test_the_comparison_sets_the_changed_data_beside_the_default_at_the_same_seeds():
    default = evidence.Evidence("made-up", None, pd.DataFrame(rows(None, [0.0, 0.001, -0.001])), [],
                                {"preset": "teach", "seeds": [0, 1, 2]})
    changed = pd.DataFrame(rows("imbalance", [0.02, 0.021, 0.019]))
    table = knobs.compare(changed, default).set_index("data")
    assert table.loc["default", "effect"] == "no clear effect"
    assert table.loc["changed", "effect"] == "raises" and table.loc["changed", "mean"] == pytest.approx(2.0)
    assert "moved the effect by +2.00 points [+2.00, +2.00] (paired over 3 seeds)" in table.loc["changed", "sentence"]
    assert table.loc["changed", "knob value"] == 2.0 and table.loc["default", "knob value"] == 1.0
    assert "The premise predicts a rise: as predicted." in table.loc["changed", "sentence"]


def test_the_change_of_the_effect_is_paired_by_seed_with_a_t_interval():
    # per seed, changed - default effect: 2.0, 2.2, 2.0 points; mean 2.0667, sd 0.11547, se 0.066667,
    # t(0.975, 2 df) = 4.302653, half-width 0.28684
    default = evidence.Evidence("made-up", None, pd.DataFrame(rows(None, [0.0, 0.001, -0.001])), [],
                                {"preset": "teach", "seeds": [0, 1, 2]})
    changed = pd.DataFrame(rows("imbalance", [0.02, 0.023, 0.019]))
    row = knobs.compare(changed, default).set_index("data").loc["changed"]
    assert row["change"] == pytest.approx(2.0667, abs=1e-4)
    assert (row["change_low"], row["change_high"]) == (pytest.approx(1.7798, abs=1e-4), pytest.approx(2.3535, abs=1e-4))


def test_the_premise_verdict_reads_the_interval_of_the_change_against_the_predicted_sign():
    rise, fall = knobs.KNOBS["imbalance"], knobs.KNOBS["label_noise"]
    assert (rise.expected, fall.expected) == (1, -1)
    assert knobs.premise_verdict(rise, 0.5, 2.0) == "as predicted"
    assert knobs.premise_verdict(fall, 0.5, 2.0) == "against the prediction"
    assert knobs.premise_verdict(fall, -6.2, -1.7) == "as predicted"
    assert knobs.premise_verdict(rise, -0.2, 0.4) == "not resolved"


def test_a_missing_knob_record_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m dmmlib.suite sweep sweeps/knobs-teach.yml"):
        knobs.load("teach", root=tmp_path)


def test_saving_a_knob_after_the_preset_changed_drops_the_knobs_made_under_the_old_settings(tmp_path, capsys):
    old = pd.DataFrame(rows("imbalance", [0.02, 0.021, 0.019]))
    knobs.save("teach", knobs.KNOBS["imbalance"], old, out=tmp_path)
    about = (tmp_path / knobs.ABOUT_JSON)
    stamped = json.loads(about.read_text())
    stamped["preset_settings"]["train.epochs"] = -1  # as if made under other teach settings
    about.write_text(json.dumps(stamped))

    knobs.save("teach", knobs.KNOBS["label_noise"], pd.DataFrame(rows("label_noise", [0.0, 0.0, 0.0])), out=tmp_path)
    values, record = knobs.load("teach", root=tmp_path)
    assert set(values["knob"]) == {"label_noise"} and set(record["knobs"]) == {"label_noise"}
    assert evidence.stale_settings(record) == []
    assert "the stored imbalance were made under other teach settings" in capsys.readouterr().out


def test_saving_a_knob_under_the_same_settings_keeps_the_others(tmp_path):
    knobs.save("teach", knobs.KNOBS["imbalance"], pd.DataFrame(rows("imbalance", [0.02, 0.021, 0.019])), out=tmp_path)
    knobs.save("teach", knobs.KNOBS["label_noise"], pd.DataFrame(rows("label_noise", [0.0, 0.0, 0.0])), out=tmp_path)
    values, record = knobs.load("teach", root=tmp_path)
    assert set(values["knob"]) == set(record["knobs"]) == {"imbalance", "label_noise"}
