"""ML Program (``.mlpackage``) → NeuralNetwork conversion, so Core ML can train what coremltools 7+ writes.

Core ML trains only NeuralNetwork models. ``convert.to_neural_network`` joins coremltools' MIL-proto reader and its
NeuralNetwork backend and adds what they lack (classifiers, image preprocessing, fp16 and compressed weights,
descriptions kept as they were). coremltools is imported only inside that path: importing this package is cheap.
"""
