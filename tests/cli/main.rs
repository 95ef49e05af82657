//! Integration tests of `fanpin screen` against the reference policy rules/guizhou-2021.toml.
//!
//! Every expected value is derived by hand from the policy text in issue 2 (monitoring line
//! 6320.00 for 2021; window 2020-06-01..2021-05-31; determination date 2021-05-31), with the
//! arithmetic written next to it.

mod support;

mod cases;
mod crashes;
mod inputs_hardening;
mod inputs_more;
mod language;
mod monitoring;
mod notice;
mod policies;
mod publishing;
mod reasons;
mod relatives;
mod report_xlsx;
mod runs;
mod screen_exclusions;
mod screen_extracts;
mod screen_income;
mod screen_inputs;
mod screen_outputs;
mod screen_policy;
mod screen_rejects;
mod spark;
mod wording;
