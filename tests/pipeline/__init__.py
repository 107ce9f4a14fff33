"""Tests of the pipeline layer (see tests/conftest.py: LAYERS)."""
