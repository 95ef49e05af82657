//! report.xlsx read back as a file (issue 17): print settings, column widths, the 概览 sheet's
//! charts and the cells their series point to, and a cell longer than Excel allows (issue 15
//! item 7). Nothing trusts the writer: the workbook is unzipped and its XML read.

use crate::support::*;
use std::collections::BTreeMap;
use std::io::Read;

/// A chart series: its name, category references and value references.
type Series = (String, Vec<String>, Vec<String>);

/// Every part of an xlsx (a zip of XML files), by path.
fn parts(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("report.xlsx is a zip");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        if f.read_to_string(&mut s).is_ok() {
            out.insert(f.name().unwrap().to_string(), s);
        }
    }
    out
}

/// The value of attribute `name` in the first tag of `xml` starting with `tag`.
fn attr(xml: &str, tag: &str, name: &str) -> Option<String> {
    let start = xml.find(tag)?;
    let end = start + xml[start..].find('>')?;
    let t = &xml[start..end];
    let key = format!(" {name}=\"");
    let a = t.find(&key)? + key.len();
    Some(t[a..a + t[a..].find('"')?].to_string())
}

/// Every tag of `xml` starting with `tag` (up to its `>`).
fn tags<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(tag) {
        let e = s + rest[s..].find('>').unwrap();
        out.push(&rest[s..=e]);
        rest = &rest[e..];
    }
    out
}

/// The texts between `<open…>` and `</close>`, in order.
fn between<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(open) {
        let body = s + rest[s..].find('>').unwrap() + 1;
        let e = body + rest[body..].find(close).unwrap();
        out.push(&rest[body..e]);
        rest = &rest[e..];
    }
    out
}

struct Book {
    parts: BTreeMap<String, String>,
    /// sheet name → its part (`xl/worksheets/sheet2.xml`), in workbook order.
    sheets: Vec<(String, String)>,
    shared: Vec<String>,
}

impl Book {
    fn read(bytes: &[u8]) -> Book {
        let parts = parts(bytes);
        let rels = &parts["xl/_rels/workbook.xml.rels"];
        let mut sheets = Vec::new();
        for t in tags(&parts["xl/workbook.xml"], "<sheet ") {
            let (name, rid) = (attr(t, "<sheet", "name").unwrap(), attr(t, "<sheet", "r:id").unwrap());
            let rel = tags(rels, "<Relationship ").into_iter().find(|r| attr(r, "<Relationship", "Id").as_deref() == Some(rid.as_str())).unwrap();
            sheets.push((name, format!("xl/{}", attr(rel, "<Relationship", "Target").unwrap())));
        }
        let shared = parts
            .get("xl/sharedStrings.xml")
            .map(|s| between(s, "<si>", "</si>").iter().map(|si| between(si, "<t", "</t>").concat()).collect())
            .unwrap_or_default();
        Book { parts, sheets, shared }
    }
    fn sheet(&self, name: &str) -> &str {
        let part = &self.sheets.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no sheet {name} in {:?}", self.sheets)).1;
        &self.parts[part]
    }
    fn index(&self, name: &str) -> usize {
        self.sheets.iter().position(|(n, _)| n == name).unwrap()
    }
    /// The shown value of cell `r` (`B21`) of sheet `name`: a number, a shared or inline string.
    fn cell(&self, name: &str, r: &str) -> String {
        let xml = self.sheet(name);
        let Some(start) = xml.find(&format!("<c r=\"{r}\"")) else { return String::new() };
        let end = start + xml[start..].find("</c>").unwrap_or(0);
        let c = &xml[start..end];
        if c.contains("t=\"inlineStr\"") {
            return between(c, "<t", "</t>").concat();
        }
        let v = between(c, "<v", "</v>").concat();
        if c.contains("t=\"s\"") {
            self.shared[v.parse::<usize>().unwrap()].clone()
        } else {
            v
        }
    }
    /// The cells of a one-column or one-row range (`概览!$B$21:$B$22`), as shown.
    fn range(&self, f: &str) -> Vec<String> {
        let (sheet, r) = f.rsplit_once('!').unwrap();
        let sheet = sheet.trim_matches('\'');
        let r = r.replace('$', "");
        let (a, b) = r.split_once(':').unwrap_or((&r, &r));
        let split = |c: &str| -> (u8, u32) { (c.as_bytes()[0], c[1..].parse().unwrap()) };
        let ((c1, r1), (c2, r2)) = (split(a), split(b));
        let mut out = Vec::new();
        for col in c1..=c2 {
            for row in r1..=r2 {
                out.push(self.cell(sheet, &format!("{}{row}", col as char)));
            }
        }
        out
    }
    /// The chart whose title holds `title`: (grouping, [(series name, categories, values)]).
    fn chart(&self, title: &str) -> (String, Vec<Series>) {
        let xml = self
            .parts
            .iter()
            .filter(|(p, _)| p.starts_with("xl/charts/chart"))
            .map(|(_, x)| x)
            .find(|x| between(x, "<c:title>", "</c:title>").iter().any(|t| t.contains(title)))
            .unwrap_or_else(|| panic!("no chart titled {title}"));
        let grouping = attr(xml, "<c:grouping", "val").unwrap_or_default();
        let series = between(xml, "<c:ser>", "</c:ser>")
            .into_iter()
            .map(|s| {
                let f = |part: &str| between(s, part, &format!("</{}", &part[1..])).first().map(|p| between(p, "<c:f>", "</c:f>").concat()).unwrap_or_default();
                let name = self.range(&f("<c:tx>")).concat();
                (name, self.range(&f("<c:cat>")), self.range(&f("<c:val>")))
            })
            .collect();
        (grouping, series)
    }
}

/// Width (Excel character units) of each column of a sheet, by 1-based column number.
fn widths(xml: &str) -> BTreeMap<u32, f64> {
    let mut out = BTreeMap::new();
    for t in tags(xml, "<col ") {
        let (min, max): (u32, u32) = (attr(t, "<col", "min").unwrap().parse().unwrap(), attr(t, "<col", "max").unwrap().parse().unwrap());
        for c in min..=max {
            out.insert(c, attr(t, "<col", "width").unwrap().parse().unwrap());
        }
    }
    out
}

/// A county of two townships: 一镇 (villages 一村 and 二村) and 二镇 (一村, a name 一镇 has
/// too). Four listed households, one not listed; no department record, so every listed one is
/// 待核实.
fn county() -> Fixture {
    county_with("5000")
}

/// `county()` with another wage for 5226011010010001.
fn county_with(first_wage: &str) -> Fixture {
    let mut fx = Fixture::new();
    let (a, b, c, d, e, f, g) = (fx.person("甲"), fx.person("乙"), fx.person("丙"), fx.person("丁"), fx.person("戊"), fx.person("己"), fx.person("庚"));
    // 5000 / 1 = 5000.00 < 6320, 脱贫户 → 脱贫不稳定户, 1 person
    fx.household(hh("5226011010010001", "脱贫户", &a).wage(first_wage).at("一镇", "一村"));
    // 6000 / 2 = 3000.00 < 6320, 一般农户 → 边缘易致贫户, 2 persons
    fx.household(hh("5226011010010002", "一般农户", &b).wage("6000").at("一镇", "一村"));
    fx.member("5226011010010002", &c, "配偶");
    // 4000 / 1 → 脱贫不稳定户, 1 person
    fx.household(hh("5226011010020001", "脱贫户", &d).wage("4000").at("一镇", "二村"));
    // 3000 / 2 = 1500.00 → 脱贫不稳定户, 2 persons
    fx.household(hh("5226012010010001", "脱贫户", &e).wage("3000").at("二镇", "一村"));
    fx.member("5226012010010001", &f, "子女");
    // 100000 / 1 ≥ 6320, nothing sudden → not listed
    fx.household(hh("5226012010010002", "一般农户", &g).wage("100000").at("二镇", "一村"));
    fx
}

#[test]
fn the_list_sheet_prints_landscape_a4_one_page_wide_with_title_header_rows_filter_and_a_page_per_village() {
    let out = county().run();
    let book = Book::read(&out.bytes("report.xlsx"));
    assert_eq!(book.sheets[0].0, "概览", "the overview is the first sheet: {:?}", book.sheets);
    let list = book.sheet("监测对象");

    // Row 1 the title (rules name, 判定日期, income window), row 2 the header, data from row 3.
    let title = book.cell("监测对象", "A1");
    for part in ["贵州省2021年防止返贫动态监测部门筛查", "判定日期 2021-05-31", "2020-06-01", "2021-05-31"] {
        assert!(title.contains(part), "title {title:?} lacks {part}");
    }
    assert_eq!(book.cell("监测对象", "A2"), "乡镇");
    assert_eq!(book.cell("监测对象", "C2"), "户编号");
    assert_eq!(book.cell("监测对象", "C3"), "5226011010010001");

    // Frozen below the header; a filter over header and the 4 data rows (rows 3..6) of the 17
    // columns A..Q.
    assert_eq!(attr(list, "<pane", "ySplit").as_deref(), Some("2"));
    assert_eq!(attr(list, "<pane", "state").as_deref(), Some("frozen"));
    assert_eq!(attr(list, "<autoFilter", "ref").as_deref(), Some("A2:Q6"));

    // Rows 1..2 repeat on every printed page.
    let workbook = &book.parts["xl/workbook.xml"];
    let titles: Vec<&str> = between(workbook, "<definedName name=\"_xlnm.Print_Titles\"", "</definedName>");
    let want = format!("{}", book.index("监测对象"));
    let def = tags(workbook, "<definedName name=\"_xlnm.Print_Titles\"")
        .into_iter()
        .zip(&titles)
        .find(|(t, _)| attr(t, "<definedName", "localSheetId").as_deref() == Some(want.as_str()))
        .map(|(_, v)| v.to_string());
    assert!(matches!(def.as_deref(), Some("'监测对象'!$1:$2") | Some("监测对象!$1:$2")), "print titles: {def:?}");

    // A4 (paper size 9), landscape, page numbers in the footer.
    assert_eq!(attr(list, "<pageSetup", "paperSize").as_deref(), Some("9"));
    assert_eq!(attr(list, "<pageSetup", "orientation").as_deref(), Some("landscape"));
    let footer = between(list, "<oddFooter", "</oddFooter>").concat();
    assert!(footer.contains("&amp;P") && footer.contains("&amp;N"), "footer {footer:?}");

    // A page per village: 一镇一村 on rows 3-4, 一镇二村 from row 5, 二镇一村 from row 6, so
    // breaks after rows 4 and 5 (a `brk id` is the last row of a page).
    let breaks: Vec<String> = tags(list, "<brk ").iter().map(|t| attr(t, "<brk", "id").unwrap()).collect();
    assert_eq!(breaks, ["4", "5"]);

    // Excel ignores manual breaks under "fit to pages", so the list is scaled to one page wide
    // instead: the columns' total width at the scale fits A4 landscape (11.69 in) less the side
    // margins, at 96 px per inch and 7 px per width unit (Calibri 11).
    assert!(!list.contains("fitToPage=\"1\""));
    let scale: f64 = attr(list, "<pageSetup", "scale").map(|s| s.parse().unwrap()).unwrap_or(100.0);
    let (left, right): (f64, f64) =
        (attr(list, "<pageMargins", "left").unwrap().parse().unwrap(), attr(list, "<pageMargins", "right").unwrap().parse().unwrap());
    let w = widths(list);
    assert_eq!(w.len(), 17, "a width for each column: {w:?}");
    let total_px: f64 = w.values().map(|u| u * 7.0).sum();
    assert!(total_px * scale / 100.0 <= (11.69 - left - right) * 96.0, "{total_px} px at {scale}% is wider than the page");
    assert!(scale >= 30.0, "scale {scale}% is unreadable");

    // 户编号 (C, 16 digits) and 户主证件号码 (E, 18 characters) are whole; 证据 (Q) wraps.
    assert!(w[&3] >= 17.0, "户编号 width {}", w[&3]);
    assert!(w[&5] >= 19.0, "户主证件号码 width {}", w[&5]);
    let q = tags(list, "<col ").into_iter().find(|t| attr(t, "<col", "min").as_deref() == Some("17")).unwrap();
    let style: usize = attr(q, "<col", "style").expect("证据 has a column style").parse().unwrap();
    let xfs = between(&book.parts["xl/styles.xml"], "<cellXfs", "</cellXfs>").concat();
    let xf = xfs.split("<xf ").nth(style + 1).unwrap().split("</xf>").next().unwrap();
    assert!(xf.contains("wrapText=\"1\""), "证据's style does not wrap: {xf}");

    // A small sheet: fit to one page wide (fitToWidth absent = 1) and as many tall as needed.
    let towns = book.sheet("乡镇汇总");
    assert!(towns.contains("<pageSetUpPr fitToPage=\"1\"/>"));
    assert!(matches!(attr(towns, "<pageSetup", "fitToWidth").as_deref(), None | Some("1")));
    assert_eq!(attr(towns, "<pageSetup", "fitToHeight").as_deref(), Some("0"));
    assert_eq!(attr(towns, "<pageSetup", "orientation").as_deref(), Some("landscape"));
    assert_eq!(attr(towns, "<autoFilter", "ref").as_deref(), Some("A2:I5"), "header + 一镇, 二镇, 合计 over 9 columns");
}

#[test]
fn the_overview_sheet_holds_the_key_figures_and_charts_over_the_right_cells() {
    let out = county().run();
    let book = Book::read(&out.bytes("report.xlsx"));
    // Key figures: label in A, number in B.
    let xml = book.sheet("概览");
    let mut figures = BTreeMap::new();
    for r in 1..40 {
        let (k, v) = (book.cell("概览", &format!("A{r}")), book.cell("概览", &format!("B{r}")));
        if !k.is_empty() && !v.is_empty() {
            figures.insert(k, v);
        }
    }
    assert!(xml.contains("<drawing "), "概览 has no drawing (charts)");
    for (k, v) in [("筛查户数", "5"), ("列出户数", "4"), ("新识别线索", "4"), ("建议不纳入(需评议)", "0"), ("拒收记录", "0"), ("未匹配部门记录", "0")]
    {
        assert_eq!(figures.get(k).map(String::as_str), Some(v), "{k} in {figures:?}");
    }

    // Households by township, stacked by category: 一镇 脱贫不稳定户 2 (…0001, …0201) and
    // 边缘易致贫户 1 (…0002); 二镇 脱贫不稳定户 1 (…1001).
    let (grouping, series) = book.chart("户数(按乡镇");
    assert_eq!(grouping, "stacked");
    let find = |series: &[(String, Vec<String>, Vec<String>)], name: &str| {
        series.iter().find(|s| s.0 == name).cloned().unwrap_or_else(|| panic!("no series {name} in {series:?}"))
    };
    assert_eq!(find(&series, "脱贫不稳定户"), ("脱贫不稳定户".into(), vec!["一镇".into(), "二镇".into()], vec!["2".into(), "1".into()]));
    assert_eq!(find(&series, "边缘易致贫户").2, ["1", "0"]);
    // Persons: 一镇 脱贫不稳定户 1 + 1, 边缘易致贫户 2; 二镇 脱贫不稳定户 2.
    let (grouping, series) = book.chart("人数(按乡镇");
    assert_eq!(grouping, "stacked");
    assert_eq!(find(&series, "脱贫不稳定户").2, ["2", "2"]);
    assert_eq!(find(&series, "边缘易致贫户").2, ["2", "0"]);

    // Households by risk type: no department record, so all four are 待核实.
    let (_, series) = book.chart("风险类型");
    assert_eq!(series.len(), 1);
    let (_, cats, vals) = &series[0];
    let by: BTreeMap<&str, &str> = cats.iter().map(String::as_str).zip(vals.iter().map(String::as_str)).collect();
    assert_eq!(by.get("待核实"), Some(&"4"), "{by:?}");
    assert_eq!(vals.iter().map(|v| v.parse::<u32>().unwrap()).sum::<u32>(), 4);
}

#[test]
fn with_previous_the_overview_charts_new_continuing_and_dropped_households() {
    // Last month: the county as above. This month 5226011010010001 earns 9000 (9000 / 1 ≥ 6320,
    // nothing sudden: no longer listed, 移出 1), the other three stay (持续 3), and
    // 5226012010010003 is new (1000 / 1 < 6320: 新增 1).
    let before = county().run();
    let mut fx = county_with("9000");
    let now = fx.person("辛");
    fx.household(hh("5226012010010003", "脱贫户", &now).wage("1000").at("二镇", "一村")); // new: 新增 1
    let out = fx.run_previous(&before.out);
    let book = Book::read(&out.bytes("report.xlsx"));
    let (_, series) = book.chart("新增");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].1, ["新增", "持续", "移出"]);
    assert_eq!(series[0].2, ["1", "3", "1"]);
}

#[test]
fn a_cell_longer_than_excel_allows_is_cut_with_a_mark_and_the_csv_keeps_the_whole_text() {
    // 700 medical records of ≥ 4000 self-paid each for one 脱贫户 member: each writes one
    // evidence line of about 60 characters, so 证据 is about 42,000 characters, over Excel's
    // 32,767 per cell. Before the fix the run failed with no output.
    let mut fx = Fixture::new();
    let a = fx.person("长证据");
    fx.household(hh("5226011010010001", "脱贫户", &a).wage("5000").at("一镇", "一村"));
    for i in 0..700 {
        let date = format!("2021-0{}-{:02}", 1 + i % 5, 1 + i % 28);
        fx.medical(&a, &date, &format!("{}", 4000 + i), "否");
    }
    let out = fx.run();
    let full = out.flagged().records()[0].get("证据").to_string();
    assert!(full.encode_utf16().count() > 32_767, "the CSV keeps the whole text ({} units)", full.encode_utf16().count());
    let book = Book::read(&out.bytes("report.xlsx"));
    let cell = book.cell("监测对象", "Q3");
    let mark = "…(截断, 全文见 flagged.csv)";
    assert!(cell.ends_with(mark), "the cut is marked: …{}", cell.chars().rev().take(40).collect::<String>().chars().rev().collect::<String>());
    assert!(cell.encode_utf16().count() <= 32_767, "{} units", cell.encode_utf16().count());
    let kept = cell.strip_suffix(mark).unwrap();
    assert!(full.starts_with(kept) && kept.encode_utf16().count() > 32_000, "the cell keeps the text's start");
}

// ---------------------------------------------------------------- inspect says where (issue 17)

/// An ID masked as the README says inspect masks it: the first 6 and the last 4 characters.
fn masked(id: &str) -> String {
    let c: Vec<char> = id.chars().collect();
    if c.len() < 10 {
        return "*".repeat(c.len());
    }
    format!("{}{}{}", c[..6].iter().collect::<String>(), "*".repeat(c.len() - 10), c[c.len() - 4..].iter().collect::<String>())
}

fn inspect(data: &std::path::Path) -> String {
    let out = fanpin_cmd().args(["inspect", "--rules", RULES, "--data"]).arg(data).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

#[test]
fn inspect_names_the_file_row_column_and_value_of_every_cell_screen_rejects_on_the_messy_sample() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/county-2021-extracts");
    let tmp = tempfile::tempdir().unwrap();
    let o = fanpin_cmd().args(["screen", "--rules", RULES, "-q", "--data"]).arg(&data).arg("--out").arg(tmp.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = inspect(&data);
    let bytes = std::fs::read(tmp.path().join("rejects.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    let mut n = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        let (file, line, column, value, reason) = (&r[1], &r[2], &r[3], &r[4], &r[5]);
        // A workbook's sheet has rows, a text file lines.
        let unit = if file.contains(".xlsx") { "row" } else { "line" };
        // IDs masked, and any run of 15 or more digits (a 16-digit 户编号 too: one rule for every message).
        let id_shaped = value.chars().count() >= 15 && value.chars().all(|c| c.is_ascii_digit());
        let shown = if column.contains("证件号码") || id_shaped { masked(value) } else { value.to_string() };
        let want = [format!("{file} {unit} {line} "), format!("{column} '{shown}'"), reason.to_string()];
        assert!(text.lines().any(|l| want.iter().all(|w| l.contains(w.as_str()))), "no line of inspect has {want:?}:\n{text}");
        n += 1;
    }
    // The sample's rejects (README): 3 households, 9 members, 1 employment, 4 medical.
    assert_eq!(n, 17);
    // Totals per source before its files; the 11 quarterly workbooks share one layout.
    assert!(text.contains("== medical (医保) · medical/*.xlsx · 11 files · 1489 records · 4 problems"), "{text}");
    assert!(text.contains("11 files alike: xlsx · sheet 明细 · header on row 3"), "{text}");
    assert!(text.contains("ignored columns: 序号"), "{text}");
    // Which synonym or conversion applied: the sources.toml's synonyms (是否大病 Y/N, 残疾等级
    // 1级…4级), the generator's messy dates and amounts, a lower-case x in an ID (masked).
    for want in [
        "converted 是否大病: N → 否 ×",
        "Y → 是 ×",
        "converted 残疾等级: ",
        "4级 → 四级 ×",
        "2020年9月5日 → 2020-09-05 ×",
        "12,000.00元 → 12000.00 ×",
        "001x → 522601********001X ×",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
    // education.txt is GB18030 text delimited by tabs, not a CSV.
    assert!(text.contains("education.txt · tab-delimited text · GB18030 · header on line 1"), "{text}");
    // No full ID number anywhere: no run of 17 digits.
    let digits = text.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(digits < 17, "a run of {digits} digits:\n{text}");
}

#[test]
fn a_glob_that_matches_no_file_is_a_warning_of_inspect_and_of_screen_on_screen_and_in_the_summary() {
    let mut fx = county();
    fx.raw_file("sources.toml", "[sources.medical]\nfile = \"medicl/2021-*.xlsx\"\n");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fx.write_data(&data);
    let text = inspect(&data);
    assert!(text.contains("⚠ warning: no file matches the pattern medicl/2021-*.xlsx"), "{text}");
    let out = fanpin_cmd().args(["screen", "--rules", RULES, "--data"]).arg(&data).arg("--out").arg(tmp.path().join("out")).output().unwrap();
    assert!(out.status.success());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stderr.contains("no file matches the pattern of medical (medicl/2021-*.xlsx)"), "{stderr}");
    assert!(stdout.contains("没有文件匹配 medical (medicl/2021-*.xlsx)"), "{stdout}");
}
