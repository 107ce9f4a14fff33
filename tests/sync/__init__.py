"""Tests of the sync layer (see tests/conftest.py: LAYERS)."""
