"""Reliability."""
from __future__ import annotations

from ._common import section

KEY, TITLE = "reliability", "Reliability"


def build(results):
    def blocks(r):
        raise NotImplementedError("this section is not rendered yet.")

    return section(results, "reliability", KEY, TITLE, blocks)
