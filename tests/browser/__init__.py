"""Browser tests (a package, so its conftest is not taken for tests/conftest.py)."""
