//! `fanpin generate`: a synthetic county in the canonical layout.

use crate::cli::{GenerateArgs, Layout};
use crate::generate::{extracts, generate, GenConfig};
use anyhow::{Context, Result};

pub fn run(args: &GenerateArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let cfg = GenConfig { households: args.households, seed: args.seed, messy: args.messy };
    if args.layout == Layout::Extracts {
        let tmp = args.out.with_extension("canonical.tmp");
        generate(&cfg, &tmp)?;
        extracts::reshape(&tmp, &args.out)?;
        std::fs::remove_dir_all(&tmp)?;
        out!("{} households reshaped as department extracts into {} (see its sources.toml)", args.households, args.out.display());
        return Ok(());
    }
    let summary = generate(&cfg, &args.out)?;
    for (file, rows) in &summary.files {
        out!("{:<22} {:>10} rows", file, rows);
    }
    Ok(())
}
