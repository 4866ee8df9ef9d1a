"""MLS305 updatable-stage-not-last."""

from rules import specs


def bad_first_stage_updatable():
    return specs.four_stage_pipeline(updatable=True, updatable_stages={1, 4})


def good_only_last_stage_updatable():
    return specs.four_stage_pipeline(updatable=True, updatable_stages={4})
