"""MLS418 svm-probability-pairs."""

from rules import model_specs

def bad_prob_a_without_prob_b():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.ClearField("probB")
    return spec


def bad_probabilities_not_one_per_class_pair():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.probA.append(1.0)
    spec.supportVectorClassifier.probB.append(1.0)
    return spec


def good_no_probability_estimates():
    spec = model_specs.svm_classifier()
    spec.supportVectorClassifier.ClearField("probA")
    spec.supportVectorClassifier.ClearField("probB")
    return spec
