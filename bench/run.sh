#!/usr/bin/env bash
# The fanpin benchmark: fanpin screen vs a DuckDB SQL peer vs the floor (reading the inputs).
#
#   bash bench/run.sh [SIZES...]        # default sizes: 100000 1000000 (households)
#   BENCH_DATA="messy" bash bench/run.sh 1000000   # only the messy data sets (default: "messy clean")
#   bash bench/run.sh 100000 1000000 3000000 12000000   # what RESULTS.md shows (12M: ~6 GB of data)
#   BENCH_RUNS=5 bash bench/run.sh 100000
#
# Builds fanpin (release), makes bench/.venv with duckdb and polars from PyPI, generates the data
# sets (bench/data/mN with `--messy`, what counties have, and bench/data/hN without, kept between
# runs), then for each size, each data set and each of BENCH_RUNS (default 3)
# interleaved runs (sizes of 10 million households and more: one run) times, with /usr/bin/time -v
# (wall clock, peak RSS):
#   1. fanpin screen --rules rules/guizhou-2021.toml (all outputs, -q);
#   2. the DuckDB peer (bench/peer.sql via bench/peer.py), writing its flagged list as CSV;
#   3. the floor: polars reading every CSV (all columns as text), and cat of every CSV;
#   4. fanpin screen --engine spark (Spark local mode, every core), once per data set up to
#      BENCH_SPARK_UPTO households (default 1000000; 0: none), and once on a 1,000-household
#      county: Spark's fixed cost (JVM start, planning, code generation). Its flagged.csv must
#      be byte-identical to the local engine's (issue 16's contract).
# It checks that the peer's flagged list equals fanpin's (户编号, 家庭人口, 家庭纯收入, 人均纯收入,
# 类别, 风险类型, 建议) and reports no fanpin/DuckDB ratio when they differ. Medians and ratios
# go to stdout and bench/RESULTS.md. Exit status 1 when a flagged list differs.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
RUNS=${BENCH_RUNS:-3}
ONCE_FROM=10000000
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 1000000)
# Each size is measured on messy data (`fanpin generate --messy`: what department extracts look
# like) and, as a second column, on clean data.
read -r -a KINDS <<<"${BENCH_DATA:-messy clean}"

# data_dir SIZE KIND: the data set's directory; data_flag KIND: its generator flag.
data_dir() { if [ "$2" = messy ]; then echo "$BENCH/data/m$1"; else echo "$BENCH/data/h$1"; fi; }
data_flag() { if [ "$1" = messy ]; then echo --messy; fi; }
SPARK_UPTO=${BENCH_SPARK_UPTO:-1000000}
# What the generator writes: a data set kept from an older one (its .complete says another
# version) is made again. 2: --messy adds the noise of real exports (bench/README.md).
DATA_VERSION=2
DUCKDB_VERSION=2.0.1
POLARS_VERSION=2.1.0
# Both fanpin (polars) and DuckDB use every core by default; nothing is pinned here.

say() { printf '\n== %s\n' "$*" >&2; }

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (for wall clock and peak RSS)"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

say "building fanpin (release)"
cargo build --release
FANPIN=$ROOT/target/release/fanpin

if [ ! -x "$BENCH/.venv/bin/python" ] || ! "$BENCH/.venv/bin/python" -c "import duckdb, polars" 2>/dev/null; then
    say "creating bench/.venv with duckdb $DUCKDB_VERSION and polars $POLARS_VERSION"
    python3 -m venv "$BENCH/.venv"
    "$BENCH/.venv/bin/pip" install -q "duckdb==$DUCKDB_VERSION" "polars==$POLARS_VERSION"
fi
PY=$BENCH/.venv/bin/python

if [ "$SPARK_UPTO" -gt 0 ]; then
    say "Spark for the engine column (scripts/spark-setup.sh)"
    bash scripts/spark-setup.sh >/dev/null
fi

for n in "${SIZES[@]}" $([ "$SPARK_UPTO" -gt 0 ] && echo 1000); do
    for k in "${KINDS[@]}"; do
        [ "$n" = 1000 ] && [ "$k" = messy ] && continue
        d=$(data_dir "$n" "$k")
        if [ "$(cat "$d/.complete" 2>/dev/null)" != "$DATA_VERSION" ]; then
            say "generating $n households ($k) into ${d#"$ROOT"/}"
            rm -rf "$d"
            # shellcheck disable=SC2046
            "$FANPIN" generate --households "$n" --seed 1 $(data_flag "$k") --out "$d" >/dev/null
            echo "$DATA_VERSION" >"$d/.complete"
        fi
        cat "$d"/*.csv >/dev/null # into the page cache: every run below reads warm files
    done
done

WORK=$BENCH/out
mkdir -p "$WORK"
MEAS=$WORK/measurements.tsv
VERDICTS=$WORK/verdicts.tsv
: >"$MEAS"
: >"$VERDICTS"

# Timings are meaningless while something else loads the machine (on a 2-core box, a cargo build
# doubles them): wait for compilers to finish before each measurement.
quiet() {
    local waited=0
    while pgrep -x rustc >/dev/null || pgrep -x cargo >/dev/null; do
        [ "$waited" = 1 ] || echo "  (waiting for a running cargo/rustc to finish)" >&2
        waited=1
        sleep 10
    done
}

# measure SIZE KIND RUN TOOL CMD...: runs CMD under /usr/bin/time -v, appends wall seconds and
# peak RSS.
measure() {
    local size=$1 kind=$2 run=$3 tool=$4
    shift 4
    quiet
    local tv=$WORK/time.txt t0 t1
    t0=$EPOCHREALTIME
    if ! /usr/bin/time -v -o "$tv" "$@" >"$WORK/$tool.log" 2>&1; then
        echo "FAILED: $tool on $size households (see bench/out/$tool.log)" >&2
        cat "$WORK/$tool.log" >&2
        exit 1
    fi
    t1=$EPOCHREALTIME
    local wall rss
    # Wall clock to the microsecond (time -v rounds to 10 ms); peak RSS from time -v.
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$kind" "$run" "$tool" "$wall" "$rss" >>"$MEAS"
    printf '  %-7s %8.3f s %8d MB\n' "$tool" "$wall" "$((rss / 1024))" >&2
}

# spark_run SIZE KIND DIR OUT: the Spark engine once, and its flagged.csv against the local one.
spark_run() {
    # A 1,000,000-household members.csv (320 MB) is one task's value: the driver needs 12 GB.
    FANPIN_SPARK_DRIVER_MEMORY=${FANPIN_SPARK_DRIVER_MEMORY:-12g} measure "$1" "$2" 1 spark "$FANPIN" screen --rules rules/guizhou-2021.toml --data "$3" --out "$4/spark" -q --engine spark
    if [ -f "$4/fanpin/flagged.csv" ]; then
        if cmp -s "$4/fanpin/flagged.csv" "$4/spark/flagged.csv"; then
            printf '%s\t%s\tidentical\n' "$1" "$2" >>"$SPARK_VERDICTS"
        else
            printf '%s\t%s\tDIFFER\n' "$1" "$2" >>"$SPARK_VERDICTS"
        fi
    fi
}
SPARK_VERDICTS=$WORK/spark-verdicts.tsv
: >"$SPARK_VERDICTS"
if [ "$SPARK_UPTO" -gt 0 ]; then
    say "Spark's fixed cost: 1,000 households"
    d=$(data_dir 1000 clean)
    mkdir -p "$WORK/h1000"
    spark_run 1000 clean "$d" "$WORK/h1000"
fi

for run in $(seq 1 "$RUNS"); do
    for n in "${SIZES[@]}"; do
        # Guizhou scale (10 million households and more) is measured once: one run of each tool
        # takes minutes there.
        if [ "$run" -gt 1 ] && [ "$n" -ge "$ONCE_FROM" ]; then continue; fi
        for k in "${KINDS[@]}"; do
            d=$(data_dir "$n" "$k")
            o=$WORK/${d##*/}
            mkdir -p "$o"
            say "run $run/$RUNS, $n households, $k data"
            # Each run into an empty directory: fanpin keeps its last 5 runs in DIR/runs/, 2.7 GB
            # each at 12 million households; the benchmark keeps only the last.
            rm -rf "$o/fanpin"
            measure "$n" "$k" "$run" fanpin "$FANPIN" screen --rules rules/guizhou-2021.toml --data "$d" --out "$o/fanpin" -q
            measure "$n" "$k" "$run" duckdb "$PY" "$BENCH/peer.py" screen "$d" "$o/duckdb-flagged.csv"
            measure "$n" "$k" "$run" polars "$PY" "$BENCH/peer.py" floor "$d"
            measure "$n" "$k" "$run" cat sh -c "cat '$d'/*.csv >/dev/null"
            if [ "$run" = 1 ] && [ "$n" -le "$SPARK_UPTO" ]; then
                spark_run "$n" "$k" "$d" "$o"
            fi
            if [ "$run" = 1 ]; then
                # The same inputs give the same outputs on every run: compare once per data set.
                if "$PY" "$BENCH/peer.py" compare "$o/fanpin/flagged.csv" "$o/duckdb-flagged.csv" >"$o/compare.txt"; then
                    printf '%s\t%s\tidentical\t%s rows\n' "$n" "$k" "$(($(wc -l <"$o/duckdb-flagged.csv") - 1))" >>"$VERDICTS"
                else
                    printf '%s\t%s\tDIFFER\tsee bench/out/%s/compare.txt\n' "$n" "$k" "${d##*/}" >>"$VERDICTS"
                fi
                cat "$o/compare.txt" >&2
            fi
        done
    done
done

# Where fanpin's time goes: the stage timings each run writes into its manifest (the last run of
# each size), one column per size.
STAGES=$WORK/stages.md
manifests=()
for n in "${SIZES[@]}"; do
    for k in "${KINDS[@]}"; do
        d=$(data_dir "$n" "$k")
        manifests+=("$k=$WORK/${d##*/}/fanpin/manifest.json")
    done
done
"$PY" "$BENCH/stages.py" "${manifests[@]}" >"$STAGES" || true
cat "$STAGES" >&2

MACHINE=$WORK/machine.txt
{
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory, CPU $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "- fanpin: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock rules || echo ' (with uncommitted changes in src/)'), \`cargo build --release\`"
    echo "- peer: DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)'), polars $("$PY" -c 'import polars; print(polars.__version__)') (Python $("$PY" -c 'import platform; print(platform.python_version())'))"
    for n in "${SIZES[@]}"; do
        for k in "${KINDS[@]}"; do
            d=$(data_dir "$n" "$k")
            echo "- data ${d##*/} ($k): \`fanpin generate --households $n --seed 1 $(data_flag "$k")\`: $(($(wc -l <"$d/households.csv") - 1)) households, $(($(wc -l <"$d/members.csv") - 1)) members, $(cat "$d"/*.csv | wc -l) lines in 15 files, $(du -cm "$d"/*.csv | awk 'END { print $1 }') MB"
        done
    done
    if [ "$SPARK_UPTO" -gt 0 ]; then
        echo "- Spark: pyspark $("$ROOT/.spark/venv/bin/python" -c 'import pyspark; print(pyspark.__version__)') in local mode (\`local[*]\`, driver memory ${FANPIN_SPARK_DRIVER_MEMORY:-12g}), $(java -version 2>&1 | head -1)"
    fi
    imp=$( { /usr/bin/time -f '%e' "$PY" -c 'import duckdb' ; } 2>&1 )
    echo "- the DuckDB and polars timings include starting Python and importing the module (\`import duckdb\` alone: ${imp} s)"
} >"$MACHINE"

say "results"
status=0
"$PY" "$BENCH/report.py" "$MEAS" "$VERDICTS" "$MACHINE" "$STAGES" "$BENCH/RESULTS.md" "$SPARK_VERDICTS" || status=$?
if [ "$status" != 0 ]; then
    echo "The DuckDB peer's flagged list differs from fanpin's: no fanpin/DuckDB ratio reported for that size." >&2
fi
echo "written: bench/RESULTS.md" >&2
exit "$status"
