"""MLS061 knn-default-label-type."""

from rules import specs


def bad_int64_default_with_string_labels():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.defaultInt64Label = 7
    return model


def good_string_default_with_string_labels():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.defaultStringLabel = "unknown"
    return model
