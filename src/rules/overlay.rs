//! A data directory's `sources.toml`: reading options laid over the rules' tables before they
//! are checked. Errors point into `sources.toml` itself.

use super::diag::{closest, Diagnostic, Diagnostics};
use super::raw::{RawReading, RawRules, RawSourcesFile, RawTableOverride, S};
use std::collections::BTreeMap;

pub fn apply(rules: &mut RawRules, text: &str, file: &str) -> Result<(), Diagnostics> {
    let fail = |items: Vec<Diagnostic>| Diagnostics { file: file.to_string(), source: text.to_string(), items };
    let overlay: RawSourcesFile = toml::from_str(text).map_err(|e| {
        let (offset, len) = e.span().map_or((0, 1), |r| (r.start, r.end - r.start));
        fail(vec![Diagnostic { offset, len, message: e.message().trim().to_string() }])
    })?;
    let mut errors = Vec::new();
    let mut err = |s: &std::ops::Range<usize>, message: String| errors.push(Diagnostic { offset: s.start, len: (s.end - s.start).max(1), message });

    for (name, o) in &overlay.roster {
        match name.as_str() {
            "households" => {
                let t = rules.roster.households.get_mut();
                let columns: Vec<String> = t.columns.keys().cloned().collect();
                lay(o, &mut t.file, &mut t.read, &columns, &mut err);
            }
            "members" => {
                let t = rules.roster.members.get_mut();
                let columns: Vec<String> = t.columns.keys().cloned().collect();
                lay(o, &mut t.file, &mut t.read, &columns, &mut err);
            }
            _ => err(&o.span(), format!("unknown roster table '{name}': expected households or members")),
        }
    }
    let names: Vec<String> = rules.sources.keys().cloned().collect();
    for (name, o) in &overlay.sources {
        match rules.sources.get_mut(name) {
            Some(s) => {
                let columns: Vec<String> = s.get_ref().columns.keys().cloned().collect();
                let s = s.get_mut();
                lay(o, &mut s.file, &mut s.read, &columns, &mut err);
            }
            None => {
                let hint = closest(name, names.iter().map(String::as_str)).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
                err(&o.span(), format!("the rules declare no source '{name}'{hint}; declared: {}", names.join(", ")));
            }
        }
    }
    merge(&mut rules.defaults.aliases, &overlay.defaults.aliases);
    for (col, map) in &overlay.defaults.synonyms {
        let into = rules.defaults.synonyms.entry(col.clone()).or_default();
        merge(into, map);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(fail(errors))
    }
}

fn merge(into: &mut BTreeMap<String, Vec<String>>, from: &BTreeMap<String, Vec<String>>) {
    for (k, v) in from {
        into.entry(k.clone()).or_default().extend(v.iter().cloned());
    }
}

/// Lays one table's override over the rules' table. Reading option values (encoding, sheet,
/// delimiter) are validated by the rules check; here only names are, since they refer to the
/// rules' declared columns.
fn lay(o: &S<RawTableOverride>, file: &mut String, read: &mut RawReading, columns: &[String], err: &mut impl FnMut(&std::ops::Range<usize>, String)) {
    let ov = o.get_ref();
    for (span, message) in super::check::read_spec("", &ov.read).1 {
        err(&span, message);
    }
    for col in ov.read.aliases.keys().chain(ov.read.synonyms.keys()) {
        if !columns.contains(col) {
            let hint = closest(col, columns.iter().map(String::as_str)).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
            err(&o.span(), format!("aliases/synonyms name '{col}', which the rules do not declare for this table{hint}"));
        }
    }
    if let Some(f) = &ov.file {
        *file = f.clone();
    }
    let r = ov.read.clone();
    if r.sheet.is_some() {
        read.sheet = r.sheet;
    }
    if r.encoding.is_some() {
        read.encoding = r.encoding;
    }
    if r.delimiter.is_some() {
        read.delimiter = r.delimiter;
    }
    merge(&mut read.aliases, &r.aliases);
    for (col, map) in &r.synonyms {
        merge(read.synonyms.entry(col.clone()).or_default(), map);
    }
}
