"""MLS508 upsample-to-deconvolution."""

from rules import specs


def _head(with_convolution: bool, mode="NN"):
    def last_layer(builder, source):
        builder.add_upsample("upsample", 2, 2, source, "out", mode=mode)

    return specs.after_optional_convolution(with_convolution, (3, 4, 4), last_layer)


def bad_nearest_upsample_after_a_convolution():
    return _head(with_convolution=True)


def bad_bilinear_upsample_is_reported_as_not_rewritten():
    return _head(with_convolution=True, mode="BILINEAR")


def good_upsample_with_nothing_trainable_before_it():
    return _head(with_convolution=False)
