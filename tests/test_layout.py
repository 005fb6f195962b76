"""The test tree itself: pytest imports test modules by basename (no packages), so two test files with
one name in different folders break collection ("import file mismatch") on a fresh clone."""

from collections import Counter
from pathlib import Path


def test_test_module_basenames_are_unique():
    names = Counter(p.name for p in Path(__file__).parent.rglob("*.py") if p.name != "conftest.py")
    assert not [n for n, c in names.items() if c > 1], names
