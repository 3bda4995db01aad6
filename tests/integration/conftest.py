"""Integration harness: the real handlers behind the local API, moto's server for DynamoDB,
Secrets Manager and SQS, and the HTTP fakes as Dicker Data and Halo (one fresh world per test)."""

import time

import pytest
import requests

from local.serve import DickerDataUpstream, HaloUpstream, LocalApp, Upstreams

FINISHED = {"succeeded", "partial", "failed"}


class Api:
    """A thin HTTP client for the local API, with the waits tests need."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def call(self, method: str, path: str, body=None, **params) -> requests.Response:
        return self.session.request(method, self.url + path, json=body, params=params or None, timeout=60)

    def get(self, path: str, **params) -> requests.Response:
        return self.call("GET", path, **params)

    def post(self, path: str, body=None) -> requests.Response:
        return self.call("POST", path, body)

    def wait_run(self, run_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.get(f"/runs/{run_id}").json()
            if run["status"] in FINISHED:
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not finish: {run}")

    def run(self, path: str, body=None) -> dict:
        """Start an import and answer the finished run, whichever way the API answered."""
        response = self.post(path, body)
        assert response.status_code in (200, 202), response.text
        answer = response.json()
        return answer if response.status_code == 200 else self.wait_run(answer["run_id"])


@pytest.fixture
def local_app(dicker_data_fake, halo_fake):
    upstreams = Upstreams(
        dicker_data=DickerDataUpstream(
            dicker_data_fake.base_url, dicker_data_fake.account_code, dicker_data_fake.access_token
        ),
        halo=HaloUpstream(
            halo_fake.api_url, halo_fake.auth_url, None, halo_fake.client_id, halo_fake.client_secret
        ),
    )
    with LocalApp(port=0, upstreams=upstreams) as app:
        yield app


@pytest.fixture
def api(local_app):
    return Api(local_app.url)
