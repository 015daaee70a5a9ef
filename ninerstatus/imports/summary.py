"""What an import did, or would do: counts, the pages it left behind, and warnings, for people to read."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: WordPress's item types the site has no place for, by the name people know them by.
SKIPPED_TYPES = {
    "page": "pages", "attachment": "attachments (media library entries)", "nav_menu_item": "menu items",
    "wp_navigation": "menus", "wp_template": "templates", "wp_template_part": "template parts",
    "wp_global_styles": "block styles", "wp_block": "reusable blocks and patterns", "revision": "revisions",
    "custom_css": "custom CSS", "oembed_cache": "cached embeds", "wp_font_family": "fonts",
    "wp_font_face": "fonts", "user_request": "privacy requests",
}
#: Warnings kept word for word; past this many only their number grows (a bad export can have thousands).
MAX_WARNINGS = 200


@dataclass
class ImportSummary:
    """Counts of an import (or a dry run) as it goes; ``lines()`` is what the command and the admin page show."""

    dry_run: bool = False
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)
    #: Why posts visitors could see in WordPress became drafts here (private, password-protected, pending).
    drafts: Counter = field(default_factory=Counter)
    #: Images copied, kept as links; shortcodes dropped.
    media: Counter = field(default_factory=Counter)
    pages: list[str] = field(default_factory=list)
    accounts_created: list[str] = field(default_factory=list)
    tags_created: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0

    def warn(self, message: str) -> None:
        """Note a problem that did not stop the import."""
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)

    def skip(self, kind: str, count: int = 1) -> None:
        """Count ``count`` items of ``kind`` (a WordPress type, or "trash", "comments") as left out."""
        self.skipped[SKIPPED_TYPES.get(kind, kind)] += count

    def lines(self) -> list[str]:
        """The summary as lines of text, most important first."""
        verb = "would be " if self.dry_run else ""
        out = [f"Posts: {self.imported} {verb}imported, {self.updated} {verb}updated, "
               f"{self.unchanged} unchanged."]
        for reason, n in sorted(self.drafts.items()):
            became = (verb or ("was " if n == 1 else "were ")) + "imported as " + ("a draft" if n == 1 else "drafts")
            out.append(f"  {n} {reason} post{'s' * (n != 1)} {became}, never shown to visitors.")
        if self.accounts_created:
            out.append(f"Staff accounts {verb}created (disabled, without a password): "
                       + ", ".join(self.accounts_created) + ".")
        if self.tags_created:
            out.append(f"Tags {verb}created: {self.tags_created}.")
        for what, n in sorted(self.media.items()):
            out.append(f"{what[0].upper()}{what[1:]}: {n}." if not what.startswith("[")
                       else f"Shortcode {what} {verb}dropped: {n}.")
        if self.skipped:
            out.append("Skipped: " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.skipped.items())) + ".")
        if self.pages:
            out.append("Pages skipped (the site has no pages; copy what matters into a post):")
            out.extend(f"  - {title}" for title in self.pages)
        if self.warning_count:
            out.append(f"Warnings: {self.warning_count}.")
            out.extend(f"  - {message}" for message in self.warnings)
            if self.warning_count > len(self.warnings):
                out.append(f"  ... and {self.warning_count - len(self.warnings)} more.")
        if self.dry_run:
            out.append("Dry run: nothing was changed.")
        return out
