"""Crash safety: a training process killed with SIGKILL after it wrote a checkpoint, then run again with the same
command, ends with exactly the weights, lambda, tau and history of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from dmmlib.checkpoint import load_checkpoint
from dmmlib.train import train

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402

TOTAL = 60  # 96 images / batch 16 = 6 iterations per epoch; P = 10; a checkpoint every 4 iterations

SCRIPT = """
import sys, torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from core_helpers import TinyFaces, tiny_config
from dmmlib.train import train
train(tiny_config(update_interval=10, checkpoint_interval=4), TinyFaces(96), TinyFaces(32, seed=1), {run_dir!r},
      max_iterations={total}, progress=False)
"""


def run_uninterrupted(run_dir: Path) -> None:
    """The same run as SCRIPT, in this process (one thread, like the script)."""
    with one_thread():
        train(tiny_config(update_interval=10, checkpoint_interval=4), TinyFaces(96), TinyFaces(32, seed=1), run_dir,
              max_iterations=TOTAL, progress=False)  # fmt: skip


def command(run_dir: Path) -> list[str]:
    script = SCRIPT.format(tests=str(TESTS), run_dir=str(run_dir), total=TOTAL)
    return [sys.executable, "-c", textwrap.dedent(script)]


def environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def without_timings(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in entry.items() if k != "val_seconds"} for entry in history]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("kill")
    killed_dir, straight_dir = base / "killed", base / "straight"
    process = subprocess.Popen(command(killed_dir), env=environment(), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (killed_dir / "checkpoint.pt").exists():
        assert process.poll() is None, f"training ended before its first checkpoint: {process.stderr.read()}"
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill = load_checkpoint(killed_dir)["state"]["iteration"]
    subprocess.run(command(killed_dir), env=environment(), check=True)  # the same command, resumed
    run_uninterrupted(straight_dir)
    return {"returncode": process.returncode, "at_kill": at_kill,
            "killed": killed_dir, "straight": straight_dir}  # fmt: skip


def test_the_first_process_was_killed_mid_run(runs):
    assert runs["returncode"] == -signal.SIGKILL and 0 < runs["at_kill"] < TOTAL


def test_the_resumed_run_ends_with_the_uninterrupted_weights(runs):
    resumed, straight = load_checkpoint(runs["killed"]), load_checkpoint(runs["straight"])
    assert resumed["state"]["iteration"] == straight["state"]["iteration"] == TOTAL
    assert resumed["model"].keys() == straight["model"].keys()
    for name, value in straight["model"].items():
        assert torch.equal(resumed["model"][name], value), name


def test_the_resumed_run_ends_with_the_uninterrupted_lambda_and_tau(runs):
    resumed, straight = load_checkpoint(runs["killed"]), load_checkpoint(runs["straight"])
    assert torch.equal(resumed["weighting"]["weights"], straight["weighting"]["weights"])
    assert torch.equal(resumed["thresholds"]["tau"], straight["thresholds"]["tau"])


def test_the_resumed_run_ends_with_the_uninterrupted_history(runs):
    resumed = json.loads((runs["killed"] / "history.json").read_text())
    straight = json.loads((runs["straight"] / "history.json").read_text())
    assert len(straight) == TOTAL // 10
    assert without_timings(resumed) == without_timings(straight)


def test_no_temporary_files_are_left_behind(runs):
    assert sorted(p.name for p in runs["killed"].iterdir()) == ["checkpoint.pt", "config.json", "history.json"]
