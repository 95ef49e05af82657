"""Where fanpin's wall time goes, from the moments it opens its files.

    strace -f -ttt -e trace=openat,rename,exit_group -o TRACE fanpin screen ... --data D --out O
    python bench/stages.py TRACE D > stages.md

fanpin reads its inputs one after the other (households, members, then each department extract)
and writes its outputs at the end, so the time from one input file's first open to the next one's
is that file's stage: read, validate, normalize IDs, join and aggregate its records. A file opened
several times in a row is first passed over whole (hash, encoding check) and then parsed: those
are shown apart. The last extract's stage also holds the household evaluation (categories,
exclusions, the flagged list), which ends when the first output is opened.
"""

import os
import re
import sys
from pathlib import Path

LINE = re.compile(r'^\d+\s+([\d.]+)\s+(openat|rename|exit_group)\((?:AT_FDCWD, )?"?([^",)]*)')


def main(trace: str, data: str) -> int:
    data_dir = os.path.abspath(data)
    events = []  # (time, kind, name)
    start = end = None
    for line in Path(trace).read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if not m:
            continue
        t, call, path = float(m.group(1)), m.group(2), m.group(3)
        start = t if start is None else start
        if call == "exit_group":
            end = t
            continue
        if "ENOENT" in line:
            continue
        name = path.rsplit("/", 1)[-1]
        if call == "openat" and os.path.dirname(os.path.abspath(path)) == data_dir and name.endswith(".csv"):
            events.append((t, "in", name))
        elif ".partial" in name or call == "rename":
            events.append((t, "out", name.lstrip(".").replace(".partial", "")))
    if not events or end is None:
        print("no trace to read", file=sys.stderr)
        return 1

    rows = []  # (stage, seconds)
    first_in = next(t for t, k, _ in events if k == "in")
    rows.append(("start: rules, checks", first_in - start))
    ins = [(t, n) for t, k, n in events if k == "in"]
    first_out = next((t for t, k, _ in events if k == "out"), end)
    i = 0
    while i < len(ins):
        t0, name = ins[i]
        j = i
        while j + 1 < len(ins) and ins[j + 1][1] == name:
            j += 1
        last_open = ins[j][0]
        nxt = ins[j + 1][0] if j + 1 < len(ins) else first_out
        if j > i and last_open - t0 >= 0.05:
            rows.append((f"{name}: whole-file pass before parsing (hash, encoding check)", last_open - t0))
            t0 = last_open
        if name == "households.csv":
            label = f"{name}: read, validate"
        elif name == "members.csv":
            label = f"{name}: read, validate, roster checks"
        else:
            label = f"{name}: read, validate, join to members, aggregate"
        if j + 1 == len(ins):
            label += "; then the household evaluation"
        rows.append((label, nxt - t0))
        i = j + 1
    # Outputs: CSVs, then the xlsx (built in memory, then written), then hashes and the manifest.
    outs = [(t, n) for t, k, n in events if k == "out"]
    xlsx = [t for t, n in outs if n.startswith("report.xlsx")]
    csv_end = max((t for t, n in outs if n.endswith(".csv") and (not xlsx or t < xlsx[0])), default=first_out)
    rows.append(("outputs: CSV files", csv_end - first_out))
    if xlsx:
        rows.append(("outputs: report.xlsx (build and write)", max(xlsx) - csv_end))
        rows.append(("outputs: hashes, manifest, move into place", end - max(xlsx)))
    else:
        rows.append(("outputs: the rest", end - csv_end))
    total = end - start
    print("| stage | wall | share |")
    print("|---|---|---|")
    for label, s in rows:
        print(f"| {label} | {s:.2f} s | {100 * s / total:.0f} % |")
    print(f"| **total** (one run under strace) | {total:.2f} s | 100 % |")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
