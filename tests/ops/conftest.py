"""Fixtures shared by the operation tests."""

import pytest


@pytest.fixture(scope="session")
def converted_classifier():
    """A small PyTorch CNN classifier converted by coremltools 9: an N-D network (reshapeStatic, softmaxND)."""
    import torch

    from engine.conversion import convert

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3)
            self.pool = torch.nn.AdaptiveAvgPool2d(1)
            self.fc = torch.nn.Linear(8, 4)

        def forward(self, x):
            x = torch.flatten(self.pool(torch.relu(self.conv(x))), 1)
            return torch.softmax(self.fc(x), dim=1)

    torch.manual_seed(0)
    return convert(Net(), [(1, 3, 16, 16)], classifier_labels=["a", "b", "c", "d"])
