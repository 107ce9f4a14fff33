"""Tests for tap-tiktok-shop."""
