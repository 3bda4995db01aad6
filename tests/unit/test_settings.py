import pytest
from pydantic import ValidationError

from ddhalo.errors import ConfigurationError
from ddhalo.settings import (
    DICKER_DATA_BASE_URLS,
    Connection,
    Credentials,
    Settings,
    SettingsUpdate,
    derive_halo_auth_url,
)


@pytest.mark.parametrize(
    ("region", "environment", "expected"),
    [
        ("AU", "production", "https://b2b-api.dickerdata.com.au/api/"),
        ("AU", "test", "https://b2b-api-test.dickerdata.com.au/api/"),
        ("NZ", "production", DICKER_DATA_BASE_URLS[("NZ", "production")]),
        ("NZ", "test", DICKER_DATA_BASE_URLS[("NZ", "test")]),
    ],
)
def test_region_and_environment_pick_the_base_url(region, environment, expected):
    assert Settings(region=region, environment=environment).dicker_data_url() == expected


def test_explicit_base_url_always_wins():
    settings = Settings(region="NZ", environment="test", dicker_data_base_url="http://127.0.0.1:9/api/")
    assert settings.dicker_data_url() == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize(
    ("api", "auth"),
    [
        ("https://acme.halopsa.com/api", "https://acme.halopsa.com/auth"),
        ("https://acme.halopsa.com/api/", "https://acme.halopsa.com/auth"),
        ("https://halo.example.com/api/api", "https://halo.example.com/api/auth"),
        ("http://127.0.0.1:8080/halo", "http://127.0.0.1:8080/halo/auth"),
    ],
)
def test_halo_auth_url_is_derived_from_the_last_api_segment(api, auth):
    assert derive_halo_auth_url(api) == auth
    assert Settings(halo_api_url=api).halo_token_url_base() == auth


def test_explicit_halo_auth_url_wins():
    settings = Settings(halo_api_url="https://a/api", halo_auth_url="https://login.example/auth")
    assert settings.halo_token_url_base() == "https://login.example/auth"


def test_partial_update_changes_only_what_was_sent():
    base = Settings(region="NZ", top_level_id=7, update_main_site_address=True)
    updated = SettingsUpdate.model_validate(
        {"environment": "test", "integrator": {"enabled": True}}
    ).apply_to(base)
    assert (updated.region, updated.environment, updated.top_level_id) == ("NZ", "test", 7)
    assert updated.update_main_site_address is True
    assert updated.integrator.enabled is True
    assert updated.integrator.sync_subscriptions is True


def test_explicit_null_clears_a_nullable_setting():
    updated = SettingsUpdate.model_validate({"top_level_id": None}).apply_to(Settings(top_level_id=3))
    assert updated.top_level_id is None


def test_null_for_a_required_setting_is_refused():
    with pytest.raises(ValidationError):
        SettingsUpdate.model_validate({"region": None}).apply_to(Settings())


@pytest.mark.parametrize(
    "body",
    [
        {"region": "UK"},
        {"environment": "staging"},
        {"dicker_data_base_url": "ftp://x/api"},
        {"halo_api_url": "not a url"},
        {"halo_api_url": "https://a\n.example/api"},
        {"top_level_id": 0},
        {"unknown_field": 1},
        {"integrator": {"schedule": "every day"}},
        {"dicker_data_access_token": ""},
    ],
)
def test_bad_settings_are_refused(body):
    with pytest.raises(ValidationError):
        SettingsUpdate.model_validate(body)


def test_credentials_merge_keeps_values_not_sent_and_flags_hide_values():
    stored = Credentials.model_validate({"dicker_data_access_token": "old", "halo_client_secret": "s3"})
    merged = stored.merged(Credentials.model_validate({"dicker_data_access_token": "new"}))
    assert merged.plain() == {"dicker_data_access_token": "new", "halo_client_secret": "s3"}
    assert merged.flags() == {
        "dicker_data_access_token_set": True,
        "halo_client_id_set": False,
        "halo_client_secret_set": True,
    }
    assert "new" not in repr(merged) and "s3" not in str(merged)


def test_connection_names_every_missing_setting():
    conn = Connection(settings=Settings(), credentials=Credentials())
    with pytest.raises(ConfigurationError) as caught:
        conn.require("dicker_data_account_code", "dicker_data_access_token")
    assert "dicker_data_account_code, dicker_data_access_token" in caught.value.message
    assert "PUT /settings" in (caught.value.hint or "")
