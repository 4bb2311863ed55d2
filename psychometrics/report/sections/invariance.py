"""Measurement Invariance."""
from __future__ import annotations

from ._common import section

KEY, TITLE = "invariance", "Measurement Invariance"


def build(results):
    def blocks(r):
        raise NotImplementedError("this section is not rendered yet.")

    return section(results, "invariance", KEY, TITLE, blocks)
