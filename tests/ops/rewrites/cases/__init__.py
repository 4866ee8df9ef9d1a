"""One module per rewrite code: each ``before_*`` function returns ``(spec, reference)``: a network the rewrite
applies to, and a NumPy computation of its output from its input written from Core ML's documented layer
semantics (NeuralNetwork.proto), independent of mlsurgery's engine. test_rewrite_cases.py runs them all."""
