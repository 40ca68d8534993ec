"""Numbers and rankings of a run are cell output, never typed into a notebook's markdown.

A number typed into markdown goes stale the first time a run changes; a ranking typed into markdown ("DMM-CNN beats
the Baseline") asserts what only a run can show. So markdown may quote the paper (its reported numbers, its claims,
said to be the paper's), facts of CelebA (attribute frequencies) and worked examples; anything that reads like an
accuracy of this suite's runs, or ranks variants without naming the paper as the source, fails here.
"""

from __future__ import annotations

import re
from functools import cache

import nbformat
import pytest

from dmmlib.lab import paper
from dmmlib.suite import manifest
from dmmlib.variants import VARIANTS

#: a decimal between 50 and 100 with one or two decimals, optionally a percentage: what an accuracy looks like
ACCURACY_LIKE = re.compile(r"(?<![\w.])([5-9]\d\.\d{1,2})(?![\d])(?!\s*\**\s*(?:M\b|million|MB|GB|ms|s\b|px))")
RANKING_WORDS = re.compile(r"\b(beats?|outperforms?|better than|worse than|best|worst|highest|lowest|ranks?|wins?)\b",
                           re.IGNORECASE)  # fmt: skip
SCHEMES = ("UW", "DWA", "AW")
#: a sentence that attributes its ranking to someone: the paper, a claim, a question to the student
ATTRIBUTED = re.compile(r"\b(paper|claims?|Table [123]|reports?|reported|\?|if|whether|does|do)\b|\?", re.IGNORECASE)


@cache
def quoted_numbers() -> set[float]:
    """Numbers markdown may state: the paper's reported values and CelebA's positive and majority rates (%)."""
    values: set[float] = set()
    for frame in (paper.table1(), paper.table2(), paper.table3(), paper.dmmcnn_celeba_per_attribute()):
        for column in frame.columns:
            values.update(round(float(v), 2) for v in frame[column] if isinstance(v, (int, float)) and v == v)
    for rate in paper.attribute_frequencies():
        values.update({round(100 * rate, 1), round(100 * (1 - rate), 1), round(100 * rate, 2), round(100 - 100 * rate, 2)})
    return values


def problems_in(markdown: str) -> list[str]:
    """The typed run numbers and unattributed rankings of one markdown cell."""
    found = []
    for match in ACCURACY_LIKE.finditer(markdown):
        if round(float(match.group(1)), 2) not in quoted_numbers():
            found.append(f"number {match.group(1)!r}")
    for sentence in re.split(r"(?<=[.!?])\s+|\n\n", markdown):
        names = [v for v in (*VARIANTS, *SCHEMES) if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", sentence)]
        if names and RANKING_WORDS.search(sentence) and not ATTRIBUTED.search(sentence):
            found.append(f"ranking {sentence.strip()[:90]!r}")
    return found


def test_the_checker_catches_a_typed_accuracy_and_an_unattributed_ranking():
    assert problems_in("DMM-CNN reached 85.37% mean accuracy here.") == ["number '85.37'"]
    assert problems_in("The Baseline beats every DMM variant.") != []
    assert problems_in("The paper reports 91.70 % for DMM-CNN; it claims DMM-CNN beats the Baseline.") == []
    assert problems_in("DMM-CNN has 88.7 million parameters; Bald is positive on 2.24 % of CelebA.") == []


@pytest.mark.parametrize("entry", manifest.load(), ids=lambda e: e.stem)
def test_markdown_states_no_result_of_a_run(entry):
    nb = nbformat.read(entry.path, as_version=4)
    found = [
        f"cell {k}: {problem}"
        for k, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
        for problem in problems_in(cell.source)
    ]  # fmt: skip
    assert found == []
