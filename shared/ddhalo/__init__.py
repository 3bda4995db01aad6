"""Core of the Dicker Data → HaloPSA integration.

Nothing in this package knows about Lambda events: handlers under ``functions/`` parse the
event and call in here; clients are passed in so tests can point them at the HTTP fakes.
"""
