"""Loading item banks: YAML with line numbers -> validated :class:`Instrument`.

The YAML is composed into nodes first so that every value keeps the line it
came from; duplicate mapping keys (which PyYAML silently overwrites) are
problems, not last-one-wins. Pydantic then checks the structure, and
:func:`~psychometrics.instruments.spec.semantic_issues` the cross-field rules.
Every problem of a file is reported in one :class:`BankValidationError`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..exceptions import BankIssue, BankValidationError, InstrumentNotFoundError
from .spec import Instrument, semantic_issues

__all__ = ["load_instrument", "list_instruments", "instrument_paths", "parse_bank",
           "read_yaml_mapping", "read_yaml_text", "MAX_ALIAS_EXPANSION"]

#: Anchors and aliases (``&name``, ``*name``) may add at most this many values
#: to a document when expanded; more is refused as an "alias bomb".
MAX_ALIAS_EXPANSION = 10_000
#: The tags a bank or study file may carry: the plain YAML types, which need no
#: tag written out. Tags such as ``!!python/object`` are refused (never executed).
_SAFE_TAGS = frozenset(t for t in yaml.SafeLoader.yaml_constructors if t is not None)

#: Folder of the shipped banks, inside the package (also in a wheel). The repository's
#: top-level ``instruments/`` holds identical copies (kept equal by a test).
SHIPPED_DIR = Path(__file__).resolve().parent / "banks"
#: Extra folders of banks, separated by os.pathsep.
ENV_VAR = "PSYCHOMETRICS_INSTRUMENTS_PATH"


def _bank_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    dirs.append(SHIPPED_DIR)
    return dirs


def instrument_paths() -> dict[str, Path]:
    """Shipped (and user-registered) bank names mapped to their files."""
    found: dict[str, Path] = {}
    for d in reversed(_bank_dirs()):  # earlier folders in the variable win
        if d.is_dir():
            for f in sorted(d.glob("*.yaml")):
                found[f.stem] = f
    return dict(sorted(found.items()))


def list_instruments() -> list[str]:
    """Names accepted by :func:`load_instrument`, e.g. ``['oq-45.2', 'pear', ...]``."""
    return list(instrument_paths())


def load_instrument(name_or_path: str | os.PathLike) -> Instrument:
    """Load and validate an item bank.

    Parameters
    ----------
    name_or_path : str or path
        A shipped name (see :func:`list_instruments`; case-insensitive) or the
        path of a YAML file.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentNotFoundError
        The name is neither shipped nor an existing file.
    BankValidationError
        The file is malformed YAML or contradicts the schema or itself; every
        problem is listed with its place in the YAML and its line.
    """
    path = Path(name_or_path)
    shipped = instrument_paths()
    key = str(name_or_path).lower()
    if key in shipped:
        path = shipped[key]
    elif not path.is_file():
        raise InstrumentNotFoundError(
            f"No instrument named {str(name_or_path)!r}: it is neither a shipped bank "
            f"({', '.join(shipped) or 'none found'}) nor a YAML file that exists.")
    return parse_bank(read_yaml_text(path, lambda found: BankValidationError(str(path), found)),
                      source=str(path))


def read_yaml_text(path: str | os.PathLike, error) -> str:
    """The text of a YAML file (UTF-8, with or without a byte-order mark).

    A file in another encoding raises ``error([BankIssue])`` naming the line
    and the byte that is not UTF-8, and how to fix it; YAML files are always
    read as UTF-8 (the YAML standard's encoding), never guessed.
    """
    raw = Path(path).read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        byte = raw[exc.start:exc.start + 1].hex()
        guess = "Windows-1252/Latin-1" if raw[exc.start] >= 0x80 else "an unknown encoding"
        raise error([BankIssue("", f"the file is not UTF-8 text: byte 0x{byte} on line {line} "
                                   f"(it looks like {guess}). Save the file as UTF-8 (most "
                                   f"editors: 'Save as' > encoding 'UTF-8').", line)]) from None


def parse_bank(text: str, source: str = "<string>") -> Instrument:
    """Validate bank YAML given as text (see :func:`load_instrument`)."""
    data, lines, issues = read_yaml_mapping(
        text, "the file must be a YAML mapping with id, name, items, scales, ...",
        lambda found: BankValidationError(source, found))

    try:
        inst = Instrument.model_validate(data, context={"skip_semantic": True})
    except ValidationError as exc:
        inst = None
        for err in exc.errors():
            loc = tuple(err["loc"])
            issues.append(BankIssue(loc_str(loc), validation_message(err), line_for(loc, lines)))
    # Cross-field checks run on the raw mapping, so they are listed even when
    # the structure has problems too.
    for issue in semantic_issues(data):
        issues.append(BankIssue(issue.location, issue.message,
                                line_for(parse_loc(issue.location), lines)))
    if issues or inst is None:
        issues.sort(key=lambda i: (i.line or 0))
        raise BankValidationError(source, issues)
    return inst


# ---------------------------------------------------------------------- helpers
def read_yaml_mapping(text: str, expected: str, error):
    """YAML text -> (mapping, line map, issues so far).

    ``lines`` maps each location tuple to its 1-based line; duplicate keys are
    collected in ``issues``. Malformed YAML or a document that is not a mapping
    raises ``error(issues)`` at once (``expected`` says what the mapping holds).
    Shared by the item banks and the report's study files.
    """
    issues: list[BankIssue] = []
    try:
        loader = _DepthLimitedLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = (getattr(exc, "problem", None) or str(exc)).rstrip(".")
        if "found another document" in problem:
            problem = "the file holds more than one YAML document (a second '---'); keep one"
        raise error([BankIssue("", f"malformed YAML: {problem}.", line)]) from None
    except _TooDeep as exc:
        raise error([BankIssue("", f"malformed YAML: values are nested more than {MAX_DEPTH} "
                                   "levels deep.", exc.line)]) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise error([BankIssue("", expected, 1)])
    _check_nodes(root, error)
    lines: dict[tuple, int] = {}
    data = _to_python(root, (), lines, issues)
    return data, lines, issues


#: Deepest nesting of mappings and lists accepted (PyYAML's scanner slows down
#: quadratically with the depth of ``[[[[...`` and its composer recurses).
MAX_DEPTH = 64


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


class _DepthLimitedLoader(yaml.SafeLoader):
    """SafeLoader that stops composing at :data:`MAX_DEPTH` levels of nesting."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_nodes(root: yaml.Node, error) -> None:
    """Refuse tags other than the plain YAML types, recursive aliases, and
    aliases that expand to more than :data:`MAX_ALIAS_EXPANSION` extra values.

    The composed tree shares one node object per anchor, so its expanded size
    is counted in one pass over the distinct nodes (memoised), before anything
    is expanded: a "billion laughs" file fails at once instead of filling memory.
    """
    size: dict[int, int] = {}
    active: set[int] = set()
    bad_tags: list[BankIssue] = []

    def visit(node: yaml.Node) -> int:
        key = id(node)
        if key in size:
            return size[key]
        if key in active:
            raise error([BankIssue("", "a YAML alias refers to the node that contains it (a "
                                       "recursive anchor); write the values out.",
                                   node.start_mark.line + 1)])
        if node.tag not in _SAFE_TAGS and len(bad_tags) < 20:
            bad_tags.append(BankIssue("", f"the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')!r}"
                                          " is not allowed (tags such as !!python/object are never "
                                          "executed); remove the tag and write a plain value.",
                                      node.start_mark.line + 1))
        active.add(key)
        n = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                n += visit(k) + visit(v)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                n += visit(v)
        active.discard(key)
        size[key] = n
        return n

    try:
        total = visit(root)
    except RecursionError:
        raise error([BankIssue("", "malformed YAML: the document is nested too deeply.",
                               None)]) from None
    if bad_tags:
        raise error(bad_tags)
    if total - len(size) > MAX_ALIAS_EXPANSION:
        raise error([BankIssue("", f"YAML anchors and aliases (&name, *name) would expand this "
                                   f"document from {len(size):,} to {total:,} values (an 'alias "
                                   f"bomb'); at most {MAX_ALIAS_EXPANSION:,} extra values are "
                                   "allowed. Write the values out instead of nesting aliases.",
                               None)])


_SCALAR = yaml.SafeLoader("")  # its constructor turns scalar nodes into values


def _to_python(node: yaml.Node, path: tuple, lines: dict, issues: list) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, issues)
            if isinstance(key, (list, dict)):
                issues.append(BankIssue(loc_str(path), "mapping keys must be plain values.",
                                        key_node.start_mark.line + 1))
                continue
            if key in out:
                issues.append(BankIssue(loc_str(path + (key,)),
                                        f"duplicate key {key!r} (first at line "
                                        f"{lines[path + (key,)]}).", key_node.start_mark.line + 1))
                continue
            out[key] = _to_python(value_node, path + (key,), lines, issues)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, path + (k,), lines, issues) for k, v in enumerate(node.value)]
    return _scalar(node, path, issues)


def _scalar(node: yaml.Node, path: tuple, issues: list) -> Any:
    """A node's value; a value YAML cannot construct (``2024-13-45`` read as a date,
    a key that is a list) is an issue, and None stands in for it."""
    try:
        value = _SCALAR.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        issues.append(BankIssue(loc_str(path), f"the value {node.value!r} cannot be read "
                                                f"({str(exc).splitlines()[0]}); quote it to "
                                                "keep it as text.", node.start_mark.line + 1))
        return None
    finally:
        _SCALAR.constructed_objects.clear()
        _SCALAR.recursive_objects.clear()
    return value


def loc_str(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _index_or_key(part: str):
    """A list index (ASCII digits only: '²'.isdigit() is True but int('²') fails) or a key."""
    return int(part) if re.fullmatch(r"-?[0-9]+", part) else part


def parse_loc(loc: str) -> tuple:
    parts: list = []
    for chunk in loc.replace("]", "").split("."):
        pieces = chunk.split("[")
        if pieces[0]:
            parts.append(_index_or_key(pieces[0]))
        # a key may itself contain '[' or '.' (e.g. a scale named '['): keep it as text
        parts.extend(_index_or_key(p) for p in pieces[1:])
    return tuple(parts)


def line_for(loc: tuple, lines: dict) -> int | None:
    """Line of the deepest part of ``loc`` that exists in the file."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def validation_message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (check its spelling against the bank schema)."
    if kind == "missing":
        return "required field is missing."
    msg = err["msg"]
    if "input" in err and kind not in ("missing",):
        value = err["input"]
        if not isinstance(value, (dict, list)):
            msg += f" (got {value!r})"
    return msg + ("" if msg.endswith(".") else ".")
