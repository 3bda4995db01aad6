import pytest
from pydantic import ValidationError

from ddhalo.errors import ConfigurationError
from ddhalo.settings.model import (
    DEFAULT_SCHEDULE,
    DICKER_DATA_BASE_URLS,
    Connection,
    Credentials,
    Settings,
    derive_halo_auth_url,
)
from ddhalo.settings.update import IntegratorUpdate, NotificationsUpdate, SettingsUpdate
from ddhalo.validation import describe_validation
from tests.settings_cases import (
    ACCEPTED_SPELLINGS,
    BAD_SETTINGS,
    INTERNALS,
    SCHEDULE_RULE,
    SECRETS,
    SETTING_NAMES,
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
        "webhook_url_set": False,
    }
    assert "new" not in repr(merged) and "s3" not in str(merged)


def test_a_webhook_url_sent_as_null_is_removed_and_other_credentials_are_kept():
    stored = Credentials.model_validate(
        {"halo_client_secret": "s3", "webhook_url": "https://hooks.slack.com/x"}
    )
    update = SettingsUpdate.model_validate({"webhook_url": None, "halo_client_secret": None})
    assert update.cleared_credentials() == {"webhook_url"}
    merged = stored.merged(update.credentials(), update.cleared_credentials())
    assert merged.plain() == {"halo_client_secret": "s3"}
    assert "hooks.slack.com" not in repr(
        SettingsUpdate.model_validate({"webhook_url": "https://hooks.slack.com/x"})
    )


def test_notifications_change_only_what_is_sent():
    settings = Settings.model_validate({"notifications": {"warn_days": 30, "digest": False}})
    update = SettingsUpdate.model_validate(
        {"notifications": {"dicker_data_token_expires": "2027-01-31", "webhook_format": "Teams"}}
    )
    assert update.apply_to(settings).notifications.model_dump(mode="json") == {
        "digest": False,
        "webhook_format": "teams",
        "warn_days": 30,
        "dicker_data_token_expires": "2027-01-31",
        "halo_client_secret_expires": None,
    }


def test_connection_names_every_missing_setting():
    conn = Connection(settings=Settings(), credentials=Credentials())
    with pytest.raises(ConfigurationError) as caught:
        conn.require("dicker_data_account_code", "dicker_data_access_token")
    assert "dicker_data_account_code, dicker_data_access_token" in caught.value.message
    assert "PUT /settings" in (caught.value.hint or "")


# -- refusals in words ---------------------------------------------------------------------------
def refusal(body) -> str:
    """What the API answers for ``body``: the resolver's sentence for the model's errors."""
    with pytest.raises(ValidationError) as caught:
        SettingsUpdate.model_validate(body)
    return describe_validation(caught.value.errors())


@pytest.mark.parametrize(
    ("body", "field", "exact"), [c[1:] for c in BAD_SETTINGS], ids=[c[0] for c in BAD_SETTINGS]
)
def test_a_bad_setting_names_its_field_and_what_it_allows_in_words(body, field, exact):
    message = refusal(body)
    assert message.startswith(f"{field} "), message
    assert " must be " in message or " is not " in message, message
    assert not INTERNALS.search(message), message
    assert not any(secret in message for secret in SECRETS), message
    if exact is not None:
        assert message == exact


def test_every_field_has_a_bad_case():
    """A field added to the update models without a case here is a message nobody has read."""
    fields = {field for _, _, field, _ in BAD_SETTINGS}
    for name in SettingsUpdate.model_fields:
        assert name in fields, name
    for name in IntegratorUpdate.model_fields:
        assert f"integrator.{name}" in fields, name
    for name in NotificationsUpdate.model_fields:
        assert f"notifications.{name}" in fields, name


def test_every_mistake_in_a_body_is_named():
    message = refusal({"region": "uk", "integrator": {"schedule": "daily", "extra": True}, "zz": 1})
    assert message == (
        'region must be "AU" or "NZ"; '
        f"integrator.schedule {SCHEDULE_RULE}; "
        "integrator.extra is not an integrator setting; they are enabled, sync_customers, "
        "sync_subscriptions, schedule and verify_every_hours; "
        f"zz is not a setting; the settings are {SETTING_NAMES}."
    )


def test_a_refused_secret_is_not_kept_in_the_error_either():
    """Not in the message, nor in the error's own text (which a log line might carry)."""
    with pytest.raises(ValidationError) as caught:
        SettingsUpdate.model_validate({"halo_client_secret": "S3CR3T-long" * 400, "region": "S3CR3T-region"})
    assert "S3CR3T" not in str(caught.value)
    assert all(err["input"] is None or "S3CR3T" not in str(err["input"]) for err in caught.value.errors())


@pytest.mark.parametrize(("body", "field", "canonical"), ACCEPTED_SPELLINGS)
def test_region_and_environment_are_read_in_any_case(body, field, canonical):
    update = SettingsUpdate.model_validate(body)
    assert getattr(update, field) == canonical
    assert getattr(update.apply_to(Settings(region="NZ", environment="test")), field) == canonical


def test_a_new_deployment_schedules_the_sync_every_hour():
    assert Settings().integrator.schedule == DEFAULT_SCHEDULE == "rate(1 hour)"
