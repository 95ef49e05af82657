"""The DuckDB peer of `fanpin screen`, and the checks around it.

    python bench/peer.py screen DATA_DIR OUT.csv     # run bench/peer.sql on a data directory
    python bench/peer.py compare FANPIN_FLAGGED.csv PEER.csv
    python bench/peer.py floor DATA_DIR              # polars: read every CSV, all columns as text

`screen` loads each input file with read_csv (every column VARCHAR; an absent department file
is an empty relation), runs peer.sql and writes the flagged list (户编号, 家庭人口, 家庭纯收入,
人均纯收入, 类别, 风险类型, 建议), sorted by 户编号.
"""

import csv
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The files and columns of the reference policy (rules/guizhou-2021.toml).
FILES = {
    "households": ["户编号", "县", "乡镇", "村", "户主姓名", "户主证件号码", "户类型", "监测状态", "工资性收入",
                   "生产经营性收入", "财产性收入", "转移性收入", "生产经营性支出", "上年度家庭纯收入"],
    "members": ["户编号", "姓名", "证件号码", "与户主关系", "性别", "出生日期", "健康状况", "劳动技能", "是否共同生活"],
    "medical": ["证件号码", "姓名", "就诊日期", "医疗总费用", "报销金额", "个人自付", "病种", "是否大病"],
    "education": ["证件号码", "姓名", "学段", "学年", "缴费日期", "自付费用"],
    "vehicles": ["证件号码", "姓名", "号牌号码", "车辆类型", "登记日期", "状态"],
    "accidents": ["证件号码", "姓名", "事故日期", "伤情"],
    "real_estate": ["证件号码", "姓名", "不动产类型", "登记日期"],
    "companies": ["证件号码", "姓名", "企业名称", "身份", "状态"],
    "public_employees": ["证件号码", "姓名", "单位", "类别"],
    "disability": ["证件号码", "姓名", "残疾类别", "残疾等级"],
    "housing": ["证件号码", "姓名", "鉴定等级", "鉴定日期"],
    "disasters": ["证件号码", "姓名", "灾害类型", "损失情况", "发生日期"],
    "employment": ["证件号码", "姓名", "返乡日期", "返乡未就业天数"],
    "blacklist": ["证件号码", "姓名", "失信类型", "立案日期"],
    "agriculture": ["证件号码", "姓名", "项目名称", "情况", "发生日期"],
}
ROSTER = {"households", "members"}
COMPARED = ["户编号", "家庭人口", "家庭纯收入", "人均纯收入", "类别", "风险类型", "建议"]


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def screen(data: Path, out: Path) -> None:
    import duckdb

    con = duckdb.connect()
    for name, columns in FILES.items():
        path = data / f"{name}.csv"
        if not path.is_file():
            if name in ROSTER:
                sys.exit(f"{path} is missing: the roster is required")
            cols = ", ".join(f"{ident(c)} VARCHAR" for c in columns)
            con.execute(f"CREATE TEMP TABLE raw_{name} ({cols})")
            continue
        # Every column as text, standard quoting; a BOM and CRLF are handled by read_csv.
        # A row DuckDB cannot read (bytes that are not UTF-8, …) is skipped: fanpin rejects it.
        # The members are loaded into a table so that rowid is the line order.
        select = ", ".join(ident(c) for c in columns)
        read = (
            f"SELECT {select} FROM read_csv({sql_str(str(path))}, header = true, all_varchar = true, "
            "delim = ',', quote = '\"', escape = '\"', null_padding = true, ignore_errors = true)"
        )
        if name == "members":
            con.execute(f"CREATE TEMP TABLE file_members AS {read}")
            con.execute("CREATE TEMP VIEW raw_members AS SELECT rowid AS line, * FROM file_members")
        else:
            con.execute(f"CREATE TEMP VIEW raw_{name} AS {read}")
    con.execute((HERE / "peer.sql").read_text(encoding="utf-8"))
    con.execute(f"COPY (SELECT * FROM flagged ORDER BY 户编号) TO {sql_str(str(out))} (HEADER, DELIMITER ',')")


def read_rows(path: Path) -> dict:
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = {}
        for r in csv.DictReader(f):
            rows[r["户编号"]] = tuple(r[c] for c in COMPARED)
        return rows


def compare(fanpin_csv: Path, peer_csv: Path) -> int:
    a, b = read_rows(fanpin_csv), read_rows(peer_csv)
    keys = sorted(set(a) | set(b))
    diffs = [k for k in keys if a.get(k) != b.get(k)]
    if not diffs:
        print(f"flagged lists identical: {len(a)} households ({', '.join(COMPARED)})")
        return 0
    print(f"flagged lists DIFFER: fanpin {len(a)} rows, DuckDB {len(b)} rows, {len(diffs)} households differ")
    print("  " + ",".join(COMPARED))
    for k in diffs[:10]:
        print(f"  fanpin: {','.join(a[k]) if k in a else '(not listed) ' + k}")
        print(f"  duckdb: {','.join(b[k]) if k in b else '(not listed) ' + k}")
    return 1


def floor(data: Path) -> None:
    import polars as pl

    rows = 0
    for f in sorted(data.glob("*.csv")):
        rows += pl.scan_csv(f, infer_schema_length=0).collect().height
    print(f"polars read {rows} rows", file=sys.stderr)


def main(argv: list) -> int:
    if len(argv) == 3 and argv[0] == "screen":
        screen(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    if len(argv) == 2 and argv[0] == "floor":
        floor(Path(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
