"""The console function: static files with their content types and caching, nothing outside its
folder, and the sign-in config from the environment (none on loopback)."""

import base64
import json

import pytest

from ddhalo_lambda.environment import environment
from functions.console import app as console
from local.events import http_event


@pytest.fixture(autouse=True)
def console_environment(monkeypatch):
    """The console reads the environment model, once per container: every test is a cold one,
    with the variables Globals give every function."""
    monkeypatch.setenv("TABLE_NAME", "stack-Table-1ABC")
    monkeypatch.setenv("SECRET_ID", "creds")
    environment.cache_clear()
    yield
    environment.cache_clear()


def get(path: str, lambda_context, route_key: str | None = None, proxy: str | None = None) -> dict:
    if route_key is None:
        route_key = "GET /" if path == "/" else "GET /console/{proxy+}"
    if proxy is None and path.startswith("/console/"):
        proxy = path.removeprefix("/console/")
    params = {"proxy": proxy} if proxy is not None else None
    event = http_event(
        "GET", path, "", [("host", "api.example")], b"", route_key=route_key, path_parameters=params
    )
    return console.lambda_handler(event, lambda_context)


def test_the_root_serves_the_page_uncached(lambda_context):
    answer = get("/", lambda_context)
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert answer["headers"]["Cache-Control"] == "no-cache"
    assert '<script type="module" src="/console/app.js">' in answer["body"]
    assert "frame-ancestors 'none'" in answer["headers"]["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
    ],
)
def test_assets_carry_their_content_type_and_a_cache_header(lambda_context, name, content_type):
    answer = get(f"/console/{name}", lambda_context)
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["headers"]["Content-Type"] == content_type
    assert answer["headers"]["Cache-Control"] in ("no-cache", "public, max-age=300")
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
    assert answer["isBase64Encoded"] is False
    assert answer["body"] == (console.STATIC / name).read_text()


def test_a_binary_asset_is_base64_encoded(lambda_context, tmp_path, monkeypatch):
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    monkeypatch.setattr(console, "STATIC", tmp_path)
    answer = get("/console/logo.png", lambda_context)
    assert answer["headers"]["Content-Type"] == "image/png"
    assert answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"]) == b"\x89PNG\r\n\x1a\n\x00"


@pytest.mark.parametrize(
    "proxy",
    [
        "../app.py",
        "../../template.yaml",
        "%2e%2e/app.py",
        "/etc/passwd",
        "screens/../../app.py",
        "..\\app.py",
        "app.js\x00.css",
    ],
)
def test_paths_outside_the_static_folder_are_refused(lambda_context, proxy):
    answer = get("/console/x", lambda_context, proxy=proxy)
    assert answer["statusCode"] == 404
    assert "def lambda_handler" not in answer["body"]
    assert json.loads(answer["body"])["error"]["code"] == "not_found"


def test_a_file_of_a_kind_not_served_is_refused_even_inside_the_folder(lambda_context, tmp_path, monkeypatch):
    (tmp_path / "notes.py").write_text("secret = 1")
    monkeypatch.setattr(console, "STATIC", tmp_path)
    assert get("/console/notes.py", lambda_context)["statusCode"] == 404


@pytest.mark.parametrize("name", ["nothing.js", "missing/app.css", "", "screens"])
def test_unknown_assets_answer_404_in_the_api_error_shape(lambda_context, name):
    answer = get(f"/console/{name}", lambda_context, proxy=name)
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"error": {"code": "not_found", "message": "No such console file."}}


def test_config_has_no_auth_when_the_environment_names_none(lambda_context, monkeypatch):
    monkeypatch.setenv("CONSOLE_AUTH_DOMAIN", "")
    monkeypatch.setenv("CONSOLE_CLIENT_ID", "")
    answer = get("/console/config.json", lambda_context, route_key="GET /console/config.json", proxy="")
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "application/json"
    assert answer["headers"]["Cache-Control"] == "no-cache"
    assert json.loads(answer["body"]) == {"auth": None}


def test_config_needs_both_the_domain_and_the_client(lambda_context, monkeypatch):
    monkeypatch.setenv("CONSOLE_AUTH_DOMAIN", "auth.example.com")
    monkeypatch.delenv("CONSOLE_CLIENT_ID", raising=False)
    assert json.loads(get("/console/config.json", lambda_context)["body"]) == {"auth": None}


def test_config_names_the_sign_in_when_the_environment_does(lambda_context, monkeypatch):
    monkeypatch.setenv("CONSOLE_AUTH_DOMAIN", "auth.example.com")
    monkeypatch.setenv("CONSOLE_CLIENT_ID", "abc123")
    answer = get("/console/config.json", lambda_context, route_key="GET /console/config.json", proxy="")
    assert json.loads(answer["body"]) == {
        "auth": {"domain": "auth.example.com", "client_id": "abc123", "scopes": ["openid", "email"]}
    }
    assert "connect-src 'self' https://auth.example.com" in answer["headers"]["Content-Security-Policy"]


def test_only_get_is_answered(lambda_context):
    event = http_event("POST", "/", "", [], b"", route_key="POST /")
    assert console.lambda_handler(event, lambda_context)["statusCode"] == 405


def test_every_change_a_plan_names_has_words_in_the_console():
    """The plans' change names (customers' field groups, subscriptions' licence fields) are said
    in words by one table, words.js's CHANGE_WORDS: a name added to a plan must be added there."""
    import re

    from ddhalo.halo.records import OWNED_LICENCE_FIELDS
    from ddhalo.pipeline.customers.plan import MAIN_SITE_ADDRESS, TENANT_LINKS

    source = (console.STATIC / "words.js").read_text()
    table = source[source.index("export const CHANGE_WORDS = {") : source.index("};")]
    worded = set(re.findall(r"^\s+(\w+): \"", table, re.MULTILINE))
    named = {"client", "main_site", TENANT_LINKS, MAIN_SITE_ADDRESS, "licence", *OWNED_LICENCE_FIELDS}
    assert worded == named
