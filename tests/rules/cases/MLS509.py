"""MLS509 clip-to-relu."""

from rules import specs


def _tail(with_convolution: bool):
    def last_layer(builder, source):
        builder.add_unary("threshold", source, "out", mode="threshold", alpha=0.0)

    return specs.after_optional_convolution(with_convolution, (3, 2, 2), last_layer)


def bad_threshold_after_a_convolution():
    return _tail(with_convolution=True)


def good_threshold_with_nothing_trainable_before_it():
    return _tail(with_convolution=False)
