"""Evaluation metrics in NumPy: what ``evaluate``, ``tune`` and the training report measure.

Classification (predicted labels, optionally the class scores in the order of ``classes``): accuracy, top-k
accuracy, per-class precision, recall and F1, and the confusion matrix. Definitions are the textbook ones
(scikit-learn's documentation states the same): precision = TP / (TP + FP), recall = TP / (TP + FN),
F1 = 2PR / (P + R); a ratio whose denominator is 0 is 0 (scikit-learn's ``zero_division`` default). Rows of the
confusion matrix are the true classes, columns the predicted ones. Top-k counts an example as right when its
true class is among the k highest scores (ties broken by class order, as a stable sort does); a true label the
model does not know is never right.

Regression: mean squared and mean absolute error over every element, and the largest absolute error with the
example it occurs in. MSE is Core ML's MeanSquaredErrorLossLayer quantity (the mean over elements).
This module imports NumPy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class ClassMetrics:
    label: object
    precision: float
    recall: float
    f1: float
    support: int  # examples whose true class this is


@dataclass
class ClassificationMetrics:
    examples: int
    accuracy: float
    top_k: dict[int, float]  # k → accuracy among the k best scores (only k below the number of classes)
    classes: list  # labels in the confusion matrix's order: the model's, then unknown true labels
    per_class: list[ClassMetrics]
    confusion: np.ndarray  # [true class, predicted class] → count
    macro_f1: float

    def to_dict(self) -> dict:
        return {"examples": self.examples, "accuracy": self.accuracy,
                "top_k": {str(k): value for k, value in self.top_k.items()},
                "classes": [_plain(label) for label in self.classes],
                "per_class": [{**asdict(row), "label": _plain(row.label)} for row in self.per_class],
                "macro_f1": self.macro_f1, "confusion_matrix": self.confusion.astype(int).tolist()}


@dataclass
class RegressionMetrics:
    examples: int
    values_per_example: int
    mse: float
    mae: float
    largest_error: float
    largest_error_example: int

    def to_dict(self) -> dict:
        return asdict(self)


def classification_metrics(truth: Sequence, predicted: Sequence, classes: Sequence, *,
                           scores: np.ndarray | None = None, top_k: Sequence[int] = (5,)) -> ClassificationMetrics:
    """Metrics of ``predicted`` labels against ``truth`` labels; ``classes`` are the model's labels, in the order
    of the columns of ``scores`` ([N, len(classes)], optional: top-k needs it)."""
    truth, predicted = list(truth), list(predicted)
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels for {len(predicted)} predictions")
    known = list(classes)
    extra = [label for label in dict.fromkeys(truth + predicted) if label not in set(known)]
    order = known + extra
    index = {label: i for i, label in enumerate(order)}
    true_index = np.array([index[label] for label in truth], dtype=np.int64)
    predicted_index = np.array([index[label] for label in predicted], dtype=np.int64)
    count = len(order)
    confusion = np.zeros((count, count), dtype=np.int64)
    np.add.at(confusion, (true_index, predicted_index), 1)
    hits = np.diag(confusion).astype(np.float64)
    predicted_totals = confusion.sum(axis=0).astype(np.float64)
    true_totals = confusion.sum(axis=1).astype(np.float64)
    precision = _ratio(hits, predicted_totals)
    recall = _ratio(hits, true_totals)
    f1 = _ratio(2 * precision * recall, precision + recall)
    per_class = [ClassMetrics(label, float(precision[i]), float(recall[i]), float(f1[i]), int(true_totals[i]))
                 for i, label in enumerate(order)]
    examples = len(truth)
    accuracy = float(hits.sum() / examples) if examples else 0.0
    top = {}
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64).reshape(examples, -1)
        if scores.shape[1] != len(known):
            raise ValueError(f"scores have {scores.shape[1]} columns for {len(known)} classes")
        for k in sorted(set(top_k)):
            if 1 < k < len(known):
                top[k] = _top_k_accuracy(scores, true_index, k)
    present = true_totals > 0
    macro_f1 = float(f1[present].mean()) if present.any() else 0.0
    return ClassificationMetrics(examples, accuracy, top, order, per_class, confusion, macro_f1)


def _top_k_accuracy(scores: np.ndarray, true_index: np.ndarray, k: int) -> float:
    known = true_index < scores.shape[1]
    rows = np.nonzero(known)[0]
    if len(true_index) == 0:
        return 0.0
    best = np.argsort(-scores[rows], axis=1, kind="stable")[:, :k]
    right = (best == true_index[rows, None]).any(axis=1)
    return float(right.sum() / len(true_index))


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> RegressionMetrics:
    """Element-wise errors of ``predicted`` against ``truth`` (both [N, ...]; sizes per example must agree)."""
    truth = np.asarray(truth, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    examples = len(truth)
    truth = truth.reshape(examples, -1)
    if predicted.size != truth.size:
        raise ValueError(f"{predicted.size // max(1, examples)} predicted values per example for "
                         f"{truth.shape[1]} true ones")
    errors = predicted.reshape(truth.shape) - truth
    absolute = np.abs(errors)
    worst = int(np.argmax(absolute.max(axis=1))) if examples else 0
    return RegressionMetrics(examples, truth.shape[1], float(np.mean(errors ** 2)) if examples else 0.0,
                             float(np.mean(absolute)) if examples else 0.0,
                             float(absolute.max()) if examples else 0.0, worst)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
