"""Adapter for the HaloPSA REST API."""

SYSTEM = "Halo"  # what its errors and messages call it
