"""MLS302 stage-input-type-mismatch."""

from rules import specs


def bad_stage_input_with_another_data_type():
    spec = specs.four_stage_pipeline()
    spec.pipeline.models[1].description.input[0].type.multiArrayType.dataType = specs.DOUBLE
    return spec


def good_stage_input_differs_only_in_description():
    spec = specs.four_stage_pipeline()
    spec.pipeline.models[1].description.input[0].shortDescription = "from stage 1"
    return spec
