"""MLS065 knn-sample-dimension."""

from rules import specs


def bad_dimension_larger_than_samples():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.nearestNeighborsIndex.numberOfDimensions = 4
    return model


def good_dimension_matches():
    return specs.valid_nearest_neighbors()
