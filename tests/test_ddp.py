"""DDP with torchrun semantics on the CPU (gloo, 2 processes): each rank's share of the single-process batches,
validation statistics (hence lambda and tau) bit-identical across ranks and to one process, and a short DDP
training run in which only rank 0 writes files."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from dmmlib import distributed
from dmmlib.distributed import rank_batches, validation_batches
from dmmlib.model import build_model_from_config
from dmmlib.thresholds import make_thresholds
from dmmlib.train import train
from dmmlib.validation import validate
from dmmlib.weighting import make_weighting

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402

WORLD = 2
VAL_IMAGES, VAL_BATCH = 37, 8  # 5 validation batches: neither the images nor the batches divide by 2
TRAIN_IMAGES = 33  # batches of 16: 16, 16, 1 -> rank 0's piece of the last batch is empty


def two_validation_passes() -> dict[str, torch.Tensor]:
    """Eq. 2 / FP / FN of two passes (weights change between them), then lambda (Eq. 4) and tau (Eq. 6)."""
    cfg = tiny_config(val_batch_size=VAL_BATCH)
    torch.manual_seed(0)
    model = build_model_from_config(cfg)
    data = TinyFaces(VAL_IMAGES, seed=1)
    weighting = make_weighting("dynamic", 40, cfg)
    thresholds = make_thresholds("adaptive", 40, cfg.gamma, cfg.initial_tau)
    out: dict[str, torch.Tensor] = {}
    for k in range(2):
        val = validate(model, data, cfg, thresholds.tau)
        thresholds.update(val.false_positives, val.false_negatives, val.num_samples, epoch=1)
        weighting.update(val.attr_losses)
        out.update({f"losses{k}": val.attr_losses, f"fp{k}": val.false_positives, f"fn{k}": val.false_negatives,
                    f"landmark{k}": torch.tensor(val.landmark_loss), f"count{k}": torch.tensor(val.num_samples)})
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.mul_(0.9).add_(0.01)
    out["lambda"], out["tau"] = weighting.weights.clone(), thresholds.tau.clone()
    return out


def _worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD))  # fmt: skip
    torch.set_num_threads(1)
    where = distributed.init_from_env("cpu")
    try:
        result = {"validation": two_validation_passes()}
        run = train(tiny_config(update_interval=2, batch_size=16), TinyFaces(TRAIN_IMAGES), TinyFaces(21, seed=1),
                    Path(out_dir) / f"run-rank{rank}", max_iterations=5, progress=False)  # fmt: skip
        result["train"] = {"lambda": run.weighting.weights, "tau": run.thresholds.tau,
                           "model": run.model.state_dict(), "history_len": torch.tensor(len(run.history))}
        torch.save({"rank": where.rank, "world": where.world_size, **result}, Path(out_dir) / f"rank{rank}.pt")
    finally:
        distributed.cleanup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ddp(tmp_path_factory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(_free_port(), str(out)), nprocs=WORLD, join=True)
    return out, [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]


@pytest.fixture(scope="module")
def single() -> dict[str, torch.Tensor]:
    with one_thread():
        return two_validation_passes()


def test_each_train_batch_is_the_single_process_batch_cut_into_rank_pieces():
    order = list(range(100, 137))  # 37 images, batches of 16: 16, 16, 5
    for world in (2, 3):
        per_rank = [rank_batches(order, 16, r, world) for r in range(world)]
        for step in range(3):
            joined = [i for r in range(world) for i in per_rank[r][step][0] if per_rank[r][step][1] > 0]
            assert joined == order[16 * step : 16 * (step + 1)]


def test_the_rank_factors_make_the_mean_of_rank_losses_the_global_batch_mean():
    order = list(range(37))
    for world in (2, 3, 5):
        pieces = [rank_batches(order, 16, r, world) for r in range(world)]
        for step in range(3):
            batch = order[16 * step : 16 * (step + 1)]
            # DDP averages gradients over ranks: sum_r factor_r * mean(piece_r) / world must be mean(batch)
            mean = sum(f * sum(p) / len(p) for p, f in (pieces[r][step] for r in range(world))) / world
            assert mean == pytest.approx(sum(batch) / len(batch))


def test_an_empty_piece_becomes_one_image_with_factor_zero():
    pieces = rank_batches(list(range(33)), 16, rank=0, world_size=2)
    assert pieces[-1] == ([32], 0.0)


def test_validation_batches_are_dealt_round_robin_and_cover_every_image_once():
    shares = [validation_batches(VAL_IMAGES, VAL_BATCH, r, WORLD) for r in range(WORLD)]
    assert [b[0] for b in shares[0]] == [0, 16, 32] and [b[0] for b in shares[1]] == [8, 24]
    assert sorted(i for share in shares for b in share for i in b) == list(range(VAL_IMAGES))


def test_both_ranks_ran_in_one_process_group(ddp):
    _, results = ddp
    assert [(r["rank"], r["world"]) for r in results] == [(0, WORLD), (1, WORLD)]


def test_validation_lambda_and_tau_are_identical_on_every_rank_and_to_one_process(ddp, single):
    _, results = ddp
    for result in results:
        for name, value in single.items():
            assert torch.equal(result["validation"][name], value), name
    assert not torch.equal(single["lambda"], torch.ones(40))  # Eq. 4 really ran


def test_ddp_training_keeps_weights_lambda_and_tau_identical_across_ranks(ddp):
    _, (first, second) = ddp
    for name in ("lambda", "tau"):
        assert torch.equal(first["train"][name], second["train"][name]), name
    for name, value in first["train"]["model"].items():
        if "running" not in name and "num_batches" not in name:  # BatchNorm statistics stay per rank
            assert torch.equal(value, second["train"]["model"][name]), name
    assert int(first["train"]["history_len"]) == 3  # updates at iterations 0, 2, 4


def test_only_rank_0_writes_checkpoint_history_and_config(ddp):
    out, _ = ddp
    assert {p.name for p in (out / "run-rank0").iterdir()} >= {"checkpoint.pt", "history.json", "config.json"}
    assert list((out / "run-rank1").iterdir()) == []
