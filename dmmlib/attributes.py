"""The 40 CelebA attributes and the paper's objective / subjective grouping.

The paper (Sec. 3.2.1) splits the attributes into 22 *objective* ones, predicted by a branch with a 1-level
spatial pyramid pooling (SPP) layer, and 18 *subjective* ones, predicted by a deeper branch with a 3-level SPP
layer. The figures that list the split are unreadable in every available copy of the paper, so the split below is
partly inferred. Members named by the paper's text are in ``CONFIRMED_OBJECTIVE`` / ``CONFIRMED_SUBJECTIVE``;
the rest is this project's completion (see ``shared/paper/FACTS.md`` section 5). The split is data: pass another
:class:`AttributeGroups` to the model builder to try a different one.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The 40 attribute names in the column order of ``list_attr_celeba.txt``.
ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip

NUM_ATTRIBUTES = len(ATTRIBUTES)

#: Objective attributes named as such by the paper's text.
CONFIRMED_OBJECTIVE: frozenset[str] = frozenset(
    {"Bald", "Bangs", "Eyeglasses", "Male", "Mouth_Slightly_Open", "Wearing_Hat"}
)
#: Subjective attributes named as such by the paper's text.
CONFIRMED_SUBJECTIVE: frozenset[str] = frozenset(
    {"Attractive", "Big_Lips", "Big_Nose", "Bushy_Eyebrows", "Oval_Face", "Pointy_Nose", "Smiling", "Young"}
)

#: The 22 objective attributes (confirmed + inferred), in CelebA order.
OBJECTIVE: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Eyeglasses",
    "Goatee", "Gray_Hair", "Male", "Mouth_Slightly_Open", "Mustache", "No_Beard", "Pale_Skin",
    "Receding_Hairline", "Sideburns", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie",
)  # fmt: skip

#: The 18 subjective attributes (confirmed + inferred), in CelebA order.
SUBJECTIVE: tuple[str, ...] = tuple(name for name in ATTRIBUTES if name not in OBJECTIVE)


@dataclass(frozen=True)
class AttributeGroups:
    """A split of the 40 attributes into an objective and a subjective group.

    ``objective_index`` / ``subjective_index`` give the CelebA column of each group member, so that the two
    branches' outputs can be scattered back into CelebA order.
    """

    objective: tuple[str, ...] = OBJECTIVE
    subjective: tuple[str, ...] = SUBJECTIVE

    def __post_init__(self) -> None:
        names = list(self.objective) + list(self.subjective)
        unknown = sorted(set(names) - set(ATTRIBUTES))
        if unknown:
            raise ValueError(f"AttributeGroups: unknown attribute names {unknown}; expected CelebA names")
        if len(names) != len(set(names)):
            duplicated = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"AttributeGroups: attributes in both groups or repeated: {duplicated}")
        missing = sorted(set(ATTRIBUTES) - set(names))
        if missing:
            raise ValueError(f"AttributeGroups: attributes in neither group: {missing}")

    @property
    def objective_index(self) -> list[int]:
        return [ATTRIBUTES.index(name) for name in self.objective]

    @property
    def subjective_index(self) -> list[int]:
        return [ATTRIBUTES.index(name) for name in self.subjective]

    def group_of(self, name: str) -> str:
        """Return ``"objective"`` or ``"subjective"`` for an attribute name."""
        if name in self.objective:
            return "objective"
        if name in self.subjective:
            return "subjective"
        raise KeyError(f"unknown attribute {name!r}")


PAPER_GROUPS = AttributeGroups()


def is_confirmed(name: str) -> bool:
    """True when the paper's text itself places ``name`` in its group (not this project's inference)."""
    return name in CONFIRMED_OBJECTIVE or name in CONFIRMED_SUBJECTIVE
