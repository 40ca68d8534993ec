"""Accuracy tables with their two reference points: the majority class below and the ceiling above.

A mean accuracy means little alone. Always answering each attribute's majority class already scores about 80% on
CelebA-like data, and on synthetic data the generator knows the best any model can reach (the *ceiling*,
:func:`dmmlib.data.synthetic.ceiling_accuracy`). Tables 1 and 2 of the notebooks show every run between the two,
with its gap to the ceiling: a gap of several points says the runs stopped before learning what the data allow, so
differences between them measure training speed more than the method.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dmmlib import metrics

MAJORITY = "majority class"
CEILING = "ceiling (best possible)"
GAP = "gap to ceiling"
#: The measures of :func:`per_attribute_differences` (points per attribute).
PAPER_DIFFERENCE = "this run minus the paper's DMM-CNN"
GAIN = "this run minus the majority class"
SHORT = "this run minus the ceiling"


def beside_bounds(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Mean accuracy (all / objective / subjective) of each run's per-attribute table (from
    :func:`dmmlib.metrics.attribute_table`, evaluated on the same split), then the majority-class row and, when the
    tables carry a ``ceiling_accuracy`` column, the ceiling row and each row's gap to the ceiling (all attributes)."""
    if not tables:
        raise ValueError("beside_bounds needs at least one run's table")
    means = {name: metrics.mean_table(table) for name, table in tables.items()}
    rows = {name: mean["accuracy"] for name, mean in means.items()}
    frame = pd.DataFrame({**rows, **_bounds(next(iter(means.values())))}).T[["all", "objective", "subjective"]]
    if CEILING in frame.index:
        frame[GAP] = frame.loc[CEILING, "all"] - frame["all"]
    return frame


def per_attribute_beside_bounds(tables: Mapping[str, pd.DataFrame], metric: str = "accuracy") -> pd.DataFrame:
    """One row per attribute, one column per run (``metric`` of its per-attribute table, all evaluated on the same
    split), then the majority-class column and, when the tables carry a ``ceiling_accuracy`` column, the ceiling's."""
    if not tables:
        raise ValueError("per_attribute_beside_bounds needs at least one run's table")
    runs = {name: table[metric] for name, table in tables.items()}
    return pd.DataFrame({**runs, **_bounds(next(iter(tables.values())))}).rename_axis("attribute")


def _bounds(table: pd.DataFrame) -> dict[str, pd.Series]:
    """The majority-class column of a per-attribute or mean table (runs on one split share it) and, when the table
    has one, the ceiling column, under the names the tables show."""
    found = {MAJORITY: table["majority_accuracy"]}
    if "ceiling_accuracy" in table:
        found[CEILING] = table["ceiling_accuracy"]
    return found


#: A run "has not learnt" an attribute when its training accuracy is within this of the majority rate; it
#: "overfits" when its training accuracy exceeds its test accuracy by more than this (fractions).
NOT_LEARNT_MARGIN, OVERFIT_MARGIN = 0.01, 0.03


def fit_diagnosis(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Why an attribute sits below its ceiling: per attribute, accuracy on the training and the test split (tables
    of :func:`dmmlib.metrics.attribute_table` for the same run), the majority rate and ceiling of the test split
    when given, and a diagnosis:

    - "not learnt": training accuracy within :data:`NOT_LEARNT_MARGIN` of the training split's majority rate. The
      model answers the majority class even on images it trained on: its cue is too faint for this model at this
      input size, or training stopped too early. More data would not help; more training, resolution or capacity
      might.
    - "overfits": training accuracy above test accuracy by more than :data:`OVERFIT_MARGIN`. The model learnt its
      training images' labels (noise included) better than the cue: more data or regularisation would help.
    - "learnt": neither.
    """
    frame = pd.DataFrame({"group": test["group"], "train accuracy": train["accuracy"],
                          "train majority": train["majority_accuracy"], "test accuracy": test["accuracy"],
                          "test majority": test["majority_accuracy"]})  # fmt: skip
    if "ceiling_accuracy" in test:
        frame["test ceiling"] = test["ceiling_accuracy"]
        frame[GAP] = frame["test ceiling"] - frame["test accuracy"]
    not_learnt = frame["train accuracy"] - frame["train majority"] <= NOT_LEARNT_MARGIN
    overfits = frame["train accuracy"] - frame["test accuracy"] > OVERFIT_MARGIN
    frame["diagnosis"] = "learnt"
    frame.loc[overfits, "diagnosis"] = "overfits"
    frame.loc[not_learnt, "diagnosis"] = "not learnt"
    return frame.sort_values(GAP if GAP in frame else "test accuracy", ascending=GAP not in frame)


def diagnosis_sentence(diagnosis: pd.DataFrame) -> str:
    """How the gap to the ceiling splits between the diagnoses of :func:`fit_diagnosis`, in words."""
    counts = diagnosis["diagnosis"].value_counts()
    text = ", ".join(f"{counts.get(word, 0)} {word}" for word in ("learnt", "not learnt", "overfits"))
    if GAP not in diagnosis:
        return f"Of the 40 attributes: {text}."
    total = diagnosis[GAP].sum()
    shares = diagnosis.groupby("diagnosis")[GAP].sum()
    split = ", ".join(f"{word} {100 * shares.get(word, 0.0) / len(diagnosis):.2f}" for word in shares.index)
    return (f"Of the 40 attributes: {text}. The gap to the ceiling, {100 * total / len(diagnosis):.2f} points of "
            f"mean accuracy, splits into (points): {split}.")  # fmt: skip


def group_sentence(summary: pd.DataFrame) -> str:
    """Objective against subjective attributes, from :func:`dmmlib.metrics.mean_table` (rows all / objective /
    subjective): on raw accuracy and on what raw accuracy hides, the gain over each attribute's majority class and
    balanced accuracy. Objective attributes are more imbalanced, so their majority class alone scores higher, and
    raw accuracy flatters them; the sentence says which group is easier on the fairer measures."""
    obj, subj = summary.loc["objective"], summary.loc["subjective"]
    gain_obj = 100 * (obj["accuracy"] - obj["majority_accuracy"])
    gain_subj = 100 * (subj["accuracy"] - subj["majority_accuracy"])
    raw = "higher" if obj["accuracy"] > subj["accuracy"] else "lower"
    text = (f"Raw accuracy is {raw} on objective attributes ({100 * obj['accuracy']:.1f}% against "
            f"{100 * subj['accuracy']:.1f}%), but their majority class alone scores {100 * obj['majority_accuracy']:.1f}% "
            f"against {100 * subj['majority_accuracy']:.1f}%. Over the majority class the model gains "
            f"{gain_obj:+.1f} points on objective and {gain_subj:+.1f} on subjective attributes")
    if "balanced_accuracy" in summary:
        text += (f"; balanced accuracy {100 * obj['balanced_accuracy']:.1f}% against "
                 f"{100 * subj['balanced_accuracy']:.1f}%")
        fairer = [gain_obj - gain_subj, obj["balanced_accuracy"] - subj["balanced_accuracy"]]
    else:
        fairer = [gain_obj - gain_subj]
    if all(x > 0 for x in fairer):
        return text + ". On these measures the objective attributes are the easier group here."
    if all(x < 0 for x in fairer):
        return text + (". On these measures the subjective attributes come out *better* here: raw accuracy ranked "
                       "the groups by their imbalance, not by how much the model learnt.")
    return text + ". The fairer measures disagree, so neither group is clearly easier here."


# --------------------------------------------------------------------------------- per-attribute differences
def per_attribute_differences(run: pd.DataFrame, paper_accuracy: pd.Series, *, real_data: bool) -> pd.DataFrame:
    """What notebook 09 plots per attribute, in points (long: ``attribute``, ``group``, ``measure``, ``points``).

    ``run``: a per-attribute table (:func:`dmmlib.metrics.attribute_table`, fractions, with ``group`` and, on
    synthetic data, ``ceiling_accuracy``); ``paper_accuracy``: the paper's DMM-CNN per attribute, in %.

    - Real CelebA (``real_data``): this run minus the paper's DMM-CNN (:data:`PAPER_DIFFERENCE`), a replication
      check, attribute by attribute.
    - Synthetic data: the paper's accuracies belong to another dataset, so their difference to this run measures
      nothing. The run is set against its own data's bounds instead: its gain over always answering the majority
      class (:data:`GAIN`: how much it learnt) and, when the generator's ceiling is known, its distance below the
      ceiling (:data:`SHORT`, zero or negative: how much it left).
    """
    if real_data:
        paper = paper_accuracy.reindex(run.index)
        measures = {PAPER_DIFFERENCE: 100 * run["accuracy"] - paper}
    else:
        measures = {GAIN: 100 * (run["accuracy"] - run["majority_accuracy"])}
        if "ceiling_accuracy" in run:
            measures[SHORT] = 100 * (run["accuracy"] - run["ceiling_accuracy"])
    frames = [pd.DataFrame({"attribute": run.index, "group": run["group"].to_numpy(), "measure": name,
                            "points": values.to_numpy(dtype=float)})
              for name, values in measures.items()]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def differences_title(differences: pd.DataFrame, label: str) -> str:
    """The figure's title for ``differences`` (:func:`per_attribute_differences`) of the run called ``label``."""
    if PAPER_DIFFERENCE in set(differences["measure"]):
        return f"{label} minus the paper's DMM-CNN (CelebA), points"
    return f"{label} against its own data's bounds, points"


def differences_sentences(differences: pd.DataFrame, shown: int = 3) -> list[str]:
    """What the figure of ``differences`` shows, in sentences chosen by the numbers.

    Against the paper: on how many attributes the run is above, and the largest shortfalls. Against the bounds:
    the attributes where the run does not beat the majority class (or that it beats it on every one), and which
    group holds most of the summed distance to the ceiling.
    """
    out = []
    by = {name: part.set_index("attribute") for name, part in differences.groupby("measure", sort=False)}
    if PAPER_DIFFERENCE in by:
        points = by[PAPER_DIFFERENCE]["points"].dropna()
        below = points[points < 0].nsmallest(shown)
        if below.empty:
            out.append(f"This run is at or above the paper's DMM-CNN on all {len(points)} attributes.")
        else:
            out.append(f"This run is above the paper's DMM-CNN on {int((points > 0).sum())} of {len(points)} "
                       "attributes; the largest shortfalls: " + ", ".join(f"{a} ({p:+.2f})" for a, p in below.items())
                       + ".")  # fmt: skip
    if GAIN in by:
        gain = by[GAIN]["points"]
        none = gain[gain <= 0].sort_values()
        if none.empty:
            out.append(f"The run beats the majority class on every one of the {len(gain)} attributes.")
        else:
            names = ", ".join(none.index[:2 * shown]) + (", ..." if len(none) > 2 * shown else "")
            out.append(f"On {len(none)} of {len(gain)} attributes the run's accuracy is no better than always "
                       f"answering the majority class ({names}).")  # fmt: skip
    if SHORT in by:
        short = -by[SHORT]["points"].clip(upper=0)
        per_group = short.groupby(by[SHORT]["group"]).sum()
        total = float(short.sum())
        if total <= 0:
            out.append("The run reaches the ceiling on every attribute.")
        else:
            group = str(per_group.idxmax())
            out.append(f"The {group} attributes hold most of the distance to the ceiling: "
                       f"{per_group[group]:.1f} of {total:.1f} points summed over attributes "
                       f"({per_group[group] / total:.0%}); "
                       + ", ".join(f"{a} ({p:.1f})" for a, p in short.nlargest(shown).items()) + " the largest.")
    return out
