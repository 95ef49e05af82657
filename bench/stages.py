"""Where fanpin's wall time goes, from the stage timings it writes into its own manifest.

    python bench/stages.py [LABEL=]bench/out/m100000/fanpin/manifest.json [LABEL=]... ...

LABEL (e.g. messy, clean) names the data set beside its size in the column header.

Each `fanpin screen` records in manifest.json (`stages_ms`) the wall time from the end of one
stage to the end of the next: the households and members read and validated (at once), the
roster's cross-checks, the aggregates over the members, the extracts received (any wait for
them) with the members their records name, each department source joined to those members and
aggregated, the household evaluation (derived figures, rules, category, exclusions, the flagged
list), the summaries, and the outputs (the CSV files and report.xlsx, written in parallel). The
department extracts are read and validated on another thread from the start, beside the roster
stages, so their reading is inside the roster's wall time. Prints one markdown table: a column
per manifest (data size).
"""

import json
import sys
from pathlib import Path


def main(*manifests: str) -> int:
    runs = []  # (households, label, [(stage, seconds)], elapsed)
    for m in manifests:
        label, _, path = m.rpartition("=")
        p = Path(path)
        if not p.is_file():
            continue
        data = json.loads(p.read_text(encoding="utf-8"))
        runs.append((data["counts"]["households_screened"], label, [(s, ms / 1000) for s, ms in data["stages_ms"]], data["elapsed_ms"] / 1000))
    if not runs:
        print("(no fanpin manifest to read)")
        return 1
    runs.sort(key=lambda r: (r[0], r[1]))
    stages = []
    for _, _, rows, _ in runs:
        for s, _ in rows:
            if s not in stages:
                stages.append(s)
    largest = runs[-1]
    print("From the last measured run of each size (`stages_ms` in its manifest.json).")
    print("The department extracts are read on another thread beside the roster stages.")
    print()
    print("| stage | " + " | ".join(f"{n:,} households{' ' + l if l else ''}" for n, l, _, _ in runs) + f" | share at {largest[0]:,}{' ' + largest[1] if largest[1] else ''} |")
    print("|---|" + "---|" * (len(runs) + 1))
    for s in stages:
        cells = []
        for _, _, rows, _ in runs:
            v = dict(rows).get(s)
            cells.append("" if v is None else f"{v:.2f} s")
        share = dict(largest[2]).get(s, 0.0) / largest[3] if largest[3] else 0.0
        print(f"| {s} | " + " | ".join(cells) + f" | {100 * share:.0f} % |")
    print("| **total** (elapsed, from the manifest) | " + " | ".join(f"{e:.2f} s" for _, _, _, e in runs) + " | 100 % |")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
