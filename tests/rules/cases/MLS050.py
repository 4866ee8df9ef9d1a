"""MLS050 updatable-spec-version."""

from rules import specs


def bad_version_3():
    model = specs.valid_updatable_network()
    model.specificationVersion = 3
    return model


def bad_updatable_stage_with_old_version():
    spec = specs.four_stage_pipeline(updatable=True, updatable_stages={4})
    spec.pipeline.models[3].specificationVersion = 3
    return spec


def good_version_4():
    return specs.valid_updatable_network()


def good_old_version_when_not_updatable():
    model = specs.valid_updatable_network()
    model.isUpdatable = False
    model.specificationVersion = 3
    return model
