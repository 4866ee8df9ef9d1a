"""MLS062 knn-no-labels."""

from rules import specs


def _empty(default_label: bool):
    model = specs.valid_nearest_neighbors()
    knn = model.kNearestNeighborsClassifier
    knn.ClearField("stringClassLabels")
    del knn.nearestNeighborsIndex.floatSamples[:]
    if default_label:
        knn.defaultStringLabel = "unknown"
    return model


def bad_empty_without_default_label():
    return _empty(False)


def good_empty_with_default_label():
    return _empty(True)
