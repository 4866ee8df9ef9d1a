"""The HTML picture opened in a real browser (headless Chromium): every layer's box exists with its role after the
page's script ran, the blocking layer is marked, and a screenshot is kept for people to look at."""

import html.parser
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec
from mlsurgery.picture import write_picture
from updatable_models import updatable_models  # noqa: F401 (a pytest fixture)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Where the screenshot is kept (out/ is git-ignored; .ci/run prints the path).
SCREENSHOT = ROOT / "out" / "screenshots" / "turi_squeezenet_graph.png"


def chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


class _Boxes(html.parser.HTMLParser):
    """The attributes of every element with a data-layer, data-fold or data-fold-interior attribute, and <body>'s."""

    def __init__(self):
        super().__init__()
        self.layers: dict[str, dict] = {}
        self.folds: list[dict] = []
        self.interiors: list[dict] = []
        self.body: dict = {}
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "body":
            self.body = attributes
        if "data-layer" in attributes:
            attributes["text"] = ""
            self.layers[attributes["data-layer"]] = attributes
            self._open.append(attributes)
        if "data-fold" in attributes:
            self.folds.append(attributes)
        if "data-fold-interior" in attributes:
            self.interiors.append(attributes)

    def handle_data(self, data):
        for attributes in self._open:
            attributes["text"] += data

    def handle_endtag(self, tag):
        if tag == "g" and self._open:
            self._open.pop()


@pytest.fixture(scope="module")
def squeezenet_page(updatable_models, tmp_path_factory):
    page = tmp_path_factory.mktemp("picture") / "squeezenet.html"
    write_picture(load_spec(updatable_models["squeezenet"]), page, "turi_squeezenet.mlmodel (updatable)")
    return page


def test_every_layer_has_its_box_and_role_in_the_rendered_page(squeezenet_page, updatable_models, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", squeezenet_page.as_uri()).stdout
    boxes = _Boxes()
    boxes.feed(dom)
    assert boxes.body.get("data-ready") == "true"  # the page's script ran to the end
    spec = load_spec(updatable_models["squeezenet"])
    names = [layer.name for layer in LayerGraph.trainable(spec).layers]
    assert sorted(boxes.layers) == sorted(names)
    expected = {"fullyconnected0": "updatable", "conv10": "updatable", "fire9/concat": "blocking"}
    for name, box in boxes.layers.items():
        assert box["data-role"] == expected.get(name, "frozen"), name
        assert "data-tip" in box  # hover text moved from <title> by the script
    blocking = boxes.layers["fire9/concat"]
    assert "role-blocking" in blocking["class"] and "BLOCKS GRADIENTS" in blocking["text"]
    folded = {name for fold in boxes.folds for name in fold["data-layers"].split("\u001f")}
    assert folded and not folded & set(expected)  # only frozen layers fold
    assert all("hidden" in interior for interior in boxes.interiors)  # folds start closed


def test_a_fold_opens(squeezenet_page, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", squeezenet_page.as_uri() + "#open=all").stdout
    boxes = _Boxes()
    boxes.feed(dom)
    assert [interior for interior in boxes.interiors if "hidden" not in interior]


def test_screenshot_shows_the_roles(squeezenet_page, tmp_path):
    from PIL import Image

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    chromium(tmp_path, f"--screenshot={SCREENSHOT}", "--window-size=1400,1150", squeezenet_page.as_uri())
    colours = {colour for _, colour in Image.open(SCREENSHOT).convert("RGB").getcolors(maxcolors=1 << 20)}
    assert (0xC8, 0xE6, 0xC9) in colours  # updatable boxes (green)
    assert (0xFF, 0xCD, 0xD2) in colours  # the blocking box (red)
    print(f"screenshot: {SCREENSHOT}")
