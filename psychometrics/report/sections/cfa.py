"""Confirmatory Factor Analysis."""
from __future__ import annotations

from ._common import section

KEY, TITLE = "cfa", "Confirmatory Factor Analysis"


def build(results):
    def blocks(r):
        raise NotImplementedError("this section is not rendered yet.")

    return section(results, "cfa", KEY, TITLE, blocks)
