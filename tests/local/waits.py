"""Waiting in the local runner's tests for what happens in its threads."""

import time


def eventually(check, timeout: float = 10.0):
    """``check()``'s first truthy answer within ``timeout`` seconds, else its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)
