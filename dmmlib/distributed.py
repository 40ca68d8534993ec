"""Data-parallel training with ``torchrun`` (DDP): process-group set-up, the per-rank share of each batch, and
the all-reduce of validation sums.

One process per GPU (or per CPU process with the gloo backend). Launch through ``torchrun``, which sets
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``::

    torchrun --standalone --nproc_per_node=4 -m dmmlib.suite.train_cli --preset paper --data-dir /data/celeba

How the single-process run is kept:

* ``TrainConfig.batch_size`` stays the *global* batch (the paper's 64). Iteration ``k`` of epoch ``e`` covers the
  very images the single-process run uses at iteration ``k`` (the ``(seed, e)`` permutation of
  :class:`dmmlib.train.EpochSampler`); rank ``r`` takes the ``r``-th of ``W`` near-equal consecutive pieces of that
  batch (:func:`rank_batches`). Each rank scales its loss by ``W * n_r / n`` so that DDP's gradient average is the
  gradient of the global batch mean. A rank whose piece is empty (a last batch smaller than ``W``) computes one
  image with weight 0, which keeps the ranks in step. BatchNorm statistics remain per rank (as in any DDP run),
  so training steps differ slightly from a single process.
* Validation (Algorithm 1's whole-set pass) keeps the single-process batches and deals them out round-robin;
  each batch's sums are computed exactly as in one process, summed over ranks (every other rank adds zeros) and
  accumulated in batch order (:func:`reduce_batch_sums`). So Eq. 2 losses, FP/FN counts, and hence lambda (Eq. 4)
  and tau (Eq. 6), are bit-identical on every rank and equal to a single-process pass over the same weights.
* Only rank 0 writes checkpoints and the history; a resumed run's checkpoint is read by rank 0 and broadcast.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

__all__ = [
    "DistInfo", "all_reduce_sum", "barrier", "broadcast_object", "cleanup", "info", "init_from_env",
    "is_main", "min_non_negative", "rank_batches", "reduce_batch_sums", "validation_batches",
]  # fmt: skip


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size`` processes, ``local_rank`` on its machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value != "" else default
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be an integer (torchrun sets it)") from None


def init_from_env(device: str = "auto", timeout_minutes: float = 30.0) -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment; a no-op for a single process.

    Backend: NCCL when ``device`` is (or "auto" resolves to) CUDA, gloo on the CPU. On CUDA each process uses
    GPU ``LOCAL_RANK``. Returns this process's :class:`DistInfo`; calling it again returns the same.
    """
    if dist.is_available() and dist.is_initialized():
        return info()
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return DistInfo()
    rank, local = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(name)]
    if missing:
        raise RuntimeError(
            f"WORLD_SIZE={world} but {', '.join(missing)} is not set: launch with torchrun "
            "(torchrun --nproc_per_node=N -m dmmlib.suite.train_cli ...), which sets them"
        )
    cuda = torch.cuda.is_available() if device == "auto" else str(device).startswith("cuda")
    if cuda:
        if local >= torch.cuda.device_count():
            raise RuntimeError(
                f"LOCAL_RANK={local} but this machine has {torch.cuda.device_count()} GPUs: "
                "lower --nproc_per_node to the number of GPUs"
            )
        torch.cuda.set_device(local)
    dist.init_process_group(
        backend="nccl" if cuda else "gloo", rank=rank, world_size=world,
        timeout=datetime.timedelta(minutes=timeout_minutes),
    )  # fmt: skip
    return DistInfo(rank, world, local)


def info() -> DistInfo:
    """This process's rank and world size (rank 0 of 1 outside a process group)."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistInfo()
    return DistInfo(dist.get_rank(), dist.get_world_size(), _env_int("LOCAL_RANK", 0))


def is_main() -> bool:
    """True on rank 0 (and in a single process): the process that writes files."""
    return info().is_main


def cleanup() -> None:
    """Leave the process group (if any)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if info().enabled:
        dist.barrier()


_T = TypeVar("_T")


def broadcast_object(obj: _T, src: int = 0) -> _T:
    """``obj`` of rank ``src`` on every rank (unchanged in a single process)."""
    if not info().enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def _backend_device(tensor: torch.Tensor) -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of ``tensor`` over ranks (a new tensor on ``tensor``'s device)."""
    if not info().enabled:
        return tensor.clone()
    work = tensor.detach().to(_backend_device(tensor), copy=True)
    dist.all_reduce(work, op=dist.ReduceOp.SUM)
    return work.to(tensor.device)


def min_non_negative(value: torch.Tensor) -> torch.Tensor:
    """The smallest non-negative value over ranks, or -1 when every rank holds a negative one (a "none")."""
    if not info().enabled:
        return value
    big = torch.iinfo(torch.int64).max
    work = torch.where(value < 0, big, value).to(_backend_device(value), torch.int64)
    dist.all_reduce(work, op=dist.ReduceOp.MIN)
    return torch.where(work == big, -1, work).to(value.device)


# --------------------------------------------------------------------------------------- who computes what
def rank_batches(
    order: list[int], batch_size: int, rank: int, world_size: int
) -> list[tuple[list[int], float]]:
    """Rank ``rank``'s piece of every global batch of ``order``, with the factor its loss is scaled by.

    ``order`` is the single-process visiting order (batches of ``batch_size``, the last one partial). Each batch
    is cut into ``world_size`` consecutive pieces whose sizes differ by at most one; piece ``r`` goes to rank
    ``r`` with factor ``world_size * len(piece) / len(batch)``. An empty piece becomes the batch's last image
    with factor 0.0. In a single process the pieces are the batches, each with factor 1.0.
    """
    if batch_size < 1 or world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank_batches: need batch_size >= 1 and 0 <= rank < world_size, got "
                         f"{batch_size}, {rank}, {world_size}")  # fmt: skip
    out: list[tuple[list[int], float]] = []
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        cuts = [len(batch) * k // world_size for k in range(world_size + 1)]
        piece = batch[cuts[rank] : cuts[rank + 1]]
        if piece:
            out.append((piece, world_size * len(piece) / len(batch)))
        else:
            out.append((batch[-1:], 0.0))
    return out


def validation_batches(num_samples: int, batch_size: int, rank: int, world_size: int) -> list[list[int]]:
    """The single-process validation batches (consecutive, ``batch_size`` each) that rank ``rank`` computes:
    batches ``rank``, ``rank + world_size``, ... (round-robin, so the ranks' shares differ by at most one)."""
    starts = range(0, num_samples, batch_size)
    return [list(range(s, min(s + batch_size, num_samples))) for b, s in enumerate(starts) if b % world_size == rank]


def reduce_batch_sums(per_batch: torch.Tensor) -> torch.Tensor:
    """Sum ``per_batch`` (one row per single-process validation batch; zeros in the rows another rank
    computed) over ranks, then accumulate the rows in batch order, exactly as one process adds batch after
    batch. Returns the total on the CPU; identical on every rank and to the single-process total."""
    rows = all_reduce_sum(per_batch).cpu()
    total = torch.zeros(rows.shape[1:], dtype=rows.dtype)
    for row in rows:
        total += row
    return total
