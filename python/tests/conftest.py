# SPDX-License-Identifier: Apache-2.0
# conftest.py - where the repository's test data lives (LL_TESTDATA or ../../tests/data), and
# the SDK-style reference writer (sdk_reference.py) on the import path.
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DATA = os.environ.get("LL_TESTDATA") or os.path.join(HERE, "..", "..", "tests", "data")


@pytest.fixture
def data_dir():
    return DATA


@pytest.fixture
def recordio_dir():
    return os.path.join(DATA, "recordio")
