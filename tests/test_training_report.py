"""The training report opened in a real browser (headless Chromium): its charts are there as inline SVG, it
fetches nothing, and a screenshot is kept for people to look at. Also: what it says, and a missing matplotlib."""

from __future__ import annotations

import html.parser
import re
import sys

import numpy as np
import pytest

from conftest import FIXTURES, ROOT

SCREENSHOT = ROOT / "out" / "screenshots" / "training_report.png"  # out/ is git-ignored; .ci/run names it


def _chromium(tmp_path, *arguments):
    sys.path.insert(0, str(ROOT / "tests" / "picture"))
    from test_browser import chromium

    return chromium(tmp_path, *arguments)


class _Page(html.parser.HTMLParser):
    """Charts (figure[data-chart]) with the SVG elements inside each, and every element that could fetch."""

    def __init__(self):
        super().__init__()
        self.charts: dict[str, list[str]] = {}
        self.fetching: list[tuple[str, dict]] = []
        self.text = ""
        self._chart = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "figure" and "data-chart" in attributes:
            self._chart = attributes["data-chart"]
            self.charts[self._chart] = []
        elif self._chart is not None:
            self.charts[self._chart].append(tag)
        if tag in ("script", "link", "img", "iframe", "object", "embed") or any(
                name in ("src", "href", "xlink:href") and re.match(r"\s*(https?:|//)", value or "")
                for name, value in attributes.items()):
            self.fetching.append((tag, attributes))

    def handle_endtag(self, tag):
        if tag == "figure":
            self._chart = None

    def handle_data(self, data):
        self.text += data


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from sklearn.datasets import load_digits

    from mlsurgery.cli import main

    folder = tmp_path_factory.mktemp("report")
    model = folder / "digits.mlmodel"
    assert main(["make-updatable", str(FIXTURES / "mnist_mlp.mlmodel"), "--layers", "dense_2,dense_3", "--optimizer",
                 "adam", "--lr", "0.001", "--batch", "32", "--epochs", "4", "--seed", "3", "-o", str(model)]) == 0
    digits = load_digits()
    images = np.pad(np.kron(digits.images / 16.0, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))[:, None]
    images = images.astype(np.float32)
    np.savez(folder / "train.npz", image=images[:500], classLabel=digits.target[:500])
    np.savez(folder / "validation.npz", image=images[500:800], classLabel=digits.target[500:800])
    return folder, model


@pytest.fixture(scope="module")
def report(trained):
    from mlsurgery.cli import main

    folder, model = trained
    page = folder / "run.html"
    assert main(["train", str(model), str(folder / "train.npz"), "--validation", str(folder / "validation.npz"),
                 "-o", str(folder / "trained.mlmodel"), "--report", str(page)]) == 0
    return page


def test_the_report_opens_with_its_charts_and_fetches_nothing(report, tmp_path):
    page = _Page()
    page.feed(_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout)
    assert set(page.charts) == {"loss", "accuracy", "confusion-before-0", "confusion-after-0"}
    for name, elements in page.charts.items():
        assert elements[0] == "svg" and elements.count("path") >= 4, name  # drawn, not an empty frame
    assert page.fetching == []
    assert "accuracy" in page.text and "learning_rate" in page.text and "mini-batches per epoch" in page.text


def test_the_report_says_what_the_run_did(report):
    text = report.read_text()
    summary = re.search(r"accuracy ([\d.]+) % → ([\d.]+) %", text)
    assert summary and float(summary.group(1)) < 30 < 50 < float(summary.group(2))  # chance → learnt
    # The "after" matrix (measured on the written model) agrees with the trainer's own validation accuracy.
    last_epoch = re.findall(r"<tr><td>4</td><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([\d.]+)</td></tr>", text)
    assert last_epoch and float(summary.group(2)) == pytest.approx(100 * float(last_epoch[-1]), abs=0.05)
    assert "as Core ML reports it" in text and "validation loss" in text
    assert text.count("<svg") == 4 and "<image" not in text  # vector charts, no embedded bitmap


def test_screenshot_shows_the_curves(report, tmp_path):
    from PIL import Image

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    _chromium(tmp_path, f"--screenshot={SCREENSHOT}", "--window-size=1200,1800", report.as_uri())
    colours = {colour for _, colour in Image.open(SCREENSHOT).convert("RGB").getcolors(maxcolors=1 << 20)}
    assert (0x1F, 0x77, 0xB4) in colours  # the loss line (blue)
    assert (0xD6, 0x27, 0x28) in colours  # the validation loss line (red)
    print(f"screenshot: {SCREENSHOT}")


def test_tune_report_has_the_trials_and_regression_errors(run_cli, tmp_path):
    from mlsurgery.io import save_spec
    from mlsurgery.io import load_spec
    from mlsurgery.ops.make_updatable import make_updatable
    from mlsurgery.ops.update_parameters import EpochSettings, OptimizerSettings

    spec = load_spec(FIXTURES / "regressor.mlmodel")
    make_updatable(spec, ["auto"], loss="mse", optimizer=OptimizerSettings(
        learning_rate=0.01, learning_rate_range=(0.001, 1000.0), batch=8), epochs=EpochSettings(3), shuffle=False)
    save_spec(spec, tmp_path / "regressor.mlmodel")
    rng = np.random.default_rng(0)
    for name, count in (("train", 48), ("validation", 24)):
        x = rng.normal(size=(count, 8)).astype(np.float32)
        np.savez(tmp_path / f"{name}.npz", features=x, target_true=0.5 * x[:, :1])
    result = run_cli("tune", tmp_path / "regressor.mlmodel", tmp_path / "train.npz", "--validation",
                     tmp_path / "validation.npz", "--trials", "3", "--report", tmp_path / "tune.html")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "tune.html").read_text()
    assert 'data-chart="trials"' in text and 'data-chart="loss"' in text and "diverged" in text
    assert "MSE" in text and "confusion" not in text


def test_without_matplotlib_train_report_is_one_line_naming_the_extra_and_nothing_is_written(
        run_cli, trained, monkeypatch, tmp_path):
    folder, model = trained
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = run_cli("train", model, folder / "train.npz", "-o", tmp_path / "out.mlmodel", "--report",
                     tmp_path / "run.html")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "mlsurgery[train]" in result.stderr and "matplotlib" in result.stderr
    assert not (tmp_path / "out.mlmodel").exists() and not (tmp_path / "run.html").exists()


def test_a_loss_on_an_inner_blob_gets_a_report_that_says_nothing_could_be_compared(run_cli, tmp_path):
    """The loss reads dense_1, which no output exposes: there is nothing to measure before and after, and the
    report says so rather than failing after the model was written."""
    assert run_cli("make-updatable", FIXTURES / "regressor.mlmodel", "--layers", "dense_1", "--loss", "mse",
                   "--loss-input", "dense_1", "--target-shape", "16", "--epochs", "2",
                   "-o", tmp_path / "inner.mlmodel").exit_code == 0
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "train.npz", features=rng.normal(size=(20, 8)).astype(np.float32),
             dense_1_true=rng.normal(size=(20, 16)).astype(np.float32))
    result = run_cli("train", tmp_path / "inner.mlmodel", tmp_path / "train.npz", "-o", tmp_path / "out.mlmodel",
                     "--report", tmp_path / "run.html")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "run.html").read_text()
    assert "no output of the model has true values in the data" in text
    assert 'data-chart="loss"' in text and "Before and after" not in text
