"""Writing the scenario: a ruamel.yaml tree (CommentedMap/CommentedSeq) where each value keeps its source beside
it as a comment, dumped to text in one fixed style so that the same inputs always give the same bytes."""
from __future__ import annotations

import datetime as dt
import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import FoldedScalarString
from ruamel.yaml.tokens import CommentToken

COMMENT_WIDTH = 116   # a block comment's lines, "# " and indent included


class Flow(dict):
    """A mapping written on one line ({a: 1, b: 2}) in the YAML."""


def plain(x):
    """numpy scalars and tuples -> plain Python values."""
    if isinstance(x, dict):
        out = {k: plain(v) for k, v in x.items()}
        return Flow(out) if isinstance(x, Flow) else out
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        return x.item()
    return x


def tree(obj):
    """Plain dicts and lists -> CommentedMap/CommentedSeq (Flow mappings in flow style), values made plain."""
    if isinstance(obj, (CommentedMap, CommentedSeq)):
        return obj
    if isinstance(obj, dict):
        m = CommentedMap((k, tree(v)) for k, v in obj.items())
        if isinstance(obj, Flow):
            m.fa.set_flow_style()
        return m
    if isinstance(obj, (list, tuple)):
        return CommentedSeq(tree(v) for v in obj)
    return plain(obj)


def flow(mapping: dict) -> CommentedMap:
    return tree(Flow(mapping))


def wrap(text: str, indent: int = 0, width: int = COMMENT_WIDTH) -> list[str]:
    """Words of `text` in lines that fit `width` once prefixed with `indent` spaces and "# "."""
    room = width - indent - 2
    lines, cur = [], ""
    for w in text.split():
        if len(cur) + len(w) + 1 > room:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + " " + w).strip()
    if cur:
        lines.append(cur)
    return lines


def comment_before(node: CommentedMap | CommentedSeq, key, lines: list[str], indent: int = 0) -> None:
    """Comment lines above `key` (a mapping key or a sequence index); an empty line stays blank."""
    node.yaml_set_comment_before_after_key(key, before="\n".join(lines), indent=indent)


def comment_after(node: CommentedMap | CommentedSeq, key, text: str) -> None:
    """A comment at the end of the line of `key`'s value."""
    if text:
        # the token ruamel makes for a node's first end-of-line comment (two spaces, "# "); its public
        # yaml_add_eol_comment aligns later comments to the first one's column instead, leaving one space
        node._yaml_add_eol_comment([CommentToken(" # " + text, CommentMark(0)), None], key=key)


def commented(pairs: list[tuple[str, object, str]]) -> CommentedMap:
    """A mapping from (key, value, comment) triples, each comment at the end of its value's line."""
    m = CommentedMap()
    for k, v, c in pairs:
        m[k] = tree(v)
        comment_after(m, k, c)
    return m


def step_value(v):
    """A dated step's value as the scenario writes it: whole numbers >= 1 as integers."""
    if isinstance(v, str):
        return v
    v = plain(v)
    return int(v) if float(v).is_integer() and abs(v) >= 1 else v


def series(steps: list[tuple[dt.date, object, str]]) -> CommentedSeq:
    """A dated series, one {from, value} step per line, each with its own comment."""
    seq = CommentedSeq()
    for d, v, note in steps:
        seq.append(flow({"from": d, "value": step_value(v)}))
        comment_after(seq, len(seq) - 1, note)
    return seq


def folded(text: str, indent: int, width: int = 112) -> FoldedScalarString:
    """A `>-` block scalar folded at word boundaries to lines of about `width` characters after `indent`."""
    s = FoldedScalarString(text)
    fold, pos, line_start = [], 0, 0
    room = width - indent
    for w in text.split(" "):
        end = pos + len(w)
        if end - line_start > room and pos > line_start:
            fold.append(pos - 1)
            line_start = pos
        pos = end + 1
    s.fold_pos = fold
    return s


def dump(doc: CommentedMap) -> str:
    y = YAML()
    y.width = 100_000            # long `source:` strings stay on one line
    y.indent(mapping=2, sequence=4, offset=2)
    y.allow_unicode = True
    y.representer.ignore_aliases = lambda data: True   # every value written out in full: no anchors for shared dates
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


class Commented:
    """A mapping built key by key: each value with an optional comment on its line and wrapped text above it."""

    def __init__(self, indent: int = 0) -> None:
        self.map = CommentedMap()
        self.indent = indent      # the column of this mapping's keys, for the comments above them

    def put(self, key: str, value, note: str = "", above: str = ""):
        self.map[key] = tree(value)
        comment_after(self.map, key, note)
        if above:
            comment_before(self.map, key, wrap(above, self.indent), self.indent)
        return self.map[key]
