"""Where `local/serve.py` imports the cheaper moto from; it lives in `local/patches/moto.py`."""

from local.patches.moto import speed_up

__all__ = ["speed_up"]
