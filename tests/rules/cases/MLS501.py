"""MLS501 batched-matmul-to-inner-product."""

from rules import converted_specs as c


def bad_constant_weight_product():
    return c.batched_matmul_head()


def bad_two_input_product():
    return c.batched_matmul_head(two_inputs=True)


def good_inner_product():
    return c.identity_before_output(alpha=2.0)
