"""Checks of the classic estimators (MLS410–MLS419): GLMs, support vector machines, Bayesian probit regressors.

Upstream: mlmodel/src/Validation/LinearModelValidator.cpp, SVMValidator.cpp and
BayesianProbitRegressionValidator.cpp; the interface helpers they call are in ``rules.other_models``. The order of the
checks is each validator's order (GLM classifiers check their classifier interface before their input types,
SVMs the other way round).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..coreml import int32
from .base import Check, Problem, Rule, define_rule
from .other_models import (
    classifier_interface_problem,
    data_type_name,
    features_problem,
    model_check,
    regressor_interface_problem,
    schema_type_problem,
)

_LINEAR = "mlmodel/src/Validation/LinearModelValidator.cpp"
_SVM = "mlmodel/src/Validation/SVMValidator.cpp"
_PROBIT = "mlmodel/src/Validation/BayesianProbitRegressionValidator.cpp"

# validateDescriptionsAreAllVectorizableTypes (ValidatorUtils-inl.hpp).
VECTORIZABLE = ("doubleType", "int64Type", "multiArrayType")


GLM_WEIGHTS_OFFSETS = define_rule(
    "MLS410", "glm-weights-offsets", "A GLM needs one offset per weight vector.",
    "A GLM regressor or classifier stores one weight vector (DoubleArray) and one offset per output; the two "
    "lists must have the same length, and a classifier needs at least one weight vector.",
    "Give the model as many offsets as weight vectors.", _LINEAR)

GLM_WEIGHT_LENGTHS = define_rule(
    "MLS411", "glm-weight-lengths", "A GLM's weight vectors must all have the same, non-zero length.",
    "Every weight vector holds one coefficient per input element, so all have the same length (for a "
    "classifier, a non-zero one): \"Weight DoubleArrays must have the same length\".",
    "Make every weight vector as long as the model's input vector.", _LINEAR)

GLM_ENUMS = define_rule(
    "MLS412", "glm-enum-value", "A GLM classifier's post-evaluation transform or class encoding is unknown.",
    "postEvaluationTransform must be Logit or Probit and classEncoding ReferenceClass or OneVsRest; other "
    "numbers (from a newer or damaged file) are rejected.",
    "Set postEvaluationTransform and classEncoding to one of the listed values.", _LINEAR)

GLM_WEIGHTS_PER_CLASS = define_rule(
    "MLS413", "glm-weights-per-class", "A GLM classifier's number of weight vectors does not fit its classes.",
    "With ReferenceClass encoding there is one weight vector per class but the first (n - 1); with OneVsRest "
    "one per class, except that two classes use a single vector.",
    "Store n - 1 weight vectors (ReferenceClass) or n (OneVsRest; 1 for two classes) for n class labels.",
    _LINEAR)

GLM_PROBIT = define_rule(
    "MLS414", "glm-probit-multiclass", "The Probit transform is only for binary GLM classifiers.",
    "\"Probit post evaluation transform is only supported for binary classification\": a classifier with more "
    "than two class labels must use Logit.",
    "Use postEvaluationTransform Logit, or reduce the classifier to two classes.", _LINEAR)

SVM_KERNEL = define_rule(
    "MLS415", "svm-kernel", "An SVM kernel is missing or has a negative parameter.",
    "The kernel must be linear, RBF, polynomial or sigmoid, with gamma ≥ 0 (and degree ≥ 0 for a polynomial).",
    "Set the kernel and give it non-negative gamma and degree.", _SVM)

SVM_SUPPORT_VECTORS = define_rule(
    "MLS416", "svm-support-vectors", "An SVM's support vectors are missing or not counted per class.",
    "Sparse or dense support vectors must be set; a classifier lists numberOfSupportVectorsPerClass for each "
    "class, and those counts must add up to the number of support vectors.",
    "Store the support vectors and one count per class that sum to their number.", _SVM)

SVM_COEFFICIENTS = define_rule(
    "MLS417", "svm-coefficients", "An SVM's dual coefficients do not match its support vectors.",
    "A classifier with n classes has n - 1 coefficient vectors and a regressor one; each holds one alpha per "
    "support vector.",
    "Store n - 1 coefficient vectors (one for a regressor), each as long as the support-vector list.", _SVM)

SVM_PROBABILITY = define_rule(
    "MLS418", "svm-probability-pairs", "An SVM classifier's probA/probB do not cover every pair of classes.",
    "When probability estimates are given, probA and probB have the same length, one value per pair of "
    "classes: n (n - 1) / 2 for n classes.",
    "Give probA and probB n (n - 1) / 2 values each, or clear both.", _SVM)

PROBIT_INPUTS = define_rule(
    "MLS419", "probit-inputs", "A Bayesian probit regressor's inputs must be 1-D or 2-D INT32 multi-arrays.",
    "Every input of a bayesianProbitRegressor is a multi-array of dataType INT32 with rank 1 or 2: "
    "\"Unsupported array type\" / \"Unsupported array rank\".",
    "Declare each input as an INT32 multi-array with one or two dimensions.", _PROBIT)

RULES: list[Rule] = [GLM_WEIGHTS_OFFSETS, GLM_WEIGHT_LENGTHS, GLM_ENUMS, GLM_WEIGHTS_PER_CLASS, GLM_PROBIT,
                     SVM_KERNEL, SVM_SUPPORT_VECTORS, SVM_COEFFICIENTS, SVM_PROBABILITY, PROBIT_INPUTS]


@model_check
def glm_regressor_problems(spec) -> Iterator[Problem]:
    """``validate<glmRegressor>``: regressor interface, input and output types, then the coefficients."""
    description = spec.description
    glm = spec.glmRegressor
    problem = regressor_interface_problem(spec) or features_problem(
        description.input, VECTORIZABLE, "glmRegressor", "input") or features_problem(
        description.output, ("doubleType",), "glmRegressor", "output")
    if problem is not None:
        yield problem
        return
    if len(glm.weights) != len(glm.offset):
        yield (GLM_WEIGHTS_OFFSETS, f"the GLM regressor has {len(glm.weights)} weight vectors and {len(glm.offset)} "
                                    "offsets; give one offset per weight vector")
        return
    lengths = [len(weights.value) for weights in glm.weights]
    if any(length != lengths[0] for length in lengths):
        yield (GLM_WEIGHT_LENGTHS, f"the GLM regressor's weight vectors have lengths {lengths}; give them all the "
                                   "same length")


@model_check
def glm_classifier_problems(spec) -> Iterator[Problem]:
    """``validate<glmClassifier>``: classifier interface, input types, enums, then the coefficients."""
    glm = spec.glmClassifier
    problem = classifier_interface_problem(spec, glm) or features_problem(
        spec.description.input, VECTORIZABLE, "glmClassifier", "input")
    if problem is not None:
        yield problem
        return
    transforms, encodings = type(glm).PostEvaluationTransform, type(glm).ClassEncoding
    if glm.postEvaluationTransform not in transforms.values():
        yield (GLM_ENUMS, f"postEvaluationTransform is {glm.postEvaluationTransform}, not Logit or Probit; set one "
                          "of them")
        return
    if glm.classEncoding not in encodings.values():
        yield (GLM_ENUMS, f"classEncoding is {glm.classEncoding}, not ReferenceClass or OneVsRest; set one of them")
        return
    weight_count = len(glm.weights)
    if weight_count == 0 or weight_count != len(glm.offset):
        yield (GLM_WEIGHTS_OFFSETS, f"the GLM classifier has {weight_count} weight vectors and {len(glm.offset)} "
                                    "offsets; give at least one weight vector and one offset per weight vector")
        return
    class_count = len(getattr(glm, glm.WhichOneof("ClassLabels")).vector)
    problem = _weights_per_class_problem(glm, weight_count, class_count)
    if problem is not None:
        yield problem
        return
    if class_count > 2 and glm.postEvaluationTransform == transforms.Value("Probit"):
        yield (GLM_PROBIT, f"the GLM classifier has {class_count} classes but uses Probit, which is only for two; "
                           "use Logit")
        return
    lengths = [len(weights.value) for weights in glm.weights]
    if lengths[0] == 0 or any(length != lengths[0] for length in lengths):
        yield (GLM_WEIGHT_LENGTHS, f"the GLM classifier's weight vectors have lengths {lengths}; give them all the "
                                   "same, non-zero length")


def _weights_per_class_problem(glm, weight_count: int, class_count: int) -> Problem | None:
    if glm.classEncoding == type(glm).ClassEncoding.Value("ReferenceClass"):
        expected = class_count - 1
        encoding = "ReferenceClass"
    else:
        expected = 1 if class_count == 2 else class_count
        encoding = "OneVsRest"
    if weight_count == expected:
        return None
    return (GLM_WEIGHTS_PER_CLASS, f"with {encoding} encoding and {class_count} classes the GLM classifier needs "
                                   f"{expected} weight vector(s), not {weight_count}")


def _kernel_problem(kernel) -> Problem | None:
    kind = kernel.WhichOneof("kernel")
    if kind is None:
        return (SVM_KERNEL, "the SVM sets no kernel; set linearKernel, rbfKernel, polyKernel or sigmoidKernel")
    if kind != "linearKernel" and getattr(kernel, kind).gamma < 0:
        return (SVM_KERNEL, f"the {kind}'s gamma is {getattr(kernel, kind).gamma}; gamma must be ≥ 0")
    if kind == "polyKernel" and kernel.polyKernel.degree < 0:
        return (SVM_KERNEL, f"the polyKernel's degree is {kernel.polyKernel.degree}; degree must be ≥ 0")
    return None


def _support_vector_count(svm) -> int | None:
    kind = svm.WhichOneof("supportVectors")
    return None if kind is None else len(getattr(svm, kind).vectors)


_NO_SUPPORT_VECTORS = (SVM_SUPPORT_VECTORS, "the SVM stores no support vectors; set sparseSupportVectors or "
                                            "denseSupportVectors")


@model_check
def svm_classifier_problems(spec) -> Iterator[Problem]:
    """``validate<supportVectorClassifier>``: input types, classifier interface, kernel, then the coefficients."""
    svm = spec.supportVectorClassifier
    problem = features_problem(spec.description.input, VECTORIZABLE, "supportVectorClassifier", "input") or \
        classifier_interface_problem(spec, svm) or _kernel_problem(svm.kernel)
    if problem is not None:
        yield problem
        return
    class_count = len(getattr(svm, svm.WhichOneof("ClassLabels")).vector)
    if len(svm.coefficients) != class_count - 1:
        yield (SVM_COEFFICIENTS, f"the SVM classifier has {len(svm.coefficients)} coefficient vectors for "
                                 f"{class_count} classes; it needs {class_count - 1}")
        return
    support_vectors = _support_vector_count(svm)
    if support_vectors is None:
        yield _NO_SUPPORT_VECTORS
        return
    per_class = svm.numberOfSupportVectorsPerClass
    if len(per_class) != class_count:
        yield (SVM_SUPPORT_VECTORS, f"numberOfSupportVectorsPerClass has {len(per_class)} entries for "
                                    f"{class_count} classes; give one count per class")
        return
    counted = int32(sum(per_class))
    if counted != support_vectors:
        yield (SVM_SUPPORT_VECTORS, f"numberOfSupportVectorsPerClass adds up to {counted}, but there are "
                                    f"{support_vectors} support vectors; make them agree")
        return
    wrong = next((c for c in svm.coefficients if len(c.alpha) != support_vectors), None)
    if wrong is not None:
        yield (SVM_COEFFICIENTS, f"a coefficient vector has {len(wrong.alpha)} alphas for {support_vectors} "
                                 "support vectors; give one alpha per support vector")
        return
    if len(svm.probA) or len(svm.probB):
        pairs = class_count * (class_count - 1) // 2
        if len(svm.probA) != len(svm.probB) or len(svm.probA) != pairs:
            yield (SVM_PROBABILITY, f"probA has {len(svm.probA)} and probB {len(svm.probB)} values; "
                                    f"{class_count} classes need {pairs} each")


@model_check
def svm_regressor_problems(spec) -> Iterator[Problem]:
    """``validate<supportVectorRegressor>``: input types, regressor interface, kernel, then the coefficients."""
    svm = spec.supportVectorRegressor
    problem = features_problem(spec.description.input, VECTORIZABLE, "supportVectorRegressor", "input") or \
        regressor_interface_problem(spec) or _kernel_problem(svm.kernel)
    if problem is not None:
        yield problem
        return
    support_vectors = _support_vector_count(svm)
    if support_vectors is None:
        yield _NO_SUPPORT_VECTORS
    elif len(svm.coefficients.alpha) != support_vectors:
        yield (SVM_COEFFICIENTS, f"the SVM regressor has {len(svm.coefficients.alpha)} alphas for "
                                 f"{support_vectors} support vectors; give one alpha per support vector")


@model_check
def probit_problems(spec) -> Iterator[Problem]:
    """``validate<bayesianProbitRegressor>``: every input is a 1-D or 2-D INT32 multi-array (nothing else)."""
    for feature in spec.description.input:
        problem = schema_type_problem(feature, ("multiArrayType",), "bayesianProbitRegressor")
        if problem is not None:
            yield problem
            return
        array = feature.type.multiArrayType
        if array.dataType != type(array).INT32:
            yield (PROBIT_INPUTS, f"input '{feature.name}' has dataType {data_type_name(array)}; use INT32")
            return
        if not 1 <= len(array.shape) <= 2:
            yield (PROBIT_INPUTS, f"input '{feature.name}' has rank {len(array.shape)}; use a 1-D or 2-D shape")
            return


CHECKS: dict[str, Check] = {
    "glmRegressor": glm_regressor_problems,
    "glmClassifier": glm_classifier_problems,
    "supportVectorRegressor": svm_regressor_problems,
    "supportVectorClassifier": svm_classifier_problems,
    "bayesianProbitRegressor": probit_problems,
}
