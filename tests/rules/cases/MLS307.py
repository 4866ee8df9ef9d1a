"""MLS307 updatable-stage-in-frozen-pipeline."""

from rules import specs


def bad_updatable_stage_in_frozen_pipeline():
    return specs.four_stage_pipeline(updatable_stages={4})


def good_frozen_stages():
    return specs.four_stage_pipeline()
