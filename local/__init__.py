"""Run the project without AWS or Docker: the local API runner, its AWS stand-ins and the fakes.

The core package lives in ``shared/`` (the Lambda layer's content); put it on the path the way
the layer does in Lambda, so ``python -m local.serve`` works from a plain checkout.
"""

import sys
import warnings
from pathlib import Path

_SHARED = str(Path(__file__).resolve().parent.parent / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)

# Handlers that publish no metric of their own make Powertools warn on every local request.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
