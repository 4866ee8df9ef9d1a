"""MLS300 empty-pipeline."""

from rules import specs


def bad_no_models():
    spec = specs.new_model()
    specs.empty_pipeline(spec, updatable=False, inputs=("A", 3), outputs=("A", 3))
    return spec


def good_four_models():
    return specs.four_stage_pipeline()
