"""What every HTTP handler shares: the resolver with the spec's error body, and the services.

This is the handler side of the core: it knows Powertools' event handler, never Halo's HTTP.
"""
