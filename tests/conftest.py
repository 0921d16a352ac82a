"""Fixtures of the kit's own tests; plain helpers live in helpers.py."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import DATA  # noqa: E402


@pytest.fixture(scope='session')
def mnist():
    """The MNIST folder; fails (never skips) when get_data.sh has not been run."""
    missing = [n for n in ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                           't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')
               if not (DATA / n).is_file()]
    if missing:
        pytest.fail(f"MNIST missing in {DATA}: run ./get_data.sh first ({missing})")
    return DATA
