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


@pytest.fixture
def update_goldens(request) -> bool:
    """True when pytest runs with --update-goldens: tests rewrite their golden files."""
    return request.config.getoption("--update-goldens")
