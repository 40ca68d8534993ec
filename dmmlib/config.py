"""``TrainConfig``: the one documented place for every training choice, the paper's and our own.

Each field says where its default comes from: **paper** (stated by Mao et al., see ``shared/paper/FACTS.md`` §1)
or **ours** (the paper is silent, FACTS §2; the comment gives the reason for the choice). Presets
(:mod:`dmmlib.suite.presets`) override fields by name; checkpoints and result files store :meth:`TrainConfig.to_dict`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any

from dmmlib.attributes import PAPER_GROUPS, AttributeGroups
from dmmlib.variants import get_variant
from dmmlib.weighting import WEIGHTINGS

#: CelebA validation split size (FACTS §1), used to derive the default update interval P.
CELEBA_VALIDATION_SIZE = 19_867


def update_interval_for(
    validation_size: int, batch_size: int, max_fraction: float = 0.05, backward_cost: float = 2.0
) -> int:
    """The smallest P (rounded up to a multiple of 100) keeping one whole-validation pass per P iterations at
    ``max_fraction`` of training compute.

    Cost model: a training step costs ``(1 + backward_cost)`` forward passes per image (the backward pass of a
    CNN costs about twice its forward pass), a validation image one forward pass. So
    ``V / (P * B * (1 + backward_cost)) <= max_fraction``. Validation runs without autograd in larger batches,
    which makes it cheaper than this model says, so the bound is conservative.
    """
    p = validation_size / (max_fraction * batch_size * (1.0 + backward_cost))
    return int(math.ceil(p / 100.0) * 100)


@dataclass
class TrainConfig:
    """Every setting of a training run (Algorithm 1 of the paper plus the engineering around it)."""

    # --- model -------------------------------------------------------------------------------------------------
    variant: str = "DMM-CNN"  #: paper: one of the seven Table 1 variants (:mod:`dmmlib.variants`)
    #: ours: None = the variant's own scheme (Table 1); "uniform" | "dynamic" | "dwa" | "aw" overrides it (Table 2)
    weighting: str | None = None
    backbone: str = "resnet50"  #: paper: ResNet-50; "resnet18" and "resnet-small" (CPU presets) are ours
    #: ours: the four stage widths of the "resnet-small" trunk; None keeps :data:`dmmlib.model.SMALL_WIDTHS`. The
    #: torchvision backbones have their own widths and refuse this. Capacity is what the small presets' models lack
    #: most (notebook 05's fit diagnosis), so it is the first lever of a retune.
    trunk_widths: tuple[int, ...] | None = None
    #: ours: what the trunk starts from. The paper says only "initialized parameters" (FACTS §2), but its 91.70%
    #: after 15 epochs at lr 0.001 is what ImageNet-initialised ResNet-50s reach on CelebA, not what one trained from
    #: scratch at that rate reaches: the paper preset sets "imagenet" (torchvision's IMAGENET1K_V1 weights; why V1:
    #: ``dmmlib.model.IMAGENET_WEIGHTS``). A path loads a local file (a torchvision ResNet state dict, its fc
    #: ignored, or a whole DMMNet); a file named as torchvision publishes it is checked against the SHA-256 prefix
    #: in its name. False (the default, kept by the small presets, whose small trunk has no ImageNet weights)
    #: trains from scratch, offline. Notebooks, ``make paper`` and the training CLI set it through the environment
    #: variable DMM_WEIGHTS (imagenet | none | /path/to/file; :mod:`dmmlib.suite.weights`).
    pretrained: bool | str | os.PathLike[str] = False
    #: ours: dlib's public model has 68 points; the paper's head has T = 72 (FACTS §1)
    num_landmarks: int = 68
    objective_hidden: tuple[int, ...] = (1024,)  #: paper: objective branch FC 1024 -> FC 22
    subjective_hidden: tuple[int, ...] = (2048, 1024)  #: paper: subjective branch FC 2048 -> FC 1024 -> FC 18
    landmark_hidden: tuple[int, ...] = (1024,)  #: paper: landmark branch FC 1024 -> FC 2T
    spp_levels_objective: int = 1  #: paper: 1-level SPP (global max pooling) for the objective branch
    spp_levels_subjective: int = 3  #: paper: 3-level SPP (1x1 + 2x2 + 3x3 bins) for the subjective branch
    head_dropout: float = 0.0  #: ours: the paper mentions no dropout; ReLU (also unstated) sits between FCs
    input_size: tuple[int, int] = (218, 178)  #: ours: (H, W) of the aligned CelebA JPEGs, uncropped, unscaled
    #: ours: the paper mentions no augmentation. Training images are mirrored left-right with this probability
    #: (their 68 landmarks with them, through the mirror permutation): none of the 40 attributes depends on the
    #: side of the face, so a mirrored face is as valid a sample, and mirroring is the standard augmentation for
    #: faces. 0 turns it off; evaluation never flips.
    flip_probability: float = 0.5
    #: ours: how LFW's 250 x 250 images (original and deep-funneled alike) reach ``input_size``. False resizes the
    #: whole square, which squeezes the face horizontally by 0.712 / 0.872 = 0.82 relative to the vertical (at the
    #: default 218 x 178): faces the trunk never saw on CelebA, whose aligned crops keep the face's proportions.
    #: True first cuts the centred box of ``input_size``'s aspect ratio (250 x 204 at 218 x 178), then resizes it
    #: uniformly: the face keeps its shape, and the cut drops only a 23-px strip on each side, outside the face
    #: (LFW's images are cut around a detected face, centred); landmark targets follow the cut. True is the better
    #: choice and the paper preset's fine-tuning uses it; the default False reproduces the runs made before this
    #: option existed (the smoke and teach presets keep it, so their cached fine-tuned runs stay valid).
    lfwa_crop_to_aspect: bool = False
    #: paper: LFWA fine-tuning trains on the original *and* the deep-funneled copy of each training image (FACTS §1);
    #: ("original",) or ("deep-funneled",) train (and update lambda and tau) on one copy only, for the comparison
    #: of exercise 08.1. One copy halves the iterations of an epoch. The test split is always the original images.
    lfwa_train_versions: tuple[str, ...] = ("original", "deep-funneled")

    # --- optimisation (Algorithm 1) ----------------------------------------------------------------------------
    epochs: int = 15  #: paper
    batch_size: int = 64  #: paper
    lr: float = 0.001  #: paper: base learning rate
    momentum: float = 0.9  #: ours: the paper says "stochastic gradient descent"; 0.9 is the ResNet standard
    weight_decay: float = 5e-4  #: ours: a common SGD setting for ResNets on face attributes
    lr_factor: float = 0.1  #: paper: lr x 0.1 when the validation loss stops decreasing
    #: ours: ReduceLROnPlateau patience counted in updates (one update = one validation pass every P
    #: iterations). Two updates (~4,200 iterations at P = 2,100) tolerate one noisy pass before cutting the lr.
    lr_patience: int = 2
    #: ours: the last ``final_lr_fraction`` of the iterations run at lr x ``lr_factor`` (one cut, on top of the
    #: plateau rule). A budget that ends before the validation loss levels off never sees the plateau cut, so its
    #: weights stop at the full step size; a low-lr tail lets them settle. 0 (the default, and the paper preset)
    #: leaves only the plateau rule the paper describes.
    final_lr_fraction: float = 0.0
    #: ours: P of Algorithm 1. The paper gives no value. One pass over the whole validation set (V = 19,867)
    #: every P iterations of batch 64 must stay at <= 5% of training compute: P >= V / (0.05 * 64 * 3) = 2,070,
    #: rounded up to 2,100 (see :func:`update_interval_for`). That gives ~18 updates of lambda and tau in the
    #: paper's 15 epochs (38.2k iterations), enough to follow Fig. 5, where losses move over thousands of iterations.
    update_interval: int = field(default_factory=lambda: update_interval_for(CELEBA_VALIDATION_SIZE, 64))
    val_batch_size: int = 256  #: ours: no autograd during validation, so larger batches fit
    beta: float = 0.5  #: paper: weight of the landmark loss in Eq. 3
    gamma: float = 0.01  #: paper: step of the adaptive thresholds in Eq. 6
    initial_tau: float = 0.0  #: ours: the FIX variants use 0.0, so AT starts where FIX stays
    initial_lambda: float = 1.0  #: ours: the EQ variants use 1.0; Eq. 4 needs two validation passes first
    #: ours: l of Eq. 6 is the current epoch counted from 1 ("the first epoch"); 0 would freeze tau in epoch one.
    epoch_from: int = 1
    dwa_temperature: float = 2.0  #: DWA's own default (Liu et al., CVPR 2019), for Table 2
    #: When AW (He et al., ACM MM 2017; Table 2) updates its weights. "iteration" (paper, the paper preset): every
    #: iteration, from the losses of ``aw_sample_size`` validation images drawn at random, as He et al. do and as the
    #: paper describes AW ("only 10 validation images during each iteration", Sec. 3.3), which is the contrast the
    #: paper draws with its own whole-validation Eq. 4. "validation" (ours, the smoke and teach presets, whose runs
    #: are recorded with it): from each whole-validation pass every P iterations, like Eq. 4; cheaper on a CPU.
    aw_schedule: str = "validation"
    #: paper: validation images per AW update under ``aw_schedule="iteration"`` (the paper's "10 validation images")
    aw_sample_size: int = 10
    #: ours: AW averages its losses over a window of ``aw_window`` updates (cur) and compares them with the window
    #: before (prev); FACTS §4. With whole-validation passes (already averages over V images) a window of one pass
    #: suffices and AW, like Eq. 4, is defined from the second update on. Per iteration, a window of one compares two
    #: independent 10-image samples, mostly noise; He et al.'s window size is not in the sources we have, so the
    #: paper preset sets 50 (its means then average 500 validation images, the trend spans 100 iterations, 4% of
    #: an epoch), keeping AW's per-iteration rhythm while its trend still follows training.
    aw_window: int = 1
    #: ours, off by default (the paper has no such option): rescale Eq. 4's weights to mean 1 / floor them.
    dynamic_normalise: bool = False
    dynamic_floor: float = 0.0
    #: ours: training warns (:class:`dmmlib.train.AttributeShareWarning`, naming the iteration) when, at an update of
    #: Algorithm 1, the attribute terms of Eq. 3 on the validation set, ``sum_j lambda_j L_j``, fall below this share
    #: of the joint loss ``sum_j lambda_j L_j + beta L_FLD``: Eq. 4 collapsing (its weights falling towards zero,
    #: as they did on the synthetic data), seen while a GPU run goes on rather than in its final table. 5% is far
    #: below the ~90% of a healthy start (40 attribute losses against one landmark loss) and above the ~0.5% the
    #: collapsed teach runs reached. 0 turns the warning off.
    collapse_warning_share: float = 0.05
    #: ours, off by default: leave images whose landmarks are placeholders (LandmarkSource.MEAN_SHAPE) out of Eq. 1.
    mask_placeholder_landmarks: bool = False
    groups: AttributeGroups = PAPER_GROUPS  #: paper's split, partly inferred (FACTS §5)

    # --- engineering -------------------------------------------------------------------------------------------
    seed: int = 0
    device: str = "auto"  #: "auto" = CUDA when available, else CPU
    #: "auto" = bf16 autocast on CUDA, off on the CPU; "native" = also on a CPU with bf16 arithmetic in hardware
    #: (AMX, AVX512-BF16: dmmlib.device.native_bf16_flags), where a teach training step took about half its
    #: float32 time (bench/cpu_bf16.py); True / False = always / never
    amp: str | bool = "auto"
    channels_last: str | bool = "auto"  #: "auto" = on (faster convolutions on CUDA and on the CPU, measured)
    compile: bool = False  #: torch.compile the model (slow start, faster steps on GPU)
    num_workers: int = 0  #: DataLoader workers
    #: keep the training and validation loaders' worker processes alive between epochs and validation passes
    #: (no restart, no re-opened zip files per pass); only with ``num_workers > 0``.
    persistent_workers: bool = True
    #: torch's fused SGD kernel: the same update (momentum, weight decay) in one pass over each tensor. On the CPU
    #: it took DMM-CNN's step over 88.7M weights from 0.28 s to 0.061 s (one thread, measured side by side).
    #: Falls back to the plain implementation where the device has no fused kernel.
    fused_optimizer: bool = True
    #: keep each split's decoded, resized images in memory when the whole split fits in this many MiB
    #: (0: never). Decoding and resizing again took a fifth of a teach epoch on one thread (bench/decoded_cache.py)
    #: and about a third on two, where the steps use both cores and the decoding one; the cache leaves the random
    #: flip to every read, so results are unchanged (dmmlib.data.decoded_cache). Teach's training split takes
    #: ~92 MiB; real CelebA at 218 x 178 (~19 GB) is never cached.
    image_cache_mb: float = 1024
    checkpoint_interval: int = 1000  #: iterations between checkpoints (one is always written at the end)
    log_interval: int = 50  #: iterations between progress-bar loss readings (each one is a device sync)

    @property
    def keeps_workers(self) -> bool:
        """Whether the training and validation loaders keep their worker processes alive (there are some, and
        ``persistent_workers`` asks for it)."""
        return self.persistent_workers and self.num_workers > 0

    def __post_init__(self) -> None:
        for name in ("objective_hidden", "subjective_hidden", "landmark_hidden", "input_size"):
            setattr(self, name, tuple(int(v) for v in getattr(self, name)))
        if isinstance(self.lfwa_train_versions, str):
            raise ValueError(f"TrainConfig.lfwa_train_versions must be a tuple of version names, e.g. "
                             f"('original',), got the string {self.lfwa_train_versions!r}")  # fmt: skip
        self.lfwa_train_versions = tuple(str(v) for v in self.lfwa_train_versions)
        known_versions = ("original", "deep-funneled")
        if not self.lfwa_train_versions or not set(self.lfwa_train_versions) <= set(known_versions) or len(
                set(self.lfwa_train_versions)) != len(self.lfwa_train_versions):
            raise ValueError(f"TrainConfig.lfwa_train_versions must be one or both of {known_versions} (each once), "
                             f"got {self.lfwa_train_versions!r}")  # fmt: skip
        if self.trunk_widths is not None:
            self.trunk_widths = tuple(int(v) for v in self.trunk_widths)
        if isinstance(self.groups, dict):
            self.groups = AttributeGroups(tuple(self.groups["objective"]), tuple(self.groups["subjective"]))
        get_variant(self.variant)  # an unknown name fails here, listing the valid ones
        if self.weighting is not None and self.weighting not in WEIGHTINGS:
            raise ValueError(
                f"TrainConfig.weighting must be None, 'uniform', 'dynamic', 'dwa' or 'aw', got {self.weighting!r}"
            )
        if self.aw_schedule not in ("validation", "iteration"):
            raise ValueError(f"TrainConfig.aw_schedule must be 'validation' or 'iteration', got {self.aw_schedule!r}")
        if not 0.0 <= float(self.collapse_warning_share) < 1.0:
            raise ValueError(
                f"TrainConfig.collapse_warning_share must be in [0, 1), got {self.collapse_warning_share!r}"
            )
        if self.amp not in ("auto", "native", True, False):
            raise ValueError(f"TrainConfig.amp must be 'auto', 'native', True or False, got {self.amp!r}")
        if not float(self.image_cache_mb) >= 0:
            raise ValueError(
                f"TrainConfig.image_cache_mb must be >= 0 (0 turns the cache off), got {self.image_cache_mb}"
            )
        if not 0.0 <= float(self.flip_probability) <= 1.0:
            raise ValueError(f"TrainConfig.flip_probability must be in [0, 1], got {self.flip_probability!r}")
        if not 0.0 <= float(self.final_lr_fraction) < 1.0:
            raise ValueError(f"TrainConfig.final_lr_fraction must be in [0, 1), got {self.final_lr_fraction!r}")
        positive = ("epochs", "batch_size", "update_interval", "val_batch_size", "checkpoint_interval", "aw_window",
                "aw_sample_size")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists, groups become two name lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, AttributeGroups):
                value = {"objective": list(value.objective), "subjective": list(value.subjective)}
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, os.PathLike):
                value = os.fspath(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise so a typo never passes silently."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown fields {unknown}")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)
