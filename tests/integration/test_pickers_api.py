"""GET /halo/clients and GET /halo/top-levels: what a person picks from, read from Halo as is."""

import pytest

pytestmark = pytest.mark.integration


def test_halo_clients_lists_every_client_by_name(api, halo_fake):
    answer = api.get("/halo/clients")
    assert answer.status_code == 200, answer.text
    clients = answer.json()["clients"]
    expected = sorted((c["name"].casefold(), c["id"]) for c in halo_fake.clients.values())
    assert [(c["halo_client_name"].casefold(), c["halo_client_id"]) for c in clients] == expected


def test_top_levels_lists_halos_top_levels(api, halo_fake):
    answer = api.get("/halo/top-levels")
    assert answer.status_code == 200, answer.text
    names = {t["top_level_id"]: t["top_level_name"] for t in answer.json()["top_levels"]}
    assert names == {t["id"]: t["name"] for t in halo_fake.toplevels.values()}
    assert "Managed Services" in names.values()


def test_an_unreachable_halo_answers_the_api_error_with_a_hint(api, halo_fake):
    api.json(
        "PUT",
        "/settings",
        {"halo_api_url": "http://127.0.0.1:9/api", "halo_auth_url": "http://127.0.0.1:9/auth"},
    )
    answer = api.get("/halo/clients")
    assert answer.status_code >= 400
    error = answer.json()["error"]
    assert error["message"] and error["hint"]
