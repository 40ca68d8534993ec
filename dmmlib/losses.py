"""The paper's three losses, all mean squared errors (Sec. 3.2.2).

- Eq. 1, landmarks: ``L_FLD = (1/N) sum_i ||yhat_i - y_i||^2`` over the 2T coordinates of image i.
- Eq. 2, attribute j: ``L_j = (1/N) sum_i (yhat_ij - y_ij)^2`` with labels +1 / -1; a vector of J losses.
- Eq. 3, joint: ``L = sum_j lambda_j L_j + beta L_FLD``.

Losses are computed in float32 even under bf16 autocast: a mean of squared errors loses digits in bf16.
"""

from __future__ import annotations

import torch


def squared_errors(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The summands of Eq. 2: ``(yhat_ij - y_ij)^2`` for ``(B, J)`` outputs and +1/-1 labels, in float32.

    Validation sums them over a whole set (in float64, :mod:`dmmlib.validation`); :func:`attribute_losses`
    averages them over a batch.
    """
    pred = pred.float()
    return (pred - target.to(pred.dtype)).square()


def attribute_losses(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 2 for every attribute: ``(B, J)`` outputs and +1/-1 labels -> ``(J,)`` mean squared errors."""
    return squared_errors(pred, target).mean(dim=0)


def landmark_squared_distances(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The summands of Eq. 1: ``||yhat_i - y_i||^2`` over the 2T coordinates of each image, ``(B,)`` in float32."""
    pred = pred.float()
    return (pred - target.to(pred.dtype)).square().sum(dim=1)


def landmark_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 1: mean over images of the squared L2 distance over the 2T coordinates.

    ``mask`` (B,) bool, optional (our extension, off by default): images where it is False, e.g. those whose
    landmarks are placeholders, are left out of the mean. With no image left the loss is a graph-connected 0.
    """
    per_image = landmark_squared_distances(pred, target)
    if mask is None:
        return per_image.mean()
    mask = mask.to(per_image.dtype)
    return (per_image * mask).sum() / mask.sum().clamp(min=1.0)


def joint_loss(
    attr_losses: torch.Tensor, weights: torch.Tensor, fld_loss: torch.Tensor | None, beta: float = 0.5
) -> torch.Tensor:
    """Eq. 3; without a landmark task (``fld_loss`` None) the beta term is absent."""
    loss = (weights.to(attr_losses) * attr_losses).sum()
    if fld_loss is not None:
        loss = loss + beta * fld_loss
    return loss
