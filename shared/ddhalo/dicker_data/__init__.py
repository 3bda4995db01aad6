"""Adapter for Dicker Data's B2B API (its swagger is not public: keep assumptions here)."""
