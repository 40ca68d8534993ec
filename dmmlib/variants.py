"""The seven variants of the paper's ablation study (Table 1) as data.

Each :class:`VariantSpec` says which parts of DMM-CNN a variant keeps: the landmark (FLD) task, dynamic weights
(Eq. 4) or uniform ones, adaptive thresholds (Eq. 6) or fixed ones at 0.0, and the objective / subjective grouping
(two branches) or a single head. :func:`dmmlib.model.build_model` reads the architecture fields,
:func:`dmmlib.train.train` the weighting and threshold fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class VariantSpec:
    name: str
    landmark_task: bool  #: FLD: a landmark branch and beta * L_FLD in Eq. 3
    weighting: str  #: "uniform" (all lambda = 1) or "dynamic" (Eq. 4)
    thresholds: str  #: "fixed" (all tau = 0) or "adaptive" (Eq. 6)
    grouping: bool  #: AG: objective (1-level SPP) and subjective (3-level SPP) branches
    head: str  #: "grouped" (two SPP branches), "spp" (one 3-level SPP head for all 40) or "linear" (Baseline)
    note: str


VARIANTS: dict[str, VariantSpec] = {
    spec.name: spec
    for spec in (
        VariantSpec("Baseline", False, "uniform", "fixed", False, "linear",
                    "ResNet-50 with 40 output units (global average pooling + FC 40)"),
        VariantSpec("DMM-FAC", False, "dynamic", "adaptive", True, "grouped", "no landmark task"),
        VariantSpec("DMM-EQ-FIX", True, "uniform", "fixed", True, "grouped", "all lambda = 1.0, all tau = 0.0"),
        VariantSpec("DMM-EQ-AT", True, "uniform", "adaptive", True, "grouped", "all lambda = 1.0"),
        VariantSpec("DMM-DW-FIX", True, "dynamic", "fixed", True, "grouped", "all tau = 0.0"),
        VariantSpec("DMM-SPP", True, "dynamic", "adaptive", False, "spp",
                    "one head for all 40 attributes: 3-level SPP + 3 FCs (the subjective design)"),
        VariantSpec("DMM-CNN", True, "dynamic", "adaptive", True, "grouped", "full model"),
    )
}  # fmt: skip


def get_variant(name: str) -> VariantSpec:
    """The spec of a Table 1 variant; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; valid variants: {', '.join(VARIANTS)}") from None


def select(names: str | Sequence[str] = "") -> list[str]:
    """Variant names in Table 1 order from a list or a comma-separated string; empty means all seven.

    An unknown name raises ``ValueError`` listing the valid ones (as :func:`get_variant`).
    """
    if isinstance(names, str):
        names = [part.strip() for part in names.split(",") if part.strip()]
    wanted = {get_variant(name).name for name in names}
    return [name for name in VARIANTS if not wanted or name in wanted]
