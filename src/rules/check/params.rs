//! Computed parameters: `formula = "农村低保标准 * 12 * 2"` over other parameters, evaluated
//! once, exactly, when the rules are checked. The value's reference names the formula's own
//! document and each input with its value, date and reference.

use super::{Checker, Env, Scope, NO_LETS};
use crate::rules::expr::{self, Ast};
use crate::rules::fold::fold;
use crate::rules::plan::*;
use crate::rules::raw::{RawParameter, S};
use std::collections::BTreeMap;

/// The names an expression mentions.
fn names(ast: &Ast, out: &mut Vec<String>) {
    match ast {
        Ast::Name(n, _) => out.push(n.clone()),
        Ast::Number(..) | Ast::Str(..) | Ast::Bool(..) => {}
        Ast::Neg(x, _) | Ast::Not(x, _) => names(x, out),
        Ast::Bin { lhs, rhs, .. } => {
            names(lhs, out);
            names(rhs, out);
        }
        Ast::In { value, list, .. } => {
            names(value, out);
            list.iter().for_each(|a| names(a, out));
        }
        Ast::If { cond, then, otherwise, .. } => [cond, then, otherwise].into_iter().for_each(|a| names(a, out)),
        Ast::Call { args, .. } => args.iter().for_each(|a| names(a, out)),
    }
}

impl Checker<'_> {
    /// Resolves the computed parameters, each after the parameters its formula reads.
    pub(super) fn computed_parameters(&mut self, params: &BTreeMap<String, S<RawParameter>>) {
        let mut pending: Vec<(&String, &S<RawParameter>, &S<String>)> =
            params.iter().filter_map(|(n, p)| p.get_ref().formula.as_ref().map(|f| (n, p, f))).collect();
        for (name, _, _) in &pending {
            self.poisoned.insert((*name).clone());
        }
        loop {
            let before = pending.len();
            let mut waiting = Vec::new();
            for (name, p, formula) in pending {
                let mut read = Vec::new();
                if let Ok(ast) = expr::parse(formula.get_ref()) {
                    names(&ast, &mut read);
                }
                if read.iter().any(|r| r == name) {
                    self.err_at(formula, format!("the formula of {name} reads itself"));
                    continue;
                }
                if read.iter().any(|r| params.get(r).is_some_and(|q| q.get_ref().formula.is_some()) && !self.params.contains_key(r)) {
                    waiting.push((name, p, formula));
                    continue;
                }
                self.computed(name, p, formula, &read);
            }
            pending = waiting;
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        for (name, _, formula) in pending {
            self.err_at(formula, format!("the formula of {name} reads itself, through the parameters it reads"));
        }
    }

    fn computed(&mut self, name: &str, p: &S<RawParameter>, formula: &S<String>, read: &[String]) {
        let raw = p.get_ref();
        if !raw.values.is_empty() {
            self.err_at(formula, format!("parameter {name} has both values and a formula: give one of them"));
            return;
        }
        let Some(reference) = raw.reference.as_ref().filter(|r| !r.get_ref().trim().is_empty()) else {
            self.err_at(formula, "a computed parameter needs a reference = \"…\" (the document that sets the formula)");
            return;
        };
        let env = Env { scope: Scope::Constant, ..Env::household(&[], &NO_LETS) };
        self.used_params.clear();
        let Some(e) = self.expression(formula, &env) else { return };
        let ty = raw.ty.get_ref().as_str();
        let value = match (ty, fold(&e)) {
            ("money", Some(Value::Int(i))) => Some(Value::Dec(rust_decimal::Decimal::from(i))),
            ("money", Some(Value::Dec(d))) => Some(Value::Dec(d)),
            ("integer", Some(Value::Int(i))) => Some(Value::Int(i)),
            ("date", Some(Value::Date(d))) => Some(Value::Date(d)),
            ("text", Some(Value::Text(t))) => Some(Value::Text(t)),
            (_, None) => {
                self.err_at(formula, format!("the formula of {name} cannot be computed (a division by zero, or a number too large)"));
                return;
            }
            (_, Some(v)) => {
                self.err_at(formula, format!("parameter {name} is declared {ty}, but its formula gives {}", v.ty().describe()));
                return;
            }
        };
        let value = match value {
            Some(Value::Dec(mut d)) => {
                d.rescale(d.scale().max(MONEY_SCALE));
                Value::Dec(d)
            }
            Some(v) => v,
            None => return,
        };
        let inputs: Vec<&Parameter> = read.iter().filter_map(|r| self.params.get(r)).collect();
        let Some(from) = inputs.iter().map(|i| i.from).max() else {
            self.err_at(formula, format!("the formula of {name} reads no parameter: give the value with values = [{{ from, value, reference }}]"));
            return;
        };
        let listed: Vec<String> = inputs.iter().map(|i| format!("{}={}({}起, 依据: {})", i.name, i.shown(), i.from, i.reference)).collect();
        let parameter = Parameter {
            name: name.to_string(),
            description: raw.description.clone(),
            value,
            from,
            reference: format!("{} · 公式 {}, 其中 {}", reference.get_ref().trim(), formula.get_ref().trim(), listed.join("; ")),
        };
        self.used_params.clear();
        self.poisoned.remove(name);
        self.params.insert(name.to_string(), parameter);
    }
}
