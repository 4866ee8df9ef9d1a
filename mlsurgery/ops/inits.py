"""The initialisations ``widen`` and ``reinit`` offer, importable without numpy (the CLI lists them in --help)."""

# New rows of a widened layer: zeros (the article's way), kaiming (random) or preserve (old probabilities kept).
WIDEN_INITS = ("zeros", "kaiming", "preserve")
# Fresh weights for re-initialised layers (distributions in mlsurgery.ops.reinit).
REINIT_INITS = ("kaiming-uniform", "kaiming-normal", "xavier-uniform", "zeros")
