//! The outputs later commands read back, each through one typed reader: flagged.csv (`diff`,
//! `notice`, `screen --previous`) and manifest.json (`notice`, `explain`, `replay`).

use super::manifest::Wording;
use anyhow::{anyhow, Context, Result};
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One row of flagged.csv: the columns a later command reads.
#[derive(Debug, Clone, Deserialize)]
pub struct FlaggedRow {
    #[serde(rename = "乡镇")]
    pub town: String,
    #[serde(rename = "村")]
    pub village: String,
    #[serde(rename = "户编号")]
    pub key: String,
    #[serde(rename = "户主姓名")]
    pub head: String,
    #[serde(rename = "家庭人口")]
    pub size: String,
    #[serde(rename = "人均纯收入")]
    pub per_capita: String,
    #[serde(rename = "类别")]
    pub category: String,
    #[serde(rename = "风险类型")]
    pub risks: String,
    #[serde(rename = "建议")]
    pub advice: String,
}

/// A file's bytes after its UTF-8 byte-order mark (fanpin writes one for Excel).
fn without_bom(path: &Path) -> Result<impl Read> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut head = [0u8; 3];
    let n = file.read(&mut head).with_context(|| format!("cannot read {}", path.display()))?;
    let kept = if n == 3 && head == [0xEF, 0xBB, 0xBF] { Vec::new() } else { head[..n].to_vec() };
    Ok(std::io::Cursor::new(kept).chain(file))
}

/// Every row of `dir`'s flagged.csv, in file order.
pub fn flagged(dir: &Path) -> Result<Vec<FlaggedRow>> {
    let path = dir.join("flagged.csv");
    let mut r = csv::Reader::from_reader(without_bom(&path)?);
    let mut out = Vec::new();
    for (i, row) in r.deserialize::<FlaggedRow>().enumerate() {
        out.push(row.with_context(|| format!("{}: line {} is not a row of a fanpin flagged.csv", path.display(), i + 2))?);
    }
    Ok(out)
}

/// manifest.json of the run that wrote `dir`.
pub struct Manifest {
    pub path: PathBuf,
    pub json: serde_json::Value,
}

/// How the run was invoked: its rules, data, `--as-of`.
pub struct Invocation {
    pub rules: PathBuf,
    pub data: PathBuf,
    pub as_of: Option<chrono::NaiveDate>,
    /// The previous run's directory (`--previous`).
    pub previous: Option<PathBuf>,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Self> {
        let raw = std::fs::read_to_string(path).with_context(|| format!("cannot read {} (run fanpin screen first)", path.display()))?;
        let json = serde_json::from_str(&raw).with_context(|| format!("{} is not a fanpin manifest", path.display()))?;
        Ok(Manifest { path: path.to_path_buf(), json })
    }

    pub fn in_dir(dir: &Path) -> Result<Self> {
        Self::read(&dir.join("manifest.json"))
    }

    /// The `[report]` wording of the rules the run used.
    pub fn wording(&self) -> Result<Wording> {
        let w = self
            .json
            .get("rules")
            .and_then(|r| r.get("wording"))
            .ok_or_else(|| anyhow!("{} records no rules wording (written by an older fanpin): run fanpin screen again", self.path.display()))?;
        serde_json::from_value(w.clone()).with_context(|| format!("{}: rules.wording", self.path.display()))
    }

    pub fn invocation(&self) -> Result<Invocation> {
        let inv = self
            .json
            .get("invocation")
            .ok_or_else(|| anyhow!("{} has no invocation record (written by an older fanpin): run the screen again", self.path.display()))?;
        let get = |k: &str| inv.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let as_of = match get("as_of") {
            Some(d) => Some(chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").with_context(|| format!("{}: invocation.as_of", self.path.display()))?),
            None => None,
        };
        let (rules, data) = match (get("rules"), get("data")) {
            (Some(r), Some(d)) => (PathBuf::from(r), PathBuf::from(d)),
            _ => return Err(anyhow!("{}: the invocation names no rules file or no data directory", self.path.display())),
        };
        Ok(Invocation { rules, data, as_of, previous: get("previous").map(PathBuf::from) })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn flagged_csv_is_read_past_its_bom_by_column_name() {
        let dir = tempfile::tempdir().unwrap();
        // Columns in another order than fanpin writes them, plus one the reader does not use.
        let text =
            "\u{feff}户编号,村,乡镇,户主姓名,家庭人口,人均纯收入,类别,风险类型,建议,证据\nH1,大坪村,城关镇,甲,3,6319.99,脱贫不稳定户,待核实,纳入核实,\"a,b\"\n";
        std::fs::write(dir.path().join("flagged.csv"), text).unwrap();
        let rows = super::flagged(dir.path()).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(
            (r.key.as_str(), r.town.as_str(), r.village.as_str(), r.per_capita.as_str(), r.advice.as_str()),
            ("H1", "城关镇", "大坪村", "6319.99", "纳入核实")
        );
    }

    #[test]
    fn the_reader_takes_its_columns_from_the_ones_flagged_csv_is_written_with() {
        // A header-only flagged.csv with exactly the written columns reads; so every column the
        // reader names is one the writer writes.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flagged.csv"), format!("{}\n", crate::frame::columns::FLAGGED.join(","))).unwrap();
        assert!(super::flagged(dir.path()).unwrap().is_empty());
        let one = crate::frame::columns::FLAGGED.iter().map(|c| if *c == "户编号" { "H1" } else { "x" }).collect::<Vec<_>>().join(",");
        std::fs::write(dir.path().join("flagged.csv"), format!("{}\n{one}\n", crate::frame::columns::FLAGGED.join(","))).unwrap();
        assert_eq!(super::flagged(dir.path()).unwrap()[0].key, "H1");
    }

    #[test]
    fn a_file_that_is_not_a_flagged_csv_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flagged.csv"), "a,b\n1,2\n").unwrap();
        let e = super::flagged(dir.path()).unwrap_err();
        assert!(format!("{e:#}").contains("flagged.csv: line 2 is not a row of a fanpin flagged.csv"), "{e:#}");
    }
}
