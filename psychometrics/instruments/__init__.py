"""Item banks: the YAML schema, the loader and the registry of shipped banks."""
from .loader import instrument_paths, list_instruments, load_instrument, parse_bank
from .spec import (Form, Instrument, Item, MissingRule, NormSet, Provenance, ResponseScale,
                   Scale, ScaleNorm, semantic_issues)

__all__ = [
    "load_instrument", "list_instruments", "instrument_paths", "parse_bank",
    "Instrument", "Item", "Scale", "Form", "MissingRule", "NormSet", "ScaleNorm",
    "ResponseScale", "Provenance", "semantic_issues",
]
