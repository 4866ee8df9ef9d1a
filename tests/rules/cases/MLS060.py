"""MLS060 knn-weighting-scheme."""

from rules import specs


def bad_no_weighting():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.ClearField("uniformWeighting")
    return model


def good_inverse_distance_weighting():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.inverseDistanceWeighting.SetInParent()
    return model
