"""MLS301 stage-input-not-available."""

from rules import specs


def bad_stage_reads_an_unknown_feature():
    spec = specs.four_stage_pipeline()
    stage = spec.pipeline.models[1]
    stage.description.input[0].name = "Z"
    stage.neuralNetwork.layers[0].input[0] = "Z"
    return spec


def good_stage_reads_a_pipeline_input():
    spec = specs.four_stage_pipeline()
    stage = spec.pipeline.models[1]
    stage.description.input[0].CopyFrom(spec.description.input[0])
    stage.neuralNetwork.layers[0].input[0] = "A"
    return spec
