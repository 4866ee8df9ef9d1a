"""MLS303 pipeline-output-not-produced."""

from rules import specs


def bad_output_nobody_produces():
    spec = specs.four_stage_pipeline()
    spec.description.output[0].name = "F"
    return spec


def good_output_of_an_inner_stage():
    spec = specs.four_stage_pipeline()
    spec.description.output.add().CopyFrom(spec.pipeline.models[0].description.output[0])
    return spec
