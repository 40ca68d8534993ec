"""A NaN or inf loss stops training naming the iteration and keeps the last good checkpoint; checkpoints load
with ``weights_only=True`` and anything else is refused with a message naming the file."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest
import torch

import dmmlib.checkpoint
from dmmlib.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dmmlib.train import NonFiniteLossError, train

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402

BATCH, BAD_ITERATION, INTERVAL = 16, 7, 3


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


class TurnsBad(TinyFaces):
    """Training data whose landmark targets become ``value`` (NaN or inf) from the ``after``-th read on."""

    def __init__(self, n: int, after: int, value: float) -> None:
        super().__init__(n)
        self.after, self.value, self.reads = after, value, 0

    def __getitem__(self, i):
        item = super().__getitem__(i)
        self.reads += 1
        if self.reads > self.after:
            item["landmarks"] = torch.full_like(item["landmarks"], self.value)
        return item


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_a_non_finite_loss_stops_naming_the_iteration_and_keeps_the_last_good_checkpoint(tmp_path, value):
    data = TurnsBad(64, after=BAD_ITERATION * BATCH, value=value)
    cfg = tiny_config(batch_size=BATCH, checkpoint_interval=INTERVAL, update_interval=100)
    with pytest.raises(NonFiniteLossError, match=rf"NaN or inf at iteration {BAD_ITERATION}\b.*last good checkpoint"):
        train(cfg, data, TinyFaces(16, seed=1), tmp_path, max_iterations=20, progress=False)
    kept = load_checkpoint(tmp_path)
    assert kept["state"]["iteration"] == 6  # the last multiple of 3 before iteration 7
    assert all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())


def make_checkpoint(path: Path) -> Path:
    state = {"format": 1, "config": {}, "model": {"w": torch.ones(3)}, "optimizer": {}, "state": {}}
    return save_checkpoint(path, state)


class Payload:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def write_pickled_object(path: Path) -> None:
    torch.save({"format": 1, "model": Payload()}, path)


def write_plain_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps(Payload()))


def write_text(path: Path) -> None:
    path.write_text("epoch,loss\n1,0.5\n")


def write_truncated(path: Path) -> None:
    make_checkpoint(path)
    path.write_bytes(path.read_bytes()[:200])


def write_empty(path: Path) -> None:
    path.write_bytes(b"")


def write_bare_state_dict(path: Path) -> None:
    torch.save({"conv.weight": torch.zeros(2)}, path)


@pytest.mark.parametrize(
    "make, pattern",
    [
        (write_pickled_object, r"refused to load.*pickled Python objects.*arbitrary code"),
        (write_plain_pickle, r"refused to load"),
        (write_text, r"not a readable PyTorch checkpoint.*truncated.*or not a checkpoint"),
        (write_truncated, r"not a readable PyTorch checkpoint \(200 bytes"),
        (write_empty, r"not a readable PyTorch checkpoint \(0 bytes"),
        (write_bare_state_dict, r"not a dmmlib training checkpoint.*conv.weight"),
    ],
    ids=["pickled-object", "plain-pickle", "text-file", "truncated", "empty", "bare-state-dict"],
)
def test_anything_but_a_checkpoint_is_refused_naming_the_file(tmp_path, make, pattern):
    path = tmp_path / "suspect.pt"
    make(path)
    with pytest.raises(CheckpointError, match=pattern) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_checkpoints_are_opened_with_weights_only(tmp_path, monkeypatch):
    calls = []
    real_load = torch.load
    monkeypatch.setattr(dmmlib.checkpoint.torch, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    load_checkpoint(make_checkpoint(tmp_path / "checkpoint.pt"))
    assert calls == [{"map_location": "cpu", "weights_only": True}]


def test_a_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "checkpoint.pt")):
        load_checkpoint(tmp_path)


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = make_checkpoint(tmp_path / "checkpoint.pt")
    before = path.read_bytes()

    def fail_after_writing_a_little(obj, handle):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(dmmlib.checkpoint.torch, "save", fail_after_writing_a_little)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"format": 1})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
