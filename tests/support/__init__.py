"""Helpers shared by the test layers: tap runners, fault checks, marts, the Meltano project."""
