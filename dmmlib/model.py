"""The DMM-CNN network (Sec. 3.2 of the paper) and the other Table 1 architectures.

A ResNet trunk without its global average pooling and fc layer yields a C-channel feature map (C = 2048 for
ResNet-50). On it sit (FACTS §1):

- the objective branch: 1-level SPP (C-d) -> FC 1024 -> FC 22;
- the subjective branch: 3-level SPP (14 C = 28,672-d) -> FC 2048 -> FC 1024 -> FC 18;
- the landmark (FLD) branch: the same C-d 1-level SPP vector -> FC 1024 -> FC 2T.

The paper names no activation or dropout between the FCs; we put a ReLU between hidden FCs (a stack of linear
layers without one would collapse into a single linear map) and make dropout an option, off by default.

The two branches' outputs are scattered back into CelebA column order, so every variant returns ``(B, 40)``.
Images may arrive as uint8 0..255 or float in [0, 1]; the model normalises them with ImageNet's mean and standard
deviation itself, so the data loader can ship compact uint8 and prediction code cannot forget the normalisation.
"""

from __future__ import annotations

import inspect
import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, conv1x1

from dmmlib.attributes import NUM_ATTRIBUTES, PAPER_GROUPS, AttributeGroups
from dmmlib.config import TrainConfig
from dmmlib.spp import SpatialPyramidPooling
from dmmlib.variants import get_variant

BACKBONES = ("resnet50", "resnet18", "resnet-small")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Stage widths of the "resnet-small" trunk: a narrow, shallow ResNet for CPU presets.
SMALL_WIDTHS = (16, 32, 64, 128)


class ModelOutput(NamedTuple):
    attributes: torch.Tensor  #: (B, 40) raw outputs in CelebA order (compared with tau by Eq. 5)
    landmarks: torch.Tensor | None  #: (B, 2T) normalised coordinates, None without a landmark branch


def mlp(in_features: int, hidden: Sequence[int], out_features: int, dropout: float = 0.0) -> nn.Sequential:
    """FC layers ``in -> hidden... -> out`` with ReLU (and optional dropout) between them."""
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class SmallResNet(nn.Sequential):
    """A narrow, shallow ResNet trunk (one torchvision BasicBlock per stage) for CPU presets and tests.

    Stem: 3x3 conv, stride 2 (no max pool, so 64 x 52 inputs still leave a 4 x 4 map for the 3-level SPP).
    Stages of widths ``widths`` with strides 1, 2, 2, 2: total stride 16.
    """

    def __init__(self, widths: Sequence[int] = SMALL_WIDTHS) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv1=nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False),
            bn1=nn.BatchNorm2d(widths[0]),
            relu=nn.ReLU(inplace=True),
        )
        inplanes = widths[0]
        for i, planes in enumerate(widths):
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != planes:
                downsample = nn.Sequential(conv1x1(inplanes, planes, stride), nn.BatchNorm2d(planes))
            layers[f"layer{i + 1}"] = BasicBlock(inplanes, planes, stride, downsample)
            inplanes = planes
        super().__init__(layers)
        self.out_channels = inplanes


def _torchvision_trunk(resnet: torchvision.models.ResNet) -> nn.Sequential:
    """The ResNet without avgpool and fc; child names kept so torchvision state dicts load as they are."""
    names = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")
    trunk = nn.Sequential(OrderedDict((name, getattr(resnet, name)) for name in names))
    trunk.out_channels = resnet.fc.in_features
    return trunk


def build_trunk(backbone: str) -> nn.Sequential:
    """A randomly initialised trunk; ``.out_channels`` is its feature-map depth."""
    if backbone == "resnet50":
        return _torchvision_trunk(torchvision.models.resnet50(weights=None))
    if backbone == "resnet18":
        return _torchvision_trunk(torchvision.models.resnet18(weights=None))
    if backbone == "resnet-small":
        return SmallResNet()
    raise ValueError(f"unknown backbone {backbone!r}; valid backbones: {', '.join(BACKBONES)}")


class DMMNet(nn.Module):
    """Trunk + heads of one Table 1 variant; ``forward(images) -> ModelOutput``."""

    def __init__(
        self,
        variant: str = "DMM-CNN",
        backbone: str = "resnet50",
        num_landmarks: int = 68,
        groups: AttributeGroups = PAPER_GROUPS,
        objective_hidden: Sequence[int] = (1024,),
        subjective_hidden: Sequence[int] = (2048, 1024),
        landmark_hidden: Sequence[int] = (1024,),
        head_dropout: float = 0.0,
        spp_levels_objective: int = 1,
        spp_levels_subjective: int = 3,
    ) -> None:
        super().__init__()
        self.spec = get_variant(variant)
        self.variant = variant
        self.backbone = backbone
        self.num_landmarks = num_landmarks
        self.groups = groups
        self.trunk = build_trunk(backbone)
        channels = self.trunk_channels = self.trunk.out_channels
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

        head = self.spec.head
        if head == "linear":
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(channels, NUM_ATTRIBUTES)
        elif head == "spp":
            self.attribute_pool = SpatialPyramidPooling(spp_levels_subjective)
            self.attribute_head = mlp(
                self.attribute_pool.output_features(channels), subjective_hidden, NUM_ATTRIBUTES, head_dropout
            )
        else:
            self.objective_pool = SpatialPyramidPooling(spp_levels_objective)
            self.objective_head = mlp(
                self.objective_pool.output_features(channels), objective_hidden, len(groups.objective),
                head_dropout,
            )  # fmt: skip
            self.subjective_pool = SpatialPyramidPooling(spp_levels_subjective)
            self.subjective_head = mlp(
                self.subjective_pool.output_features(channels), subjective_hidden, len(groups.subjective),
                head_dropout,
            )  # fmt: skip
            order = torch.tensor(groups.objective_index + groups.subjective_index)
            # Column j of the output is column inverse[j] of cat(objective, subjective).
            self.register_buffer("inverse_order", torch.argsort(order), persistent=False)
        if self.spec.landmark_task:
            self.landmark_pool = SpatialPyramidPooling(1)
            self.landmark_head = mlp(channels, landmark_hidden, 2 * num_landmarks, head_dropout)

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 0..255 or float 0..1 images -> ImageNet-normalised float."""
        if images.dtype == torch.uint8:
            images = images.to(self.mean.dtype) / 255.0
        return (images - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> ModelOutput:
        features = self.trunk(self.normalise(images))
        pooled: dict[int, torch.Tensor] = {}

        def spp(pool: SpatialPyramidPooling) -> torch.Tensor:
            if pool.levels not in pooled:
                pooled[pool.levels] = pool(features)
            return pooled[pool.levels]

        head = self.spec.head
        if head == "linear":
            attributes = self.fc(self.pool(features).flatten(1))
        elif head == "spp":
            attributes = self.attribute_head(spp(self.attribute_pool))
        else:
            objective = self.objective_head(spp(self.objective_pool))
            subjective = self.subjective_head(spp(self.subjective_pool))
            attributes = torch.cat([objective, subjective], dim=1)[:, self.inverse_order]
        landmarks = self.landmark_head(spp(self.landmark_pool)) if self.spec.landmark_task else None
        return ModelOutput(attributes, landmarks)


#: The architecture options of :class:`DMMNet` after ``variant``, each also a :class:`~dmmlib.config.TrainConfig` field.
MODEL_OPTIONS: tuple[str, ...] = tuple(inspect.signature(DMMNet.__init__).parameters)[2:]


def build_model(
    variant: str = "DMM-CNN",
    backbone: str = "resnet50",
    *,
    pretrained: bool | str | os.PathLike[str] = False,
    **options: Any,
) -> DMMNet:
    """Build a Table 1 variant; ``options`` are the other arguments of :class:`DMMNet` (:data:`MODEL_OPTIONS`:
    landmarks, head sizes, SPP levels, dropout). ``pretrained`` is False, ``"imagenet"`` or a path to a local
    state dict."""
    model = DMMNet(variant, backbone, **options)
    if pretrained:
        load_pretrained(model, pretrained)
    return model


def build_model_from_config(cfg: TrainConfig) -> DMMNet:
    """The model a :class:`~dmmlib.config.TrainConfig` describes (its variant, pretrained weights and every
    :data:`MODEL_OPTIONS` field)."""
    options = {name: getattr(cfg, name) for name in MODEL_OPTIONS}
    return build_model(cfg.variant, pretrained=cfg.pretrained, **options)


def imagenet_state_dict(backbone: str) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights for ``backbone`` (a download unless already in torch's hub cache)."""
    weight_enums = {
        "resnet50": torchvision.models.ResNet50_Weights,
        "resnet18": torchvision.models.ResNet18_Weights,
    }
    if backbone not in weight_enums:
        raise ValueError(
            f"no ImageNet weights for backbone {backbone!r}; available for {', '.join(weight_enums)}"
        )
    weights = weight_enums[backbone].IMAGENET1K_V1
    try:
        return weights.get_state_dict(progress=False)
    except Exception as error:  # offline: URLError, OSError, ... all mean "no file"
        filename = weights.url.rsplit("/", 1)[-1]
        raise RuntimeError(
            f"could not download ImageNet weights for {backbone} from {weights.url} ({error}). "
            f"Offline? Fetch that file by hand and pass its local path instead: pretrained='/path/to/{filename}'"
        ) from error


def load_pretrained(model: DMMNet, pretrained: bool | str | os.PathLike[str]) -> None:
    """Load ImageNet or local weights: a trunk (torchvision ResNet, its fc ignored) or a whole DMMNet."""
    if pretrained == "imagenet":
        state = imagenet_state_dict(model.backbone)
    elif pretrained is True:
        raise ValueError("pretrained=True is ambiguous: use 'imagenet' or a path to a state dict")
    else:
        path = os.fspath(pretrained)
        if not os.path.exists(path):
            raise FileNotFoundError(f"pretrained weights file not found: {path}")
        from dmmlib.checkpoint import load_weights_file  # clear errors naming the file (unsafe, damaged, ...)

        state = load_weights_file(path)
        if "model" in state and isinstance(state["model"], dict):  # a dmmlib checkpoint
            state = state["model"]
    if any(key.startswith("trunk.") for key in state):
        model.load_state_dict(state)
    else:
        model.trunk.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")})
