"""Exploratory Factor Analysis."""
from __future__ import annotations

from ._common import section

KEY, TITLE = "efa", "Exploratory Factor Analysis"


def build(results):
    def blocks(r):
        raise NotImplementedError("this section is not rendered yet.")

    return section(results, "efa", KEY, TITLE, blocks)
