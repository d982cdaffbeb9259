//! The vocabulary of requests and decisions in the words a desk officer reads.

use comity_model::{Act, Outcome};

/// What asking for `act` means, as a phrase after "asks to".
pub fn act_phrase(act: Act) -> &'static str {
    match act {
        Act::Hold => "hold the person past release",
        Act::Transfer => "hand the person over at release",
        Act::NotifyRelease => "be told when the person will be released",
        Act::NotifyCourtDate => "be told when the person will be in court",
        Act::ShareRecords => "receive records about the person",
        Act::ShareStatus => "receive citizenship or immigration status information",
        Act::FacilityAccess => "enter a facility",
        Act::OfficeSpace => "have an office on the agency's land",
        Act::CourthouseArrest => "arrest the person in or around a courthouse",
        Act::WarrantCheck => "be queried while warrants are verified before court",
        Act::Agreement287g => "enter or keep a 287(g) agreement",
    }
}

/// The outcome as the word shown with its colour, and the start of a sentence saying it
/// ("The agency must do what is asked").
pub fn outcome_words(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Required => ("Required", "The agency must do what is asked"),
        Outcome::Permitted => ("Permitted", "The agency may do what is asked"),
        Outcome::Forbidden => ("Forbidden", "The agency must not do what is asked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_act_has_words_of_its_own() {
        let phrases: std::collections::BTreeSet<&str> =
            Act::ALL.iter().map(|a| act_phrase(*a)).collect();
        assert_eq!(phrases.len(), Act::ALL.len());
    }
}
