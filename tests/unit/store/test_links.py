import dataclasses

from boto3.dynamodb.conditions import Key

from ddhalo.models import SubscriptionLink, compact_json


def test_links_round_trip(store):
    link = SubscriptionLink("t1", "s1", 5, "h", compact_json({"count": 3, "parent_id": None}))
    store.put_links([link])
    assert store.list_links("t1") == [link]


def test_links_can_be_listed_without_what_they_wrote(store):
    store.put_links([SubscriptionLink("t1", "s1", 5, "h", compact_json({"count": 3}))])
    (light,) = store.list_links(with_fields=False)
    assert (light.halo_licence_id, light.content_hash, light.fields_json) == (5, "h", None)
    assert light.fields is None  # not read: the plan asks for them as a value
    assert store.list_links("t1")[0].fields == {"count": 3}


def test_a_light_link_is_the_link_but_for_what_it_wrote(store):
    link = SubscriptionLink("t1", "s1", 5, "h", compact_json({"count": 3}), updated_at="2026-01-01T00:00:00Z")
    store.put_links([link])
    assert store.list_links("t1", with_fields=False) == [dataclasses.replace(link, fields_json=None)]


def test_one_customers_links_leave_out_a_customer_whose_id_starts_alike(store):
    t1 = SubscriptionLink("t1", "s1", 5, "h1")
    t10 = SubscriptionLink("t10", "s1", 6, "h2")
    store.put_links(iter([t10, t1]))
    assert store.list_links("t1") == [t1]
    assert store.list_links("t10") == [t10]
    assert store.list_links() == [t1, t10]


def test_a_link_is_replaced_by_its_key_and_no_links_write_nothing(store):
    store.put_links([SubscriptionLink("t1", "s1", 5, "old")])
    newer = SubscriptionLink("t1", "s1", 7, "new", compact_json({"count": 2}))
    store.put_links([newer])
    store.put_links([])
    assert store.list_links() == [newer]
    assert store.table.get_item(Key={"pk": "SUBLINK", "sk": "t1#s1"})["Item"]["content_hash"] == "new"


def test_links_are_got_whole_by_key_100_to_a_call(store):
    links = [SubscriptionLink(f"t{i % 7}", f"s{i}", i, "h", compact_json({"count": i})) for i in range(250)]
    store.put_links(links)
    sizes: list[int] = []
    store.client.meta.events.register(
        "before-parameter-build.dynamodb.BatchGetItem",
        lambda params, **_: sizes.append(len(params["RequestItems"][store.table_name]["Keys"])),
    )
    wanted = [(lk.dicker_customer_id, lk.subscription_id) for lk in links] + [("t1", "missing")]
    got = store.get_links(wanted + wanted[:3])  # twice asked is once fetched
    assert sorted(got, key=lambda lk: lk.halo_licence_id) == links
    assert sizes == [100, 100, 51]


def test_keys_dynamodb_leaves_unprocessed_are_asked_again(store, monkeypatch):
    links = [SubscriptionLink("t1", f"s{i}", i, "h", compact_json({"count": i})) for i in range(5)]
    store.put_links(links)
    real = store.client.batch_get_item
    answers: list[int] = []
    monkeypatch.setattr("ddhalo.store.links.time.sleep", lambda s: None)

    def stingy(RequestItems):
        keys = RequestItems[store.table_name]["Keys"]
        answer = real(RequestItems={store.table_name: {**RequestItems[store.table_name], "Keys": keys[:2]}})
        if keys[2:]:
            answer["UnprocessedKeys"] = {store.table_name: {"Keys": keys[2:], "ConsistentRead": True}}
        answers.append(len(keys))
        return answer

    monkeypatch.setattr(store.client, "batch_get_item", stingy)
    assert sorted(lk.subscription_id for lk in store.get_links(("t1", f"s{i}") for i in range(5))) == [
        "s0", "s1", "s2", "s3", "s4",
    ]  # fmt: skip
    assert answers == [5, 3, 1]


def intent_items(store) -> list[dict]:
    return store.table.query(KeyConditionExpression=Key("pk").eq("INTENT"), ConsistentRead=True)["Items"]


def test_intents_are_packed_a_thousand_to_an_item_and_emptied_as_they_are_dropped(store):
    keys = [f"t{i % 9}#s{i}" for i in range(2500)]
    store.put_intents([*keys, *keys[:5]])
    assert sorted(len(item["keys"]) for item in intent_items(store)) == [500, 1000, 1000]
    assert store.list_intents() == set(keys)

    store.drop_intents([*keys[:1200], "t0#never-put"])
    assert store.list_intents() == set(keys[1200:])
    assert sorted(len(item["keys"]) for item in intent_items(store)) == [500, 800]  # the emptied one is gone
    store.drop_intents(keys)
    assert intent_items(store) == [] and store.list_intents() == set()


def test_a_pack_rewritten_meanwhile_is_not_overwritten(store, monkeypatch):
    store.put_intents(["t1#a", "t1#b", "t1#c"])
    real_query = store.table.query

    def then_someone_else_drops_b(**kwargs):
        page = real_query(**kwargs)
        (item,) = page["Items"]
        store.table.put_item(Item={**item, "keys": ["t1#a", "t1#c"]})  # a retry of the same chunk
        return page

    monkeypatch.setattr(type(store.table), "query", lambda self, **kw: then_someone_else_drops_b(**kw))
    store.drop_intents(["t1#a"])  # its rewrite would bring "t1#b" back: refused, left to the next drop
    monkeypatch.undo()
    assert store.list_intents() == {"t1#a", "t1#c"}
