"""A PyTorch digit classifier converted with coremltools' defaults (an ML Program in Digits.mlpackage), plus the
scikit-learn digits as training data (digits_train.npz, digits_test.npz) and one example (example.npy).

    python examples/pytorch_digits.py [FOLDER]      # needs torch and scikit-learn: pip install '.[train,test]'

The network is left untrained on purpose: the device (here, `mlsurgery train`) teaches it. README's
"ML Programs" section runs this and then mlsurgery's convert → make-updatable → train → predict on the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coremltools as ct
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    pixels = (digits.data / 16.0).astype(np.float32)  # 8 × 8 images as 64 values in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(pixels, digits.target, test_size=0.3, random_state=0)
    # One array per training input: the model's input x and its class label.
    np.savez(folder / "digits_train.npz", x=x_train, classLabel=y_train.astype(np.int64))
    np.savez(folder / "digits_test.npz", x=x_test, classLabel=y_test.astype(np.int64))
    np.save(folder / "example.npy", x_test[:1])

    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10),
                                  torch.nn.Softmax(dim=1)).eval()
    traced = torch.jit.trace(network, torch.zeros(1, 64))
    # coremltools' defaults: an ML Program (fp16, iOS 15) saved as an .mlpackage.
    model = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=(1, 64))],
                       classifier_config=ct.ClassifierConfig(list(range(10))))
    model.save(str(folder / "Digits.mlpackage"))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
