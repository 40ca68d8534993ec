"""Where and how tensors compute: the device, bf16 autocast, channels-last memory, and seeding.

One place for what training (:mod:`dmmlib.train`), validation (:mod:`dmmlib.validation`) and prediction share, so a
training step never reaches into validation for them. None of this is in the paper; every choice is ours and
configurable through :class:`dmmlib.config.TrainConfig` (``device``, ``amp``, ``channels_last``, ``seed``).
"""

from __future__ import annotations

import contextlib
import functools
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else the CPU; anything else as torch reads it."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


#: CPU flags that give bf16 arithmetic in hardware (Linux names: Intel AMX, AVX512-BF16)
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def native_bf16_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The flags of :data:`NATIVE_BF16_FLAGS` this CPU reports (empty where none, or where the file is missing:
    macOS and Windows have no ``/proc/cpuinfo``, so they compute in float32 under ``amp="native"``)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return [flag for flag in NATIVE_BF16_FLAGS if flag in flags]


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this machine's CPU does bf16 arithmetic in hardware (read once per process)."""
    return bool(native_bf16_flags())


def uses_bf16(device: torch.device, flag: str | bool = "auto") -> bool:
    """Whether a run with ``amp = flag`` computes under bf16 autocast on ``device`` (see :func:`autocast`)."""
    if flag == "auto":
        return device.type == "cuda"
    if flag == "native":
        return device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16())
    return bool(flag)


def autocast(device: torch.device, amp: str | bool = "auto") -> contextlib.AbstractContextManager:
    """bf16 autocast: on CUDA for ``amp="auto"``; on CUDA and on a CPU with native bf16 arithmetic for
    ``"native"`` (where a CPU without it would emulate bf16, slower than float32); always for True; never for
    False."""
    if uses_bf16(device, amp):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def use_channels_last(device: torch.device, flag: str | bool = "auto") -> bool:
    """Channels-last memory: "auto" turns it on everywhere. On CUDA it feeds the tensor cores under autocast; on
    the CPU, oneDNN's convolutions ran a training step of the teach preset's model 1.3-1.4x faster with it
    (measured side by side here: 452 -> 318 ms with one thread, 214 -> 149 ms with two)."""
    return True if flag == "auto" else bool(flag)


def move_images(images: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """A batch of images on ``device``, in channels-last memory when asked."""
    images = images.to(device, non_blocking=True)
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread, restoring the previous count after.

    Small work (a toy model, a tiny training run) runs fastest on one thread, and on a shared 2-core machine a
    second intra-op thread competes with other processes and spins at every barrier: the tiny training run of the
    tests measured 8.9 s with one thread and 71 s with two under load.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
