"""MLS416 svm-support-vectors."""

from rules import model_specs

def bad_no_support_vectors():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.ClearField("denseSupportVectors")
    return spec


def bad_support_vector_counts_missing_a_class():
    spec = model_specs.svm_classifier()
    del spec.supportVectorClassifier.numberOfSupportVectorsPerClass[-1]
    return spec


def bad_support_vector_counts_do_not_add_up():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.numberOfSupportVectorsPerClass[0] = 2
    return spec


def bad_regressor_without_support_vectors():
    spec = model_specs.svm_regressor()
    spec.supportVectorRegressor.ClearField("sparseSupportVectors")
    return spec


def good_sparse_support_vectors():
    spec = model_specs.svm_classifier(("a", "b"), (1, 1))
    svm = spec.supportVectorClassifier
    svm.ClearField("denseSupportVectors")
    for _ in range(2):
        node = svm.sparseSupportVectors.vectors.add().nodes.add()
        node.index, node.value = 1, 0.5
    return spec
