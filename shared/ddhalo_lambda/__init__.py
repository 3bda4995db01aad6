"""The handler side: what every Lambda function of the app shares, outside the core.

``ddhalo`` knows nothing of Lambda; this package reads the events (``resolver``, ``entry``), the
environment the template sets (``environment``), builds the core's services from it
(``services``), answers every failure with the one error body (``errors``) and holds the one
Logger, Tracer and Metrics (``observability``). It may import
``ddhalo``; ``ddhalo`` never imports it (tests/unit/test_ddhalo_lambda_boundary.py).
"""
