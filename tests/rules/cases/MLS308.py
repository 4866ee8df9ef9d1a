"""MLS308 stage-names-count."""

from rules import specs


def bad_one_name_for_four_models():
    spec = specs.four_stage_pipeline()
    spec.pipeline.names.append("only")
    return spec


def good_one_name_per_model():
    spec = specs.four_stage_pipeline()
    spec.pipeline.names.extend(["a", "b", "c", "d"])
    return spec
