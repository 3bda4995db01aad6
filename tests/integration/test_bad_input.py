"""Bad input answers 4xx with the error body, never 500, through the real handlers."""

import pytest

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/settings"), ("POST", "/config/test"), ("POST", "/customers/import"), ("POST", "/sync")],
)
def test_a_deeply_nested_body_is_a_400(api, method, path, depth):
    body = '{"a":' * depth + "1" + "}" * depth
    response = api.session.request(method, api.url + path, data=body, headers=JSON, timeout=60)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    body = '{"halo_tenant": "' + "[{" * 40 + '"}'
    response = api.session.put(api.url + "/settings", data=body, headers=JSON, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["halo_tenant"] == "[{" * 40


def test_a_percent_encoded_path_id_is_decoded(api):
    """API Gateway's HTTP API decodes the path before the handler sees it; so does `make serve`."""
    run_id = api.post("/customers/import", {"dry_run": True}).json()["run_id"]
    encoded = "".join(f"%{ord(ch):02X}" if ch == "-" else ch for ch in run_id)
    assert encoded != run_id
    response = api.get(f"/runs/{encoded}")
    assert response.status_code == 200, response.text
    assert response.json()["run_id"] == run_id
