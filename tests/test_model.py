"""The Table 1 architectures: shapes, CelebA output order, input handling, weights loading, parameter count."""

import sys
from pathlib import Path

import pytest
import torch
import torchvision

import dmmlib.model
from dmmlib.attributes import PAPER_GROUPS
from dmmlib.config import TrainConfig
from dmmlib.model import build_model, build_model_from_config
from dmmlib.variants import VARIANTS, get_variant

sys.path.insert(0, str(Path(__file__).parent))
from core_helpers import one_thread  # noqa: E402

SMALL = dict(
    backbone="resnet-small", objective_hidden=(16,), subjective_hidden=(32, 16), landmark_hidden=(16,)
)

#: Table 1 of the paper, typed from FACTS section 3: (FLD, DW, AT, AG).
TABLE_1 = {
    "Baseline": (False, False, False, False),
    "DMM-FAC": (False, True, True, True),
    "DMM-EQ-FIX": (True, False, False, True),
    "DMM-EQ-AT": (True, False, True, True),
    "DMM-DW-FIX": (True, True, False, True),
    "DMM-SPP": (True, True, True, False),
    "DMM-CNN": (True, True, True, True),
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


def test_variants_are_table_1():
    as_flags = {
        name: (s.landmark_task, s.weighting == "dynamic", s.thresholds == "adaptive", s.grouping)
        for name, s in VARIANTS.items()
    }
    assert as_flags == TABLE_1


def test_unknown_variant_lists_the_valid_names():
    with pytest.raises(ValueError, match="DMM-EQ-FIX"):
        get_variant("DMM-XYZ")


@pytest.mark.parametrize("size", [(218, 178), (96, 80)])
@pytest.mark.parametrize("variant", list(TABLE_1))
def test_every_variant_runs_forward_and_backward(variant, size):
    torch.manual_seed(0)
    model = build_model(variant, num_landmarks=68, **SMALL)
    out = model(torch.rand(2, 3, *size))
    assert out.attributes.shape == (2, 40)
    has_landmarks = TABLE_1[variant][0]
    assert (out.landmarks.shape == (2, 136)) if has_landmarks else (out.landmarks is None)
    loss = out.attributes.square().sum() + (out.landmarks.square().sum() if has_landmarks else 0)
    loss.backward()
    assert model.trunk.conv1.weight.grad.abs().sum() > 0


def test_paper_dmm_cnn_has_88_7_million_parameters():
    model = build_model("DMM-CNN", backbone="resnet50", num_landmarks=72)
    count = sum(p.numel() for p in model.parameters())
    assert count == pytest.approx(88.7e6, rel=0.01)


def test_paper_branches_have_the_stated_widths():
    model = build_model("DMM-CNN", backbone="resnet-small", num_landmarks=72)
    channels = model.trunk_channels
    linear = [m for m in model.subjective_head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (14 * channels, 2048),
        (2048, 1024),
        (1024, 18),
    ]
    linear = [m for m in model.objective_head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(channels, 1024), (1024, 22)]
    linear = [m for m in model.landmark_head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(channels, 1024), (1024, 144)]


def test_trunk_channels():
    assert build_model(**SMALL).trunk_channels == 128
    assert build_model(backbone="resnet18").trunk_channels == 512


def test_dmm_spp_has_one_head_for_all_40_attributes():
    model = build_model("DMM-SPP", **SMALL)
    last = [m for m in model.attribute_head if isinstance(m, torch.nn.Linear)][-1]
    assert last.out_features == 40 and not hasattr(model, "objective_head")


def test_baseline_is_global_average_pooling_and_fc_40():
    model = build_model("Baseline", **SMALL)
    assert (model.fc.in_features, model.fc.out_features) == (128, 40) and not hasattr(model, "landmark_head")


def test_branch_outputs_are_scattered_back_into_celeba_order():
    model = build_model("DMM-CNN", **SMALL)
    for head, offset in ((model.objective_head, 1), (model.subjective_head, 101)):
        last = head[-1]
        torch.nn.init.zeros_(last.weight)
        last.bias.data = torch.arange(last.out_features, dtype=torch.float32) + offset
    out = model(torch.rand(1, 3, 64, 52)).attributes[0]
    for k, column in enumerate(PAPER_GROUPS.objective_index):
        assert out[column] == k + 1
    for k, column in enumerate(PAPER_GROUPS.subjective_index):
        assert out[column] == k + 101


def test_uint8_and_unit_float_images_give_the_same_outputs():
    model = build_model(**SMALL).eval()
    images = torch.randint(0, 256, (2, 3, 64, 52), dtype=torch.uint8)
    a = model(images).attributes
    b = model(images.float() / 255).attributes
    assert torch.allclose(a, b, atol=1e-5)


def test_build_model_from_config_uses_the_config_fields():
    cfg = TrainConfig(variant="DMM-FAC", num_landmarks=5, **SMALL)
    model = build_model_from_config(cfg)
    assert model.variant == "DMM-FAC" and model.objective_head[0].out_features == 16


def test_pretrained_path_loads_a_torchvision_trunk(tmp_path):
    torch.manual_seed(1)
    resnet = torchvision.models.resnet18(weights=None)
    torch.save(resnet.state_dict(), tmp_path / "resnet18.pth")
    model = build_model(backbone="resnet18", pretrained=tmp_path / "resnet18.pth", objective_hidden=(8,),
                        subjective_hidden=(8, 8), landmark_hidden=(8,))  # fmt: skip
    assert torch.equal(model.trunk.layer4[1].conv2.weight, resnet.layer4[1].conv2.weight)


def test_pretrained_path_loads_a_whole_model(tmp_path):
    source = build_model(**SMALL)
    torch.save(source.state_dict(), tmp_path / "model.pt")
    model = build_model(pretrained=str(tmp_path / "model.pt"), **SMALL)
    assert torch.equal(model.subjective_head[0].weight, source.subjective_head[0].weight)


def test_imagenet_offline_names_the_local_file_alternative(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # an empty hub cache
    monkeypatch.setattr(dmmlib.model, "_download", offline)
    with pytest.raises(RuntimeError, match=r"pretrained='/path/to/resnet18-f37072fd.pth'"):
        build_model(backbone="resnet18", pretrained="imagenet")


def test_small_trunk_has_no_imagenet_weights():
    with pytest.raises(ValueError, match="resnet50"):
        build_model(pretrained="imagenet", **SMALL)


def test_small_trunk_widths_set_the_feature_depth_and_the_heads_follow():
    model = build_model("DMM-CNN", **SMALL, trunk_widths=(8, 16, 24, 40))
    assert model.trunk_channels == 40
    assert [getattr(model.trunk, f"layer{i}").conv1.out_channels for i in (1, 2, 3, 4)] == [8, 16, 24, 40]
    out = model(torch.zeros(2, 3, 64, 52, dtype=torch.uint8))
    assert out.attributes.shape == (2, 40)


def test_trunk_widths_are_refused_for_torchvision_backbones_and_bad_shapes():
    with pytest.raises(ValueError, match="'resnet-small' backbone only"):
        build_model(backbone="resnet18", trunk_widths=(8, 16, 24, 40))
    with pytest.raises(ValueError, match="four positive stage widths"):
        build_model(**SMALL, trunk_widths=(8, 16, 24))
