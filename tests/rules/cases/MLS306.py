"""MLS306 updatable-pipeline-last-stage-frozen."""

from rules import specs


def bad_no_stage_updatable():
    return specs.four_stage_pipeline(updatable=True)


def good_last_stage_updatable():
    return specs.four_stage_pipeline(updatable=True, updatable_stages={4})
