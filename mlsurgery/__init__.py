"""mlsurgery: make Core ML NeuralNetwork models trainable on device, and validate them as Core ML does.

The public API lives in these modules (the CLI is a thin shell over them):

- ``mlsurgery.io``: ``load_spec``, ``save_spec``
- ``mlsurgery.network``: ``LayerGraph``, ``find_networks``
- ``mlsurgery.ops``: one module per surgery operation, each returning a ``Changes``
- ``mlsurgery.validate``: ``validate_spec``, ``validate_file``
- ``mlsurgery.jobs``: file-level jobs (load → operate → validate → save)
"""

__version__ = "0.1.0"
