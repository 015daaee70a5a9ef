"""What changed between two versions of a post, as plain text marked with insertions and deletions.

A post's HTML is read as lines of plain text, one per paragraph, heading or
list item, so a diff shows words, never markup. Lines are compared first;
only lines that changed are compared word by word, and long stretches that
did not change are cut to a few words either side. Both sides are cut to a
fixed size first, so a very long post costs no more than a long one.

The pieces are plain text: templates escape them like any other text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..markup import html_to_text

#: How much of each side is compared; the rest is left out, and the diff says so.
MAX_LINES = 1000
MAX_CHARACTERS = 100_000
#: Changed blocks longer than this (in words, per side) are shown as a whole deletion and insertion.
MAX_WORDS_COMPARED = 2000
#: Words of unchanged text kept either side of a change.
CONTEXT_WORDS = 12

SAME, INSERTED, DELETED, SKIPPED = "same", "ins", "del", "skipped"

# The tags that end a line of text: paragraphs, headings, list items, quotes, table rows, line breaks.
_BLOCK_RE = re.compile(r"</?(?:p|h[1-6]|li|ul|ol|blockquote|pre|tr|table|br)\b[^>]*>", re.IGNORECASE)
_WORD_RE = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class Piece:
    """A run of text that is the same on both sides, inserted, deleted, or skipped as unchanged."""

    kind: str
    text: str


@dataclass(frozen=True)
class TextDiff:
    """The pieces of a diff, and whether either side was too long to compare in full."""

    pieces: tuple[Piece, ...]
    cut: bool

    @property
    def changed(self) -> bool:
        """True when anything was inserted or deleted."""
        return any(piece.kind in (INSERTED, DELETED) for piece in self.pieces)


def html_lines(body_html: str) -> list[str]:
    """The plain text of a post body, one line per block (paragraph, heading, list item...)."""
    return [line for line in (html_to_text(part) for part in _BLOCK_RE.split(body_html or "")) if line]


def _bounded(lines: list[str]) -> tuple[list[str], bool]:
    kept, size = [], 0
    for line in lines[:MAX_LINES]:
        if size + len(line) > MAX_CHARACTERS:
            kept.append(line[:MAX_CHARACTERS - size])
            return kept, True
        kept.append(line)
        size += len(line) + 1
    return kept, len(lines) > MAX_LINES


def diff_lines(old: list[str], new: list[str]) -> TextDiff:
    """The diff of two texts given as lines (each side cut to the bounds above first)."""
    old, old_cut = _bounded(old)
    new, new_cut = _bounded(new)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece(SAME, "\n".join(old[i1:i2]) + "\n"))
        elif tag == "replace":
            pieces.extend(_word_pieces("\n".join(old[i1:i2]) + "\n", "\n".join(new[j1:j2]) + "\n"))
        elif tag == "delete":
            pieces.append(Piece(DELETED, "\n".join(old[i1:i2]) + "\n"))
        else:
            pieces.append(Piece(INSERTED, "\n".join(new[j1:j2]) + "\n"))
    return TextDiff(tuple(_shorten_unchanged(_merge(pieces))), old_cut or new_cut)


def diff_text(old: str, new: str) -> TextDiff:
    """The word diff of two one-line texts (titles)."""
    return TextDiff(tuple(_merge(_word_pieces(old, new))), False)


def diff_html(old_html: str, new_html: str) -> TextDiff:
    """The diff of two post bodies as plain text."""
    return diff_lines(html_lines(old_html), html_lines(new_html))


def _word_pieces(old: str, new: str) -> list[Piece]:
    old_words, new_words = _WORD_RE.findall(old), _WORD_RE.findall(new)
    if len(old_words) > MAX_WORDS_COMPARED or len(new_words) > MAX_WORDS_COMPARED:
        return [Piece(DELETED, old), Piece(INSERTED, new)]
    # Words are compared without the spaces after them, and shown with them.
    matcher = SequenceMatcher(None, [w.strip() for w in old_words], [w.strip() for w in new_words], autojunk=False)
    pieces = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece(SAME, "".join(new_words[j1:j2])))
            continue
        if tag in ("replace", "delete"):
            pieces.append(Piece(DELETED, "".join(old_words[i1:i2])))
        if tag in ("replace", "insert"):
            pieces.append(Piece(INSERTED, "".join(new_words[j1:j2])))
    return pieces


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Join neighbours of the same kind and drop empty pieces."""
    merged: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if merged and merged[-1].kind == piece.kind:
            merged[-1] = Piece(piece.kind, merged[-1].text + piece.text)
        else:
            merged.append(piece)
    return merged


def _shorten_unchanged(pieces: list[Piece]) -> list[Piece]:
    """Cut long unchanged stretches to a few words next to each change."""
    shortened: list[Piece] = []
    for index, piece in enumerate(pieces):
        words = _WORD_RE.findall(piece.text)
        if piece.kind != SAME or len(words) <= 2 * CONTEXT_WORDS + 1:
            shortened.append(piece)
            continue
        before = index > 0                 # a change before it: keep the words just after that change
        after = index < len(pieces) - 1    # a change after it: keep the words just before that change
        head = words[:CONTEXT_WORDS] if before else []
        tail = words[-CONTEXT_WORDS:] if after else []
        if head:
            shortened.append(Piece(SAME, "".join(head)))
        shortened.append(Piece(SKIPPED, f"{len(words) - len(head) - len(tail)} unchanged words"))
        if tail:
            shortened.append(Piece(SAME, "".join(tail)))
    return shortened
