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

import hashlib
import inspect
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
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


class Trunk(nn.Sequential):
    """A ResNet trunk: a feature extractor whose output map has ``out_channels`` channels."""

    out_channels: int


class SmallResNet(Trunk):
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


def _torchvision_trunk(resnet: torchvision.models.ResNet) -> Trunk:
    """The ResNet without avgpool and fc; child names kept so torchvision state dicts load as they are."""
    names = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")
    trunk = Trunk(OrderedDict((name, getattr(resnet, name)) for name in names))
    trunk.out_channels = resnet.fc.in_features
    return trunk


def build_trunk(backbone: str, widths: Sequence[int] | None = None) -> Trunk:
    """A randomly initialised trunk; ``.out_channels`` is its feature-map depth. ``widths``: the four stage widths
    of "resnet-small" (None: :data:`SMALL_WIDTHS`); the torchvision ResNets keep their own."""
    if widths is not None and backbone != "resnet-small":
        raise ValueError(f"trunk_widths applies to the 'resnet-small' backbone only, not {backbone!r}")
    if widths is not None and (len(widths) != 4 or min(widths) < 1):
        raise ValueError(f"trunk_widths must be four positive stage widths, got {tuple(widths)}")
    if backbone == "resnet50":
        return _torchvision_trunk(torchvision.models.resnet50(weights=None))
    if backbone == "resnet18":
        return _torchvision_trunk(torchvision.models.resnet18(weights=None))
    if backbone == "resnet-small":
        return SmallResNet(SMALL_WIDTHS if widths is None else widths)
    raise ValueError(f"unknown backbone {backbone!r}; valid backbones: {', '.join(BACKBONES)}")


class DMMNet(nn.Module):
    """Trunk + heads of one Table 1 variant; ``forward(images) -> ModelOutput``."""

    # buffers (register_buffer), declared for the type checker
    mean: torch.Tensor
    std: torch.Tensor
    inverse_order: torch.Tensor

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
        trunk_widths: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.spec = get_variant(variant)
        self.variant = variant
        self.backbone = backbone
        self.num_landmarks = num_landmarks
        self.groups = groups
        self.trunk = build_trunk(backbone, trunk_widths)
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


# --- initialisation: ImageNet weights or a local file ------------------------------------------------------------
#: ours: what ``pretrained="imagenet"`` loads, per backbone. The paper says only "initialized parameters" (FACTS §2).
#: We take torchvision's IMAGENET1K_V1 weights, not IMAGENET1K_V2: V1 are the weights of the original torch recipe
#: (90 epochs of plain SGD, top-1 76.13%), the only ResNet-50 ImageNet weights torchvision offered before version
#: 0.13 (June 2022) and what ``pretrained=True`` loaded until then; the paper (arXiv, February 2020) predates V2.
#: V2 (top-1 80.86%) comes from a 600-epoch recipe with mixup, cutmix, label smoothing, EMA and long cosine decay,
#: none of which a replication of a 2020 result should bring in. V2 stays usable as a local file (WEIGHTS=...).
IMAGENET_WEIGHTS: dict[str, torchvision.models.WeightsEnum] = {
    "resnet50": torchvision.models.ResNet50_Weights.IMAGENET1K_V1,
    "resnet18": torchvision.models.ResNet18_Weights.IMAGENET1K_V1,
}


def published_files() -> dict[str, torchvision.models.WeightsEnum]:
    """File name -> torchvision weights, for every version torchvision publishes for our backbones (V1 and V2)."""
    enums = (torchvision.models.ResNet50_Weights, torchvision.models.ResNet18_Weights)
    return {Path(weights.url).name: weights for enum in enums for weights in enum}


def published_hash_prefix(filename: str) -> str | None:
    """The SHA-256 prefix torchvision publishes for a weights file of this name, None for any other name.

    torchvision gives no full SHA-256: the name of each weights file it publishes embeds the first 8 hex digits of
    the file's SHA-256 (``resnet50-0676ba61.pth``), the ``filename-<sha256 prefix>.ext`` convention of
    ``torch.hub``, which checks those digits after a download (``check_hash=True``). Only names torchvision
    publishes for our backbones count (:func:`published_files`): any other file name carries no published hash,
    even one that happens to end in ``-<hex digits>``.
    """
    if filename not in published_files():
        return None
    match = torch.hub.HASH_REGEX.search(filename)
    return match.group(1) if match else None


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_published_hash(path: str | os.PathLike[str]) -> bool:
    """Check a weights file named as torchvision publishes it against the hash prefix in its name.

    Returns True when checked (the file's SHA-256 starts with the published digits), False when its name carries
    no published hash (nothing to check). Raises ValueError naming the file when the digits differ: the file is
    damaged (a partial download) or is not the file torchvision publishes under that name.
    """
    path = Path(path)
    prefix = published_hash_prefix(path.name)
    if prefix is None:
        return False
    actual = sha256_of(path)
    if not actual.startswith(prefix):
        url = published_files()[path.name].url
        raise ValueError(
            f"{path}: its SHA-256 is {actual}, but torchvision publishes {path.name} with a SHA-256 that starts with "
            f"{prefix} (the digits in its name). The file is damaged (a partial download?) or not the published one: "
            f"delete it and download it again from {url}"
        )
    return True


def _download(url: str, target: Path, hash_prefix: str | None) -> None:
    """Download ``url`` to ``target`` (torch.hub: written to a temporary name, the hash prefix checked, then moved)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, os.fspath(target), hash_prefix, progress=False)


def hub_cache_file(backbone: str) -> Path:
    """Where torch's hub cache keeps the ImageNet weights of ``backbone`` (``$TORCH_HOME/hub/checkpoints/...``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(_imagenet(backbone).url).name


def _imagenet(backbone: str) -> torchvision.models.WeightsEnum:
    if backbone not in IMAGENET_WEIGHTS:
        raise ValueError(
            f"no ImageNet weights for backbone {backbone!r}; available for {', '.join(IMAGENET_WEIGHTS)} "
            "(set TrainConfig.pretrained to False, or to a local weights file, for this backbone)"
        )
    return IMAGENET_WEIGHTS[backbone]


def imagenet_weights_file(backbone: str) -> Path:
    """The local file of :data:`IMAGENET_WEIGHTS` for ``backbone``: in torch's hub cache, downloaded there first
    when absent (hash prefix checked by the download), checked against its published hash prefix when present.

    Offline without the file, the RuntimeError names both ways out: put the file in the hub cache, or pass its path.
    """
    weights = _imagenet(backbone)
    target = hub_cache_file(backbone)
    if not target.is_file():
        try:
            _download(weights.url, target, published_hash_prefix(target.name))
        except Exception as error:  # offline: URLError, OSError, a hash mismatch ... all mean "no good file"
            raise RuntimeError(
                f"could not download the ImageNet weights of {backbone} (torchvision {weights}) from {weights.url} "
                f"({type(error).__name__}: {error}). Two ways out: (1) fetch {target.name} on a machine with "
                f"internet access and put it in torch's hub cache as {target}; or (2) pass its path: "
                f"WEIGHTS=/path/to/{target.name} for make paper, DMM_WEIGHTS=/path/to/{target.name} in the "
                f"environment of the notebooks, --weights /path/to/{target.name} for the training CLI "
                f"(TrainConfig.pretrained='/path/to/{target.name}'). WEIGHTS=none trains from scratch instead."
            ) from error
    check_published_hash(target)
    return target


def imagenet_state_dict(backbone: str) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights for ``backbone`` (:data:`IMAGENET_WEIGHTS`; a download unless already in
    torch's hub cache), hash-checked as :func:`imagenet_weights_file` says."""
    from dmmlib.checkpoint import load_weights_file

    return load_weights_file(imagenet_weights_file(backbone))


def _local_file(pretrained: bool | str | os.PathLike[str]) -> str:
    """The path of the local weights file that ``pretrained`` names; True and False name none."""
    if isinstance(pretrained, bool):
        raise ValueError(f"pretrained={pretrained} names no weights file: use 'imagenet' or a path to a state dict")
    return os.fspath(pretrained)


def load_pretrained(model: DMMNet, pretrained: bool | str | os.PathLike[str]) -> None:
    """Load ImageNet or local weights: a trunk (torchvision ResNet, its fc ignored) or a whole DMMNet.

    A local file named as torchvision publishes it (``resnet50-0676ba61.pth``) is checked against the hash prefix
    in its name first (:func:`check_published_hash`); other files load as they are.
    """
    if pretrained == "imagenet":
        state = imagenet_state_dict(model.backbone)
    elif pretrained is True:
        raise ValueError("pretrained=True is ambiguous: use 'imagenet' or a path to a state dict")
    else:
        path = _local_file(pretrained)
        if not os.path.exists(path):
            raise FileNotFoundError(f"pretrained weights file not found: {path}")
        from dmmlib.checkpoint import load_weights_file  # clear errors naming the file (unsafe, damaged, ...)

        check_published_hash(path)
        state = load_weights_file(path)
        if "model" in state and isinstance(state["model"], dict):  # a dmmlib checkpoint
            state = state["model"]
    if any(key.startswith("trunk.") for key in state):
        model.load_state_dict(state)
    else:
        model.trunk.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")})


_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def initialisation_key(pretrained: bool | str | os.PathLike[str], backbone: str) -> bool | str:
    """What a run starts from, as a value that does not depend on where a file lies (for run names).

    False stays False. ``"imagenet"`` and a local file named as torchvision publishes it both give
    ``"torchvision:<file name>"`` (the same weights: the name carries their hash prefix, checked when they load), so
    a run started from the download and one started from a copy share a name. Any other file gives
    ``"sha256:<first 16 hex digits of its content>"``.
    """
    if not pretrained:
        return False
    if pretrained == "imagenet":
        return f"torchvision:{Path(_imagenet(backbone).url).name}"
    path = Path(_local_file(pretrained))
    if published_hash_prefix(path.name) is not None:
        return f"torchvision:{path.name}"
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        _FILE_DIGESTS[key] = sha256_of(path)
    return f"sha256:{_FILE_DIGESTS[key][:16]}"


def describe_initialisation(pretrained: bool | str | os.PathLike[str] | None, backbone: str = "resnet50") -> str:
    """One line saying what a run's weights started from, for notebooks and the report (from its saved config)."""
    if not pretrained:
        return "random initialisation (trained from scratch: torchvision's default init; TrainConfig.pretrained=False)"
    if pretrained == "imagenet":
        weights = IMAGENET_WEIGHTS.get(backbone)
        if weights is None:
            return f"ImageNet weights requested for {backbone}, which has none"
        return (f"ImageNet: torchvision {weights} ({Path(weights.url).name}, downloaded to torch's hub cache; "
                "SHA-256 prefix in its name checked)")  # fmt: skip
    path = _local_file(pretrained)
    name = Path(path).name
    published = published_files().get(name)
    if published is not None:
        return f"ImageNet: torchvision {published} from the local file {path} (SHA-256 prefix checked)"
    return f"the local weights file {path} (no published hash to check it against)"
