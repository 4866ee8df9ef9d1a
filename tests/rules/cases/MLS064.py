"""MLS064 knn-samples-vs-labels."""

from rules import specs


def bad_two_labels_one_sample():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.stringClassLabels.vector.append("one")
    return model


def good_two_labels_two_samples():
    model = bad_two_labels_one_sample()
    model.kNearestNeighborsClassifier.nearestNeighborsIndex.floatSamples.add().vector.extend([1.0, 1.0, 1.0])
    return model
