"""The settings, in one package: ``model`` (what they are, with the credentials and the
``Connection`` a run uses), ``update`` (what ``PUT /settings`` accepts), ``service`` (reading and
changing them) and ``check`` (Test Configuration). Where they are kept: ``ddhalo.store.settings``
and ``ddhalo.secrets``."""
