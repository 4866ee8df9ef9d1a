"""MLS503 remove-identity-layer: a linear activation 1·x + 0 or a copy writing the model output."""

from .common import dense_front


def before_identity_activation_writes_the_output():
    builder, dense = dense_front()
    builder.add_activation("identity", "LINEAR", "y", "out", params=[1.0, 0.0])
    return builder.spec, dense, "dense"


def before_copy_writes_the_output():
    builder, dense = dense_front()
    builder.add_copy("copy", "y", "out")
    return builder.spec, dense, "dense"
