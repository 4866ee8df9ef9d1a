"""MLS506 constant-to-convolution."""

from rules import specs


def _tail(with_convolution: bool):
    def last_layer(builder, source):
        builder.add_elementwise("times", [source], "out", "MULTIPLY", alpha=255.0)

    return specs.after_optional_convolution(with_convolution, (3, 2, 2), last_layer)


def bad_multiply_by_a_constant_after_a_convolution():
    return _tail(with_convolution=True)


def good_multiply_with_nothing_trainable_before_it():
    return _tail(with_convolution=False)
