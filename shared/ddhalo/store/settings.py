"""The settings item (not secret): ``SETTINGS`` / ``CURRENT``."""

from __future__ import annotations

from typing import Any

from ddhalo.settings.model import Settings
from ddhalo.store.table import RUN_RETENTION_DAYS, Table, from_dynamo, to_dynamo

SETTINGS_KEY = {"pk": "SETTINGS", "sk": "CURRENT"}


class SettingsTable(Table):
    def __init__(
        self,
        table_name: str,
        resource: Any = None,
        run_retention_days: int = RUN_RETENTION_DAYS,
        *,
        initial_settings: Settings | None = None,
    ) -> None:
        """``initial_settings``: what a new deployment starts with until settings are stored (the
        stack's parameters over the settings' defaults)."""
        super().__init__(table_name, resource, run_retention_days)
        self.initial_settings = Settings() if initial_settings is None else initial_settings

    def get_settings(self) -> Settings:
        item = self.table.get_item(Key=SETTINGS_KEY, ConsistentRead=True).get("Item")
        if not item:
            return self.initial_settings.model_copy(deep=True)
        return Settings.model_validate(from_dynamo(item.get("settings", {})))

    def put_settings(self, settings: Settings) -> None:
        self.table.put_item(Item={**SETTINGS_KEY, "settings": to_dynamo(settings.model_dump(mode="json"))})
