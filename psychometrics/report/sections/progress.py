"""Within- and Between-Patient Progress."""
from __future__ import annotations

from ._common import section

KEY, TITLE = "progress", "Within- and Between-Patient Progress"


def build(results):
    def blocks(r):
        raise NotImplementedError("this section is not rendered yet.")

    return section(results, "progress", KEY, TITLE, blocks)
