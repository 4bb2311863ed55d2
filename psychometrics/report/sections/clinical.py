"""Clinical Significance."""
from __future__ import annotations

from ._common import section

KEY, TITLE = "clinical", "Clinical Significance"


def build(results):
    def blocks(r):
        raise NotImplementedError("this section is not rendered yet.")

    return section(results, "clinical_significance", KEY, TITLE, blocks)
