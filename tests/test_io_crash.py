"""A save killed with SIGKILL at any point leaves the target old or new, and no temp file outlives the next save;
a save that runs out of room is one line naming the output, and leaves nothing.

The writer is a real child process saving a 16 MB spec; it is killed when it has written a given share of the
file (read from /proc/PID/io), so the kills land before, during and after the data is written. In "reinit" mode
the child re-initialises the big layer first, so the values it saves are drawn while they are written.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES, ROOT
from mlsurgery.io import load_spec, save_spec
from mlsurgery.weights import set_float_values

pytestmark = pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/PID/io")

FLOATS = 4_000_000  # 16 MB of weights: big enough that a save takes a while to write

# The child saves the spec at argv[1] to argv[2] with a new description, in the mode named by argv[3]:
# "save_spec" (what every command does), "reinit" (reinit's deferred draws: the big layer's values drawn while
# saving) or "named" (the fallback for file systems without O_TMPFILE).
CHILD = """
import sys
import numpy as np
from mlsurgery.io import _write_atomically, load_spec, open_spec, save_spec
from mlsurgery.ops.reinit import reinit_layers
from mlsurgery.serialize import write_message
spec = open_spec(sys.argv[1]) if sys.argv[3] == "reinit" else load_spec(sys.argv[1])
if sys.argv[3] == "reinit":
    reinit_layers(spec, ["dense_1"], rng=np.random.default_rng(0))
spec.description.metadata.shortDescription = "new"
print("ready", flush=True)
sys.stdin.readline()
if sys.argv[3] in ("save_spec", "reinit"):
    save_spec(spec, sys.argv[2])
else:
    from pathlib import Path
    _write_atomically(Path(sys.argv[2]), lambda stream: write_message(spec, stream.write), anonymous=False)
print("saved", flush=True)
"""


@pytest.fixture(scope="module")
def big_models(tmp_path_factory):
    """(the spec file the child saves, whose description is 'old'; its bytes, the target's starting content)."""
    folder = tmp_path_factory.mktemp("big")
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    dense = spec.neuralNetworkClassifier.layers[1].innerProduct  # dense_1, 784 inputs: made 16 MB of weights
    dense.outputChannels = FLOATS // dense.inputChannels
    set_float_values(dense.weights, np.arange(dense.inputChannels * dense.outputChannels, dtype=np.float32))
    spec.description.metadata.shortDescription = "old"
    source = save_spec(spec, folder / "source.mlmodel")
    return source, source.read_bytes()


def _written(pid: int) -> int:
    with open(f"/proc/{pid}/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))


def _kill_save(source: Path, target: Path, mode: str, share: float) -> bool:
    """Start a save of ``source`` to ``target`` and SIGKILL it once it wrote ``share`` of the file; True if the
    kill landed before the save finished."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(source), str(target), mode], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.readline().strip() == "ready"
    start, goal = _written(child.pid), share * source.stat().st_size
    child.stdin.write("go\n")
    child.stdin.flush()
    deadline = time.monotonic() + 60
    try:
        while _written(child.pid) - start < goal and time.monotonic() < deadline:
            pass
        os.kill(child.pid, signal.SIGKILL)
    except (ProcessLookupError, FileNotFoundError, StopIteration):
        pass  # it finished first
    child.wait()
    return child.returncode == -signal.SIGKILL and "saved" not in child.stdout.read()


def _temp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith(".target.mlmodel"))


@pytest.mark.parametrize("mode", ["save_spec", "reinit", "named"])
def test_killed_saves_keep_old_or_new_and_the_next_save_leaves_no_temp_file(tmp_path, big_models, mode):
    source, old_bytes = big_models
    target = tmp_path / "target.mlmodel"
    target.write_bytes(old_bytes)
    interrupted = 0
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):  # five SIGKILLed saves, from before the first byte to the rename
        interrupted += _kill_save(source, target, mode, share)
        description = load_spec(target).description.metadata.shortDescription  # old or new, never torn
        assert description in ("old", "new")
        if description == "old":
            assert target.read_bytes() == old_bytes
    assert source.read_bytes() == old_bytes  # the input is only ever read
    assert interrupted >= 3, "the kills must land while the save runs for this test to mean anything"
    if mode == "named":
        assert _temp_files(tmp_path), "killed named saves leave their temp file until the next save"

    spec = load_spec(source)
    spec.description.metadata.shortDescription = "complete"
    save_spec(spec, target)
    assert _temp_files(tmp_path) == []
    assert load_spec(target).description.metadata.shortDescription == "complete"


def test_a_save_removes_temp_files_of_dead_writers_only(tmp_path):
    from mlsurgery.io import _start_time

    target = tmp_path / "model.mlmodel"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead_pid = int(finished.stdout)
    me, my_start = os.getpid(), _start_time(os.getpid())
    debris = {
        f".model.mlmodel.{dead_pid}.0.00aa.mlsurgery-tmp": False,          # its writer exited
        f".model.mlmodel.{me}.{my_start + 1}.00bb.mlsurgery-tmp": False,   # PID reused by a later process
        f".model.mlmodel.{me}.{my_start}.00cc.mlsurgery-tmp": True,        # a save still running
        f".other.mlmodel.{dead_pid}.0.00dd.mlsurgery-tmp": True,           # another target's
        ".model.mlmodel.notes.txt": True,                                  # not ours
    }
    for name in debris:
        (tmp_path / name).write_bytes(b"partial")
    save_spec(load_spec(FIXTURES / "regressor.mlmodel"), target)
    assert {name: (tmp_path / name).exists() for name in debris} == debris


# The child runs `mlsurgery reinit` (argv[2:]) with its files limited to argv[1] bytes and SIGXFSZ ignored, so a
# write past the limit fails with EFBIG as on a full disk; weights are stored from 1 byte, so dense_1's values are
# drawn while saving. argv[1] "named" after the limit: the fallback without O_TMPFILE.
NO_ROOM_CHILD = """
import resource, signal, sys
import mlsurgery.io, mlsurgery.weights
from mlsurgery.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
mlsurgery.weights.STORED_FIELD_BYTES = 1
if sys.argv[2] == "named":
    mlsurgery.io._open_anonymous = lambda folder: None
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("mode", ["anonymous", "named"])
def test_a_save_without_room_is_one_line_naming_the_output_and_leaves_nothing(tmp_path, mode):
    output = tmp_path / "out.mlmodel"
    child = subprocess.run([sys.executable, "-c", NO_ROOM_CHILD, str(100_000), mode, "reinit",
                            str(FIXTURES / "mnist_mlp.mlmodel"), "--layers", "dense_1", "--seed", "0", "-o",
                            str(output)], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.returncode == 2, child.stderr
    message = child.stderr.strip()
    assert "\n" not in message and str(output) in message and "File too large" in message
    assert os.listdir(tmp_path) == []
