"""The benchmarks' correctness: their fast and slow paths give the same outputs, and their bookkeeping (ratios,
goals, summaries, the GPU check's CPU-side logic) is right. No timing is asserted here: timings live in
``make bench``."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from data_fixtures import synthetic_celeba  # noqa: F401  (a fixture, used by parameter name)
from PIL import Image

from dmmlib.data.celeba import CelebA
from dmmlib.data.transforms import ResizeFlip, to_uint8_tensor
from dmmlib.landmarks.schema import flip_normalised
from dmmlib.suite import paths

sys.path.insert(0, str(paths.repo_root()))  # the bench package sits beside dmmlib, not inside it

from bench import common, data_pipeline, gpu_check, notebook_suite, run_all, step_time_cpu  # noqa: E402
from bench import validation_overhead as overhead  # noqa: E402

# --- data pipeline: the project path and the plain PIL + torchvision path agree -------------------------------


def _project_and_plain(root: Path, size: tuple[int, int], flip_p: float):
    dataset = CelebA(root, "all", transform=ResizeFlip(size, flip_p), landmarks="file")
    plain = data_pipeline.plain_transform(size, flip_p)
    for k in range(3):
        sample = dataset[k]
        reference = data_pipeline.plain_load(dataset.store.path(dataset.filenames[k]), plain)
        yield sample, data_pipeline.project_to_normalised(sample["image"]), reference, dataset


@pytest.mark.parametrize("flip_p", [0.0, 1.0])
def test_pipelines_agree_exactly_at_the_stored_size(synthetic_celeba: Path, flip_p: float):
    size = Image.open(next((synthetic_celeba / "Img/img_align_celeba").iterdir())).size[::-1]
    for _, project, plain, _ in _project_and_plain(synthetic_celeba, size, flip_p):
        assert project.shape == plain.shape
        torch.testing.assert_close(project, plain, atol=1e-5, rtol=0)


@pytest.mark.parametrize("flip_p", [0.0, 1.0])
def test_pipelines_agree_closely_at_the_teach_size(synthetic_celeba: Path, flip_p: float):
    """JPEG draft decoding (DCT scaling) differs from full decode + antialiased resize only by rounding-level
    noise: a small mean difference, and the same picture (not mirrored, not shifted)."""
    for sample, project, plain, _ in _project_and_plain(synthetic_celeba, (96, 80), flip_p):
        assert sample["image"].dtype == torch.uint8 and project.shape == plain.shape == (3, 96, 80)
        assert (project - plain).abs().mean() < 0.06  # ~3.5 grey levels of 255 after normalisation
        mirrored = (project - plain.flip(-1)).abs().mean()
        assert (project - plain).abs().mean() < 0.5 * mirrored


def test_flipped_samples_carry_flipped_landmarks(synthetic_celeba: Path):
    plain = CelebA(synthetic_celeba, "all", transform=ResizeFlip((96, 80), 0.0), landmarks="file")[0]
    flipped = CelebA(synthetic_celeba, "all", transform=ResizeFlip((96, 80), 1.0), landmarks="file")[0]
    assert torch.equal(flipped["image"], plain["image"].flip(-1))
    np.testing.assert_allclose(flipped["landmarks"].numpy(), flip_normalised(plain["landmarks"].numpy()))


def test_one_copy_tensor_matches_the_permute_and_pil_transpose_path():
    rng = np.random.default_rng(0)
    for shape in [(218, 178, 3), (1, 5, 3), (7, 1, 3)]:
        image = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
        reference = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).contiguous()
        assert torch.equal(to_uint8_tensor(image), reference)
        mirrored = torch.from_numpy(np.asarray(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)).copy())
        out = to_uint8_tensor(image, flip=True)
        assert torch.equal(out, mirrored.permute(2, 0, 1)) and out.is_contiguous() and out.numpy().flags.writeable
    grey = Image.fromarray(rng.integers(0, 256, (4, 6), dtype=np.uint8))
    assert torch.equal(to_uint8_tensor(grey), torch.from_numpy(np.asarray(grey.convert("RGB")).copy()).permute(2, 0, 1))


# --- synthetic faces: paste-based compositing equals Image.composite ----------------------------------------


def test_paste_compositing_equals_image_composite():
    from dmmlib.data.synthetic_face import _mask

    rng = np.random.default_rng(1)
    for direction, level in [(0, 0), (3, 1), (7, 2)]:
        mask = _mask(178, 218, direction, level)
        a, b = tuple(int(v) for v in rng.integers(0, 256, 3)), tuple(int(v) for v in rng.integers(0, 256, 3))
        expected = Image.composite(Image.new("RGB", (178, 218), a), Image.new("RGB", (178, 218), b), mask)
        out = Image.new("RGB", (178, 218), b)
        out.paste(a, (0, 0, 178, 218), mask)
        assert out.tobytes() == expected.tobytes()
        picture = Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8))
        lit = Image.new("RGB", picture.size, 0)
        lit.paste(picture, None, mask)
        assert lit.tobytes() == Image.composite(picture, Image.new("RGB", picture.size, 0), mask).tobytes()


# --- landmarks: the five-point box path and the detector path agree on real faces ------------------------------


def test_landmark_paths_agree_on_real_faces():
    pytest.importorskip("dlib")
    if not paths.shared_testdata().is_dir():
        pytest.skip("needs ../shared/testdata/dlib-faces")
    from bench import landmark_paths

    crops = landmark_paths.aligned_crops(landmark_paths.TESTING_XML)[:4]
    diffs, fallbacks = landmark_paths.point_differences(crops)
    assert fallbacks == 0 and float(np.mean(diffs)) < landmark_paths.GOAL_PX


def test_native_bf16_flags_are_read_from_the_cpu_flags_line(tmp_path):
    from dmmlib.device import native_bf16_flags

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n")
    assert native_bf16_flags(cpuinfo) == ["avx512_bf16"]
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2\n")
    assert native_bf16_flags(cpuinfo) == []
    assert native_bf16_flags(tmp_path / "missing") == []


def test_cpu_bf16_times_both_precisions_of_both_models():
    from bench import cpu_bf16

    entry = cpu_bf16.run(batch=2, rounds=1)
    assert set(entry["raw"]["seconds"]) == {"DMM-CNN fp32", "DMM-CNN bf16", "Baseline fp32", "Baseline bf16"}
    assert entry["ratio"] > 0 and entry["met"] is None


def test_decoded_cache_times_an_epoch_with_and_without_the_cache():
    from bench import decoded_cache

    entry = decoded_cache.run(num=24, batch=8, rounds=1)
    assert set(entry["raw"]["seconds"]) == {"uncached", "cached"}
    assert entry["ratio"] > 0 and entry["goal"] == f"<= {decoded_cache.GOAL:g}"


# --- landmarks at dataset scale: what a replicator waits for ---------------------------------------------------------


def test_make_bench_times_whole_datasets_not_the_detector_over_fast_path_ratio():
    names = set(run_all.benchmarks(quick=True))
    assert {"landmarks_celeba", "landmarks_lfwa"} <= names and "landmarks" not in names


def test_dataset_minutes_are_the_line_through_two_measured_sizes_at_the_full_count():
    from bench import landmark_scale

    # 5 s at 100 images, 9 s at 300: 2 s per 100 images (20 ms each) on top of 3 s fixed
    assert landmark_scale.line_through([100, 300], [5.0, 9.0]) == pytest.approx((3.0, 0.02))
    minutes = landmark_scale.extrapolate_minutes([100, 300], [5.0, 9.0], 202_599, divide=2)
    assert minutes == pytest.approx((3.0 + 0.02 * 202_599) / 2 / 60)


def test_dataset_figures_say_what_was_measured_and_judge_the_cpu_reading():
    from bench import landmark_scale

    runs = [{"wall_s": 50.0, "cpu_s": 10.0}, {"wall_s": 90.0, "cpu_s": 30.0}]  # 5 ms of CPU per image
    entry = landmark_scale._entry("CelebA", 202_599, [400, 4400], runs, 2, "five-point box path")
    assert entry["ratio"] == pytest.approx((8.0 + 0.005 * 202_599) / 2 / 60, abs=1e-4)
    assert entry["goal"] == "<= 5" and entry["met"] is False and entry["raw"]["extrapolated"] is True
    assert "measured on 400 and 4400 real faces, extrapolated per image" in entry["meaning"]


def test_the_celeba_sample_is_a_celeba_format_copy_the_reader_takes(tmp_path: Path):
    from bench import landmark_scale
    from dmmlib.data.celeba_format import read_landmarks_5

    rng = np.random.default_rng(0)
    faces = [(landmark_scale._jpeg(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)),
              np.full((5, 2), 10.0 * k, dtype=np.float32)) for k in range(3)]  # fmt: skip
    root = landmark_scale.write_celeba_sample(tmp_path / "celeba", 7, faces)
    dataset = CelebA(root, "all")
    assert dataset.filenames == [f"00000{i}.jpg" for i in range(1, 8)]
    folder = root / "Img" / "img_align_celeba"
    assert (folder / "000004.jpg").stat().st_ino == (folder / "000001.jpg").stat().st_ino, "a hard link"
    _, five = read_landmarks_5(root / "Anno" / "list_landmarks_align_celeba.txt")
    assert five[:, 0, 0].tolist() == [0.0, 10.0, 20.0, 0.0, 10.0, 20.0, 0.0]


# --- bookkeeping ----------------------------------------------------------------------------------------------


def test_interleaved_rounds_alternate_the_order_and_ratios_are_per_round_medians():
    calls: list[str] = []
    times = common.interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=3, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"] and all(len(v) == 3 for v in times.values())
    assert common.median_ratio([2.0, 9.0, 3.0], [1.0, 3.0, 1.0]) == 3.0


def test_records_say_whether_the_goal_is_met():
    assert common.record(1.05, 1.10, "<=", meaning="m", raw={})["met"] is True
    assert common.record(1.20, 1.10, "<=", meaning="m", raw={})["met"] is False
    assert common.record(2.5, 2.0, ">=", meaning="m", raw={})["met"] is True
    assert common.record(None, 2.0, ">=", meaning="m", raw={})["met"] is None
    with pytest.raises(ValueError):
        common.record(1.0, 1.0, "<", meaning="m", raw={})


def _busy(n: int) -> int:
    total = 0
    for i in range(n):  # a loop in this frame: its time is this function's own
        total += i * i
    return total


def test_python_profile_names_the_function_that_takes_the_time():
    rows = common.python_profile(lambda: (_busy(300_000), _busy(10)), top=3)
    assert "(_busy)" in rows[0]["function"]
    assert all(0.0 <= row["share"] <= 1.0 for row in rows)


def test_op_differences_rank_operators_by_extra_seconds():
    more = {"aten::mm": 3.0, "aten::conv": 5.0, "aten::spp": 1.0}
    less = {"aten::mm": 1.0, "aten::conv": 4.5}
    rows = common.op_differences(more, less, top=2)
    assert [row["op"] for row in rows] == ["aten::mm", "aten::spp"]
    assert rows[0]["extra_s"] == 2.0 and rows[0]["share_of_extra"] == pytest.approx(2.0 / 3.5, abs=1e-4)


def test_torch_op_seconds_sees_the_matrix_product():
    a = torch.randn(64, 64)
    assert "aten::mm" in common.torch_op_seconds(lambda: a @ a)


def test_validation_share_formula_matches_the_cost_model_behind_p():
    # P = 2,100 was chosen so that a validation image costing 1/3 of a training image keeps the share <= 5%
    assert overhead.share(1 / 3, 19_867, 2_100, 64) == pytest.approx(19_867 / (3 * 2_100 * 64))
    assert overhead.share(1 / 3) <= overhead.GOAL


def test_step_time_extrapolation_is_the_line_through_two_batches():
    assert step_time_cpu.extrapolate(2.0, 3.0, 4, 8, 64) == pytest.approx(3.0 + 0.25 * 56)


def test_the_trainer_step_used_by_the_benchmarks_runs_and_times_the_optimizer():
    torch.set_num_threads(1)
    trainer, data = step_time_cpu.make_trainer("DMM-CNN", 2, (64, 52), "resnet-small")
    seconds: list[float] = []
    before = [p.detach().clone() for p in trainer.model.parameters()]
    step_time_cpu.step_function(trainer, data, seconds)()
    assert len(seconds) == 1 and seconds[0] >= 0
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))


def _suite_json(preset: str, timings: dict[str, float], **extra: object) -> None:
    from dmmlib.suite import paths

    folder = paths.executed_dir(preset)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.json").write_text(json.dumps({"preset": preset, "notebooks": timings, **extra}))


def test_notebook_suite_reports_absent_partial_and_complete_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from dmmlib.suite import manifest

    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))
    absent = notebook_suite.run("teach")
    assert absent["met"] is None and "not measured: run make run PRESET=teach" in absent["note"]
    names = [entry.file for entry in manifest.load()]
    _suite_json("teach", {names[0]: 5.0})
    partial = notebook_suite.run("teach")
    assert partial["met"] is None and "partial run" in partial["note"]
    _suite_json("smoke", {name: 30.0 + 40.0 * (k == 1) for k, name in enumerate(names)})
    smoke = notebook_suite.run("smoke")
    assert smoke["ratio"] == 70.0 and smoke["met"] is False and names[1] in smoke["note"]


def test_the_teach_suites_time_includes_the_training_before_the_notebooks(tmp_path: Path, monkeypatch):
    from dmmlib.suite import guide, manifest

    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))
    _suite_json("teach", {entry.file: 100.0 for entry in manifest.load()}, **{guide.TRAINED_BEFORE: {"seconds": 900.0}})
    teach = notebook_suite.run("teach")
    assert teach["ratio"] == 100.0 * len(manifest.load()) + 900.0
    assert "900 s of the whole were training before the notebooks" in teach["note"]


def test_run_all_writes_the_summary_and_records_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(run_all.benchmarks.__globals__, "benchmarks",
                        lambda quick: {"notebooks_smoke": lambda: notebook_suite.run("smoke"), "broken": broken})  # fmt: skip
    out = tmp_path / "bench" / "summary.json"
    summary = run_all.run(None, quick=True, out=out)
    saved = json.loads(out.read_text())
    assert saved["benchmarks"]["broken"]["error"] == "RuntimeError: boom"
    assert saved["benchmarks"]["notebooks_smoke"]["met"] is None
    assert set(summary["benchmarks"]) == {"notebooks_smoke", "broken"}
    assert not list(out.parent.glob(".*.tmp"))


# --- the GPU check --------------------------------------------------------------------------------------------


def test_gpu_check_without_cuda_says_so_and_exits_3(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == gpu_check.NO_CUDA_EXIT == 3
    assert gpu_check.NO_CUDA_MESSAGE in capsys.readouterr().out


def test_gpu_check_logic_runs_on_the_cpu_with_a_tiny_model(tmp_path: Path, capsys):
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--device", "cpu", "--tiny", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["images_per_second"]) == {"Baseline", "DMM-CNN"}
    assert all(rate > 0 for rate in result["images_per_second"].values())
    update = result["update"]
    assert update["V"] == 19_867 and update["seconds_at_V"] == pytest.approx(
        update["validate_seconds"] * 19_867 / update["images"], rel=1e-2, abs=0.01
    )
    assert result["step_ratio"]["met"] == (result["step_ratio"]["value"] <= 1.10)
    assert "step time DMM-CNN / Baseline" in capsys.readouterr().out


def test_parallel_training_figure_is_the_median_of_per_round_side_by_side_over_sequential_ratios():
    from bench import parallel_training

    times = {"side by side": [8.0, 8.5, 9.0], "one after another": [10.0, 10.0, 10.0]}
    entry = parallel_training.entry(times, runs=2, steps=60, cores=2)
    assert entry["ratio"] == pytest.approx(0.85) and entry["goal"] == "<= 0.85" and entry["met"] is True
    assert entry["raw"]["round_ratios"] == [0.8, 0.85, 0.9]


def test_sweep_parallel_figure_is_the_median_of_per_round_wall_time_ratios():
    from bench import sweep_parallel

    entry = sweep_parallel.entry({2: [6.0, 7.0, 9.0], 1: [10.0, 10.0, 10.0]}, points=4, cores=2)
    assert entry["ratio"] == pytest.approx(0.7) and entry["goal"] == "<= 0.65" and entry["met"] is False
    assert entry["raw"]["round_ratios"] == [0.6, 0.7, 0.9]
