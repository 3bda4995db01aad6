"""Core of the Dicker Data → HaloPSA integration.

Nothing in this package knows about Lambda: no event, no context, no environment variable.
``ddhalo_lambda`` (beside it in the layer) is the handler side: it reads the events and the
environment, builds the services and calls in here; handlers under ``functions/`` use it. Clients
are passed in so tests can point them at the HTTP fakes.
"""
