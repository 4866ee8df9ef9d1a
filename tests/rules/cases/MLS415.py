"""MLS415 svm-kernel."""

from rules import model_specs

def bad_no_kernel():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.ClearField("kernel")
    return spec


def bad_negative_rbf_gamma():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.kernel.rbfKernel.gamma = -0.5
    return spec


def bad_negative_polynomial_degree():
    spec = model_specs.svm_regressor()
    spec.supportVectorRegressor.kernel.polyKernel.degree = -1
    return spec


def good_sigmoid_kernel():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.kernel.sigmoidKernel.gamma = 0.1
    return spec


def good_nan_gamma_is_not_negative():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.kernel.rbfKernel.gamma = float("nan")
    return spec
