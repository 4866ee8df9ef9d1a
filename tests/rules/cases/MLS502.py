"""MLS502 reshape-to-flatten."""

from rules import converted_specs as c


def bad_flattening_reshape_before_dense():
    return c.conv_head((1, 8))


def good_no_reshape():
    return c.identity_before_output(alpha=2.0)
