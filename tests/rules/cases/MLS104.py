"""MLS104 classifier-labels (Validators.hpp validateClassifierInterface)."""

from rules import general_specs as g


def rejects_classifier_without_labels():
    model = g.classifier()
    model.neuralNetworkClassifier.ClearField("stringClassLabels")
    return model


def rejects_empty_int64_labels():
    model = g.classifier(int64_labels=True)
    del model.neuralNetworkClassifier.int64ClassLabels.vector[:]
    return model


def accepts_string_labels():
    return g.classifier()
