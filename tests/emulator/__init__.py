"""Tests of the emulator layer (see tests/conftest.py: LAYERS)."""
