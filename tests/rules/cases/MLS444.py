"""MLS444 normalizer-norm."""

from rules import model_specs

def bad_unknown_norm():
    spec = model_specs.normalizer()
    spec.normalizer.normType = 3
    return spec


def good_max_norm():
    spec = model_specs.normalizer()
    spec.normalizer.normType = spec.normalizer.LMax
    return spec
