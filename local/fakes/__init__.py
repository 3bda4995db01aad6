"""Loopback HTTP fakes of the Dicker Data B2B API and the Halo API, for tests and local runs.

Where things are:

- `_server` (the HTTP server and the request pipeline), `http_messages` (requests, answers),
  `faults` (scripted and random faults, hangs, slow saves), shared by both fakes;
- `dicker_data` (`DickerDataFake`) with `dicker_data_records` (its record lists and lookups);
- `halo` (`HaloFake`: urls, seeding, routing), made of parts that share `halo_base`:
  `halo_auth` (tokens, scopes), `halo_admission` (OpenAPI check, rate limit), `halo_lists`
  (reads, paging), `halo_writes` (batch writes), `halo_billing` (items, recurring invoices and
  `updatelines`), over `halo_tables` (records by id);
- `halo_openapi` and `halo_body_schema`: requests checked against Halo's published document;
- `sample_data` (the sample world, generated worlds), `webhook` (a receiver for notifications).
"""

from .dicker_data import DickerDataFake
from .halo import HaloFake

__all__ = ["DickerDataFake", "HaloFake"]
