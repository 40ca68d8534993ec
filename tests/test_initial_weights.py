"""The trunk's initial weights: the paper preset starts from torchvision's ImageNet weights (IMAGENET1K_V1), a local
file is checked against the SHA-256 prefix torchvision publishes in its name, offline without the file the error
names both ways out, and ``DMM_WEIGHTS`` is the one switch. Nothing here downloads: the download function is
replaced, torch's hub cache is a temporary folder, and the weights files are written by the tests."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import pytest
import torch
import torchvision

import dmmlib.model
from dmmlib.config import TrainConfig
from dmmlib.model import (
    IMAGENET_WEIGHTS,
    SmallResNet,
    build_model,
    check_published_hash,
    describe_initialisation,
    initialisation_key,
    published_hash_prefix,
)
from dmmlib.suite import pipeline, presets, session, weights
from dmmlib.train import train

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import TinyFaces, one_thread, tiny_config  # noqa: E402

SMALL = dict(backbone="resnet-small", objective_hidden=(16,), subjective_hidden=(32, 16), landmark_hidden=(16,))
#: SHA-256 of the three bytes b"abc" (FIPS 180-2, appendix B.1)
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# --- which weights, which hash ---------------------------------------------------------------------------------
def test_imagenet_means_torchvision_resnet50_v1_whose_name_carries_its_hash_prefix():
    v1 = IMAGENET_WEIGHTS["resnet50"]
    assert v1 is torchvision.models.ResNet50_Weights.IMAGENET1K_V1
    assert v1.url.endswith("/resnet50-0676ba61.pth")
    assert published_hash_prefix("resnet50-0676ba61.pth") == "0676ba61"
    assert published_hash_prefix("resnet50-11ad3fa6.pth") == "11ad3fa6", "V2, published too, is checked as well"


def test_only_names_torchvision_publishes_carry_a_hash():
    assert published_hash_prefix("my-weights-cafe.pth") is None  # ends in hex digits, but torchvision has no such file
    assert published_hash_prefix("resnet50-0676ba61 (1).pth") is None


def test_the_paper_preset_starts_from_imagenet_and_the_small_presets_from_scratch():
    assert TrainConfig(**presets.PRESETS["paper"].train).pretrained == "imagenet"
    assert TrainConfig(**presets.PRESETS["smoke"].train).pretrained is False
    assert TrainConfig(**presets.PRESETS["teach"].train).pretrained is False


def test_a_file_named_as_published_must_match_the_hash_prefix_in_its_name(tmp_path, monkeypatch):
    good = tmp_path / "resnet18-ba7816bf.pth"
    good.write_bytes(b"abc")
    assert hashlib.sha256(b"abc").hexdigest() == SHA256_ABC
    fake = types.SimpleNamespace(url=f"https://download.invalid/{good.name}")
    monkeypatch.setattr(dmmlib.model, "published_files", lambda: {good.name: fake})
    assert check_published_hash(good) is True  # SHA256_ABC starts with ba7816bf

    monkeypatch.undo()
    damaged = tmp_path / "resnet50-0676ba61.pth"
    damaged.write_bytes(b"abc")  # a partial download, say
    with pytest.raises(ValueError, match=rf"{damaged}: its SHA-256 is {SHA256_ABC}, but .* starts with 0676ba61"):
        check_published_hash(damaged)
    other = tmp_path / "mine.pth"
    other.write_bytes(b"abc")
    assert check_published_hash(other) is False, "no published hash: nothing to check"


# --- the ImageNet path: hub cache, download, offline ------------------------------------------------------------
@pytest.fixture
def fake_imagenet(tmp_path, monkeypatch):
    """A published-weights entry for the small trunk: its state dict written here, named ``resnet-small-<sha256
    prefix>.pth`` as torchvision names its files; torch's hub cache is an empty temporary folder."""
    torch.manual_seed(7)
    state = SmallResNet().state_dict()
    blob = tmp_path / "blob.pth"
    torch.save(state, blob)
    name = f"resnet-small-{hashlib.sha256(blob.read_bytes()).hexdigest()[:8]}.pth"
    entry = types.SimpleNamespace(url=f"https://download.invalid/{name}")
    monkeypatch.setitem(IMAGENET_WEIGHTS, "resnet-small", entry)
    monkeypatch.setattr(dmmlib.model, "published_files", lambda: {name: entry})
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return types.SimpleNamespace(state=state, blob=blob, name=name, cached=tmp_path / "hub" / "checkpoints" / name)


def offline(url, target, hash_prefix):
    raise OSError("network unreachable")


def test_offline_without_the_file_the_error_names_both_ways_out(fake_imagenet, monkeypatch):
    monkeypatch.setattr(dmmlib.model, "_download", offline)
    with pytest.raises(RuntimeError) as error:
        build_model(pretrained="imagenet", **SMALL)
    message = str(error.value)
    assert "network unreachable" in message
    assert f"put it in torch's hub cache as {fake_imagenet.cached}" in message
    assert f"WEIGHTS=/path/to/{fake_imagenet.name} for make paper" in message
    assert f"DMM_WEIGHTS=/path/to/{fake_imagenet.name}" in message and "--weights" in message


def test_imagenet_weights_in_the_hub_cache_load_without_a_download(fake_imagenet, monkeypatch):
    monkeypatch.setattr(dmmlib.model, "_download", offline)
    fake_imagenet.cached.parent.mkdir(parents=True)
    fake_imagenet.cached.write_bytes(fake_imagenet.blob.read_bytes())
    model = build_model(pretrained="imagenet", **SMALL)
    assert torch.equal(model.trunk.layer4.conv2.weight, fake_imagenet.state["layer4.conv2.weight"])


def test_a_damaged_file_in_the_hub_cache_is_named(fake_imagenet):
    fake_imagenet.cached.parent.mkdir(parents=True)
    fake_imagenet.cached.write_bytes(fake_imagenet.blob.read_bytes()[:-100])  # cut short
    with pytest.raises(ValueError, match=rf"{fake_imagenet.cached}: its SHA-256 is"):
        build_model(pretrained="imagenet", **SMALL)


def test_the_download_goes_to_the_hub_cache_with_the_published_hash_prefix(fake_imagenet, monkeypatch):
    calls = []

    def download(url, target, hash_prefix):
        calls.append((url, target, hash_prefix))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fake_imagenet.blob.read_bytes())

    monkeypatch.setattr(dmmlib.model, "_download", download)
    build_model(pretrained="imagenet", **SMALL)
    assert calls == [(IMAGENET_WEIGHTS["resnet-small"].url, fake_imagenet.cached, fake_imagenet.name[13:21])]
    build_model(pretrained="imagenet", **SMALL)
    assert len(calls) == 1, "the second model finds the file in the cache"


def test_a_local_copy_named_as_published_is_checked_and_loaded(fake_imagenet, tmp_path):
    local = tmp_path / "elsewhere" / fake_imagenet.name
    local.parent.mkdir()
    local.write_bytes(fake_imagenet.blob.read_bytes())
    model = build_model(pretrained=local, **SMALL)
    assert torch.equal(model.trunk.conv1.weight, fake_imagenet.state["conv1.weight"])
    local.write_bytes(b"abc")
    with pytest.raises(ValueError, match="SHA-256"):
        build_model(pretrained=local, **SMALL)


# --- DMM_WEIGHTS: one switch for notebooks, make paper and the training CLI --------------------------------------
def test_dmm_weights_values(tmp_path):
    assert weights.parse("imagenet") == "imagenet"
    assert weights.parse("none") is False and weights.parse("scratch") is False
    (tmp_path / "w.pth").write_bytes(b"abc")
    assert weights.parse(str(tmp_path / "w.pth")) == str((tmp_path / "w.pth").resolve())
    with pytest.raises(ValueError, match=r"DMM_WEIGHTS='/no/such.pth': no such file"):
        weights.parse("/no/such.pth")


def test_dmm_weights_reaches_the_config_and_a_published_copy_shares_the_run_name(tmp_path, monkeypatch):
    data = tmp_path / "celeba"
    data.mkdir()
    monkeypatch.setenv("DMM_RUNS_DIR", str(tmp_path / "runs"))
    ctx = session.start("t", PRESET="paper", DATA_DIR=str(data))
    monkeypatch.delenv(weights.ENV, raising=False)
    downloaded = pipeline.train_config(ctx)
    assert downloaded.pretrained == "imagenet"
    copy = tmp_path / "resnet50-0676ba61.pth"
    copy.write_bytes(b"abc")  # only its name matters for the run name; it is checked when it loads
    monkeypatch.setenv(weights.ENV, str(copy))
    local = pipeline.train_config(ctx)
    assert local.pretrained == str(copy.resolve())
    assert pipeline.run_name(local) == pipeline.run_name(downloaded), "the same weights, the same run"
    monkeypatch.setenv(weights.ENV, "none")
    scratch = pipeline.train_config(ctx)
    assert scratch.pretrained is False and pipeline.run_name(scratch) != pipeline.run_name(downloaded)


def test_other_files_are_told_apart_by_content_not_place(tmp_path):
    a, b, c = tmp_path / "a.pth", tmp_path / "b.pth", tmp_path / "c.pth"
    a.write_bytes(b"abc")
    b.write_bytes(b"abc")
    c.write_bytes(b"abd")
    assert initialisation_key(a, "resnet50") == initialisation_key(b, "resnet50") == f"sha256:{SHA256_ABC[:16]}"
    assert initialisation_key(c, "resnet50") != initialisation_key(a, "resnet50")
    assert initialisation_key(False, "resnet50") is False, "runs from scratch keep their names"


def test_the_description_says_which_weights(tmp_path):
    assert "ResNet50_Weights.IMAGENET1K_V1" in describe_initialisation("imagenet", "resnet50")
    assert "from scratch" in describe_initialisation(False)
    assert "IMAGENET1K_V2 from the local file" in describe_initialisation(tmp_path / "resnet50-11ad3fa6.pth")
    assert "no published hash" in describe_initialisation(tmp_path / "mine.pth")


# --- training: a fresh run loads them, a resumed run does not need them ------------------------------------------
def test_a_fresh_run_starts_from_the_file_and_a_resumed_run_needs_no_file(tmp_path):
    torch.manual_seed(3)
    trunk = SmallResNet()
    torch.save(trunk.state_dict(), tmp_path / "trunk.pth")
    cfg = tiny_config(pretrained=str(tmp_path / "trunk.pth"), lr=0.0, weight_decay=0.0, momentum=0.0)
    with one_thread():
        first = train(cfg, TinyFaces(32), TinyFaces(16, seed=1), tmp_path / "run", max_iterations=1, progress=False)
        assert torch.equal(first.model.trunk.conv1.weight, trunk.conv1.weight), "lr 0: still the file's weights"
        (tmp_path / "trunk.pth").unlink()  # offline, file gone: the checkpoint has the weights
        again = train(cfg, TinyFaces(32), TinyFaces(16, seed=1), tmp_path / "run", max_iterations=2, progress=False)
    assert again.iterations == 2
