from ddhalo.settings.model import IntegratorSettings, Settings


def test_settings_round_trip_and_default(store):
    assert store.get_settings() == Settings()
    store.put_settings(Settings(region="NZ", top_level_id=4))
    assert store.get_settings().region == "NZ" and store.get_settings().top_level_id == 4


def test_settings_are_kept_whole_and_replaced_whole(store):
    chosen = Settings(
        region="NZ",
        top_level_id=4,
        halo_tenant="acme",
        request_timeout_seconds=12.5,
        integrator=IntegratorSettings(enabled=True, schedule="rate(6 hours)"),
    )
    store.put_settings(chosen)
    assert store.get_settings() == chosen
    item = store.table.get_item(Key={"pk": "SETTINGS", "sk": "CURRENT"})["Item"]
    assert item["settings"]["halo_tenant"] == "acme"
    assert "dicker_data_base_url" not in item["settings"]  # None is left out, not stored
    store.put_settings(Settings())
    assert store.get_settings() == Settings()
