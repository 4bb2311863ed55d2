"""Write the corpus designs (committed) and their data as CSV (for the R script only).

Run from the repository root::

    python tests/sem_corpus/write_corpus.py /tmp/sem_corpus_csv
    Rscript tests/data/r_scripts/sem_corpus/sem_corpus.R /tmp/sem_corpus_csv

The CSVs carry every value at full precision (``%.17g``), so lavaan reads the same
numbers as the test regenerates.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import RESULTS, make_data, make_designs  # noqa: E402


def main(csv_dir: str) -> None:
    designs = make_designs()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "designs.json", "w", encoding="utf-8") as fh:
        json.dump(designs, fh, indent=1)
    out = Path(csv_dir)
    out.mkdir(parents=True, exist_ok=True)
    for d in designs:
        make_data(d).to_csv(out / f"{d['id']}.csv", index=False, float_format="%.17g",
                            na_rep="NA")
    print(f"{len(designs)} designs -> {RESULTS / 'designs.json'}, CSV in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/sem_corpus_csv")
