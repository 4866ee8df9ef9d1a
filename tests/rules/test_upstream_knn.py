"""Core ML's k-NN classifier validator tests (KNNValidatorTests.cpp), run through mlsurgery's validator.

Upstream: apple/coremltools mlmodel/tests/KNNValidatorTests.cpp; each function is the upstream test of the same
name in snake_case. Upstream calls the k-NN validator directly; here the whole model is validated, whose generic
checks these specs pass. Where another k-NN check fails before the one a test is about, the expected rule is the
one Core ML reports first (its checks stop at the first failure) and the comment says so.
"""

from rules import specs
from rules.verdicts import assert_coreml_first, assert_valid

POINTS = [[0, 0, 0, 0], [1, 0, 0, 0], [2.1, 0, 0, 0], [0, 0.1, 0, 0], [1, 0, 0.1, 0], [2.1, 0, 0, 0.1]]


def _interface():
    """``generateInterface``: a 4-vector in, a String label out, newest specification version."""
    model = specs.new_model()
    model.specificationVersion = 10
    model.description.metadata.shortDescription = "Testing nearest neighbor validator"
    feature = model.description.input.add()
    feature.name = "input"
    feature.type.multiArrayType.shape.append(4)
    feature.type.multiArrayType.dataType = specs.FLOAT32
    specs.string_feature(model.description.output, "output")
    model.description.predictedFeatureName = "output"
    return model, model.kNearestNeighborsClassifier


def _add_points(knn):
    knn.nearestNeighborsIndex.numberOfDimensions = 4
    for point in POINTS:
        knn.nearestNeighborsIndex.floatSamples.add().vector.extend(point)


def _add_string_labels(knn):
    knn.stringClassLabels.vector.extend(["zero"] * 6)


def _neighbors_range(knn, default=3):
    knn.numberOfNeighbors.range.minValue = 1
    knn.numberOfNeighbors.range.maxValue = 10
    knn.numberOfNeighbors.defaultValue = default


def _empty_knn_with_kd_tree():
    model, knn = _interface()
    knn.uniformWeighting.SetInParent()
    knn.nearestNeighborsIndex.squaredEuclideanDistance.SetInParent()
    knn.nearestNeighborsIndex.singleKdTreeIndex.leafSize = 30
    return model, knn


def test_knn_validator_no_points():
    """testKNNValidatorNoPoints (no weighting scheme is set either, and Core ML checks that first)."""
    model, knn = _interface()
    _neighbors_range(knn)
    _add_string_labels(knn)
    assert_coreml_first(model, "MLS060")
    knn.uniformWeighting.SetInParent()
    assert_coreml_first(model, "MLS064")


def test_knn_validator_no_k():
    """testKNNValidatorNoK: numberOfNeighbors defaults to 0."""
    model, knn = _interface()
    _add_points(knn)
    _add_string_labels(knn)
    assert_coreml_first(model, "MLS213")


def test_knn_validator_no_dimension():
    """testKNNValidatorNoDimension (the missing weighting scheme is reported first)."""
    model, knn = _interface()
    _neighbors_range(knn)
    _add_points(knn)
    _add_string_labels(knn)
    knn.nearestNeighborsIndex.numberOfDimensions = 0
    assert_coreml_first(model, "MLS060")
    knn.uniformWeighting.SetInParent()
    assert_coreml_first(model, "MLS065")


def test_knn_validator_no_labels():
    """testKNNValidatorNoLabels (the missing weighting scheme is reported first)."""
    model, knn = _interface()
    _neighbors_range(knn)
    _add_points(knn)
    assert_coreml_first(model, "MLS060")
    knn.uniformWeighting.SetInParent()
    assert_coreml_first(model, "MLS062")


def test_knn_validator_wrong_number_of_labels():
    """testKNNValidatorWrongNumberOfLabels (the missing weighting scheme is reported first)."""
    model, knn = _interface()
    _neighbors_range(knn)
    _add_points(knn)
    _add_string_labels(knn)
    knn.stringClassLabels.vector.append("Idontwork")
    assert_coreml_first(model, "MLS060")
    knn.uniformWeighting.SetInParent()
    assert_coreml_first(model, "MLS064")


def test_knn_validator_no_index():
    """testKNNValidatorNoIndex (the missing weighting scheme is reported first)."""
    model, knn = _interface()
    _neighbors_range(knn)
    _add_points(knn)
    _add_string_labels(knn)
    assert_coreml_first(model, "MLS060")
    knn.uniformWeighting.SetInParent()
    assert_coreml_first(model, "MLS066")


def test_knn_validator_linear_index():
    """testKNNValidatorLinearIndex."""
    model, knn = _interface()
    _neighbors_range(knn)
    knn.uniformWeighting.SetInParent()
    knn.nearestNeighborsIndex.linearIndex.SetInParent()
    knn.nearestNeighborsIndex.squaredEuclideanDistance.SetInParent()
    _add_points(knn)
    _add_string_labels(knn)
    assert_valid(model)


def test_knn_validator_single_kd_tree_index():
    """testKNNValidatorSingleKdTreeIndex: leaf size 0 and -1 are rejected, 30 accepted."""
    model, knn = _interface()
    _neighbors_range(knn)
    knn.uniformWeighting.SetInParent()
    kd_tree = knn.nearestNeighborsIndex.singleKdTreeIndex
    knn.nearestNeighborsIndex.squaredEuclideanDistance.SetInParent()
    _add_points(knn)
    _add_string_labels(knn)
    assert_coreml_first(model, "MLS066")
    kd_tree.leafSize = -1
    assert_coreml_first(model, "MLS066")
    kd_tree.leafSize = 30
    assert_valid(model)


def test_knn_validator_no_weighting_scheme():
    """testKNNValidatorNoWeightingScheme."""
    model, knn = _interface()
    _neighbors_range(knn)
    knn.nearestNeighborsIndex.linearIndex.SetInParent()
    knn.nearestNeighborsIndex.squaredEuclideanDistance.SetInParent()
    _add_points(knn)
    _add_string_labels(knn)
    assert_coreml_first(model, "MLS060")


def test_knn_validator_no_distance_function():
    """testKNNValidatorNoDistanceFunction."""
    model, knn = _interface()
    _neighbors_range(knn)
    knn.uniformWeighting.SetInParent()
    knn.nearestNeighborsIndex.linearIndex.SetInParent()
    _add_points(knn)
    _add_string_labels(knn)
    assert_coreml_first(model, "MLS066")


def test_knn_validator_good():
    """testKNNValidatorGood."""
    model, knn = _empty_knn_with_kd_tree()
    _neighbors_range(knn)
    _add_points(knn)
    _add_string_labels(knn)
    assert_valid(model)


def test_empty_knn_validation_good():
    """testEmptyKNNValidationGood: an empty classifier needs a default label to know its label type."""
    model, knn = _empty_knn_with_kd_tree()
    _neighbors_range(knn)
    assert_coreml_first(model, "MLS062")
    knn.defaultStringLabel = "Default"
    assert_valid(model)
    knn.ClearField("defaultStringLabel")
    assert_coreml_first(model, "MLS062")


def test_label_type_mismatch_test():
    """testLabelTypeMismatchTest: a String default label with (empty) Int64 class labels."""
    model, knn = _empty_knn_with_kd_tree()
    _neighbors_range(knn)
    assert_coreml_first(model, "MLS062")
    knn.defaultStringLabel = "Default"
    assert_valid(model)
    knn.int64ClassLabels.SetInParent()
    assert_coreml_first(model, "MLS061")


def _neighbors_case(*, default: int, low=None, high=None, allowed=()):
    model, knn = _empty_knn_with_kd_tree()
    knn.defaultStringLabel = "Default"
    if allowed:
        knn.numberOfNeighbors.set.values.extend(allowed)
    else:
        knn.numberOfNeighbors.range.minValue = low
        knn.numberOfNeighbors.range.maxValue = high
    knn.numberOfNeighbors.defaultValue = default
    return model


def test_number_of_neighbors_with_default_value_in_range():
    """testNumberOfNeighborsWithDefaultValueInRange."""
    assert_valid(_neighbors_case(default=5, low=1, high=10))


def test_number_of_neighbors_with_default_value_out_of_range():
    """testNumberOfNeighborsWithDefaultValueOutOfRange."""
    assert_coreml_first(_neighbors_case(default=15, low=1, high=10), "MLS217")


def test_number_of_neighbors_with_default_value_in_set():
    """testNumberOfNeighborsWithDefaultValueInSet."""
    assert_valid(_neighbors_case(default=4, allowed=(1, 4, 7)))


def test_number_of_neighbors_with_default_value_not_in_set():
    """testNumberOfNeighborsWithDefaultValueNotInSet."""
    assert_coreml_first(_neighbors_case(default=10, allowed=(1, 4, 7)), "MLS215")


def test_number_of_neighbors_with_invalid_range():
    """testNumberOfNeighborsWithInvalidRange (a reversed range fails as "default out of range" first)."""
    assert_coreml_first(_neighbors_case(default=5, low=-1, high=10), "MLS216")
    assert_coreml_first(_neighbors_case(default=5, low=0, high=10), "MLS216")
    assert_coreml_first(_neighbors_case(default=5, low=10, high=1), "MLS217")
    assert_coreml_first(_neighbors_case(default=5, low=-10, high=-5), "MLS216")
    assert_valid(_neighbors_case(default=5, low=1, high=10))


def test_number_of_neighbors_with_invalid_set():
    """testNumberOfNeighborsWithInvalidSet."""
    assert_coreml_first(_neighbors_case(default=4, allowed=(0, 4)), "MLS214")
    assert_coreml_first(_neighbors_case(default=4, allowed=(-1, 4)), "MLS214")
    assert_coreml_first(_neighbors_case(default=-1, allowed=(-1, 4)), "MLS213")
    assert_valid(_neighbors_case(default=4, allowed=(1, 4)))
