"""Summarize the benchmark's measurements into a table (stdout) and bench/RESULTS.md.

    python bench/report.py MEASUREMENTS.tsv VERDICTS.tsv MACHINE.txt STAGES.md RESULTS.md [SPARK_VERDICTS.tsv]

MEASUREMENTS.tsv: size, data (messy or clean), run, tool, wall seconds, peak RSS in KiB (one line
per measurement).
VERDICTS.tsv: size, data, "identical" or "DIFFER", detail (one line per data set).
SPARK_VERDICTS.tsv: size, data, "identical" or "DIFFER": the Spark engine's flagged.csv against the
local engine's, byte for byte.
"""

import statistics
import sys
from collections import defaultdict
from pathlib import Path

TOOLS = [
    ("fanpin", "fanpin screen"),
    ("duckdb", "DuckDB peer"),
    ("polars", "floor: polars read"),
    ("cat", "floor: cat"),
]
# The Spark engine (issue 16): measured once per data set, in local mode on this machine.
SPARK = ("spark", "fanpin --engine spark (local mode, 1 run)")


def fmt_s(x: float) -> str:
    return f"{x:.3f} s" if x < 1 else f"{x:.2f} s"


def fmt_mb(kib: float) -> str:
    return f"{kib / 1024:.0f} MB"


def main(meas: str, verdicts: str, machine: str, stages: str, out: str, spark_verdicts: str = "") -> int:
    walls = defaultdict(list)
    rss = defaultdict(list)
    for line in Path(meas).read_text().splitlines():
        size, kind, _run, tool, wall, kib = line.split("\t")
        walls[((int(size), kind), tool)].append(float(wall))
        rss[((int(size), kind), tool)].append(float(kib))
    verdict = {}
    for line in Path(verdicts).read_text().splitlines():
        size, kind, v, detail = line.split("\t", 3)
        verdict[(int(size), kind)] = (v, detail)
    spark_verdict = {}
    if spark_verdicts and Path(spark_verdicts).is_file():
        for line in Path(spark_verdicts).read_text().splitlines():
            size, kind, v = line.split("\t")[:3]
            spark_verdict[(int(size), kind)] = v
    # Messy first (what counties have), then its clean twin; the Spark-only fixed-cost set apart.
    sets = sorted({s for s, t in walls if t == "fanpin"}, key=lambda s: (s[0], s[1] != "messy"))
    runs = max(len(v) for v in walls.values())

    med = {k: statistics.median(v) for k, v in walls.items()}
    peak = {k: max(v) for k, v in rss.items()}

    head = ["households", "data", "runs"] + [f"{label} wall (median)" for _, label in TOOLS] + [
        "fanpin peak RSS", "DuckDB peak RSS", "polars peak RSS",
        "fanpin / DuckDB", "fanpin / polars read", "fanpin / cat", "fanpin messy / clean (wall, RSS)", "flagged lists",
    ]
    rows = []
    for s in sets:
        v, detail = verdict.get(s, ("missing", "not compared"))
        f = med.get((s, "fanpin"))
        ratio = lambda t: f"{f / med[(s, t)]:.2f}" if f and med.get((s, t)) else "–"
        row = [f"{s[0]:,}", s[1], str(len(walls[(s, "fanpin")])) if (s, "fanpin") in walls else "0"]
        row += [fmt_s(med[(s, t)]) if (s, t) in med else "–" for t, _ in TOOLS]
        row += [fmt_mb(peak[(s, t)]) if (s, t) in peak else "–" for t in ("fanpin", "duckdb", "polars")]
        # A peer that gives a different answer does not count: no ratio against it.
        row.append(ratio("duckdb") if v == "identical" else "not reported (lists differ)")
        row += [ratio("polars"), ratio("cat")]
        clean = (s[0], "clean")
        if s[1] == "messy" and (clean, "fanpin") in med and f:
            row.append(f"{f / med[(clean, 'fanpin')]:.2f}, {peak[(s, 'fanpin')] / peak[(clean, 'fanpin')]:.2f}")
        else:
            row.append("–")
        row.append(f"{v}: {detail}")
        rows.append(row)

    spark_rows = []
    fixed = med.get(((1000, "clean"), "spark"))
    for s in sorted({s for s, t in walls if t == "spark"}):
        w, f = med[(s, "spark")], med.get((s, "fanpin"))
        share = f"{fixed / w:.0%}" if fixed and s[0] != 1000 else "–"
        spark_rows.append([
            f"{s[0]:,}", s[1], fmt_s(w), fmt_mb(peak[(s, "spark")]), fmt_s(f) if f else "–",
            f"{w / f:.1f}" if f else "–", share, spark_verdict.get(s, "–"),
        ])
    spark_head = ["households", "data", "Spark wall", "peak RSS (the largest process: Spark's JVM)", "local engine wall (median)",
                  "Spark / local", "fixed cost share (the 1,000-household run)", "flagged.csv vs local engine"]
    spark_table = "\n".join(["| " + " | ".join(spark_head) + " |", "|" + "---|" * len(spark_head)] + ["| " + " | ".join(r) + " |" for r in spark_rows])

    def table(rows):
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)

    raw = ["| households | data | tool | run | wall | peak RSS |", "|---|---|---|---|---|---|"]
    for line in Path(meas).read_text().splitlines():
        size, kind, run, tool, wall, kib = line.split("\t")
        raw.append(f"| {int(size):,} | {kind} | {tool} | {run} | {fmt_s(float(wall))} | {fmt_mb(float(kib))} |")

    text = f"""# fanpin benchmark results

Written by `bash bench/run.sh` (see bench/README.md); do not edit by hand.

{Path(machine).read_text().strip()}

Medians over up to {runs} interleaved runs (the runs column; Guizhou scale is run once): wall clock from bash's `$EPOCHREALTIME` around
`/usr/bin/time -v`, which gives the peak RSS (the largest of the runs is shown). The input files
are in the page cache (read once before the first run); every tool uses both cores. Ratios are
of median wall times: below 1 means fanpin is faster. Each size is measured on messy data
(`fanpin generate --messy`, see bench/README.md) and on its clean twin.

{table(rows)}

## The Spark engine (issue 16)

{SPARK[1]}: the same rules compiled to one Spark SQL job, run by Spark in local mode on this
2-core machine, results read back and written by fanpin. Spark is built for clusters: on one small
machine its fixed cost (JVM start, query planning, code generation; the 1,000-household row) and
its shuffles dominate. The point is the identical answer, and the per-row costs docs/scale.md
sizes a cluster from.

{spark_table if spark_rows else "(not measured: BENCH_SPARK_UPTO=0)"}

## Where fanpin's time goes

{Path(stages).read_text().strip() or "(no stage timings: no fanpin manifest was found)"}

## Every measurement

{chr(10).join(raw)}
"""
    Path(out).write_text(text, encoding="utf-8")
    print(table(rows))
    same = all(verdict.get(s, ("missing",))[0] == "identical" for s in sets)
    return 0 if same and all(v == "identical" for v in spark_verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
