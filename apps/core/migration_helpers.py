"""Shared by the apps' migrations that add ``history_channel`` to their historical tables."""

from typing import Any

# Before the channel had a column of its own, the history's change reason held it: "admin",
# "api", "import: <file>" or "system".
LEGACY_CHANNEL_SQL = """
UPDATE {table} SET history_channel = CASE
    WHEN history_change_reason = 'admin' THEN 'admin'
    WHEN history_change_reason = 'api' THEN 'api'
    WHEN history_change_reason LIKE 'import%' THEN 'import'
    ELSE 'system'
END
WHERE history_channel = 'system'
"""


def backfill(table: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        # No parameters: the LIKE pattern's % is not a placeholder.
        schema_editor.execute(LEGACY_CHANNEL_SQL.format(table=table), None)

    return run
