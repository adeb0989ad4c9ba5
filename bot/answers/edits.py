"""The words of an edit's preview beyond its diff: what the edit leaves stale (plain text; the caller escapes)."""

from __future__ import annotations

from bot.answers.render import clip
from bot.config import StaleWords

COMMENT_LIMIT = 80


def stale_note(stale: StaleWords, rule: str) -> str | None:
    """One line: the comments that still name a replaced value, and the rename when the name holds it."""
    if not stale:
        return None
    parts = []
    if stale.comments:
        quoted = "; ".join(f'"{clip(c.lstrip("#").strip(), COMMENT_LIMIT)}"' for c in stale.comments)
        parts.append(f"the comment{'s' if len(stale.comments) > 1 else ''} {quoted}")
    if stale.rename:
        parts.append(f"the name (rename it: /rename {rule} {stale.rename})")
    return f"⚠️ still says {', '.join(stale.old)}: {' and '.join(parts)}"
