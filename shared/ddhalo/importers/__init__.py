"""Per-entity rules of the read → plan → apply pipeline (customers, subscriptions)."""
