"""Where a function may send credentials and digests: https:// on a public host (deployed), plus a
loopback host over http:// too where the switch allows it (the local runner's fakes)."""

import pytest
from pydantic import ValidationError

from ddhalo.errors import InputError
from ddhalo.settings.service import check_upstream_urls, load_connection, update_settings
from ddhalo.settings.update import SettingsUpdate
from ddhalo.urls import upstream_url_refusal

STRICT = "must be an https:// URL on a public host"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/", "169.254.169.254 is a link-local address"),
        ("https://169.254.169.254/latest/", "169.254.169.254 is a link-local address"),
        ("https://127.0.0.1:8443/api", "127.0.0.1 is a loopback address"),
        ("https://127.8.9.10/api", "127.8.9.10 is a loopback address"),
        ("https://[::1]/api", "::1 is a loopback address"),
        ("https://10.1.2.3/api", "10.1.2.3 is a private address"),
        ("https://172.16.0.1/api", "172.16.0.1 is a private address"),
        ("https://192.168.1.1/api", "192.168.1.1 is a private address"),
        ("https://[fd00::1]/api", "fd00::1 is a private address"),
        ("https://[fe80::1]/api", "fe80::1 is a link-local address"),
        ("https://100.64.0.1/api", "100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("https://100.127.255.254/api", "100.127.255.254 is a shared (carrier-grade NAT) address"),
        ("https://0.0.0.0/api", "0.0.0.0 is an unspecified address"),
        ("https://[::]/api", ":: is an unspecified address"),
        ("https://224.0.0.1/api", "224.0.0.1 is a multicast address"),
        ("https://[ff02::1]/api", "ff02::1 is a multicast address"),
        ("https://240.0.0.1/api", "240.0.0.1 is not a public address"),
        (
            "https://[::ffff:169.254.169.254]/",
            "::ffff:169.254.169.254 (169.254.169.254) is a link-local address",
        ),
        ("https://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1 (10.0.0.1) is a private address"),
        # what the resolver reads as an IPv4 address, as inet_aton does
        ("https://2852039166/", "2852039166 (169.254.169.254) is a link-local address"),
        ("https://0xa9fea9fe/", "0xa9fea9fe (169.254.169.254) is a link-local address"),
        ("https://0251.0376.0251.0376/", "0251.0376.0251.0376 (169.254.169.254) is a link-local address"),
        ("https://169.254.43518/", "169.254.43518 (169.254.169.254) is a link-local address"),
        ("https://127.1/", "127.1 (127.0.0.1) is a loopback address"),
        ("https://localhost/api", "localhost is a loopback name"),
        ("https://LocalHost:9/api", "localhost is a loopback name"),
        ("https://halo.localhost/api", "halo.localhost is a loopback name"),
        ("https://localhost./api", "localhost is a loopback name"),
        ("https://metadata.google.internal./", "metadata.google.internal is a private-use name"),
        ("https://metadata.google.internal/", "metadata.google.internal is a private-use name"),
        ("https://ip-10-0-0-1.ec2.internal/", "ip-10-0-0-1.ec2.internal is a private-use name"),
        ("https://printer.local/", "printer.local is a link-local (mDNS) name"),
        ("https://nas.home.arpa/", "nas.home.arpa is a private-use name"),
        ("https://intranet/api", "intranet is a single-label name, which only a local resolver knows"),
        ("http://halo.example.com/api", "http:// is not encrypted"),
    ],
)
def test_deployed_a_url_not_https_on_a_public_host_is_refused_saying_why(url, reason):
    assert upstream_url_refusal(url, allow_loopback=False) == f"{STRICT}; {reason}"


@pytest.mark.parametrize(
    "url",
    [
        "https://yourcompany.halopsa.com/api",
        "https://b2b-api.dickerdata.com.au/api/",
        "https://HALO.Example.COM:8443/api",
        "https://8.8.8.8/api",  # a public address given as such
        "https://[2606:4700::1111]/api",
        "https://100.128.0.1/api",  # just past the shared range
        "https://172.32.0.1/api",  # just past 172.16/12
        "https://1.2.3.4.example.com/api",  # a name that starts like an address
        "https://cafe.be/api",  # a name of hex digits
    ],
)
def test_an_https_url_on_a_public_host_is_accepted(url):
    assert upstream_url_refusal(url, allow_loopback=False) is None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/api", "https://127.0.0.1/api", "http://localhost:3000/", "http://[::1]:9/"]
)
def test_the_switch_lets_loopback_through_over_http_too(url):
    assert upstream_url_refusal(url, allow_loopback=True) is None
    assert upstream_url_refusal(url, allow_loopback=False) is not None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/", "169.254.169.254 is a link-local address"),
        ("http://10.0.0.5/", "10.0.0.5 is a private address"),
        ("http://halo.example.com/api", "http:// is not encrypted"),
        ("https://metadata.google.internal/", "metadata.google.internal is a private-use name"),
    ],
)
def test_the_switch_lets_only_loopback_through(url, reason):
    assert upstream_url_refusal(url, allow_loopback=True) == f"{STRICT}; {reason}"


def test_a_secret_url_s_host_is_not_said():
    refusal = upstream_url_refusal("https://10.9.8.7/hook/s3cr3t", allow_loopback=False, secret=True)
    assert refusal == f"{STRICT}; its host is a private address"


URL_FIELDS = ["dicker_data_base_url", "halo_api_url", "halo_auth_url", "webhook_url"]


def _refused(body: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as raised:
        SettingsUpdate.model_validate(body)
    return [(e["loc"], e["msg"]) for e in raised.value.errors()]


@pytest.mark.parametrize("field", URL_FIELDS)
def test_the_settings_refuse_a_host_no_function_may_call_wherever_they_run(field):
    """Everything but loopback is refused by the model itself, saying what the host is."""
    secret = field == "webhook_url"
    host = "its host" if secret else "169.254.169.254"
    assert _refused({field: "http://169.254.169.254/latest/"}) == [
        ((field,), f"{STRICT}; {host} is a link-local address")
    ]
    host = "its host" if secret else "2852039166 (169.254.169.254)"
    assert _refused({field: "https://2852039166/"}) == [
        ((field,), f"{STRICT}; {host} is a link-local address")
    ]
    assert _refused({field: "http://halo.example.com/x"}) == [
        ((field,), f"{STRICT}; http:// is not encrypted")
    ]


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://yourcompany.halopsa.com/api", True),
        ("https://halo.example.com:8443/api?x=1", True),
        ("http://127.0.0.1:9/api", True),  # the model lets loopback through: the switch decides
        ("https://localhost/api", True),
        ("https://8.8.8.8/api", False),  # a public address: not a host name, the form refuses it
        ("https://[2606:4700::1111]/api", False),
        ("https://a.1b/api", False),  # a last label that starts with a digit
        ("ftp://halo.example.com/api", False),
    ],
)
def test_the_url_form_is_https_on_a_host_name_or_loopback(url, accepted):
    if accepted:
        assert SettingsUpdate.model_validate({"halo_api_url": url}).halo_api_url == url
    else:
        assert _refused({"halo_api_url": url})[0][1].startswith("must be an https:// URL on a host name")


@pytest.mark.parametrize("field", URL_FIELDS)
def test_deployed_a_loopback_host_is_refused_by_the_switch(field):
    update = SettingsUpdate.model_validate({field: "http://127.0.0.1:9/x"})
    check_upstream_urls(update, allow_loopback=True)
    with pytest.raises(InputError) as raised:
        check_upstream_urls(update, allow_loopback=False)
    host = "its host" if field == "webhook_url" else "127.0.0.1"
    assert raised.value.message == f"{field} {STRICT}; {host} is a loopback address."


@pytest.mark.parametrize("field", URL_FIELDS)
def test_put_settings_and_a_candidate_refuse_a_loopback_url_deployed_and_change_nothing(
    store, secrets, field
):
    update = SettingsUpdate.model_validate({field: "https://localhost/x", "region": "NZ"})
    for apply in (
        lambda: update_settings(store, secrets, update),
        lambda: load_connection(store, secrets, update),
    ):
        with pytest.raises(InputError) as raised:
            apply()
        assert raised.value.message.startswith(f"{field} {STRICT}; ")
    assert store.get_settings().region == "AU"
    assert secrets.load().webhook_url is None
    assert update_settings(store, secrets, update, allow_loopback=True)["region"] == "NZ"
    assert load_connection(store, secrets, update, allow_loopback=True).settings.region == "NZ"


def test_every_refused_url_is_said_at_once():
    update = SettingsUpdate.model_validate(
        {"halo_api_url": "https://localhost/api", "halo_auth_url": "http://127.0.0.1/"}
    )
    with pytest.raises(InputError) as raised:
        check_upstream_urls(update, allow_loopback=False)
    assert raised.value.message == (
        f"halo_api_url {STRICT}; localhost is a loopback name. "
        f"halo_auth_url {STRICT}; 127.0.0.1 is a loopback address."
    )


def test_urls_left_out_or_cleared_are_not_checked(store, secrets):
    update = SettingsUpdate.model_validate({"halo_api_url": None, "webhook_url": None})
    check_upstream_urls(update, allow_loopback=False)
    assert update_settings(store, secrets, update)["halo_api_url"] is None
