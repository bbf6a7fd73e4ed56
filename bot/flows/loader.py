"""Reads flow files: safe YAML and the schema, every problem located (the checks validate, the engine compiles)."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import TYPE_CHECKING

from bot.errors import FlowError, Location
from bot.flows import checks
from bot.flows.plain import plain_flow
from bot.flows.shapes import FlowShape
from bot.flows.validate import Catalogue
from bot.flows.yamlsafe import Document, read_document

if TYPE_CHECKING:
    from bot.flows.model import FlowSpec


def default_catalogue(flow_ids: set[str] | None = None) -> Catalogue:
    """Every probe check there is, and the given flows (any flow id when None)."""
    return Catalogue(checks.known, checks.arguments, flow_ids)


def parse_flow(text: str, file: str) -> tuple[FlowSpec, Document]:
    """YAML and schema into the pydantic models the engine compiles: raise FlowError with every schema
    problem located."""
    from bot.flows.modelread import model_flow

    doc = _read_mapping(text, file)
    return model_flow(doc), doc


def parse_flow_shape(text: str, file: str) -> tuple[FlowShape, Document]:
    """As parse_flow, for checks that only read the flow: a file that is surely valid is read without
    pydantic (its import and schema build cost more than the checks); any other goes through the models,
    so every problem keeps their wording."""
    doc = _read_mapping(text, file)
    plain = plain_flow(doc.data)
    if plain is not None:
        return plain, doc
    from bot.flows.modelread import model_flow

    return model_flow(doc), doc


def _read_mapping(text: str, file: str) -> Document:
    doc = read_document(text, file)
    if not isinstance(doc.data, dict):
        raise FlowError.at(doc.where(()), "a flow file is a mapping with id, title, version, start, steps")
    return doc


def read_text(path: FsPath) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FlowError.at(Location(str(path)), f"cannot read the file: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FlowError.at(
            Location(str(path)), f"the file is not UTF-8 (byte {exc.start}); save it as UTF-8"
        ) from None
