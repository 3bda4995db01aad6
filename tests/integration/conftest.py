"""Integration harness: the real handlers behind the local API, moto's server for DynamoDB,
Secrets Manager and SQS, and the HTTP fakes as Dicker Data and Halo (one fresh world per test)."""

import pytest

from local.client import LocalApi
from local.serve.app import LocalApp
from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets


class Api(LocalApi):
    """The local API's client, with the assertion tests want when a run is refused."""

    def run(self, path: str, body=None, timeout: float = 60) -> dict:
        response = self.post(path, body)
        assert response.status_code in (200, 202), response.text
        answer = response.json()
        return answer if response.status_code == 200 else self.wait_run(answer["run_id"], timeout)


@pytest.fixture
def local_app(dicker_data_fake, halo_fake):
    upstreams = UpstreamTargets(
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
