"""DynamoDB access: one table, every key in this package (the design is in docs/DATA_MODEL.md).

| item              | pk               | sk                          | gsi1pk / gsi1sk | module   |
|-------------------|------------------|-----------------------------|-----------------|----------|
| settings          | ``SETTINGS``     | ``CURRENT``                 |                 | settings |
| mapping           | ``MAPPING``      | ``DD#<dicker_customer_id>`` |                 | mappings |
| mapping guard     | ``MAPPING``      | ``HALO#<halo_client_id>``   |                 | mappings |
| run               | ``RUN#<run_id>`` | ``RUN``       | ``RUNS`` / ``<started>#<id>`` | runs     |
| run items, packed | ``RUN#<run_id>`` | ``ITEMS#<chunk>#<part>``    |                 | chunks   |
| run chunk marker  | ``RUN#<run_id>`` | ``CHUNK#<n>``               |                 | chunks   |
| subscription link | ``SUBLINK``      | ``<dicker_customer_id>#<subscription_id>`` |  | links    |
| chunk payload     | ``RUN#<run_id>`` | ``PAYLOAD#<n>`` (and ``START#<n>``, ``SPAWN#<n>``) | | chunks   |
| lock              | ``LOCK``         | ``HALO`` (the one run writing to Halo), ``SETTINGS`` | | locks    |
| last verify       | ``VERIFY``       | ``LAST``                    |                 | runs     |
| create intents    | ``INTENT``       | ``PACK#<uuid>`` (up to 1,000 link keys) |    | links    |
| held customer     | ``HELD``         | ``<dicker_customer_id>``    |                 | mappings |
| digest sent       | ``RUN#<run_id>`` | ``DIGEST``                  |                 | digests  |
| digest memory     | ``DIGEST``       | ``SEEN``                    |                 | digests  |
| product mapping   | ``PRODUCT``      | ``STOCK#<stock_code>``      |                 | products |

The module column names the file of this package whose mixin reads and writes that item;
``table`` holds the ``Table`` base they all subclass, the value and token codecs and
``RUN#<run_id>`` (runs and chunks share it). ``Store`` is every mixin in one class.
"""

from __future__ import annotations

from ddhalo.store.chunks import ChunksTable
from ddhalo.store.digests import DigestsTable
from ddhalo.store.links import LinksTable
from ddhalo.store.locks import LocksTable
from ddhalo.store.mappings import MappingsTable
from ddhalo.store.products import ProductsTable
from ddhalo.store.runs import RunsTable
from ddhalo.store.settings import SettingsTable
from ddhalo.store.table import RUN_RETENTION_DAYS

__all__ = ["RUN_RETENTION_DAYS", "Store"]


class Store(
    SettingsTable, MappingsTable, ProductsTable, LinksTable, RunsTable, ChunksTable, LocksTable, DigestsTable
):
    """The one table, every item family: ``Store(table_name, resource=None, run_retention_days=...,
    initial_settings=...)``."""
