"""MLS417 svm-coefficients."""

from rules import model_specs

def bad_one_coefficient_vector_for_three_classes():
    spec = model_specs.svm_classifier()
    del spec.supportVectorClassifier.coefficients[-1]
    return spec


def bad_alpha_count_differs_from_support_vectors():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.coefficients[1].alpha.append(0.5)
    return spec


def bad_regressor_alpha_count():
    spec = model_specs.svm_regressor()
    spec.supportVectorRegressor.coefficients.alpha.append(0.3)
    return spec


def good_binary_classifier_with_one_coefficient_vector():
    return model_specs.svm_classifier(("a", "b"), (2, 1))
