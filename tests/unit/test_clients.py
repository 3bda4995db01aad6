"""The Halo budget and token outlive a job: clients made one after another in a container share them."""

from pydantic import SecretStr

from ddhalo.clients import QUICK, ClientOptions, halo_client
from ddhalo.settings.model import Connection, Credentials, Settings


def _connection(halo_fake, per_minute=60):
    return Connection(
        settings=Settings(
            halo_api_url=halo_fake.api_url,
            halo_auth_url=halo_fake.auth_url,
            halo_requests_per_minute=per_minute,
        ),
        credentials=Credentials(
            halo_client_id=SecretStr(halo_fake.client_id),
            halo_client_secret=SecretStr(halo_fake.client_secret),
        ),
    )


def test_jobs_in_one_container_share_the_pace_and_the_token(halo_fake):
    conn = _connection(halo_fake)
    first, second = halo_client(conn), halo_client(conn)
    assert first.transport.limiter is second.transport.limiter
    assert first.transport.limiter.max_calls == 60
    first.clients()
    second.clients()
    assert halo_fake.token_requests == 1


def test_a_worker_paces_to_its_share(halo_fake):
    client = halo_client(_connection(halo_fake), ClientOptions(rate_share=2))
    assert client.transport.limiter.max_calls == 30


def test_a_configuration_check_proves_its_own_credentials_unpaced(halo_fake):
    conn = _connection(halo_fake)
    halo_client(conn).clients()
    check = halo_client(conn, QUICK)
    assert check.transport.limiter is not halo_client(conn).transport.limiter
    assert not check.transport.limiter.max_calls
    check.clients()
    assert halo_fake.token_requests == 2


def test_a_job_alone_then_one_beside_another_keep_one_window(halo_fake):
    """The container's limiter outlives jobs and changes limit: the calls already made count
    against the lower one, so a solo job followed by a shared one never bursts."""
    conn = _connection(halo_fake)
    solo = halo_client(conn, ClientOptions(rate_share=1))
    limiter = solo.transport.limiter
    for _ in range(40):
        limiter.wait()
    shared = halo_client(conn, ClientOptions(rate_share=2))
    assert shared.transport.limiter is limiter and limiter.max_calls == 30
    assert len(limiter._starts) == 40  # the next call waits for the window to fall under 30
