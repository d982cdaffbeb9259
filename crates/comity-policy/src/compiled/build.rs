//! The compiler: a rule in Cedar's JSON form, to an [`Expr`] over a [`crate::context::Frame`].
//!
//! It takes the part of Cedar the schema lets a pack write about its context: attributes
//! compared with words (`==`, `!=`, `in`), sets of words tested (`contains`, `containsAny`,
//! `containsAll`, `isEmpty`), optional attributes tested (`has`), booleans and facts, joined
//! by `!`, `&&`, `||` and `if`. Anything else (entity attributes, strings, numbers,
//! extension functions, scopes on the principal or resource) is [`Unsupported`]: the slice
//! that holds it stays with Cedar's evaluator.

use serde_json::Value;

use super::expr::Expr;
use crate::schema::{SlotType, enum_types, slot, slots};

/// What the compiler does not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not compiled: {0}")]
pub(crate) struct Unsupported(pub String);

pub(super) fn unsupported<T>(what: impl std::fmt::Display) -> Result<T, Unsupported> {
    Err(Unsupported(what.to_string()))
}

/// A value a comparison can read: an attribute's slot, a fact, or a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    Slot(usize, SlotType),
    Fact(u32),
    Bool(bool),
    /// A word, by its type's name and its id.
    Word(String, String),
    Set(Vec<Operand>),
}

/// Compiles conditions for the action `action` (of type `Action`: the variable `action` is
/// that word), in a pack whose facts are `fact_names`.
pub(crate) struct Compiler<'a> {
    pub action: &'a str,
    pub fact_names: &'a [String],
}

impl Compiler<'_> {
    /// A policy's conditions (its `when` clauses, and the negation of its `unless` clauses,
    /// in order) as one condition.
    pub(crate) fn conditions(&self, policy: &Value) -> Result<Expr, Unsupported> {
        let mut out: Option<Expr> = None;
        for clause in policy["conditions"].as_array().into_iter().flatten() {
            let body = self.boolean(&clause["body"])?;
            let body = match clause["kind"].as_str() {
                Some("when") => body,
                Some("unless") => Expr::Not(Box::new(body)),
                other => return unsupported(format!("a condition of kind {other:?}")),
            };
            out = Some(match out {
                None => body,
                Some(before) => Expr::And(Box::new(before), Box::new(body)),
            });
        }
        Ok(out.unwrap_or(Expr::Const(true)))
    }

    /// An expression that must be boolean.
    fn boolean(&self, e: &Value) -> Result<Expr, Unsupported> {
        let (op, args) = node(e)?;
        let two = |f: fn(Box<Expr>, Box<Expr>) -> Expr| -> Result<Expr, Unsupported> {
            Ok(f(
                Box::new(self.boolean(&args["left"])?),
                Box::new(self.boolean(&args["right"])?),
            ))
        };
        match op {
            "&&" => two(Expr::And),
            "||" => two(Expr::Or),
            "!" => Ok(Expr::Not(Box::new(self.boolean(&args["arg"])?))),
            "if-then-else" => Ok(Expr::If(
                Box::new(self.boolean(&args["if"])?),
                Box::new(self.boolean(&args["then"])?),
                Box::new(self.boolean(&args["else"])?),
            )),
            "==" | "in" => self.equals(&args["left"], &args["right"], op == "in"),
            "!=" => Ok(Expr::Not(Box::new(self.equals(
                &args["left"],
                &args["right"],
                false,
            )?))),
            "has" => self.has(&args["left"], &args["attr"]),
            "contains" | "containsAny" | "containsAll" => {
                self.set_test(op, &args["left"], &args["right"])
            }
            "isEmpty" => match self.operand(&args["arg"])? {
                Operand::Slot(slot, SlotType::Set(_)) => {
                    Ok(Expr::Not(Box::new(Expr::AnyOf(slot, u32::MAX))))
                }
                other => unsupported(format!("isEmpty of {other:?}")),
            },
            "Value" | "." => match self.operand(e)? {
                Operand::Bool(b) => Ok(Expr::Const(b)),
                Operand::Fact(bit) => Ok(Expr::Fact(bit)),
                Operand::Slot(slot, SlotType::Bool) => Ok(Expr::OneOf(slot, 1 << 1)),
                other => unsupported(format!("{other:?} where a boolean belongs")),
            },
            other => unsupported(format!("the operator `{other}`")),
        }
    }

    /// `left == right`, or `left in right`.
    fn equals(&self, left: &Value, right: &Value, is_in: bool) -> Result<Expr, Unsupported> {
        let (left, right) = (self.operand(left)?, self.operand(right)?);
        if is_in {
            return member(left, right);
        }
        match (left, right) {
            // Two words (the action among them): decided here.
            (Operand::Word(ty, id), Operand::Word(other_ty, other_id)) => {
                Ok(Expr::Const(ty == other_ty && id == other_id))
            }
            (Operand::Slot(slot, ty), literal @ (Operand::Bool(_) | Operand::Word(..)))
            | (literal @ (Operand::Bool(_) | Operand::Word(..)), Operand::Slot(slot, ty)) => {
                one_of(slot, ty, &[literal])
            }
            (Operand::Fact(bit), Operand::Bool(b)) | (Operand::Bool(b), Operand::Fact(bit)) => {
                let fact = Expr::Fact(bit);
                Ok(if b { fact } else { Expr::Not(Box::new(fact)) })
            }
            (left, right) => unsupported(format!("comparing {left:?} with {right:?}")),
        }
    }

    /// `set.contains(word)`, `set.containsAny([…])`, `set.containsAll([…])`; and a set of
    /// words containing an attribute's word (`[…].contains(context.x)`, as `in`).
    fn set_test(&self, op: &str, left: &Value, right: &Value) -> Result<Expr, Unsupported> {
        let (left, right) = (self.operand(left)?, self.operand(right)?);
        if let ("contains", Operand::Set(items), Operand::Slot(slot, ty @ SlotType::Word(_))) =
            (op, &left, &right)
        {
            return one_of(*slot, *ty, items);
        }
        // A set of words holding (any or all of) the context's set of words.
        if let (Operand::Set(items), Operand::Slot(slot, SlotType::Set(vocabulary))) =
            (&left, &right)
        {
            let mut mask = 0u32;
            for item in items {
                match item {
                    Operand::Word(name, id) => {
                        if let Some(bit) = word_bit(*vocabulary, name, id).filter(|b| *b < 32) {
                            mask |= 1 << bit;
                        }
                    }
                    other => return unsupported(format!("`{op}` of a set holding {other:?}")),
                }
            }
            return match op {
                "containsAny" => Ok(Expr::AnyOf(*slot, mask)),
                "containsAll" => Ok(Expr::SubsetOf(*slot, mask)),
                _ => unsupported(format!("`{op}` of a set")),
            };
        }
        let Operand::Slot(slot, SlotType::Set(vocabulary)) = left else {
            return unsupported(format!("`{op}` on something not a set of words"));
        };
        // What follows answers some tests without reading the set (`containsAll` of a word
        // it cannot hold): sound only for a set the context always has.
        if slots()[slot].optional {
            return unsupported(format!("`{op}` on an optional set"));
        }
        // Two sets of words of one vocabulary, both the context's.
        if let Operand::Slot(other, SlotType::Set(of)) = right
            && of == vocabulary
        {
            return match op {
                "containsAny" => Ok(Expr::AnyOfSlot(slot, other)),
                "containsAll" => Ok(Expr::AllOfSlot(slot, other)),
                _ => unsupported(format!("`{op}` of a set")),
            };
        }
        let items = match (op, right) {
            ("contains", item @ Operand::Word(..)) => vec![item],
            ("containsAny" | "containsAll", Operand::Set(items)) => items,
            (_, other) => return unsupported(format!("`{op}` of {other:?}")),
        };
        let mut mask = 0u32;
        let mut unknown = false;
        for item in &items {
            let Operand::Word(name, id) = item else {
                return unsupported(format!("`{op}` of {item:?}"));
            };
            match word_bit(vocabulary, name, id) {
                Some(bit) if bit < 32 => mask |= 1 << bit,
                _ => unknown = true,
            }
        }
        Ok(match op {
            // No set of these words holds a word of another vocabulary.
            "containsAll" if unknown => Expr::Const(false),
            "containsAll" => Expr::AllOf(slot, mask),
            _ => Expr::AnyOf(slot, mask),
        })
    }

    /// `context has attr` (or `context.facts has fact`).
    fn has(&self, left: &Value, attr: &Value) -> Result<Expr, Unsupported> {
        let attr = attr
            .as_str()
            .ok_or_else(|| Unsupported("`has` without a name".into()))?;
        if is_context(left) {
            return Ok(match slot(attr) {
                Some((k, s)) if s.optional => Expr::Present(k),
                Some(_) => Expr::Const(true),
                None => Expr::Const(attr == "facts"),
            });
        }
        if self.is_facts(left) {
            return Ok(Expr::Const(self.fact_names.iter().any(|f| f == attr)));
        }
        unsupported("`has` on something other than the context")
    }

    /// A value: `context.attr`, `context.facts.fact`, or a literal.
    fn operand(&self, e: &Value) -> Result<Operand, Unsupported> {
        let (op, args) = node(e)?;
        match op {
            "Var" if args == "action" => Ok(Operand::Word("Action".into(), self.action.into())),
            "Value" => literal(args),
            "Set" => Ok(Operand::Set(
                args.as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| self.operand(item))
                    .collect::<Result<_, _>>()?,
            )),
            "." => {
                let attr = args["attr"].as_str().unwrap_or_default();
                if is_context(&args["left"]) {
                    let (k, s) =
                        slot(attr).ok_or_else(|| Unsupported(format!("the attribute `{attr}`")))?;
                    return Ok(Operand::Slot(k, s.ty));
                }
                if self.is_facts(&args["left"]) {
                    let bit = self
                        .fact_names
                        .iter()
                        .position(|f| f == attr)
                        .ok_or_else(|| Unsupported(format!("the undeclared fact `{attr}`")))?;
                    return Ok(Operand::Fact(bit as u32));
                }
                unsupported(format!("reading `{attr}` of something not the context"))
            }
            other => unsupported(format!("`{other}` as a value")),
        }
    }

    /// Whether `e` is `context.facts`.
    fn is_facts(&self, e: &Value) -> bool {
        e.get(".")
            .is_some_and(|a| is_context(&a["left"]) && a["attr"] == "facts")
    }
}

/// `left in right`: a word in a word or in a set of words, which with no entity hierarchy is
/// equality with it or with one of them. Cedar errs on anything else (a boolean, a set on
/// the left, an attribute in the set), so anything else stays with Cedar.
fn member(left: Operand, right: Operand) -> Result<Expr, Unsupported> {
    let items = match right {
        word @ Operand::Word(..) => vec![word],
        Operand::Set(items) if items.iter().all(|i| matches!(i, Operand::Word(..))) => items,
        other => return unsupported(format!("`in` {other:?}")),
    };
    match left {
        word @ Operand::Word(..) => Ok(Expr::Const(items.contains(&word))),
        Operand::Slot(slot, ty @ SlotType::Word(_)) => one_of(slot, ty, &items),
        other => unsupported(format!("{other:?} `in` a set of words")),
    }
}

/// The slot's value equals one of `literals`.
fn one_of(slot: usize, ty: SlotType, literals: &[Operand]) -> Result<Expr, Unsupported> {
    let mut mask = 0u64;
    for literal in literals {
        mask |= match (ty, literal) {
            (SlotType::Bool, Operand::Bool(b)) => 1 << u32::from(*b),
            (SlotType::Word(vocabulary), Operand::Word(name, id)) => {
                word_bit(vocabulary, name, id).map_or(0, |bit| 1u64 << bit)
            }
            (SlotType::Set(_), _) => return unsupported("a set of words compared with `==`"),
            // A value of another type is never equal (the slot is read all the same).
            (_, Operand::Bool(_) | Operand::Word(..)) => 0,
            (_, other) => return unsupported(format!("comparing with {other:?}")),
        };
    }
    Ok(Expr::OneOf(slot, mask))
}

/// The operator of an expression node, and its arguments.
fn node(e: &Value) -> Result<(&str, &Value), Unsupported> {
    match e.as_object() {
        Some(map) if map.len() == 1 => {
            let (op, args) = map.iter().next().expect("one member");
            Ok((op.as_str(), args))
        }
        _ => unsupported(format!("the expression {e}")),
    }
}

/// Whether `e` is the variable `context`.
fn is_context(e: &Value) -> bool {
    e.get("Var").and_then(Value::as_str) == Some("context")
}

/// A literal: a boolean, or a word (an entity of an enumerated type).
fn literal(v: &Value) -> Result<Operand, Unsupported> {
    if let Some(b) = v.as_bool() {
        return Ok(Operand::Bool(b));
    }
    let entity = v.get("__entity").unwrap_or(v);
    match (entity["type"].as_str(), entity["id"].as_str()) {
        (Some(ty), Some(id)) => Ok(Operand::Word(ty.to_owned(), id.to_owned())),
        _ => unsupported(format!("the literal {v}")),
    }
}

/// The bit of word `id` of type `name` in the vocabulary at `vocabulary`: `None` when the
/// type is another or the vocabulary has no such word (never equal to a value of it).
fn word_bit(vocabulary: usize, name: &str, id: &str) -> Option<u32> {
    let ty = &enum_types()[vocabulary];
    if ty.name != name {
        return None;
    }
    ty.words
        .iter()
        .position(|w| *w == id)
        .filter(|bit| *bit < 64)
        .map(|bit| bit as u32)
}
