"""Batch sweeps (``python -m dmmlib.suite sweep`` / ``collect``): parallel, resumable, shardable, with statistics.

Every sweep here runs the smoke preset into a temporary build folder (``DMM_BUILD_DIR``, ``DMM_RUNS_DIR``), never
into the repository's ``build/``. One finished run of ``sweeps/smoke-seeds.yml`` (three seeds, two jobs) is shared
by the tests that only read it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy import stats as scipy_stats

from dmmlib.suite import paths, provenance, stats, sweep

SMOKE_SPEC = paths.repo_root() / "sweeps" / "smoke-seeds.yml"
SUMMARY_LINE = re.compile(r"(\d+) point\(s\) ran, (\d+) skipped \(already done\), (\d+) failed")


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dmmlib.suite", *args], capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def counts(result: subprocess.CompletedProcess) -> tuple[int, int, int]:
    """(ran, skipped, failed) from the sweep's closing line."""
    match = SUMMARY_LINE.search(result.stdout)
    assert match, result.stdout + result.stderr
    return int(match[1]), int(match[2]), int(match[3])


def write_spec(folder: Path, **fields) -> Path:
    path = folder / f"{fields.get('name', 'spec')}.yml"
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    return path


@pytest.fixture(scope="module", autouse=True)
def build_dir(tmp_path_factory) -> Path:
    """A temporary build and runs folder for the whole module (inherited by every sweep process)."""
    base = tmp_path_factory.mktemp("sweeps")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DMM_BUILD_DIR", str(base / "build"))
        patch.setenv("DMM_RUNS_DIR", str(base / "runs"))
        patch.delenv("DMM_PRESET", raising=False)
        yield base / "build"


@pytest.fixture(scope="module")
def finished(build_dir) -> dict:
    """``sweeps/smoke-seeds.yml`` run once with two jobs, and then repeated."""
    first = run_cli("sweep", str(SMOKE_SPEC), "--jobs", "2")
    folder = build_dir / "sweeps" / "smoke-seeds"
    executed = sorted(folder.glob("SEED=*/*.ipynb"))
    before = {path: path.stat().st_mtime_ns for path in executed}
    again = run_cli("sweep", str(SMOKE_SPEC), "--jobs", "2")
    after = {path: path.stat().st_mtime_ns for path in executed}
    return {"first": first, "again": again, "folder": folder, "executed_untouched": bool(executed) and before == after,
            "spec": sweep.load_spec(SMOKE_SPEC)}  # fmt: skip


# --- a whole sweep ------------------------------------------------------------------------------------------------


def test_a_three_seed_smoke_sweep_with_two_jobs_writes_one_folder_per_point(finished):
    assert finished["first"].returncode == 0, finished["first"].stderr[-3000:]
    assert counts(finished["first"]) == (3, 0, 0)
    folder = finished["folder"]
    for seed in (0, 1, 2):
        point = folder / f"SEED={seed}"
        assert (point / sweep.DONE_FILE).is_file()
        assert (point / "06_run_ablations.ipynb").is_file()
        assert (point / "runs" / "smoke" / "results" / "06_run_ablations.json").is_file()
        assert (point / "runs" / "smoke" / "data").resolve() == (folder / "shared" / "data").resolve()


def test_each_point_ran_with_its_share_of_the_cores(finished):
    import json

    done = json.loads((finished["folder"] / "SEED=0" / sweep.DONE_FILE).read_text())
    assert done["threads"] == max(1, provenance.usable_cores() // 2)
    assert done["notebooks"]["06_run_ablations.ipynb"] > 0


def test_results_csv_has_every_seed_run_attribute_and_metric(finished):
    results = pd.read_csv(finished["folder"] / stats.RESULTS_CSV)
    runs = ["Baseline", "DMM-CNN"]  # the spec's ONLY
    assert sorted(results["SEED"].unique()) == [0, 1, 2]
    assert set(results["run"]) == set(runs) and set(results["metric"]) == set(stats.METRICS)
    assert len(results) == 3 * len(runs) * 40 * len(stats.METRICS)
    assert results.groupby("attribute")["group"].first().value_counts().to_dict() == {"objective": 22,
                                                                                      "subjective": 18}


def test_summary_means_are_the_means_of_results_csv(finished):
    results = pd.read_csv(finished["folder"] / stats.RESULTS_CSV)
    summary = pd.read_csv(finished["folder"] / stats.SUMMARY_CSV)
    for scope in stats.SCOPES:
        part = results if scope == "all" else results[results["group"] == scope]
        per_seed = part.groupby(["SEED", "notebook", "run", "metric"])["value"].mean()
        expected = per_seed.groupby(["notebook", "run", "metric"]).mean()
        got = summary[summary["scope"] == scope].set_index(["notebook", "run", "metric"])["mean"]
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert (summary["n"] == 3).all()


def test_summary_intervals_are_student_t_over_seeds(finished):
    results = pd.read_csv(finished["folder"] / stats.RESULTS_CSV)
    summary = pd.read_csv(finished["folder"] / stats.SUMMARY_CSV).set_index(["run", "metric", "scope"])
    seeds = results[(results["run"] == "DMM-CNN") & (results["metric"] == "accuracy")].groupby("SEED")["value"].mean()
    low, high = scipy_stats.t.interval(0.95, 2, loc=seeds.mean(), scale=scipy_stats.sem(seeds))
    row = summary.loc[("DMM-CNN", "accuracy", "all")]
    assert row["sd"] == pytest.approx(seeds.std(ddof=1))
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_paired_csv_holds_differences_from_the_reference_at_the_same_seed(finished):
    results = pd.read_csv(finished["folder"] / stats.RESULTS_CSV)
    paired = pd.read_csv(finished["folder"] / stats.PAIRED_CSV).set_index(["run", "metric", "scope"])
    accuracy = results[results["metric"] == "accuracy"].groupby(["run", "SEED"])["value"].mean()
    differences = accuracy["DMM-CNN"] - accuracy["Baseline"]
    row = paired.loc[("DMM-CNN", "accuracy", "all")]
    assert row["reference"] == "Baseline" and row["n"] == 3
    assert row["mean"] == pytest.approx(differences.mean())
    assert "Baseline" not in paired.index.get_level_values("run")


def test_repeating_the_command_skips_every_point_and_executes_no_notebook_again(finished):
    assert finished["again"].returncode == 0, finished["again"].stderr[-3000:]
    assert counts(finished["again"]) == (0, 3, 0)
    assert finished["executed_untouched"], "the repeat wrote an executed notebook again"


def test_collect_is_a_command_of_its_own(finished):
    (finished["folder"] / stats.SUMMARY_CSV).unlink()
    result = run_cli("collect", "smoke-seeds")
    assert result.returncode == 0, result.stderr
    assert "3 of 3 point(s) have results" in result.stdout
    assert (finished["folder"] / stats.SUMMARY_CSV).is_file()


def test_collect_is_safe_on_a_partial_table_2_sweep(tmp_path):
    """Points written by hand (no papermill): one with notebook 07's results, one started and unfinished."""
    import json

    from dmmlib import metrics

    folder = tmp_path / "t2"
    info = {"name": "t2", "resolved_preset": "smoke", "notebooks": ["07_compare_weighting.ipynb"],
            "grid": {"SEED": [0, 1, 2]}, "fixed": {}, "reference": "ours", "points": ["SEED=0", "SEED=1", "SEED=2"]}
    (folder / "SEED=2").mkdir(parents=True)
    (folder / "sweep.json").write_text(json.dumps(info))
    for seed in (0, 1, 2):
        (folder / f"SEED={seed}").mkdir(exist_ok=True)
        (folder / f"SEED={seed}" / "point.json").write_text(json.dumps({"values": {"SEED": seed}}))
    outputs = [[0.5] * 40, [-0.5] * 40, [0.2] * 40, [-0.1] * 40]
    for seed in (0, 1):
        tables = {scheme: metrics.attribute_table(outputs, [[1] * 40, [-1] * 40, [1] * 40, [-1] * 40], tau=shift)
                  for scheme, shift in (("UW", 0.3), ("DWA", 0.0), ("AW", 0.1 * seed), ("ours", 0.0))}
        results = folder / f"SEED={seed}" / "runs" / "smoke" / "results" / "07_compare_weighting.json"
        results.parent.mkdir(parents=True)
        results.write_text(json.dumps({"results": {stats.RESULTS_KEY: stats.attribute_records(tables)}}))
    got = stats.collect("t2", folder)
    assert (got.points_with_results, got.points_total) == (2, 3)
    paired = pd.read_csv(folder / stats.PAIRED_CSV)
    assert set(paired["run"]) == {"UW", "DWA", "AW"} and set(paired["reference"]) == {"ours"}
    row = paired[(paired["run"] == "UW") & (paired["metric"] == "accuracy") & (paired["scope"] == "all")].iloc[0]
    assert row["n"] == 2 and row["mean"] == pytest.approx(-0.25)  # tau 0.3 misreads the 0.2 outputs: 1 of 4 wrong
    summary = pd.read_csv(folder / stats.SUMMARY_CSV)
    assert set(summary["n"]) == {2}


# --- resuming, failures, shards -----------------------------------------------------------------------------------


def test_after_kill_9_mid_sweep_the_repeat_runs_only_the_missing_points(tmp_path, build_dir):
    spec = write_spec(tmp_path, name="killed", preset="smoke", notebooks=["06"], grid={"SEED": [0, 1]},
                      fixed={"EPOCHS": 1, "ONLY": "Baseline"})  # fmt: skip
    folder = build_dir / "sweeps" / "killed"
    command = [sys.executable, "-m", "dmmlib.suite", "sweep", str(spec), "--jobs", "1", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not list(folder.glob(f"*/{sweep.DONE_FILE}")):
            assert process.poll() is None, "the sweep ended before a point was marked done"
            assert time.monotonic() < deadline, "no point was marked done in time"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    done_before = {p.parent.name for p in folder.glob(f"*/{sweep.DONE_FILE}")}
    assert len(done_before) == 1, "killed after the first point was marked done"
    time.sleep(1.5)  # orphaned notebook kernels notice their parent is gone within a second
    repeat = run_cli("sweep", str(spec), "--jobs", "1", "--no-progress")
    assert repeat.returncode == 0, repeat.stderr[-3000:]
    assert counts(repeat) == (1, 1, 0)
    assert {p.parent.name for p in folder.glob(f"*/{sweep.DONE_FILE}")} == {"SEED=0", "SEED=1"}


def test_a_point_with_a_bad_parameter_fails_by_id_while_the_others_finish(tmp_path, build_dir):
    spec = write_spec(tmp_path, name="bad-seed", preset="smoke", notebooks=["06"], grid={"SEED": [0, -1, "x"]},
                      fixed={"EPOCHS": 1, "ONLY": "Baseline"})  # fmt: skip
    result = run_cli("sweep", str(spec), "--jobs", "2", "--no-progress")
    folder = build_dir / "sweeps" / "bad-seed"
    assert result.returncode == 1
    assert counts(result) == (1, 0, 2)
    assert (folder / "SEED=0" / sweep.DONE_FILE).is_file()
    assert re.search(r"point SEED=-1 failed in 06_run_ablations\.ipynb, cell \d+: ParameterError: parameter SEED "
                     r"must be >= 0, got -1", result.stderr), result.stderr  # fmt: skip
    assert re.search(r"point SEED=x failed in 06_run_ablations\.ipynb, cell \d+: ParameterError: parameter SEED "
                     r"must be an integer", result.stderr), result.stderr  # fmt: skip
    assert f"partly executed notebook: {folder / 'SEED=-1' / '06_run_ablations.ipynb'}" in result.stderr
    assert (folder / "SEED=-1" / "06_run_ablations.ipynb").is_file()
    assert "1 of 3 point(s) have results" in result.stdout  # collected anyway


def test_shards_cover_the_grid_exactly_once():
    spec = sweep.parse_spec({"name": "g", "preset": "smoke", "notebooks": ["06"],
                             "grid": {"SEED": [0, 1, 2, 3, 4], "EPOCHS": [1, 2]}})  # fmt: skip
    everything = [sweep.point_id(v) for v in sweep.points(spec)]
    assert len(everything) == 10 == len(set(everything))
    for count in (1, 2, 3, 4, 11):
        slices = [[sweep.point_id(v) for v in sweep.shard_of(sweep.points(spec), i, count)]
                  for i in range(1, count + 1)]  # fmt: skip
        assert sorted(sum(slices, [])) == sorted(everything)


def test_dry_run_shards_1_of_2_and_2_of_2_list_each_point_once_and_run_nothing(build_dir):
    listed = []
    for shard in ("1/2", "2/2"):
        result = run_cli("sweep", str(SMOKE_SPEC), "--shard", shard, "--dry-run")
        assert result.returncode == 0, result.stderr
        listed += re.findall(r"^\s+(SEED=\d+)\s", result.stdout, re.M)
    assert sorted(listed) == ["SEED=0", "SEED=1", "SEED=2"]


def test_point_ids_are_readable_with_sorted_keys():
    assert sweep.point_id({"SEED": 3, "EPOCHS": 4}) == "EPOCHS=4,SEED=3"
    assert sweep.point_id({"ONLY": "Baseline,DMM-CNN"}) == "ONLY=Baseline%2CDMM-CNN"


@pytest.mark.parametrize("text", ["3", "0/2", "3/2", "a/b"])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(ValueError, match="shard"):
        sweep.parse_shard(text)


# --- spec validation ----------------------------------------------------------------------------------------------

GOOD = {"name": "ok", "preset": "smoke", "notebooks": ["06"], "grid": {"SEED": [0, 1]}}


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"seeds": [1]}, "seeds", "unknown key"),
        ({"grid": None}, "grid", "non-empty mapping"),
        ({"grid": {"SEED": 3}}, "grid.SEED", "list of values"),
        ({"grid": {"SEED": [1, 1]}}, "grid.SEED", "listed twice"),
        ({"grid": {"FOO": [1]}}, "grid.FOO", "not a parameter"),
        ({"fixed": {"SEED": 1}}, "fixed.SEED", "also in grid"),
        ({"fixed": {"PRESET": "teach"}}, "fixed.PRESET", "top-level 'preset'"),
        ({"notebooks": ["99"]}, "notebooks", "matches no notebook"),
        ({"preset": "huge"}, "preset", "not one of"),
        ({"name": "../up"}, "name", "folder name"),
        ({"reference": 3}, "reference", "name of a run"),
    ],
)
def test_spec_errors_name_the_file_and_the_key(tmp_path, change, key, message):
    path = write_spec(tmp_path, **{**GOOD, **change})
    with pytest.raises(sweep.SpecError) as error:
        sweep.load_spec(path)
    assert str(error.value).startswith(f"{path}: {key}: ") and message in str(error.value)


def test_a_missing_key_is_named(tmp_path):
    path = write_spec(tmp_path, **{k: v for k, v in GOOD.items() if k != "notebooks"})
    with pytest.raises(sweep.SpecError, match=f"^{re.escape(str(path))}: notebooks: missing"):
        sweep.load_spec(path)


def test_a_spec_that_is_not_yaml_is_named(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(sweep.SpecError, match=f"{re.escape(str(path))}: not valid YAML"):
        sweep.load_spec(path)


def test_the_command_line_reports_a_bad_spec_with_status_2(tmp_path):
    path = write_spec(tmp_path, **{**GOOD, "grid": {"SEEDZ": [0]}})
    result = run_cli("sweep", str(path), "--dry-run")
    assert result.returncode == 2
    assert f"{path}: grid.SEEDZ: not a parameter" in result.stderr


def test_the_shipped_specs_are_valid():
    specs = {p.stem: sweep.load_spec(p) for p in sorted((paths.repo_root() / "sweeps").glob("*.yml"))}
    assert {"table1-seeds", "table2-seeds", "smoke-seeds"} <= set(specs)
    assert specs["table1-seeds"].notebooks == ("06_run_ablations.ipynb",) and specs["table1-seeds"].preset == "teach"
    assert len(specs["table1-seeds"].grid["SEED"]) >= 3 and specs["table1-seeds"].reference == "Baseline"
    assert specs["table2-seeds"].notebooks == ("07_compare_weighting.ipynb",)
    from dmmlib.suite.pipeline import TABLE2_SCHEMES

    assert specs["table2-seeds"].reference == "ours" == list(TABLE2_SCHEMES)[-1]
    assert specs["smoke-seeds"].preset == "smoke" and len(specs["smoke-seeds"].grid["SEED"]) == 3


# --- verdicts -----------------------------------------------------------------------------------------------------


def test_verdicts_follow_the_interval():
    assert stats.verdict(0.1, 0.3) == "supports"
    assert stats.verdict(-0.3, -0.1) == "contradicts"
    assert stats.verdict(-0.1, 0.3) == "cannot decide"
    assert stats.verdict(float("nan"), float("nan")) == "cannot decide"


def test_claims_are_judged_from_paired_values_and_unmeasured_ones_say_so():
    rows = [{"point": f"SEED={s}", "notebook": "06_run_ablations", "run": run, "metric": "accuracy", "scope": "all",
             "value": base + 0.01 * s + (run == "DMM-CNN") * (0.0, 0.003, -0.003)[s]}
            for s in range(3) for run, base in (("Baseline", 0.80), ("DMM-CNN", 0.82))]  # fmt: skip
    verdicts = stats.claims(pd.DataFrame(rows)).set_index("comparison")
    assert verdicts.loc["DMM-CNN - Baseline", "verdict"] == "supports"  # +2.0, +2.3, +1.7 points
    assert verdicts.loc["DMM-CNN - Baseline", "mean"] == pytest.approx(0.02)
    assert "supports the claim" in verdicts.loc["DMM-CNN - Baseline", "sentence"]
    assert verdicts.loc["DMM-CNN - DMM-FAC", "verdict"] == "not measured"
    exact = [{**row, "value": round(row["value"] - (row["run"] == "DMM-CNN") * (0.0, 0.003, -0.003)[i // 2], 6)}
             for i, row in enumerate(rows)]  # +2 points at every seed: zero variance, no interval  # fmt: skip
    same = stats.claims(pd.DataFrame(exact)).set_index("comparison").loc["DMM-CNN - Baseline"]
    assert same["verdict"] == "cannot decide" and "zero variance" in same["sentence"]


# --- what notebooks save for sweeps -------------------------------------------------------------------------------


def test_notebook_06_only_selects_variants_in_table_1_order():
    from dmmlib import variants

    assert variants.select("") == list(variants.VARIANTS)
    assert variants.select("DMM-CNN, Baseline") == ["Baseline", "DMM-CNN"]
    with pytest.raises(ValueError, match="unknown variant 'DMM-XYZ'"):
        variants.select("Baseline,DMM-XYZ")


def test_saved_attribute_records_carry_every_metric_with_missing_values_as_null():
    from dmmlib import metrics

    table = metrics.attribute_table(
        [[0.5] * 40, [-0.5] * 40, [0.2] * 40], [[1] * 40, [-1] * 40, [1] * 40]
    ).assign(ceiling_accuracy=1.0)  # as pipeline.evaluate adds it on synthetic data
    table.loc["Bald", "balanced_accuracy"] = float("nan")
    records = stats.attribute_records({"DMM-CNN": table})
    assert len(records) == 40 and records[0]["run"] == "DMM-CNN"
    assert set(stats.METRICS) | {"run", "attribute", "group"} == set(records[0])
    assert next(r for r in records if r["attribute"] == "Bald")["balanced_accuracy"] is None


# --- the knob study as sweep points; collecting a plain papermill loop ------------------------------------------


@pytest.fixture(scope="module")
def knob_sweep(build_dir, tmp_path_factory) -> dict:
    """One knob (label_noise) of the knob study as a sweep point of notebook 06 on smoke, one epoch, seed 0."""
    spec = write_spec(tmp_path_factory.mktemp("knob"), name="knob-smoke", preset="smoke", notebooks=["06"],
                      grid={"KNOB": ["label_noise"], "SEED": [0]}, fixed={"EPOCHS": 1})  # fmt: skip
    result = run_cli("sweep", str(spec), "--jobs", "1", "--no-progress")
    folder = build_dir / "sweeps" / "knob-smoke"
    return {"result": result, "folder": folder, "point": folder / "KNOB=label_noise,SEED=0"}


def test_a_knob_runs_as_a_sweep_point_on_data_made_once_for_the_sweep(knob_sweep):
    assert knob_sweep["result"].returncode == 0, knob_sweep["result"].stderr[-3000:]
    assert counts(knob_sweep["result"]) == (1, 0, 0)
    shared = knob_sweep["folder"] / sweep.SHARED
    assert (shared / "knobs" / "label_noise=0.25" / "data" / "celeba" / "synthetic.json").is_file()
    assert not (shared / "data").exists(), "no point reads the default data: it is not generated"
    link = knob_sweep["point"] / "runs" / "smoke" / "knobs" / "label_noise=0.25" / "data"
    assert link.is_symlink() and link.resolve() == (shared / "knobs" / "label_noise=0.25" / "data").resolve()
    results = pd.read_csv(knob_sweep["folder"] / stats.RESULTS_CSV)
    assert set(results["KNOB"]) == {"label_noise"} and set(results["run"]) == {"DMM-DW-FIX", "DMM-EQ-FIX"}


def test_a_run_trained_in_a_knob_point_records_its_data_and_the_knob(knob_sweep):
    from dmmlib import train
    from dmmlib.suite import run_origin

    models = knob_sweep["point"] / "runs" / "smoke" / "knobs" / "label_noise=0.25" / "models"
    (run_dir, *_) = sorted(p for p in models.iterdir() if (p / train.CONFIG_NAME).is_file())
    recorded = json.loads((run_dir / train.CONFIG_NAME).read_text())[train.DATASET_KEY]
    assert (recorded["kind"], recorded["source"], recorded["data_seed"]) == ("celeba", "synthetic", 0)
    assert recorded["knobs"]["label_noise"] == 0.25 and recorded["root"].endswith("label_noise=0.25/data/celeba")
    found = run_origin.origin(run_dir, train.load_run(run_dir)[2])
    assert found.dataset_source == run_origin.RECORDED and "label_noise=0.25" in found.evidence


def test_the_knob_record_is_made_from_the_sweep_and_read_as_the_stored_one(knob_sweep, tmp_path):
    from dmmlib.suite import evidence, knobs

    knobs.export("knob-smoke", knob_sweep["folder"], out=tmp_path)
    values, about = knobs.load("smoke", root=tmp_path)
    stored, _ = knobs.load("teach")
    assert list(values.columns) == list(stored.columns)
    assert set(values["knob"]) == {"label_noise"} and (values["knob_value"] == 0.25).all()
    assert set(values["metric"]) == set(evidence.KEPT_METRICS) and len(values) == 2 * 4 * 3
    assert about["knobs"]["label_noise"]["seeds"] == [0] and about["preset"] == "smoke"
    table = knobs.compare(values, evidence.load(evidence.TEACH_RECORD))
    assert list(table["data"]) == ["default", "changed"] and table["sentence"].str.contains("label_noise").all()


def test_knob_names_are_checked_and_a_knob_trains_its_pair_unless_only_says_otherwise():
    from dmmlib.suite import knobs

    assert knobs.variants_of("") == "" and knobs.variants_of("imbalance") == "DMM-EQ-AT,DMM-EQ-FIX"
    with pytest.raises(ValueError, match="KNOB='noise'.*imbalance, geometry_strength"):
        knobs.knob_of("noise")


def test_collect_gathers_a_folder_of_notebooks_from_a_plain_papermill_loop(finished, tmp_path):
    """Notebook 06 run by papermill in a loop of one's own (seeds 0 and 1, the smoke sweep's parameters), each into
    a folder; the runs are copies of the sweep's, so nothing trains and the results must equal the sweep's."""
    import shutil

    out = tmp_path / "executed"
    out.mkdir()
    loop = []
    for seed in (0, 1):  # side by side, each with its own runs folder (as the README says)
        runs = shutil.copytree(finished["folder"] / f"SEED={seed}" / "runs", tmp_path / f"runs-{seed}")
        env = {**os.environ, "DMM_RUNS_DIR": str(runs), "OMP_NUM_THREADS": "1"}
        loop.append(subprocess.Popen(
            [sys.executable, "-m", "papermill", str(paths.notebooks_dir() / "06_run_ablations.ipynb"),
             str(out / f"seed-{seed}.ipynb"), "-p", "PRESET", "smoke", "-p", "SEED", str(seed), "-p", "EPOCHS", "1",
             "-p", "ONLY", "Baseline,DMM-CNN", "--cwd", str(paths.notebooks_dir()), "--no-progress-bar"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))  # fmt: skip
    for process in loop:
        log, _ = process.communicate(timeout=300)
        assert process.returncode == 0, log[-3000:]
    result = run_cli("collect", str(out), "--reference", "Baseline")
    assert result.returncode == 0, result.stderr
    assert "2 of 2 point(s) have results" in result.stdout
    mine = pd.read_csv(out / stats.RESULTS_CSV)
    assert set(mine["point"]) == {"seed-0", "seed-1"} and set(mine["SEED"]) == {0, 1}
    swept = pd.read_csv(finished["folder"] / stats.RESULTS_CSV).query("SEED in (0, 1)")
    key = ["SEED", "notebook", "run", "attribute", "metric"]
    both = mine.merge(swept, on=key, suffixes=("", "_sweep"))
    same = (both["value"] == both["value_sweep"]) | (both["value"].isna() & both["value_sweep"].isna())
    assert len(both) == len(mine) == len(swept) and same.all()
    paired_rows = pd.read_csv(out / stats.PAIRED_CSV).query("metric == 'accuracy' and scope == 'all'")
    assert list(paired_rows["run"]) == ["DMM-CNN"] and list(paired_rows["n"]) == [2]


def test_a_notebooks_parameters_are_read_from_its_cells_without_papermill_metadata(tmp_path):
    cell = {"cell_type": "code", "outputs": []}
    nb = {"metadata": {}, "cells": [
        {**cell, "metadata": {"tags": ["parameters"]}, "source": "PRESET: str = 'auto'\nSEED: int = 0\nONLY = ''\n"},
        {**cell, "metadata": {"tags": ["injected-parameters"]}, "source": ["PRESET = 'smoke'\n", "SEED = 3\n"]},
    ]}  # fmt: skip
    assert stats.notebook_parameters(nb) == {"PRESET": "smoke", "SEED": 3, "ONLY": ""}
    nb["metadata"]["papermill"] = {"parameters": {"SEED": 4}}
    assert stats.notebook_parameters(nb)["SEED"] == 4
    (tmp_path / "a.ipynb").write_text(json.dumps(nb))
    collected = stats.collect_notebooks(tmp_path, write=False, quiet=True)
    assert collected.points_with_results == 0 and "a: no saved results" in collected.notes[0]


# --- stored evidence (python -m dmmlib.suite evidence) ------------------------------------------------------------


def test_evidence_keeps_the_per_seed_means_histories_and_preset_of_a_finished_sweep(finished, tmp_path):
    from dmmlib.suite import evidence

    out = evidence.export("smoke-seeds", finished["folder"], out_root=tmp_path)
    stored = evidence.load("smoke-seeds", root=tmp_path)
    assert out == tmp_path / "smoke-seeds" and stored.seeds == [0, 1, 2] and stored.preset == "smoke"
    assert stored.stale() == []  # the preset has not changed since the sweep
    collected = stats.load("smoke-seeds", finished["folder"])
    expected = stats.point_values(collected.results).query("metric == 'accuracy' and scope == 'all'")
    got = stored.values.query("metric == 'accuracy' and scope == 'all'")
    assert sorted(got["value"].round(6)) == sorted(expected["value"].round(6))
    assert {h["variant"] for h in stored.histories} == {"Baseline", "DMM-CNN"}
    assert all(h["updates"] and "iteration" in h["updates"][0] for h in stored.histories)
    assert sum(f.stat().st_size for f in out.iterdir()) < 200_000  # small enough to keep in the repository


def test_evidence_sentences_come_from_the_stored_numbers(finished, tmp_path):
    from dmmlib.suite import evidence

    evidence.export("smoke-seeds", finished["folder"], out_root=tmp_path)
    stored = evidence.load("smoke-seeds", root=tmp_path)
    table = stored.summary("06")
    (ranking, *_) = evidence.ranking_sentences(stored, "06")
    best = table.index[0]
    assert ranking.index(best) < ranking.index(table.index[-1])
    assert f"{100 * table.loc[best, 'mean']:.2f}" in ranking
    grouping = evidence.effects(stored, evidence.TABLE1_COMPONENTS).set_index("comparison")
    assert grouping.loc["DMM-CNN - DMM-FAC", "effect"] == "not measured"  # DMM-FAC is not in this sweep
    heads = evidence.effects(stored, [stats.Claim("all of DMM", "DMM-CNN", "Baseline", "06")]).iloc[0]
    paired_diff = stats.paired(stored.values.query("notebook.str.startswith('06')"), "Baseline")
    row = paired_diff.query("metric == 'accuracy' and scope == 'all'").iloc[0]
    assert heads["mean"] == pytest.approx(100 * row["mean"]) and f"{heads['mean']:+.2f}" in heads["sentence"]


def test_a_run_reported_as_diverged_is_listed_and_left_out_of_the_record(finished, tmp_path):
    import shutil

    from dmmlib.suite import evidence

    folder = shutil.copytree(finished["folder"], tmp_path / "smoke-seeds", symlinks=True)
    point = folder / "SEED=1" / "runs" / "smoke"
    results_path = point / "results" / "06_run_ablations.json"
    saved = json.loads(results_path.read_text())
    saved["results"]["diverged"] = {"DMM-CNN": {"iteration": 12, "error": "NaN", "lambda_max": 21.5, "lr": 0.003}}
    saved["results"][stats.RESULTS_KEY] = [r for r in saved["results"][stats.RESULTS_KEY] if r["run"] != "DMM-CNN"]
    saved["results"]["summary"].pop("DMM-CNN mean accuracy")
    results_path.write_text(json.dumps(saved))
    (run_dir,) = [d for d in (point / "models").iterdir() if d.name.startswith("DMM-CNN-")]
    (run_dir / evidence.DIVERGED_MARKER).write_text("{}")

    evidence.export("smoke-seeds", folder, out_root=tmp_path / "out")
    stored = evidence.load("smoke-seeds", root=tmp_path / "out")
    assert stored.diverged == [{"seed": 1, "notebook": "06_run_ablations", "run": "DMM-CNN", "iteration": 12,
                                "lambda_max": 21.5, "lr": 0.003}]  # fmt: skip
    assert stored.summary("06").loc["DMM-CNN", "n"] == 2 and stored.summary("06").loc["Baseline", "n"] == 3
    assert not ((stored.updates["seed"] == 1) & (stored.updates["variant"] == "DMM-CNN")).any()
    sentence = evidence.ranking_sentences(stored, "06")[-1]
    assert "DMM-CNN at seed 1 (iteration 12; largest Eq. 4 weight 21.5" in sentence
