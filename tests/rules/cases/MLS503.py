"""MLS503 remove-identity-layer."""

from rules import converted_specs as c


def bad_linear_identity_before_output():
    return c.identity_before_output()


def good_linear_that_scales():
    return c.identity_before_output(alpha=2.0)
