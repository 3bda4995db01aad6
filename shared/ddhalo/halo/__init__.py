"""Adapter for the HaloPSA REST API."""
