"""Where a run computes in bf16: ``amp="auto"`` on CUDA only, ``"native"`` also on a CPU whose hardware does
bf16 arithmetic, True and False always and never."""

from __future__ import annotations

import pytest
import torch

from dmmlib import device
from dmmlib.config import TrainConfig

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.fixture
def native_cpu(monkeypatch):
    def set_native(value: bool) -> None:
        monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: value)

    return set_native


@pytest.mark.parametrize("native", [True, False])
def test_auto_computes_in_float32_on_any_cpu(native_cpu, native):
    native_cpu(native)
    assert device.uses_bf16(CPU, "auto") is False and device.uses_bf16(CUDA, "auto") is True


def test_native_uses_bf16_on_a_cpu_with_bf16_hardware(native_cpu):
    native_cpu(True)
    assert device.uses_bf16(CPU, "native") is True
    assert isinstance(device.autocast(CPU, "native"), torch.autocast)


def test_native_stays_in_float32_on_a_cpu_without_it(native_cpu):
    native_cpu(False)
    assert device.uses_bf16(CPU, "native") is False and device.uses_bf16(CUDA, "native") is True
    assert not isinstance(device.autocast(CPU, "native"), torch.autocast)


@pytest.mark.parametrize("native", [True, False])
def test_true_and_false_ignore_the_hardware(native_cpu, native):
    native_cpu(native)
    assert device.uses_bf16(CPU, True) is True and device.uses_bf16(CPU, False) is False


def test_native_flags_are_read_from_the_cpu_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n")
    assert device.native_bf16_flags(cpuinfo) == ["amx_bf16"]
    assert device.native_bf16_flags(tmp_path / "missing") == []


def test_an_unknown_amp_setting_is_refused():
    with pytest.raises(ValueError, match="TrainConfig.amp must be"):
        TrainConfig(amp="fast")
