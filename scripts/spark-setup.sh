#!/usr/bin/env bash
# Installs what `fanpin screen --engine spark` needs on this machine:
#   - a Java 17+ runtime (from the OS packages when none is found),
#   - pyspark, pinned, in a virtual environment under the project (.spark/venv).
# Prints the Spark home on its last line. Idempotent: a second run checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."
PYSPARK_VERSION=4.3.0
VENV=.spark/venv

say() { echo "spark-setup: $*" >&2; }

java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1
}

if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
    say "no Java 17+ runtime; installing openjdk-17-jre-headless from the OS packages"
    if ! command -v apt-get >/dev/null 2>&1; then
        say "cannot install Java: no apt-get here. Install a Java 17+ runtime and run this again."
        exit 1
    fi
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >&2
fi

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
    say "installing pyspark $PYSPARK_VERSION into $VENV (about 450 MB, a minute or two)"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pyspark==$PYSPARK_VERSION" >&2
fi

SPARK_HOME="$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
if [ ! -x "$SPARK_HOME/bin/spark-sql" ]; then
    say "pyspark installed but $SPARK_HOME/bin/spark-sql is missing"
    exit 1
fi
echo "$SPARK_HOME"
