//! `fanpin generate`: a synthetic county in the canonical layout.

use crate::cli::GenerateArgs;
use crate::generate::{generate, GenConfig};
use anyhow::{Context, Result};

pub fn run(args: &GenerateArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let cfg = GenConfig { households: args.households, seed: args.seed, messy: args.messy };
    let summary = generate(&cfg, &args.out)?;
    for (file, rows) in &summary.files {
        println!("{:<22} {:>10} rows", file, rows);
    }
    Ok(())
}
