"""MLS304 pipeline-output-type-mismatch."""

from rules import specs


def bad_output_type_differs():
    spec = specs.four_stage_pipeline()
    spec.description.output[0].type.int64Type.SetInParent()
    return spec


def good_output_type_matches():
    return specs.four_stage_pipeline()
