"""Loopback HTTP fakes of the Dicker Data B2B API and the Halo API, for tests and local runs."""

from .dicker_data import DickerDataFake
from .halo import HaloFake

__all__ = ["DickerDataFake", "HaloFake"]
