"""The settings item (not secret): ``SETTINGS`` / ``CURRENT``."""

from __future__ import annotations

from ddhalo.settings import Settings
from ddhalo.store.table import Table, from_dynamo, to_dynamo

SETTINGS_KEY = {"pk": "SETTINGS", "sk": "CURRENT"}


class SettingsTable(Table):
    def get_settings(self) -> Settings:
        item = self.table.get_item(Key=SETTINGS_KEY, ConsistentRead=True).get("Item")
        if not item:
            return Settings()
        return Settings.model_validate(from_dynamo(item.get("settings", {})))

    def put_settings(self, settings: Settings) -> None:
        self.table.put_item(Item={**SETTINGS_KEY, "settings": to_dynamo(settings.model_dump(mode="json"))})
