"""The metrics against scikit-learn's implementations of the same definitions, on labels drawn at random."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from mlsurgery.metrics import classification_metrics, regression_metrics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_agrees_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    classes = ["cat", "dog", "emu", "fox", "owl", "yak"]  # sorted: top_k_accuracy_score needs it
    scores = rng.random((200, len(classes)))
    truth = [classes[i] for i in rng.integers(0, len(classes), 200)]
    predicted = [classes[i] for i in scores.argmax(axis=1)]
    measured = classification_metrics(truth, predicted, classes, scores=scores, top_k=(3,))

    assert measured.accuracy == pytest.approx(sk.accuracy_score(truth, predicted))
    assert measured.top_k[3] == pytest.approx(sk.top_k_accuracy_score(truth, scores, k=3, labels=classes))
    assert measured.confusion.tolist() == sk.confusion_matrix(truth, predicted, labels=classes).tolist()
    precision, recall, f1, support = sk.precision_recall_fscore_support(truth, predicted, labels=classes,
                                                                        zero_division=0)
    assert [row.precision for row in measured.per_class] == pytest.approx(precision.tolist())
    assert [row.recall for row in measured.per_class] == pytest.approx(recall.tolist())
    assert [row.f1 for row in measured.per_class] == pytest.approx(f1.tolist())
    assert [row.support for row in measured.per_class] == support.tolist()
    assert measured.macro_f1 == pytest.approx(sk.f1_score(truth, predicted, labels=classes, average="macro",
                                                          zero_division=0))


def test_a_class_never_predicted_has_zero_precision_and_a_true_label_the_model_lacks_is_a_miss():
    measured = classification_metrics([0, 0, 1, 7], [0, 0, 0, 0], [0, 1], scores=np.eye(4, 2), top_k=(2,))
    assert measured.classes == [0, 1, 7]
    assert measured.per_class[1].precision == 0.0 and measured.per_class[1].recall == 0.0
    assert measured.accuracy == 0.5
    assert measured.confusion.tolist() == [[2, 0, 0], [1, 0, 0], [1, 0, 0]]
    assert measured.top_k == {}  # k = 2 is every class: not a measure


def test_regression_agrees_with_scikit_learn():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=(50, 3))
    predicted = truth + rng.normal(scale=0.3, size=(50, 3))
    predicted[17, 2] += 5  # the largest error, in example 17
    measured = regression_metrics(truth, predicted)
    assert measured.mse == pytest.approx(sk.mean_squared_error(truth.ravel(), predicted.ravel()))
    assert measured.mae == pytest.approx(sk.mean_absolute_error(truth.ravel(), predicted.ravel()))
    assert measured.largest_error == pytest.approx(sk.max_error(truth.ravel(), predicted.ravel()))
    assert measured.largest_error_example == 17
