"""MLS500 softmax-nd-to-softmax (reported as fixable, or with the reason it is not)."""

from rules import converted_specs as c


def bad_softmax_nd_over_the_class_axis():
    return c.classifier_head(axis=-1)


def bad_softmax_nd_over_another_axis():
    return c.classifier_head(axis=0)


def good_no_softmax_nd():
    return c.identity_before_output(alpha=2.0)
