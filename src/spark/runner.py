# fanpin's Spark job runner: runs the statements of a compiled Spark SQL job in order, one
# progress line per statement on stdout, and on failure one readable paragraph (no JVM stack).
# Usage: spark-submit [--master URL] [--conf k=v …] runner.py job.sql
import sys


def statements(text):
    """Splits a script on `;` outside quotes, back-quotes and `--` comments; keeps each
    statement's leading `-- step` label."""
    out, cur, i, n = [], [], 0, len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            cur.append(c)
            if c == "\\" and quote == "'" and i + 1 < n:
                cur.append(text[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'`\"":
            quote = c
            cur.append(c)
        elif c == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            cur.append(text[i:end])
            i = end
            continue
        elif c == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        out.append("".join(cur))
    result = []
    for s in out:
        lines = s.strip().splitlines()
        label = next((l[3:].strip() for l in lines if l.startswith("-- step")), "statement")
        body = "\n".join(l for l in lines if not l.lstrip().startswith("--")).strip()
        if body:
            result.append((label, body))
    return result


def readable(e):
    """The first paragraph of an error, without Java or Python stack frames."""
    java = getattr(e, "java_exception", None)
    msg = java.toString() if java is not None else str(e)
    kept = []
    for line in msg.splitlines():
        s = line.strip()
        if s.startswith("at ") or s.startswith("File \"") or s.startswith("Traceback") or s.startswith("JVM stacktrace"):
            break
        if s:
            kept.append(s)
    text = " ".join(kept) or type(e).__name__
    return text[:1500]


def main():
    job = sys.argv[1]
    with open(job, encoding="utf-8") as f:
        steps = statements(f.read())
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("fanpin").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    print("fanpin-version " + spark.version, flush=True)
    for n, (label, body) in enumerate(steps, 1):
        print("fanpin-step %d/%d %s" % (n, len(steps), label), flush=True)
        try:
            spark.sql(body)
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            print("fanpin-error step %d (%s): %s" % (n, label, readable(e)), flush=True)
            spark.stop()
            sys.exit(3)
    spark.stop()
    print("fanpin-done", flush=True)


if __name__ == "__main__":
    main()
