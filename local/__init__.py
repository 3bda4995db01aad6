"""Local development helpers (fakes of the upstream APIs, dev runner); not deployed."""
