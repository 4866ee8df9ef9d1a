"""MLS460 nms-thresholds."""

from rules import model_specs

def bad_iou_threshold_above_one():
    spec = model_specs.non_maximum_suppression()
    spec.nonMaximumSuppression.iouThreshold = 1.5
    return spec


def bad_nan_iou_threshold():
    spec = model_specs.non_maximum_suppression()
    spec.nonMaximumSuppression.iouThreshold = float("nan")
    return spec


def bad_negative_confidence_threshold():
    spec = model_specs.non_maximum_suppression()
    spec.nonMaximumSuppression.confidenceThreshold = -0.1
    return spec


def good_confidence_threshold_above_one():
    spec = model_specs.non_maximum_suppression()
    spec.nonMaximumSuppression.confidenceThreshold = 3.0
    return spec
