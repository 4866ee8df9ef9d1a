"""MLS309 stage-names-unique."""

from rules import specs


def bad_repeated_name():
    spec = specs.four_stage_pipeline()
    spec.pipeline.names.extend(["a", "b", "a", "d"])
    return spec


def good_unique_names():
    spec = specs.four_stage_pipeline()
    spec.pipeline.names.extend(["a", "b", "c", "d"])
    return spec
