from datetime import date

from ddhalo.dicker_data.client import _parse
from ddhalo.dicker_data.models import (
    MAX_TEXT,
    ManufacturerStockCode,
    Subscription,
    Tenant,
    _scrub,
    clean_text,
)


def test_manufacturer_stock_code_is_split_into_its_parts():
    msc = ManufacturerStockCode.parse("P1Y:CFQ7TTC0LH18:0001:Y:")
    assert (msc.term, msc.product_id, msc.sku_id, msc.billing) == ("P1Y", "CFQ7TTC0LH18", "0001", "Y")
    assert ManufacturerStockCode.parse("").product_id == ""
    assert ManufacturerStockCode.parse("P1M").sku_id == ""


def test_tenant_name_falls_back_to_description_and_address_is_read():
    tenant = Tenant.from_api(
        {
            "TenantId": "abc",
            "TenantDescription": "Contoso",
            "CompanyName": "",
            "Address01": "1 George St",
            "Suburb": "Sydney",
            "Unknown": {"nested": True},
        }
    )
    assert tenant.name == "Contoso" and tenant.has_csp_tenant
    assert tenant.address.line1 == "1 George St" and tenant.address.suburb == "Sydney"
    assert tenant.azure_tenant_id == "abc"


def test_tenant_without_tenant_id_is_not_importable():
    assert not Tenant.from_api({"TenantId": "", "CompanyName": "X"}).has_csp_tenant
    assert not Tenant.from_api({"CompanyName": "X"}).has_csp_tenant


def test_subscription_reads_dates_quantities_and_ignores_unknown_fields():
    sub = Subscription.from_api(
        {
            "SubscriptionId": "s1",
            "Status": "active",
            "ConfirmedQuantity": "12",
            "NextBillingDate": "2026-12-01T00:00:00",
            "ExpiryDate": "01/02/2027",
            "LastBillingDate": "garbage",
            "Brand": "new field",
        }
    )
    assert sub.quantity == 12 and sub.is_active
    assert sub.next_billing_date == date(2026, 12, 1)
    assert sub.expiry_date == date(2027, 2, 1)
    assert sub.last_billing_date is None


def test_hostile_rows_become_per_item_failures():
    rows = [
        {"SubscriptionId": "ok", "StockDescription": "A\x00B" + "x" * 10_000},
        {"SubscriptionId": ""},
        "not an object",
        {"SubscriptionId": "bad-qty", "ConfirmedQuantity": "lots"},
    ]
    parsed = _parse(rows, Subscription, "SubscriptionId", Subscription.from_api)
    assert [s.subscription_id for s in parsed.items] == ["ok"]
    assert (
        parsed.items[0].stock_description.startswith("AB") and len(parsed.items[0].stock_description) == 500
    )
    assert [i.ref for i in parsed.invalid] == ["#1", "#2", "bad-qty"]


def test_clean_text_cleans_control_format_and_spacing():
    assert clean_text(" Acme\u202e\x00 Pty\tLtd\r\n ") == "Acme Pty Ltd"
    assert clean_text("Zoë\u00a0&\u2028Søn 🚀") == "Zoë & Søn 🚀"
    assert clean_text(42) == "42"
    assert clean_text("x" * (MAX_TEXT + 1)) == "x" * MAX_TEXT


def test_clean_texts_shortcut_answers_what_scrubbing_does():
    """The shortcut returns clean text untouched; it must never keep what _scrub would change."""
    samples = ["", " ", "a  b", "a ", " a", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1)]
    samples += [f"a{chr(code)}b" for code in range(0x30000) if not 0xD800 <= code < 0xE000]
    samples += [chr(code) for code in range(0x3000)]
    samples += ["a\ud800b", "Müller\u2013Lüdenscheid", "Ærø 🚀", "tab\there", "a\u3000b"]
    assert [clean_text(text) for text in samples] == [_scrub(text) for text in samples]
