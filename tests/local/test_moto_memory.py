"""The local runner lets moto's objects go: items overwritten and the table copies transactions make."""

import gc

from local.client import LocalApi
from local.serve.app import LocalApp
from local.serve.upstreams import UpstreamTargets


def live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def test_transactions_and_overwrites_leave_no_copies_behind():
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    with LocalApp(port=0, upstreams=UpstreamTargets()) as app:
        api = LocalApi(app.url)
        api.post("/mappings/generate")
        api.run("/customers/import", {})
        tables, items = live(Table), live(Item)
        for _ in range(3):  # every import overwrites its items and runs transactions (chunk markers)
            api.run("/customers/import", {})
        assert live(Table) == tables  # no table copy kept: the gate lets go of what moto tracks
        assert live(Item) < items + 200, (items, live(Item))  # the new run records only
        assert Table.instances_tracked == []
