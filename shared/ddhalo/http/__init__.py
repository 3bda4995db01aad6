"""HTTP plumbing shared by the Dicker Data and Halo clients: one place for timeouts, retries with
backoff and jitter, ``Retry-After``, request pacing, credentials, call counting and turning
upstream error bodies into one readable sentence. Import each name from the module that holds it.
"""
