"""The attributes of an HTML tag or a shortcode, read the forgiving way WordPress reads them."""
from __future__ import annotations

import html
import re

_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>\]]+))""")


def parse_attributes(text: str) -> dict[str, str]:
    """``name="value"`` pairs in ``text`` (double, single or no quotes), names lowercased, entities decoded."""
    return {m.group(1).lower(): html.unescape(next(g for g in m.groups()[1:] if g is not None))
            for m in _ATTRIBUTE.finditer(text)}
