"""MLS507 reduce-to-global-pooling."""

from rules import specs


def _head(with_convolution: bool):
    def last_layer(builder, source):
        builder.add_reduce("mean_hw", source, "out", axis="HW", mode="avg")

    return specs.after_optional_convolution(with_convolution, (3, 1, 1), last_layer)


def bad_mean_over_h_and_w_after_a_convolution():
    return _head(with_convolution=True)


def good_mean_with_nothing_trainable_before_it():
    return _head(with_convolution=False)
