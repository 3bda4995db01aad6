"""Bad settings, one or more per field and kind of mistake, shared by the unit and the API tests.

Each case: the body sent (to ``PUT /settings`` or ``POST /config/test``), the field the message
must start with, and for some the exact message. ``INTERNALS`` are pydantic's words and Python's
type names, which a refusal must never show a person.
"""

import re

SCHEDULE_RULE = (
    'must be an EventBridge schedule expression such as "rate(1 hour)", "rate(30 minutes)" or '
    '"cron(0 2 * * ? *)": rate(N minutes, hours or days) with N from 1 to 9999, or cron(...) with '
    "six fields; at most 100 characters"
)
SETTING_NAMES = (
    "region, environment, dicker_data_base_url, dicker_data_account_code, top_level_id, "
    "update_main_site_address, create_when_similar, exclusions, halo_api_url, halo_auth_url, halo_tenant, "
    "halo_requests_per_minute, halo_rate_window_seconds, request_timeout_seconds, "
    "halo_write_timeout_seconds, halo_write_settle_seconds, integrator, notifications, "
    "dicker_data_access_token, halo_client_id, halo_client_secret and webhook_url"
)
# Values of the write-only fields: none may appear in any message.
SECRETS = ("S3CR3T-in-a-list", "S3CR3T-in-an-object", "S3CR3T-long")

# (case id, body, field named first, exact message or None)
BAD_SETTINGS = [
    ("region-enum", {"region": "UK"}, "region", 'region must be "AU" or "NZ".'),
    ("region-type", {"region": 1}, "region", 'region must be "AU" or "NZ".'),
    ("region-empty", {"region": ""}, "region", None),
    (
        "region-null",
        {"region": None},
        "region",
        'region must be "AU" or "NZ", not null (leave it out to keep the current value).',
    ),
    (
        "environment-enum",
        {"environment": "staging"},
        "environment",
        'environment must be "production" or "test".',
    ),
    ("environment-type", {"environment": True}, "environment", None),
    ("environment-null", {"environment": None}, "environment", None),
    (
        "base-url-scheme",
        {"dicker_data_base_url": "ftp://x/api"},
        "dicker_data_base_url",
        "dicker_data_base_url must be an https:// URL on a host name, of at most 500 characters, such as "
        "https://b2b-api.dickerdata.com.au/api/, or null to clear it.",
    ),
    (
        "base-url-link-local",
        {"dicker_data_base_url": "http://169.254.169.254/latest/"},
        "dicker_data_base_url",
        "dicker_data_base_url must be an https:// URL on a public host; "
        "169.254.169.254 is a link-local address.",
    ),
    (
        "base-url-plain-http",
        {"dicker_data_base_url": "http://b2b-api.dickerdata.com.au/api/"},
        "dicker_data_base_url",
        "dicker_data_base_url must be an https:// URL on a public host; http:// is not encrypted.",
    ),
    ("base-url-type", {"dicker_data_base_url": 5}, "dicker_data_base_url", None),
    ("base-url-too-long", {"dicker_data_base_url": "https://" + "a" * 600}, "dicker_data_base_url", None),
    ("base-url-control", {"dicker_data_base_url": "https://a\n.example/api"}, "dicker_data_base_url", None),
    ("account-empty", {"dicker_data_account_code": ""}, "dicker_data_account_code", None),
    ("account-spaces", {"dicker_data_account_code": "   "}, "dicker_data_account_code", None),
    ("account-too-long", {"dicker_data_account_code": "x" * 201}, "dicker_data_account_code", None),
    ("account-type", {"dicker_data_account_code": 7}, "dicker_data_account_code", None),
    (
        "account-pattern",
        {"dicker_data_account_code": "\u00e9\u00e9"},
        "dicker_data_account_code",
        "dicker_data_account_code must be text of 1 to 200 characters with at least one ASCII letter, "
        "digit or symbol, or null to clear it.",
    ),
    (
        "top-level-range",
        {"top_level_id": 0},
        "top_level_id",
        "top_level_id must be a whole number of at least 1 (a Halo top level id), or null for none.",
    ),
    ("top-level-string", {"top_level_id": "3"}, "top_level_id", None),
    ("top-level-fraction", {"top_level_id": 1.5}, "top_level_id", None),
    ("top-level-bool", {"top_level_id": True}, "top_level_id", None),
    (
        "main-site-type",
        {"update_main_site_address": "yes"},
        "update_main_site_address",
        "update_main_site_address must be true or false.",
    ),
    ("main-site-number", {"update_main_site_address": 1}, "update_main_site_address", None),
    ("main-site-null", {"update_main_site_address": None}, "update_main_site_address", None),
    (
        "similar-type",
        {"create_when_similar": "sometimes"},
        "create_when_similar",
        "create_when_similar must be true or false.",
    ),
    ("similar-null", {"create_when_similar": None}, "create_when_similar", None),
    ("exclusions-list", {"exclusions": ["a"]}, "exclusions", None),
    ("exclusions-unknown-kind", {"exclusions": {"sites": ["a"]}}, "exclusions", None),
    ("exclusions-empty-id", {"exclusions": {"customers": [""]}}, "exclusions", None),
    ("exclusions-null", {"exclusions": None}, "exclusions", None),
    ("halo-api-url-text", {"halo_api_url": "not a url"}, "halo_api_url", None),
    ("halo-api-url-script", {"halo_api_url": "javascript:alert(1)"}, "halo_api_url", None),
    ("halo-auth-url-too-long", {"halo_auth_url": "https://" + "a" * 600}, "halo_auth_url", None),
    ("halo-auth-url-type", {"halo_auth_url": []}, "halo_auth_url", None),
    ("tenant-spaces", {"halo_tenant": "   "}, "halo_tenant", None),
    ("tenant-type", {"halo_tenant": {}}, "halo_tenant", None),
    ("tenant-too-long", {"halo_tenant": "t" * 201}, "halo_tenant", None),
    ("rpm-low", {"halo_requests_per_minute": 0}, "halo_requests_per_minute", None),
    (
        "rpm-high",
        {"halo_requests_per_minute": 7000},
        "halo_requests_per_minute",
        "halo_requests_per_minute must be a whole number from 1 to 6000.",
    ),
    ("rpm-type", {"halo_requests_per_minute": "x"}, "halo_requests_per_minute", None),
    ("rpm-null", {"halo_requests_per_minute": None}, "halo_requests_per_minute", None),
    ("window-high", {"halo_rate_window_seconds": 4000}, "halo_rate_window_seconds", None),
    ("window-fraction", {"halo_rate_window_seconds": 0.5}, "halo_rate_window_seconds", None),
    (
        "timeout-low",
        {"request_timeout_seconds": 0.5},
        "request_timeout_seconds",
        "request_timeout_seconds must be a number of seconds from 1 to 120.",
    ),
    ("timeout-high", {"request_timeout_seconds": 121}, "request_timeout_seconds", None),
    ("timeout-type", {"request_timeout_seconds": "1"}, "request_timeout_seconds", None),
    (
        "write-timeout-high",
        {"halo_write_timeout_seconds": 601},
        "halo_write_timeout_seconds",
        "halo_write_timeout_seconds must be a number of seconds from 1 to 600.",
    ),
    ("write-timeout-null", {"halo_write_timeout_seconds": None}, "halo_write_timeout_seconds", None),
    (
        "settle-low",
        {"halo_write_settle_seconds": 0},
        "halo_write_settle_seconds",
        "halo_write_settle_seconds must be a number of seconds from 1 to 900.",
    ),
    ("settle-type", {"halo_write_settle_seconds": "300"}, "halo_write_settle_seconds", None),
    (
        "integrator-type",
        {"integrator": 5},
        "integrator",
        "integrator must be an object with any of enabled, sync_customers, sync_subscriptions (each true "
        "or false), schedule and verify_every_hours.",
    ),
    ("integrator-array", {"integrator": []}, "integrator", None),
    ("integrator-null", {"integrator": None}, "integrator", None),
    (
        "integrator-unknown",
        {"integrator": {"bogus": 1}},
        "integrator.bogus",
        "integrator.bogus is not an integrator setting; they are enabled, sync_customers, "
        "sync_subscriptions, schedule and verify_every_hours.",
    ),
    (
        "verify-every-zero",
        {"integrator": {"verify_every_hours": 0}},
        "integrator.verify_every_hours",
        "integrator.verify_every_hours must be a whole number of hours from 1 to 2160 (90 days).",
    ),
    ("enabled-type", {"integrator": {"enabled": "true"}}, "integrator.enabled", None),
    ("enabled-null", {"integrator": {"enabled": None}}, "integrator.enabled", None),
    ("sync-customers-number", {"integrator": {"sync_customers": 0}}, "integrator.sync_customers", None),
    (
        "sync-subscriptions-text",
        {"integrator": {"sync_subscriptions": "no"}},
        "integrator.sync_subscriptions",
        None,
    ),
    (
        "schedule-words",
        {"integrator": {"schedule": "every day"}},
        "integrator.schedule",
        f"integrator.schedule {SCHEDULE_RULE}.",
    ),
    ("schedule-type", {"integrator": {"schedule": 3}}, "integrator.schedule", None),
    ("schedule-zero", {"integrator": {"schedule": "rate(0 hours)"}}, "integrator.schedule", None),
    ("schedule-cron-short", {"integrator": {"schedule": "cron(0 2 * *)"}}, "integrator.schedule", None),
    (
        "schedule-too-long",
        {"integrator": {"schedule": "cron(" + "1," * 60 + "1 * * * ? *)"}},
        "integrator.schedule",
        None,
    ),
    ("schedule-null", {"integrator": {"schedule": None}}, "integrator.schedule", None),
    (
        "unknown-field",
        {"unknown_field": 1},
        "unknown_field",
        f"unknown_field is not a setting; the settings are {SETTING_NAMES}.",
    ),
    ("unknown-case", {"Region": "AU"}, "Region", None),
    (
        "token-empty",
        {"dicker_data_access_token": ""},
        "dicker_data_access_token",
        "dicker_data_access_token must be a string of 1 to 4096 characters (null keeps the stored one).",
    ),
    ("token-number", {"dicker_data_access_token": 12345}, "dicker_data_access_token", None),
    ("token-too-long", {"dicker_data_access_token": "S3CR3T-long" * 400}, "dicker_data_access_token", None),
    ("client-id-list", {"halo_client_id": ["S3CR3T-in-a-list"]}, "halo_client_id", None),
    ("client-id-empty", {"halo_client_id": ""}, "halo_client_id", None),
    (
        "client-secret-object",
        {"halo_client_secret": {"v": "S3CR3T-in-an-object"}},
        "halo_client_secret",
        None,
    ),
    ("client-secret-too-long", {"halo_client_secret": "S3CR3T-long" * 400}, "halo_client_secret", None),
    (
        "webhook-scheme",
        {"webhook_url": "ftp://hooks.example/S3CR3T-long"},
        "webhook_url",
        "webhook_url must be the https:// URL of a Teams or Slack incoming webhook, at most 2000 "
        "characters, or null to remove it.",
    ),
    (
        "webhook-private-host",
        {"webhook_url": "https://10.0.0.1/S3CR3T-long"},
        "webhook_url",
        "webhook_url must be an https:// URL on a public host; its host is a private address.",
    ),
    ("webhook-empty", {"webhook_url": ""}, "webhook_url", None),
    ("webhook-number", {"webhook_url": 5}, "webhook_url", None),
    (
        "notifications-type",
        {"notifications": "on"},
        "notifications",
        "notifications must be an object with any of digest (true or false), webhook_format, warn_days, "
        "dicker_data_token_expires and halo_client_secret_expires.",
    ),
    ("notifications-null", {"notifications": None}, "notifications", None),
    (
        "notifications-unknown",
        {"notifications": {"email": "x@y"}},
        "notifications.email",
        "notifications.email is not a notifications setting; they are digest, webhook_format, warn_days, "
        "dicker_data_token_expires and halo_client_secret_expires.",
    ),
    ("digest-text", {"notifications": {"digest": "yes"}}, "notifications.digest", None),
    (
        "webhook-format",
        {"notifications": {"webhook_format": "discord"}},
        "notifications.webhook_format",
        'notifications.webhook_format must be "auto", "slack" or "teams".',
    ),
    ("warn-days-zero", {"notifications": {"warn_days": 0}}, "notifications.warn_days", None),
    (
        "expiry-not-a-date",
        {"notifications": {"dicker_data_token_expires": "31/01/2027"}},
        "notifications.dicker_data_token_expires",
        "notifications.dicker_data_token_expires must be a date written YYYY-MM-DD (such as 2027-06-30), "
        "or null for none.",
    ),
    (
        "expiry-number",
        {"notifications": {"halo_client_secret_expires": 20270131}},
        "notifications.halo_client_secret_expires",
        None,
    ),
    (
        "expiry-impossible",
        {"notifications": {"halo_client_secret_expires": "2027-02-30"}},
        "notifications.halo_client_secret_expires",
        None,
    ),
]

# Pydantic's own words, its union branches and validator names, raw patterns, Python type names.
INTERNALS = re.compile(
    r"literal\[|function-(before|after|wrap|plain)\[|union\[|constrained-|Input should|String should"
    r"|Value should|should match pattern|Value error|Extra inputs|\[type=|\.none\b|\bnone:|\^|\$'|\{1,"
    r"|\[!-~\]|\[A-Za-z|IntegratorUpdate|SettingsUpdate|SecretStr|NoneType"
    r"|\b(str|int|float|bool|dict|list|tuple)\b"
)

# Spellings of region and environment read as their canonical values.
ACCEPTED_SPELLINGS = [
    ({"region": "au"}, "region", "AU"),
    ({"region": " nz "}, "region", "NZ"),
    ({"region": "Nz"}, "region", "NZ"),
    ({"environment": "PRODUCTION"}, "environment", "production"),
    ({"environment": "Test"}, "environment", "test"),
]


def cases_by_id() -> dict[str, tuple[dict, str, str | None]]:
    return {case_id: (body, field, exact) for case_id, body, field, exact in BAD_SETTINGS}
