"""html5lib (as bleach ships it) made to do bounded work per byte, for the sanitiser in markup.py.

html5lib follows the HTML standard, and some of the standard's steps scan the stack of
open elements, the list of active formatting elements or a node's children, or copy a
node's whole text to add a piece to it. On hostile bodies that is quadratic: 12,000
unclosed ``<b>`` took seconds, ``<table>`` followed by 80,000 ``<br>`` minutes. Here the
work stays linear in the size of any body the size limit allows:

- :func:`canonical_markup`, one regular-expression pass before html5lib: every tag becomes
  its name and the attributes the allowlist could keep, every comment, doctype or
  processing instruction an empty comment (the sanitiser drops those anyway). html5lib's
  tokenizer builds names, attribute lists and comments one character at a time, checking
  each attribute against all the earlier ones; after this pass they are all short;
- :class:`BoundedParser` drops a start tag that would put more than :data:`MAX_DEPTH`
  elements around its content (the content stays, one level up), so the stack and the
  formatting list html5lib walks for every tag stay short;
- its tree builder gathers a node's text in pieces and joins them once, and finds the
  table that content is fostered in front of without listing all its siblings; it keeps
  no parse errors (html5lib finds each one's line and column by counting newlines);
- :class:`BoundedWalker` goes back up the tree without listing every sibling of the
  node it leaves (html5lib's walker does, twice, for every element that has children).

A sanitised body meets none of these limits, so sanitising it again changes nothing:
its tags are canonical, it has no comments and it nests at most :data:`MAX_DEPTH` deep.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from xml.etree import ElementTree

from bleach import html5lib_shim
from bleach._vendor.html5lib import treebuilders, treewalkers
from bleach._vendor.html5lib.constants import voidElements
from bleach._vendor.html5lib.treebuilders.base import Marker

#: The deepest a sanitised body nests: far beyond any real post (a list in a quote in a
#: table is a handful of levels), and shallow enough that html5lib's scans stay cheap.
MAX_DEPTH = 64

#: An attribute value with more of these characters than this is dropped: html5lib copies
#: the value so far at every ``&``, and the serializer turns ``<`` and ``"`` into entities,
#: so counting all three keeps a kept value within the limit when it is sanitised again.
MAX_VALUE_ENTITIES = 256

#: Longer tag names are never on the allowlist: such a tag is dropped like a comment.
MAX_NAME_LENGTH = 32

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# How html5lib's tokenizer splits markup in its data state (the only state it is in here:
# bleach turns every tag off the allowlist, script and style included, into text before the
# tree builder could switch states).
_SPACE = r"\t\n\f\r "
# One attribute: its name, then maybe "=" and a value, quoted or not. {name} and {value}
# make the two groups named (to read them) or plain (inside the pattern of a whole tag).
_ATTRIBUTE = (r"({name}[^{s}/>][^{s}/>=]*+)"
              r"(?:[{s}]*+=[{s}]*+({value}\"[^\"]*+(?:\"|\Z)|'[^']*+(?:'|\Z)|[^{s}>\"'][^{s}>]*+|))?")
_ATTRIBUTE_RE = re.compile(_ATTRIBUTE.format(s=_SPACE, name="?P<name>", value="?P<value>"))
_MARKUP = re.compile(
    r"<!--(?:-?>|.*?--!?>|.*+)"                      # a comment, to its end or the body's
    r"|<[!?][^>]*+>?|</[^A-Za-z>][^>]*+>?"           # doctype, CDATA, bogus comment
    rf"|<(?P<slash>/?)(?P<tag>[A-Za-z][^{_SPACE}/>]*+)"
    rf"(?P<attributes>(?:[{_SPACE}/]++|{_ATTRIBUTE.format(s=_SPACE, name='?:', value='?:')})*+)"
    r"(?P<closed>>)?",
    re.DOTALL)
_EMPTY_COMMENT = "<!---->"
_VALUE_ENTITY_CHARACTERS = ("&", "<", '"')


def canonical_markup(text: str, tags: Collection[str], attributes: Mapping[str, Sequence[str]]) -> str:
    """Return ``text`` with every tag cut down to what html5lib and the allowlist need.

    ``tags`` are the allowed tags; ``attributes`` maps a tag to the attributes it may
    keep, and a tag keeps the first of each (html5lib keeps the first of duplicates too).
    Comments, doctypes, processing instructions and tags with absurd names become empty
    comments. As bleach has it, a tag cut off by the end of the body, or an end tag
    without a name (``</ x>``), is text.
    """
    return _MARKUP.sub(lambda match: _canonical(match, tags, attributes), text)


def _canonical(match: re.Match, tags: Collection[str], allowlist: Mapping[str, Sequence[str]]) -> str:
    tag = match["tag"]
    if tag is None:
        bogus_end = match[0][2:].rstrip(">") if match[0].startswith("</") else None
        return _EMPTY_COMMENT if bogus_end is None or bogus_end.lower().strip() in tags else _as_text(match[0])
    if len(tag) > MAX_NAME_LENGTH:
        return _EMPTY_COMMENT
    if match["closed"] is None:
        return _as_text(match[0])
    if match["slash"]:
        return f"</{tag}>"
    allowed = allowlist.get(tag.translate(_ASCII_LOWER), ())
    kept: dict[str, str] = {}
    for attribute in _ATTRIBUTE_RE.finditer(match["attributes"]) if allowed else ():
        name = attribute["name"].translate(_ASCII_LOWER)
        if name in allowed and name not in kept:
            kept[name] = attribute["value"] or ""
    return "<" + tag + "".join(_attribute(name, value) for name, value in kept.items()) + ">"


def _attribute(name: str, value: str) -> str:
    inner = value[1:-1] if value[:1] in ("'", '"') else value
    if sum(map(inner.count, _VALUE_ENTITY_CHARACTERS)) > MAX_VALUE_ENTITIES:
        return ""
    return f" {name}={value}" if value else f" {name}"


def _as_text(markup: str) -> str:
    return markup.replace("<", "&lt;")


class _Text:
    """Text added to a node piece by piece, joined once when the tree is done.

    html5lib adds text with ``+=`` on the element, which copies all the text so far; text
    split into many tokens (every ``&`` starts one) or fostered again and again in front of
    a table made that quadratic. Never empty, so always true like the text it stands for.
    """

    __slots__ = ("_pieces",)

    def __init__(self, *pieces: str) -> None:
        self._pieces = list(pieces)

    def __iadd__(self, more: object) -> _Text:
        self._pieces.append(str(more))
        return self

    def __radd__(self, before: str | None) -> _Text:
        return _Text(before or "", str(self))

    def __str__(self) -> str:
        self._pieces = ["".join(self._pieces)]
        return self._pieces[0]


def _add_text(holder: ElementTree.Element, attribute: str, data: str) -> None:
    current = getattr(holder, attribute)
    if isinstance(current, _Text):
        current += data
    elif current:
        setattr(holder, attribute, _Text(current, data))
    else:
        setattr(holder, attribute, data)


def _position(parent: ElementTree.Element, child: ElementTree.Element) -> int:
    """Where ``child`` is among ``parent``'s children: fostered content goes in front of a
    table that is nearly always the last child, so look there before listing them all."""
    last = len(parent) - 1
    return last if last >= 0 and parent[last] is child else list(parent).index(child)


_EtreeBuilder = treebuilders.getTreeBuilder("etree")


class _Element(_EtreeBuilder.elementClass):
    """html5lib's ElementTree node, adding text and fostered nodes in constant time."""

    def insertText(self, data, insertBefore=None):
        element = self._element
        index = len(element) if insertBefore is None else _position(element, insertBefore._element)
        if index:
            _add_text(element[index - 1], "tail", data)
        else:
            _add_text(element, "text", data)

    def insertBefore(self, node, refNode):
        self._element.insert(_position(self._element, refNode._element), node._element)
        node.parent = self


class _TreeBuilder(_EtreeBuilder):
    elementClass = _Element


def _too_deep(tree) -> bool:
    """Whether a start tag now would nest more than MAX_DEPTH elements deep.

    Counts the formatting elements html5lib would reopen first (those closed by an outer
    end tag but still active), so the check sees the depth the new element really gets;
    sanitising the result again then meets the same depths and drops nothing.
    """
    active, open_elements = tree.activeFormattingElements, tree.openElements
    if len(active) >= 2 * MAX_DEPTH:
        return True
    depth = len(open_elements) - 1  # the first is the fragment's root, not the body's
    if not active or active[-1] is Marker or active[-1] in open_elements:
        return depth >= MAX_DEPTH
    open_ids = {id(element) for element in open_elements}
    for entry in reversed(active):
        if entry is Marker or id(entry) in open_ids:
            break
        depth += 1
    return depth >= MAX_DEPTH


class _DepthBoundTokenizer(html5lib_shim.BleachHTMLTokenizer):
    """bleach's tokenizer, turning a start tag that would nest too deep into no text at all."""

    def __iter__(self):
        tree = self.parser.tree
        for token in super().__iter__():
            # The parser builds the tree from each token before it asks for the next one,
            # so the tree is up to date here.
            if (token["type"] == html5lib_shim.TAG_TOKEN_TYPE_START and token["name"] not in voidElements
                    and _too_deep(tree)):
                token = {"type": html5lib_shim.TAG_TOKEN_TYPE_CHARACTERS, "data": ""}
            yield token


class BoundedParser(html5lib_shim.BleachHTMLParser):
    """bleach's parser with the depth cap and the linear tree builder (not thread-safe either)."""

    #: Whether the last body parsed broke one of HTML's rules (a misnested tag, a stray
    #: ``<``...): only then can its tree read back differently once written out.
    irregular = False

    def __init__(self, **kwargs) -> None:
        super().__init__(tree=_TreeBuilder, **kwargs)

    def mainLoop(self):
        # bleach's _parse has just made its own tokenizer for this body; the check only
        # filters what that tokenizer yields, so it becomes one of ours rather than a copy.
        self.tokenizer.__class__ = _DepthBoundTokenizer
        super().mainLoop()

    def parseError(self, errorcode="XXX-undefined-error", datavars=None):
        # Only note it: html5lib would also find its line and column, by counting newlines.
        self.irregular = True

    def parseFragment(self, stream, *args, **kwargs):
        self.irregular = False
        fragment = super().parseFragment(stream, *args, **kwargs)
        for element in fragment.iter():
            if isinstance(element.text, _Text):
                element.text = str(element.text)
            if isinstance(element.tail, _Text):
                element.tail = str(element.tail)
        # A parser kept for the next body should not keep this one and its tree alive.
        self.tokenizer = None
        self.tree.reset()
        return fragment


class BoundedWalker(treewalkers.getTreeWalker("etree")):
    """html5lib's ElementTree walker, remembering where each element sits among its siblings.

    Its nodes are (element, index among siblings, ancestors, text flag); going back up, the
    original finds the parent's index by listing all the parent's siblings.
    """

    def __init__(self, tree) -> None:
        super().__init__(tree)
        self._index: dict[int, int] = {}

    def _remember(self, node):
        if isinstance(node, tuple) and node[3] is None:
            self._index[id(node[0])] = node[1]
        return node

    def getFirstChild(self, node):
        return self._remember(super().getFirstChild(node))

    def getNextSibling(self, node):
        return self._remember(super().getNextSibling(node))

    def getParentNode(self, node):
        if not isinstance(node, tuple) or node[3] == "text":
            return super().getParentNode(node)
        parents = node[2]
        parent = parents.pop()
        return (parent, self._index[id(parent)], parents, None) if parents else parent
