import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_addoption(parser):
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files (tests/invalid/*.expected, ...) from the current output",
    )


@pytest.fixture(autouse=True)
def _tensorflow_only_in_the_keras_group(request):
    """A test outside the `keras` group must not import TensorFlow: the quick run
    (`pytest -m "not keras"`) needs none, and gains nothing from loading it."""
    loaded = "tensorflow" in sys.modules
    yield
    if not loaded and request.node.get_closest_marker("keras") is None:
        assert "tensorflow" not in sys.modules, "imported TensorFlow: mark the test `keras`"


@pytest.fixture
def update_goldens(request) -> bool:
    """True when pytest runs with --update-goldens: tests rewrite their golden files."""
    return request.config.getoption("--update-goldens")


def _data_dir() -> Path | None:
    """The offline folder with Keras's dataset files: NNSPEC_DATA_DIR, else ../shared/data."""
    for folder in (os.environ.get("NNSPEC_DATA_DIR"), Path(__file__).parents[2] / "shared/data"):
        if folder and (Path(folder) / "mnist.npz").is_file():
            return Path(folder)
    return None


@pytest.fixture
def data_dir() -> Path:
    """The folder holding mnist.npz and the Fashion-MNIST files; skips the test without it."""
    folder = _data_dir()
    if folder is None:
        pytest.skip(
            "MNIST files not found: set NNSPEC_DATA_DIR to a folder with mnist.npz and the "
            "Fashion-MNIST *-ubyte.gz files (CI uses ../shared/data where it holds them)"
        )
    return folder
