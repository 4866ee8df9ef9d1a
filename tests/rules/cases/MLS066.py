"""MLS066 knn-index."""

from rules import specs


def bad_kd_tree_leaf_size_zero():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.nearestNeighborsIndex.singleKdTreeIndex.leafSize = 0
    return model


def bad_no_index_type():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.nearestNeighborsIndex.ClearField("singleKdTreeIndex")
    return model


def bad_no_distance_function():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.nearestNeighborsIndex.ClearField("squaredEuclideanDistance")
    return model


def good_linear_index():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.nearestNeighborsIndex.linearIndex.SetInParent()
    return model
