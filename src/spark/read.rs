//! TEMPORARY (replaced by the helper's version): canonical CSV only.
use super::expr::{ident, text};
use crate::rules::plan::{ColType, Table};
use anyhow::Result;

pub fn table_sql(t: &Table, files: &[(String, String)], view: &str) -> Result<String> {
    let mut out = String::new();
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let raw = format!("nullif(trim({}), '')", ident(&c.name));
            let e = match &c.ty {
                ColType::Money => format!("CAST({raw} AS DECIMAL(18,2))"),
                ColType::Integer => format!("CAST({raw} AS BIGINT)"),
                ColType::Date => format!("CAST({raw} AS DATE)"),
                _ => raw,
            };
            format!("{e} AS {}", ident(&c.name))
        })
        .collect();
    match files.first() {
        Some((path, shown)) => {
            out.push_str(&format!("CREATE OR REPLACE TEMPORARY VIEW {view}_raw USING csv OPTIONS (path {}, header 'true', escape '\"');\n", text(path)));
            out.push_str(&format!(
                "CREATE OR REPLACE TEMPORARY VIEW {view} AS SELECT {}, {} AS __file, CAST(row_number() OVER (ORDER BY monotonically_increasing_id()) + 1 AS BIGINT) AS __line FROM {view}_raw;\n",
                cols.join(", "),
                text(shown)
            ));
            out.push_str(&format!("CREATE OR REPLACE TEMPORARY VIEW {view}_files AS SELECT {} AS file, count(1) AS records, CAST(0 AS BIGINT) AS skipped_blank, CAST(0 AS BIGINT) AS skipped_total FROM {view};\n", text(shown)));
        }
        None => {
            let cols: Vec<String> = t.columns.iter().map(|c| format!("CAST(NULL AS STRING) AS {}", ident(&c.name))).collect();
            out.push_str(&format!("CREATE OR REPLACE TEMPORARY VIEW {view} AS SELECT {}, '' AS __file, CAST(0 AS BIGINT) AS __line WHERE FALSE;\n", cols.join(", ")));
            out.push_str(&format!("CREATE OR REPLACE TEMPORARY VIEW {view}_files AS SELECT '' AS file, CAST(0 AS BIGINT) AS records, CAST(0 AS BIGINT) AS skipped_blank, CAST(0 AS BIGINT) AS skipped_total WHERE FALSE;\n"));
        }
    }
    out.push_str(&format!("CREATE OR REPLACE TEMPORARY VIEW {view}_rejects AS SELECT CAST(0 AS BIGINT) AS __order, '' AS `来源`, '' AS `文件`, CAST(0 AS BIGINT) AS `行号`, '' AS `列`, '' AS `值`, '' AS `原因` WHERE FALSE;\n"));
    Ok(out)
}
