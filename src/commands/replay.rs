//! `fanpin replay DIR/manifest.json`: re-runs a past screening from its manifest and verifies
//! that every output comes out byte-identical. When the rules, the data directory's
//! sources.toml, an input file or the previous run's files changed since, it names each one by
//! its recorded and current SHA-256 instead of silently producing something else.

use crate::cli::{ReplayArgs, ScreenArgs};
use crate::sources::sha256_file;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The replay did not reproduce the run (exit code 8); what differs has been printed.
#[derive(Debug, thiserror::Error)]
#[error("the replay does not reproduce {manifest}: {what}")]
pub struct Differs {
    pub manifest: String,
    pub what: String,
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

/// file → sha256 of a list of `{file, sha256}` objects.
fn hashes(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|o| Some((o.get("file")?.as_str()?.to_string(), o.get("sha256")?.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// (source, file) → sha256 of every input file a manifest records.
pub(super) fn input_hashes(m: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for input in m.get("inputs").and_then(Value::as_array).into_iter().flatten() {
        let source = input.get("source").and_then(Value::as_str).unwrap_or("").to_string();
        for (file, sha) in hashes(input.get("files")) {
            out.insert((source.clone(), file), sha);
        }
    }
    out
}

/// Lines saying how `now` differs from `then` (`what`: "input", "output", …).
fn compare<K: Ord + std::fmt::Display>(what: &str, then: &BTreeMap<K, String>, now: &BTreeMap<K, String>) -> Vec<String> {
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let mut out = Vec::new();
    for (k, h) in then {
        match now.get(k) {
            None => out.push(format!("{what} {k}: recorded (sha256 {}…), now absent", short(h))),
            Some(n) if n != h => out.push(format!("{what} {k}: sha256 {}… recorded, {}… now", short(h), short(n))),
            Some(_) => {}
        }
    }
    for (k, h) in now {
        if !then.contains_key(k) {
            out.push(format!("{what} {k}: new since the run (sha256 {}…)", short(h)));
        }
    }
    out
}

struct Keyed(String, String);
impl std::fmt::Display for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.1, self.0)
    }
}
impl PartialEq for Keyed {
    fn eq(&self, o: &Self) -> bool {
        (&self.0, &self.1) == (&o.0, &o.1)
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Keyed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (&self.0, &self.1).cmp(&(&o.0, &o.1))
    }
}

fn keyed(m: BTreeMap<(String, String), String>) -> BTreeMap<Keyed, String> {
    m.into_iter().map(|((s, f), h)| (Keyed(s, f), h)).collect()
}

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("fanpin-replay-{}-{nanos}", std::process::id()))
}

pub fn run(args: &ReplayArgs) -> Result<()> {
    let manifest_path = &args.manifest;
    let manifest = crate::report::readback::Manifest::read(manifest_path)?;
    let crate::report::readback::Invocation { rules, data, as_of, previous } = manifest.invocation()?;
    let then = manifest.json;
    let inv = then.get("invocation").cloned().unwrap_or_default();
    let label = manifest_path.display().to_string();
    let differs = |what: String| -> anyhow::Error { Differs { manifest: label.clone(), what }.into() };

    // The rules first: a changed rules file may no longer even load.
    let recorded_rules = text(&then, &["rules", "sha256"]).unwrap_or("");
    let now_rules = if rules.is_file() { sha256_file(&rules)? } else { String::new() };
    if now_rules != recorded_rules {
        out!(
            "rules {}: sha256 {}… recorded, {} now",
            rules.display(),
            &recorded_rules.chars().take(12).collect::<String>(),
            if now_rules.is_empty() { "absent".to_string() } else { format!("{}…", &now_rules[..12]) }
        );
        return Err(differs("the rules file changed".into()));
    }
    if !data.is_dir() {
        bail!("the data directory {} recorded in the manifest does not exist", data.display());
    }
    let mut changed = Vec::new();
    if let Some(p) = &previous {
        let now: BTreeMap<String, String> = hashes(inv.get("previous_files"))
            .keys()
            .map(|f| {
                let path = p.join(f);
                let h = if path.is_file() { sha256_file(&path) } else { Ok(String::new()) };
                h.map(|h| (f.clone(), h))
            })
            .collect::<Result<BTreeMap<_, _>>>()?
            .into_iter()
            .filter(|(_, h)| !h.is_empty())
            .collect();
        changed.extend(compare(&format!("previous run {}", p.display()), &hashes(inv.get("previous_files")), &now));
        if !changed.is_empty() {
            for c in &changed {
                out!("{c}");
            }
            return Err(differs("the previous run's files changed".into()));
        }
    }

    let (dir, keep) = match &args.out {
        Some(d) => (d.clone(), true),
        None => (scratch_dir(), false),
    };
    let screen = ScreenArgs {
        rules: rules.clone(),
        data: data.clone(),
        out: dir.clone(),
        quiet: true,
        previous: previous.clone(),
        max_reject_rate: None,
        as_of,
        threads: None,
        // Either engine gives the same outputs: the replay runs here.
        engine: crate::cli::Engine::Local,
        master: String::new(),
        spark_home: None,
    };
    let result = super::screen::run(&screen).and_then(|_| Ok(crate::report::readback::Manifest::in_dir(&crate::report::publish::run_dir(&dir))?.json));
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let now = result.context("the replay run failed")?;

    let version = |m: &Value| text(m, &["version"]).unwrap_or("?").to_string();
    let sources_then: BTreeMap<String, String> =
        then.get("sources_file").and_then(|v| Some((v.get("file")?.as_str()?.to_string(), v.get("sha256")?.as_str()?.to_string()))).into_iter().collect();
    let sources_now: BTreeMap<String, String> =
        now.get("sources_file").and_then(|v| Some((v.get("file")?.as_str()?.to_string(), v.get("sha256")?.as_str()?.to_string()))).into_iter().collect();
    changed.extend(compare("sources file", &sources_then, &sources_now));
    changed.extend(compare("input", &keyed(input_hashes(&then)), &keyed(input_hashes(&now))));
    let outputs = compare("output", &hashes(then.get("outputs")), &hashes(now.get("outputs")));

    if changed.is_empty() && outputs.is_empty() {
        let n = hashes(now.get("outputs")).len();
        let sources = if sources_now.is_empty() { "" } else { ", the same sources.toml" };
        out!("replayed {}: the same rules{sources} and {} input files; all {n} outputs byte-identical", manifest_path.display(), input_hashes(&now).len());
        if keep {
            out!("outputs written to {}", dir.display());
        }
        return Ok(());
    }
    for c in &changed {
        out!("{c}");
    }
    if changed.is_empty() {
        for o in &outputs {
            out!("{o}");
        }
        let (v0, v1) = (version(&then), version(&now));
        let why = if v0 != v1 {
            format!("the inputs are unchanged, but the run was made by fanpin {v0} and this is {v1}")
        } else {
            "the inputs are unchanged: please report this as a bug".to_string()
        };
        return Err(differs(format!("{} output(s) differ; {why}", outputs.len())));
    }
    let effect = if outputs.is_empty() { "the outputs are still identical" } else { "and the outputs differ" };
    Err(differs(format!("{} input(s) changed since the run ({effect})", changed.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_names_changed_added_and_removed_entries() {
        let then: BTreeMap<String, String> =
            [("a.csv", "aaaaaaaaaaaaaaaa"), ("b.csv", "bbbbbbbbbbbbbbbb")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let now: BTreeMap<String, String> = [("a.csv", "aaaaaaaaaaaaaaaa"), ("b.csv", "cccccccccccccccc"), ("d.csv", "dddddddddddddddd")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lines = compare("input", &then, &now);
        assert_eq!(
            lines,
            vec![
                "input b.csv: sha256 bbbbbbbbbbbb… recorded, cccccccccccc… now".to_string(),
                "input d.csv: new since the run (sha256 dddddddddddd…)".to_string()
            ]
        );
        let gone = compare("input", &now, &then);
        assert!(gone.contains(&"input d.csv: recorded (sha256 dddddddddddd…), now absent".to_string()));
    }

    #[test]
    fn a_manifest_without_an_invocation_is_refused_with_a_reason() {
        let dir = std::env::temp_dir().join(format!("fanpin-replay-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = dir.join("manifest.json");
        std::fs::write(&m, "{\"tool\": \"fanpin\"}").unwrap();
        let e = run(&ReplayArgs { manifest: m, out: None }).unwrap_err();
        assert!(format!("{e:#}").contains("no invocation record"), "{e:#}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
