"""MLS467 precision-recall-curves."""

from rules import model_specs

def bad_no_curves():
    spec = model_specs.class_confidence_thresholding()
    spec.classConfidenceThresholding.ClearField("precisionRecallCurves")
    return spec


def bad_recall_values_without_thresholds():
    spec = model_specs.class_confidence_thresholding()
    spec.classConfidenceThresholding.precisionRecallCurves[0].recallConfidenceThresholds.ClearField("vector")
    return spec


def bad_negative_precision():
    spec = model_specs.class_confidence_thresholding()
    spec.classConfidenceThresholding.precisionRecallCurves[0].precisionValues.vector[0] = -0.5
    return spec


def bad_infinite_threshold():
    spec = model_specs.class_confidence_thresholding()
    spec.classConfidenceThresholding.precisionRecallCurves[0].recallConfidenceThresholds.vector[1] = float("inf")
    return spec


def good_zero_values():
    spec = model_specs.class_confidence_thresholding()
    spec.classConfidenceThresholding.precisionRecallCurves[0].precisionValues.vector[0] = 0.0
    return spec
