import email.utils
import time

import pytest
import requests

from ddhalo.http.body import describe_body
from ddhalo.http.credential import Credential, TokenCache
from ddhalo.http.pacing import RateLimiter
from ddhalo.http.retry import RetryPolicy, parse_retry_after


def _response(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    return response


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"ClassName": "HaloValidationException", "Message": "Name is required"}', "Name is required"),
        (b'{"Message": "Authorization has been denied"}', "Authorization has been denied"),
        (b'{"error": "invalid_client"}', "invalid_client"),
        (b'{"Status": "ERROR", "Message": "Bad", "ErrorDescription": "Worse"}', "Bad; Worse"),
        (b'"just a string"', "just a string"),
        (b"plain text failure", "plain text failure"),
    ],
)
def test_error_bodies_of_every_shape_become_one_line(body, expected):
    assert describe_body(_response(400, body)) == expected


def test_html_error_pages_are_named_not_dumped():
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 5000
    text = describe_body(_response(502, page, "text/html"))
    assert text == "an HTML page: 502 Bad Gateway (not the API)"


def test_long_bodies_and_control_characters_are_clipped():
    text = describe_body(_response(500, b"A\x00B\x1b" + b"z" * 1000, "text/plain"))
    assert len(text) <= 300 and "\x00" not in text and "\x1b" not in text


def test_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after(future) or 0) <= 31


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_lets_a_burst_through_then_holds_the_window():
    clock = FakeClock()
    limiter = RateLimiter(3, window=60, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        limiter.wait()
        starts.append(clock.now - 100)
    assert starts == [0, 0, 0, 60, 60, 60, 120]


def test_rate_limiter_never_exceeds_the_limit_in_any_window():
    clock = FakeClock()
    limiter = RateLimiter(5, window=10, clock=clock, sleep=clock.sleep)
    starts = []
    for i in range(40):
        limiter.wait()
        starts.append(clock.now)
        clock.now += 0.7 * (i % 3)
    assert max(sum(1 for t in starts if s <= t < s + 10) for s in starts) == 5


def test_rate_limiter_push_back_delays_later_requests():
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock, sleep=clock.sleep)
    limiter.wait()
    limiter.push_back(10)
    limiter.wait()
    assert clock.now >= 110.0


def test_a_job_handed_on_to_another_container_counts_the_calls_already_in_the_window():
    """Halo counts calls, not containers: two jobs one after the other stay within one pace."""
    first_clock, second_clock = FakeClock(), FakeClock()
    second_clock.now = 5_000.0  # another container's monotonic clock, when the first's is at 130
    wall = lambda: first_clock.now + 1.7e9  # noqa: E731 - one wall clock for both
    first = RateLimiter(5, window=60, clock=first_clock, sleep=first_clock.sleep, wall=wall)
    for _ in range(3):
        first.wait()
        first_clock.now += 10  # three calls at 0, 10 and 20 s
    second = RateLimiter(
        5,
        window=60,
        clock=second_clock,
        sleep=second_clock.sleep,
        wall=lambda: second_clock.now - 4_870 + 1.7e9,
    )
    second.count_in(first.recent())
    second.count_in(first.recent())  # told twice: still three
    starts = []
    for _ in range(4):
        second.wait()
        starts.append(second_clock.now - 5_000)
    assert first.recent() == [100.0 + 1.7e9, 110.0 + 1.7e9, 120.0 + 1.7e9]
    assert starts == [0, 0, 30, 40]  # two free places, then each waits for one of the first's to age out


def test_a_start_told_of_by_another_clock_a_little_ahead_is_not_in_the_future():
    clock = FakeClock()
    limiter = RateLimiter(1, window=60, clock=clock, sleep=clock.sleep, wall=lambda: clock.now)
    limiter.count_in([clock.now + 30])
    limiter.wait()
    assert clock.now == 160.0  # counted as now, so it ages out a window from now, not 30 s later


def test_disabled_rate_limiter_never_sleeps():
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        limiter.wait()
    assert clock.slept == []


def test_backoff_is_jittered_and_capped():
    import random

    policy = RetryPolicy(base_delay=1, max_delay=8)
    rng = random.Random(1)
    delays = [policy.backoff(attempt, rng) for attempt in range(10) for _ in range(20)]
    assert max(delays) <= 8 and min(delays) >= 0 and len(set(delays)) > 100


class _Answers:
    """A transport stand-in that answers the given statuses in turn and keeps the headers sent."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.sent: list[dict[str, str]] = []

    def send(self, method, path, *, headers, **kwargs):
        self.sent.append(dict(headers()))
        return _response(self.statuses.pop(0), b"{}")


def _credential(cache):
    issued = iter(["first", "second", "third"])
    return Credential(cache, "who", lambda: (next(issued), time.time() + 3600))


def test_a_refused_credential_is_renewed_once_and_the_request_sent_again():
    cache = TokenCache()
    credential, transport = _credential(cache), _Answers(401, 200)
    response, refused = credential.send(
        transport, "GET", "x", headers=lambda v: {"Authorization": v}, refused=lambda r: r.status_code == 401
    )
    assert (response.status_code, refused) == (200, False)
    assert [h["Authorization"] for h in transport.sent] == ["first", "second"]
    assert cache.get("who", time.time(), 0) == "second"  # the fresh one is kept for the next client


def test_a_credential_refused_twice_is_the_callers_to_word():
    credential, transport = _credential(TokenCache()), _Answers(401, 401, 200)
    response, refused = credential.send(
        transport, "GET", "x", headers=lambda v: {"Authorization": v}, refused=lambda r: r.status_code == 401
    )
    assert (response.status_code, refused) == (401, True) and len(transport.sent) == 2


def test_renewal_drops_only_the_credential_that_was_refused():
    """Another client in the container may already have put a fresh one: it stays."""
    cache = TokenCache()
    credential = _credential(cache)
    transport = _Answers(401, 200)

    def refused(response):
        cache.put("who", "someone-elses-fresh-one", time.time() + 3600)
        return response.status_code == 401

    credential.send(transport, "GET", "x", headers=lambda v: {"Authorization": v}, refused=refused)
    assert [h["Authorization"] for h in transport.sent] == ["first", "someone-elses-fresh-one"]
