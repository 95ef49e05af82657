//! The exit statuses: one list that feeds `main`, `--help` and the README's table (a test
//! keeps the README in step).

/// How a run of fanpin ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Ok,
    Failed,
    Usage,
    InvalidRules,
    TooManyRejects,
    Locked,
    UnreadableInput,
    MissingInput,
    ReplayDiffers,
    CasesFail,
}

impl ExitStatus {
    pub const ALL: [ExitStatus; 10] = [
        ExitStatus::Ok,
        ExitStatus::Failed,
        ExitStatus::Usage,
        ExitStatus::InvalidRules,
        ExitStatus::TooManyRejects,
        ExitStatus::Locked,
        ExitStatus::UnreadableInput,
        ExitStatus::MissingInput,
        ExitStatus::ReplayDiffers,
        ExitStatus::CasesFail,
    ];

    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Failed => 1,
            ExitStatus::Usage => 2,
            ExitStatus::InvalidRules => 3,
            ExitStatus::TooManyRejects => 4,
            ExitStatus::Locked => 5,
            ExitStatus::UnreadableInput => 6,
            ExitStatus::MissingInput => 7,
            ExitStatus::ReplayDiffers => 8,
            ExitStatus::CasesFail => 9,
        }
    }

    /// What the status means, as the README's table and `--help` say it.
    pub fn meaning(self) -> &'static str {
        match self {
            ExitStatus::Ok => "ok",
            ExitStatus::Failed => "the run failed for another reason (an output or stdout is not writable, …)",
            ExitStatus::Usage => "bad command line",
            ExitStatus::InvalidRules => "invalid rules file (every error is listed)",
            ExitStatus::TooManyRejects => "more rows rejected than `--max-reject-rate` allows (the outputs are written)",
            ExitStatus::Locked => "another run is writing the same output directory (it holds `DIR/.fanpin.lock`)",
            ExitStatus::UnreadableInput => "an input file cannot be read: not a workbook, undecodable, or a declared column is missing",
            ExitStatus::MissingInput => "a required input is missing: the data directory, households or members, or a source marked `required = true`",
            ExitStatus::ReplayDiffers => "`replay`: the run is not reproduced (each changed input or differing output is listed)",
            ExitStatus::CasesFail => "`check`: a rule test case fails (each is shown with expected and actual values)",
        }
    }

    /// The exit codes for `--help`.
    pub fn help() -> String {
        let items: Vec<String> = Self::ALL.iter().map(|s| format!("{} {}", s.code(), s.meaning())).collect();
        format!("Exit codes: {}", items.join(" · "))
    }

    /// The README's table.
    #[cfg(test)]
    pub fn markdown_table() -> String {
        let mut out = String::from("| code | meaning |\n|---|---|\n");
        for s in Self::ALL {
            out.push_str(&format!("| {} | {} |\n", s.code(), s.meaning()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    #[test]
    fn the_readme_lists_every_exit_status_as_the_enum_says() {
        let readme = include_str!("../README.md");
        let table = ExitStatus::markdown_table();
        assert!(readme.contains(&table), "README.md's exit-code table differs from src/exit.rs; it should read:\n{table}");
    }

    #[test]
    fn codes_are_distinct_and_in_order() {
        let codes: Vec<u8> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, (0..10).collect::<Vec<u8>>());
    }
}
