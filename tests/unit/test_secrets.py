import json

import boto3

from ddhalo.settings.model import Credentials
from ddhalo.settings.service import load_connection, settings_view, update_settings
from ddhalo.settings.update import SettingsUpdate


def test_credentials_are_merged_into_the_secret(secrets):
    secrets.save(Credentials.model_validate({"dicker_data_access_token": "tok-1"}))
    secrets.save(Credentials.model_validate({"halo_client_secret": "sec-1"}))
    stored = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=secrets.secret_id)["SecretString"]
    )
    assert stored == {"dicker_data_access_token": "tok-1", "halo_client_secret": "sec-1"}
    assert secrets.load().dicker_data_access_token.get_secret_value() == "tok-1"


def test_settings_view_never_contains_a_secret(store, secrets):
    update = SettingsUpdate.model_validate(
        {
            "dicker_data_access_token": "tok-XYZ",
            "halo_client_id": "cid-XYZ",
            "halo_client_secret": "sec-XYZ",
            "halo_api_url": "https://acme.halopsa.com/api",
            "region": "NZ",
        }
    )
    view = update_settings(store, secrets, update)
    text = json.dumps(view)
    assert "XYZ" not in text
    assert (
        view["dicker_data_access_token_set"] and view["halo_client_secret_set"] and view["halo_client_id_set"]
    )
    assert view["region"] == "NZ" and view["halo_effective_auth_url"] == "https://acme.halopsa.com/auth"
    assert json.dumps(settings_view(load_connection(store, secrets))) == text


def test_candidate_settings_are_not_saved(store, secrets):
    candidate = SettingsUpdate.model_validate({"region": "NZ", "dicker_data_access_token": "candidate"})
    conn = load_connection(store, secrets, candidate)
    assert conn.settings.region == "NZ"
    assert conn.credentials.dicker_data_access_token.get_secret_value() == "candidate"
    assert store.get_settings().region == "AU"
    assert secrets.load().dicker_data_access_token is None


def test_a_bad_update_changes_nothing(store, secrets):
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        update_settings(
            store, secrets, SettingsUpdate.model_validate({"region": None, "halo_client_secret": "s"})
        )
    assert secrets.load().halo_client_secret is None
