"""One module per rewrite code: each ``before_*`` function returns ``(spec, reference[, trained[, loss]])``: a
network the rewrite applies to, a NumPy computation of its output from its input written from Core ML's
documented layer semantics (NeuralNetwork.proto), independent of mlsurgery's engine, and the layer the rewrite
lets a loss of that kind reach (default: "conv", MSE). test_rewrite_cases.py runs them all."""
