"""What an auditor browsing the decrypted database sees: every value of every table and the
search index, as one text to look for names in."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from kimdesk.casework.context import Context
from kimdesk.models import Base


def every_text_in_the_vault(ctx: Context, skip_prefix: str = "-") -> str:
    """All values of all tables (but those whose name starts with ``skip_prefix``)."""
    parts: list[str] = []
    with ctx.vault.reading() as session:
        for table in Base.metadata.sorted_tables:
            if table.name.startswith(skip_prefix):
                continue
            for row in session.execute(select(table)):
                parts.extend(json.dumps(v, default=str, ensure_ascii=False) for v in row)
        parts.extend(str(v) for row in session.execute(text("SELECT * FROM client_search"))
                     for v in row)
    return "\n".join(parts)
