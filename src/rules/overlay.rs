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
                lay(o, &mut t.file, &mut t.read, &t.columns, &mut err);
            }
            "members" => {
                let t = rules.roster.members.get_mut();
                lay(o, &mut t.file, &mut t.read, &t.columns, &mut err);
            }
            _ => err(&o.span(), format!("unknown roster table '{name}': expected households or members")),
        }
    }
    let names: Vec<String> = rules.sources.keys().cloned().collect();
    for (name, o) in &overlay.sources {
        match rules.sources.get_mut(name) {
            Some(s) => {
                let s = s.get_mut();
                lay(o, &mut s.file, &mut s.read, &s.columns, &mut err);
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

/// The values of an `enum(a, b, …)` column declaration (with or without the trailing `?`);
/// `None` for any other type.
fn enum_values(decl: &str) -> Option<Vec<String>> {
    let t = decl.trim();
    let t = t.strip_suffix('?').unwrap_or(t).trim_end();
    let inner = t.strip_prefix("enum(")?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_string()).collect())
}

fn merge(into: &mut BTreeMap<String, Vec<String>>, from: &BTreeMap<String, Vec<String>>) {
    for (k, v) in from {
        into.entry(k.clone()).or_default().extend(v.iter().cloned());
    }
}

/// Lays one table's override over the rules' table. Everything it says is checked here, so
/// that an error points into sources.toml: reading option values (encoding, sheet, delimiter),
/// the column names, and synonyms (for enum columns, naming one of their values).
fn lay(
    o: &S<RawTableOverride>,
    file: &mut String,
    read: &mut RawReading,
    declared: &BTreeMap<String, S<String>>,
    err: &mut impl FnMut(&std::ops::Range<usize>, String),
) {
    let ov = o.get_ref();
    for (span, message) in super::check::read_spec("", &ov.read).1 {
        err(&span, message);
    }
    let columns: Vec<&str> = declared.keys().map(String::as_str).collect();
    for col in ov.read.aliases.keys().chain(ov.read.synonyms.keys()) {
        if !declared.contains_key(col) {
            let hint = closest(col, columns.iter().copied()).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
            err(&o.span(), format!("aliases/synonyms name '{col}', which the rules do not declare for this table{hint}"));
        }
    }
    for (col, map) in &ov.read.synonyms {
        let Some(decl) = declared.get(col) else { continue };
        match enum_values(decl.get_ref()) {
            None => err(&o.span(), format!("synonyms are for enum columns, and '{col}' is not one (the rules declare it {})", decl.get_ref().trim())),
            Some(values) => {
                for canonical in map.keys().filter(|k| !values.contains(k)) {
                    err(&o.span(), format!("synonyms of '{col}' name '{canonical}', which is not one of its values [{}]", values.join(", ")));
                }
            }
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
