//! `[[categories]]`: the condition (or the reasons it holds for), whether it is a lead to verify
//! or a grade, and the evidence that says why a household is in it.

use super::{Checker, Env, Reads, NO_LETS};
use crate::rules::plan::*;
use crate::rules::raw::RawCategory;

impl Checker<'_> {
    pub(super) fn categories(&mut self, list: &[RawCategory], derived: &[Derived]) -> Vec<Category> {
        let mut out: Vec<Category> = Vec::new();
        if list.is_empty() {
            self.err(0, 1, "the rules declare no [[categories]]: nothing could ever be listed");
        }
        for c in list {
            if out.iter().any(|x| &x.name == c.name.get_ref()) {
                self.err_at(&c.name, format!("category '{}' is declared twice", c.name.get_ref()));
            }
            self.used_params.clear();
            if let Some(category) = self.category(c, derived) {
                out.push(category);
            }
        }
        if !out.is_empty() && out.iter().all(|c| !c.lead) {
            self.err(0, 1, "every category has lead = false: nothing could ever be listed for verification");
        }
        out
    }

    fn category(&mut self, c: &RawCategory, derived: &[Derived]) -> Option<Category> {
        let env = Env::household(derived, &NO_LETS).reading(Reads::Outcome);
        let evidence_env = env.reading(Reads::Evidence);
        let mut reasons = Vec::new();
        let mut ok = true;
        for r in &c.reasons {
            let when = self.condition(&r.when, &env);
            let evidence = self.template(&r.evidence, &evidence_env);
            match (when, evidence) {
                (Some(when), Some(evidence)) => reasons.push(Reason { when, evidence }),
                _ => ok = false,
            }
        }
        let when = match &c.when {
            Some(w) => self.condition(w, &env),
            None if ok && !reasons.is_empty() => {
                reasons.iter().map(|r| r.when.clone()).reduce(|a, b| TExpr::Logic { op: LogicOp::Or, lhs: Box::new(a), rhs: Box::new(b) })
            }
            None => {
                if c.reasons.is_empty() {
                    self.err_at(&c.name, "a category needs a condition: when = \"…\", or reasons = [{ when, evidence }, …]");
                }
                None
            }
        };
        let evidence = match &c.evidence {
            Some(e) => self.template(e, &evidence_env),
            None => Some(Vec::new()),
        };
        let when_text = match &c.when {
            Some(w) => w.get_ref().clone(),
            None => c.reasons.iter().map(|r| format!("({})", r.when.get_ref().trim())).collect::<Vec<_>>().join(" or "),
        };
        Some(Category {
            name: c.name.get_ref().clone(),
            when: when?,
            params: self.take_params(),
            when_text,
            lead: c.lead,
            evidence: evidence?,
            reasons: if ok { reasons } else { return None },
        })
    }
}
