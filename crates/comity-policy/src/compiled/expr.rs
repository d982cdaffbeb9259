//! A rule's condition, compiled: a boolean expression over the slots of a [`Frame`], read
//! as Cedar reads the context, errors included.

use crate::context::Frame;

/// A compiled condition. Every test of an attribute reads its slot first: an absent optional
/// attribute is an error, as in Cedar, whatever the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// `true` or `false`.
    Const(bool),
    /// The slot's value is one of the mask's bits: `==` and `in` against words (and a
    /// boolean attribute against `true`, bit 1, or `false`, bit 0). A word the vocabulary
    /// lacks, or of another type, sets no bit: never equal, but the slot is still read.
    OneOf(usize, u64),
    /// The set in the slot holds a word of the mask: `contains` (one bit), `containsAny`.
    AnyOf(usize, u32),
    /// The set in the slot holds every word of the mask: `containsAll`.
    AllOf(usize, u32),
    /// The set in the slot holds no word outside the mask: `[…].containsAll(context.x)`.
    SubsetOf(usize, u32),
    /// The set in the first slot holds a word of the set in the second: `containsAny`.
    AnyOfSlot(usize, usize),
    /// The set in the first slot holds every word of the set in the second: `containsAll`.
    AllOfSlot(usize, usize),
    /// The optional attribute in the slot is present: `context has …`.
    Present(usize),
    /// The pack's fact at this bit holds.
    Fact(u32),
    /// `!`.
    Not(Box<Expr>),
    /// `&&`: the right side is read only if the left holds.
    And(Box<Expr>, Box<Expr>),
    /// `||`: the right side is read only if the left does not hold.
    Or(Box<Expr>, Box<Expr>),
    /// `if … then … else …`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// Reading an absent optional attribute: the error Cedar would raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Absent;

impl Expr {
    /// The condition's value in `frame`, or [`Absent`] where Cedar's evaluation errs.
    pub(crate) fn eval(&self, frame: &Frame) -> Result<bool, Absent> {
        let read = |slot: usize| frame.slots[slot].ok_or(Absent);
        Ok(match self {
            Expr::Const(b) => *b,
            Expr::OneOf(slot, mask) => {
                let value = read(*slot)?;
                value < 64 && mask & (1 << value) != 0
            }
            Expr::AnyOf(slot, mask) => read(*slot)? & mask != 0,
            Expr::AllOf(slot, mask) => read(*slot)? & mask == *mask,
            Expr::SubsetOf(slot, mask) => read(*slot)? & !mask == 0,
            Expr::AnyOfSlot(set, of) => read(*set)? & read(*of)? != 0,
            Expr::AllOfSlot(set, of) => {
                let of = read(*of)?;
                read(*set)? & of == of
            }
            Expr::Present(slot) => frame.slots[*slot].is_some(),
            Expr::Fact(bit) => frame.facts & (1 << bit) != 0,
            Expr::Not(e) => !e.eval(frame)?,
            Expr::And(a, b) => a.eval(frame)? && b.eval(frame)?,
            Expr::Or(a, b) => a.eval(frame)? || b.eval(frame)?,
            Expr::If(c, t, e) => {
                if c.eval(frame)? {
                    t.eval(frame)?
                } else {
                    e.eval(frame)?
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::SLOTS;

    fn frame(slot0: Option<u32>) -> Frame {
        let mut slots = [Some(0); SLOTS];
        slots[0] = slot0;
        Frame { slots, facts: 0b10 }
    }

    #[test]
    fn an_absent_attribute_errs_unless_short_circuited_as_in_cedar() {
        let absent = frame(None);
        let reads = Expr::OneOf(0, 0);
        assert_eq!(reads.eval(&absent), Err(Absent));
        assert_eq!(Expr::Present(0).eval(&absent), Ok(false));
        // `context has x && context.x == …`: the left side guards the right.
        let guarded = Expr::And(Box::new(Expr::Present(0)), Box::new(reads.clone()));
        assert_eq!(guarded.eval(&absent), Ok(false));
        // `false || …` reads the right side; `true || …` does not.
        let or = |left| Expr::Or(Box::new(Expr::Const(left)), Box::new(reads.clone()));
        assert_eq!(or(false).eval(&absent), Err(Absent));
        assert_eq!(or(true).eval(&absent), Ok(true));
        assert_eq!(Expr::Not(Box::new(reads)).eval(&absent), Err(Absent));
    }

    #[test]
    fn words_sets_and_facts_are_read_by_their_bits() {
        let f = frame(Some(3));
        assert_eq!(Expr::OneOf(0, 1 << 3).eval(&f), Ok(true));
        assert_eq!(Expr::OneOf(0, 1 << 2 | 1 << 4).eval(&f), Ok(false));
        assert_eq!(Expr::OneOf(0, 0).eval(&f), Ok(false));
        assert_eq!(Expr::AnyOf(0, 0b1000).eval(&f), Ok(false));
        assert_eq!(Expr::AnyOf(0, 0b0010).eval(&f), Ok(true));
        assert_eq!(Expr::AllOf(0, 0b0011).eval(&f), Ok(true));
        assert_eq!(Expr::AllOf(0, 0b0111).eval(&f), Ok(false));
        assert_eq!(Expr::AllOf(0, 0).eval(&f), Ok(true));
        assert_eq!(Expr::Fact(1).eval(&f), Ok(true));
        assert_eq!(Expr::Fact(0).eval(&f), Ok(false));
    }
}
