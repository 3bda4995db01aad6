import pytest

from ddhalo.dicker_data.client import DickerDataClient
from ddhalo.halo.client import HaloClient
from ddhalo.http.pacing import RateLimiter
from ddhalo.http.retry import RetryPolicy
from ddhalo.http.transport import Transport


class Sleeps:
    """Records sleeps instead of sleeping, so retry tests are fast and their waits visible."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def dd_client(dicker_data_fake, sleeps):
    transport = Transport(
        dicker_data_fake.base_url, system="Dicker Data", retry=RetryPolicy(attempts=4), sleep=sleeps
    )
    return DickerDataClient(
        transport, account_code=dicker_data_fake.account_code, access_token=dicker_data_fake.access_token
    )


@pytest.fixture
def make_halo(halo_fake, sleeps):
    def make(**overrides) -> HaloClient:
        transport = Transport(
            halo_fake.api_url,
            system="Halo",
            retry=overrides.pop("retry", RetryPolicy(attempts=4)),
            sleep=sleeps,
            timeout=overrides.pop("timeout", (2.0, 5.0)),
            limiter=overrides.pop("limiter", RateLimiter(None)),
            deadline=overrides.pop("deadline", None),
        )
        options = {
            "auth_url": halo_fake.auth_url,
            "client_id": halo_fake.client_id,
            "client_secret": halo_fake.client_secret,
            **overrides,
        }
        return HaloClient(transport, **options)

    return make


@pytest.fixture
def halo_client(make_halo):
    return make_halo()
