"""What hosted Halo allows, as documented and seen on real tenants (PRODUCT.md, "Halo API")."""

# At most this many records per page, whatever page_size asks (a real tenant: page_size=1000
# answered record_count 717 with 100 records).
PAGE_SIZE = 100
# 300 requests per rolling 5 minutes, for all of an MSP's integrations together; no Retry-After.
RATE_LIMIT = 300
RATE_WINDOW_SECONDS = 300
