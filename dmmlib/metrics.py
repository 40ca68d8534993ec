"""Evaluation metrics per attribute and their means (the paper reports mean accuracy, Tables 2 and 3).

Inputs are raw outputs ``(N, J)``, labels ``(N, J)`` in +1/-1 and thresholds tau ``(J,)``; predictions follow
Eq. 5. Beside accuracy (the paper's metric) we report balanced accuracy and F1, which expose what accuracy hides on
imbalanced attributes such as Bald (2% positive), and average precision, which needs no threshold at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dmmlib.attributes import ATTRIBUTES, PAPER_GROUPS, AttributeGroups
from dmmlib.thresholds import predict


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x)


def false_positive_negative_counts(outputs, targets, tau) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-attribute counts ``(J,)`` (int64) of false positives (label -1 predicted +1) and false negatives."""
    outputs = torch.as_tensor(outputs)
    targets = torch.as_tensor(targets, device=outputs.device)
    positive_pred = outputs > torch.as_tensor(tau, dtype=outputs.dtype, device=outputs.device)
    positive_true = targets > 0
    fp = (positive_pred & ~positive_true).sum(dim=0)
    fn = (~positive_pred & positive_true).sum(dim=0)
    return fp, fn


def accuracy(outputs, targets, tau=0.0) -> np.ndarray:
    """Per-attribute accuracy ``(J,)`` of Eq. 5 predictions."""
    return (predict(_numpy(outputs), _numpy(tau)) == np.sign(_numpy(targets))).mean(axis=0)


def balanced_accuracy(outputs, targets, tau=0.0) -> np.ndarray:
    """Per-attribute balanced accuracy ``(J,)`` of Eq. 5 predictions: the mean of the true positive and true
    negative rates. NaN for an attribute whose labels hold one class only (one of the rates is undefined)."""
    predicted = predict(_numpy(outputs), _numpy(tau)) > 0
    positive = np.sign(_numpy(targets)) > 0
    positives, negatives = positive.sum(axis=0), (~positive).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (predicted & positive).sum(axis=0) / positives
        tnr = (~predicted & ~positive).sum(axis=0) / negatives
    return np.where((positives > 0) & (negatives > 0), (tpr + tnr) / 2, np.nan)


def majority_accuracy(targets, reference=None) -> np.ndarray:
    """Per-attribute accuracy of always predicting the majority class of ``reference`` (default: ``targets``)."""
    targets = np.sign(_numpy(targets))
    reference = targets if reference is None else np.sign(_numpy(reference))
    majority = np.where((reference > 0).mean(axis=0) > 0.5, 1, -1)
    return (targets == majority).mean(axis=0)


def attribute_table(outputs, targets, tau=0.0, groups: AttributeGroups = PAPER_GROUPS) -> pd.DataFrame:
    """One row per attribute (CelebA order): group, accuracy, balanced accuracy, F1, average precision,
    positive rate, majority-class accuracy. Undefined metrics (an attribute with one class only) are NaN."""
    # imported here: scikit-learn takes about a second to import, which every training process and notebook kernel
    # that imports this module would pay without evaluating anything
    from sklearn.metrics import average_precision_score, f1_score

    outputs, targets = _numpy(outputs), np.sign(_numpy(targets))
    labels = predict(outputs, _numpy(tau))
    balanced = balanced_accuracy(outputs, targets, tau)
    rows = []
    for j, name in enumerate(ATTRIBUTES):
        y, p, s = targets[:, j], labels[:, j], outputs[:, j]
        both = len(np.unique(y)) == 2
        rows.append({
            "attribute": name,
            "group": groups.group_of(name),
            "accuracy": float((p == y).mean()),
            "balanced_accuracy": float(balanced[j]),
            "f1": float(f1_score(y, p, pos_label=1, zero_division=0.0)),
            "average_precision": float(average_precision_score(y > 0, s)) if both else float("nan"),
            "positive_rate": float((y > 0).mean()),
        })  # fmt: skip
    table = pd.DataFrame(rows).set_index("attribute")
    table["majority_accuracy"] = majority_accuracy(targets)
    return table


#: Columns :func:`mean_table` averages; ``ceiling_accuracy`` is present when an evaluation on synthetic data adds
#: the generator's Bayes-optimal accuracy (:func:`dmmlib.data.synthetic.ceiling_accuracy`).
METRIC_COLUMNS = ("accuracy", "balanced_accuracy", "f1", "average_precision", "majority_accuracy", "ceiling_accuracy")


def mean_table(table: pd.DataFrame) -> pd.DataFrame:
    """Means of each metric over all attributes and within the objective and subjective groups; with a ceiling
    column, also ``gap_to_ceiling`` (mean ceiling minus mean accuracy: how far the run stopped below the best
    any model can reach)."""
    columns = [c for c in METRIC_COLUMNS if c in table]
    means = {"all": table[columns].mean()}
    for group in ("objective", "subjective"):
        means[group] = table.loc[table["group"] == group, columns].mean()
    frame = pd.DataFrame(means).T
    if "ceiling_accuracy" in frame and "accuracy" in frame:
        frame["gap_to_ceiling"] = frame["ceiling_accuracy"] - frame["accuracy"]
    return frame
