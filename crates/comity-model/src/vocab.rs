//! The closed vocabularies of `docs/formats.md`: every kind, act and class a request may name.
//!
//! Each vocabulary is an enum whose wire names are listed once, here; the same list feeds
//! serde (an unknown word is an error that names it and the words allowed) and the Cedar
//! schema (each vocabulary is an enumerated entity type, so a misspelt word in a policy
//! fails validation).

use std::str::FromStr;

/// A closed vocabulary: an enum whose values have fixed wire names.
pub trait Vocabulary: Copy + Eq + Sized + 'static {
    /// The name of the vocabulary (also the Cedar entity type that holds its words).
    const NAME: &'static str;
    /// Every value, in the order `docs/formats.md` lists them.
    const ALL: &'static [Self];
    /// The wire name of this value.
    fn as_str(self) -> &'static str;
    /// Every wire name, in order.
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.as_str()).collect()
    }
    /// The value with this wire name.
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// An unknown word for a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} `{value}` (expected one of: {})", expected.join(", "))]
pub struct UnknownWord {
    /// The vocabulary asked.
    pub vocabulary: &'static str,
    /// The word given.
    pub value: String,
    /// The words allowed.
    pub expected: Vec<&'static str>,
}

/// Declares an enum of fixed words: each variant's word (`as_str`), every variant in order
/// (`ALL`), `Display` and `FromStr` by the word (an unknown word is an [`UnknownWord`]
/// naming the words allowed), and serde as the word. For the words comity stores, hashes
/// or sends (entry kinds, verdicts, API actions) as much as for the vocabularies of requests.
///
/// ```
/// comity_model::words! {
///     /// A traffic light.
///     pub enum Light: "light" { Red = "red", Green = "green", }
/// }
/// assert_eq!("green".parse::<Light>().unwrap(), Light::Green);
/// assert_eq!(Light::ALL, [Light::Red, Light::Green]);
/// assert!("blue".parse::<Light>().unwrap_err().to_string().contains("red, green"));
/// ```
#[macro_export]
macro_rules! words {
    ($(#[$meta:meta])* $vis:vis enum $name:ident : $what:literal { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: &'static [$name] = &[$(Self::$variant,)+];

            /// The word of this value.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownWord;
            fn from_str(s: &str) -> Result<Self, $crate::UnknownWord> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    $crate::UnknownWord {
                        vocabulary: $what,
                        value: s.to_owned(),
                        expected: Self::ALL.iter().map(|v| v.as_str()).collect(),
                    }
                })
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::deserialize_word(d)
            }
        }
    };
}

/// Deserializes a word of a [`words!`] enum (the one serde implementation they share).
#[doc(hidden)]
pub fn deserialize_word<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr<Err = UnknownWord>,
{
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// A vocabulary of requests: [`words!`], and its [`Vocabulary`] (a Cedar entity type) and
/// OpenAPI schema.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident : $cedar:literal { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $crate::words! {
            $(#[$meta])*
            pub enum $name : $cedar { $($(#[$vmeta])* $variant = $wire,)+ }
        }

        impl Vocabulary for $name {
            const NAME: &'static str = $cedar;
            const ALL: &'static [Self] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

vocabulary! {
    /// What a request asks the local agency to do (`docs/formats.md`, `acts`).
    Act: "Act" {
        /// Keep the person in custody past release.
        Hold = "hold",
        /// Hand the person to the requesting agency at release.
        Transfer = "transfer",
        /// Tell the requesting agency when the person will be released.
        NotifyRelease = "notify-release",
        /// Tell the requesting agency when the person will be in court.
        NotifyCourtDate = "notify-court-date",
        /// Share records about the person.
        ShareRecords = "share-records",
        /// Share citizenship or immigration status information.
        ShareStatus = "share-status",
        /// Let the requesting agency's officers into a facility.
        FacilityAccess = "facility-access",
        /// Give the requesting agency an office on the agency's land.
        OfficeSpace = "office-space",
        /// Allow or assist an arrest in or around a courthouse.
        CourthouseArrest = "courthouse-arrest",
        /// Query another agency while verifying warrants before a court appearance.
        WarrantCheck = "warrant-check",
        /// Enter or keep an agreement under 8 U.S.C. § 1357(g).
        Agreement287g = "agreement-287g",
    }
}

vocabulary! {
    /// The kind of agency a request comes from, or a disclosure goes to.
    AgencyKind: "AgencyKind" {
        /// ICE, CBP and other federal civil immigration authorities.
        FederalImmigration = "federal-immigration",
        /// Other federal agencies (FBI, DEA, U.S. Marshals).
        FederalOther = "federal-other",
        /// A state agency.
        State = "state",
        /// A local agency.
        Local = "local",
        /// A court.
        Court = "court",
    }
}

vocabulary! {
    /// The kind of local agency asked to act.
    LocalKind: "LocalKind" {
        /// A police department.
        Police = "police",
        /// A department of correction or jail.
        Corrections = "corrections",
        /// A probation department.
        Probation = "probation",
        /// A court or its administration.
        Court = "court",
        /// A sheriff.
        Sheriff = "sheriff",
        /// A state executive agency.
        StateAgency = "state-agency",
    }
}

vocabulary! {
    /// The form a request came on.
    Form: "Form" {
        /// Immigration Detainer – Notice of Action (from 2017-04-02).
        I247A = "I-247A",
        /// Immigration Detainer – Request for Voluntary Action (PEP, 2015–2017).
        I247D = "I-247D",
        /// Request for Voluntary Notification of Release (PEP, 2015–2017).
        I247N = "I-247N",
        /// Request for Voluntary Transfer (PEP, 2015–2017).
        I247X = "I-247X",
        /// Order to Detain or Release Alien.
        I203 = "I-203",
        /// A letter.
        Letter = "letter",
        /// A telephone call.
        Call = "call",
    }
}

vocabulary! {
    /// A ground the request itself states (never inferred).
    Basis: "Basis" {
        /// A final order of removal.
        FinalOrderOfRemoval = "final-order-of-removal",
        /// Pending removal proceedings.
        PendingRemovalProceedings = "pending-removal-proceedings",
        /// A biometric match with federal databases.
        BiometricMatch = "biometric-match",
        /// The person's statements or other reliable evidence.
        Statements = "statements",
    }
}

vocabulary! {
    /// The purpose a request states.
    Purpose: "Purpose" {
        /// Enforcement of civil immigration law.
        CivilImmigration = "civil-immigration",
        /// A criminal investigation.
        CriminalInvestigation = "criminal-investigation",
        /// Anything else.
        Other = "other",
    }
}

vocabulary! {
    /// Who issued the warrant that comes with a request.
    WarrantKind: "WarrantKind" {
        /// An Article III judge or a U.S. magistrate judge (28 U.S.C. § 631).
        Judicial = "judicial",
        /// An immigration judge's order: not judicial.
        ImmigrationJudge = "immigration-judge",
        /// An immigration officer's warrant (I-200, I-205).
        Administrative = "administrative",
        /// No warrant.
        None = "none",
    }
}

vocabulary! {
    /// The form of an administrative warrant.
    WarrantForm: "WarrantForm" {
        /// Warrant for Arrest of Alien.
        I200 = "I-200",
        /// Warrant of Removal/Deportation.
        I205 = "I-205",
    }
}

vocabulary! {
    /// Whether a warrant is for a civil or a criminal violation.
    Violation: "Violation" {
        /// A civil violation.
        Civil = "civil",
        /// A criminal violation.
        Criminal = "criminal",
    }
}

vocabulary! {
    /// Where the person is.
    CustodyStatus: "CustodyStatus" {
        /// In the agency's custody.
        InCustody = "in-custody",
        /// Released.
        Released = "released",
        /// Never in the agency's custody.
        NotInCustody = "not-in-custody",
    }
}

vocabulary! {
    /// The court system of a court event.
    CourtSystem: "CourtSystem" {
        /// New York's Unified Court System (state, city and municipal courts).
        NyUcs = "ny-ucs",
        /// Another state's courts.
        State = "state",
        /// Federal courts.
        Federal = "federal",
        /// Immigration courts (EOIR).
        Immigration = "immigration",
    }
}

vocabulary! {
    /// Whether an arrest is civil or criminal.
    ArrestType: "ArrestType" {
        /// A civil arrest, such as a civil immigration arrest.
        Civil = "civil",
        /// A criminal arrest.
        Criminal = "criminal",
    }
}

vocabulary! {
    /// Where an arrest would happen relative to a court proceeding.
    ArrestLocation: "ArrestLocation" {
        /// Inside the courthouse.
        Inside = "inside",
        /// Going to the proceeding.
        GoingTo = "going-to",
        /// At (remaining at) the proceeding.
        At = "at",
        /// Returning from the proceeding.
        ReturningFrom = "returning-from",
        /// Elsewhere.
        Elsewhere = "elsewhere",
    }
}

vocabulary! {
    /// The person's role in the court proceeding.
    ArrestRole: "ArrestRole" {
        /// A party.
        Party = "party",
        /// A potential witness.
        Witness = "witness",
        /// A family or household member of a party or witness.
        Family = "family",
        /// Anyone else.
        Other = "other",
    }
}

vocabulary! {
    /// A field a disclosure would carry.
    RecordField: "RecordField" {
        /// Name and identifiers.
        Identity = "identity",
        /// Release date and time.
        ReleaseDate = "release-date",
        /// Court dates.
        CourtDate = "court-date",
        /// Custody status.
        CustodyStatus = "custody-status",
        /// What the agency knows of the person's immigration status: whether proof of
        /// citizenship or lawful status was shown (`subject.status_proof_shown`,
        /// `subject.citizenship_proof_shown`).
        ImmigrationStatus = "immigration-status",
        /// Home or work address.
        Address = "address",
        /// Criminal history.
        CriminalHistory = "criminal-history",
        /// Anything else.
        Other = "other",
    }
}

vocabulary! {
    /// How a case was adjudicated.
    Adjudication: "Adjudication" {
        /// A conviction (a judgment under CPL 1.20(15)).
        Conviction = "conviction",
        /// A youthful-offender adjudication (CPL art. 720).
        YouthfulOffender = "youthful-offender",
        /// A juvenile-delinquency adjudication (FCA 301.2(1)).
        JuvenileDelinquent = "juvenile-delinquent",
    }
}

vocabulary! {
    /// The class of an offense.
    OffenseClass: "OffenseClass" {
        /// New York class A-I felony.
        AIFelony = "A-I-felony",
        /// New York class A-II felony.
        AIIFelony = "A-II-felony",
        /// New York class B felony.
        BFelony = "B-felony",
        /// New York class C felony.
        CFelony = "C-felony",
        /// New York class D felony.
        DFelony = "D-felony",
        /// New York class E felony.
        EFelony = "E-felony",
        /// Class A misdemeanor (New York, Texas).
        AMisdemeanor = "A-misdemeanor",
        /// Class B misdemeanor (New York, Texas).
        BMisdemeanor = "B-misdemeanor",
        /// New York unclassified misdemeanor.
        UnclassifiedMisdemeanor = "unclassified-misdemeanor",
        /// New York violation.
        Violation = "violation",
        /// A felony, in states that do not grade them.
        Felony = "felony",
        /// A misdemeanor, in states that do not grade them.
        Misdemeanor = "misdemeanor",
        /// An infraction.
        Infraction = "infraction",
        /// Texas capital felony (Penal Code § 12.31).
        CapitalFelony = "capital-felony",
        /// Texas felony of the first degree (Penal Code § 12.32).
        FirstDegreeFelony = "first-degree-felony",
        /// Texas felony of the second degree (Penal Code § 12.33).
        SecondDegreeFelony = "second-degree-felony",
        /// Texas felony of the third degree (Penal Code § 12.34).
        ThirdDegreeFelony = "third-degree-felony",
        /// Texas state jail felony (Penal Code § 12.35).
        StateJailFelony = "state-jail-felony",
        /// Texas Class C misdemeanor (Penal Code § 12.23), punishable by fine only.
        CMisdemeanor = "C-misdemeanor",
    }
}

impl OffenseClass {
    /// Whether this class is a felony.
    pub fn is_felony(self) -> bool {
        use OffenseClass::*;
        matches!(
            self,
            AIFelony
                | AIIFelony
                | BFelony
                | CFelony
                | DFelony
                | EFelony
                | Felony
                | CapitalFelony
                | FirstDegreeFelony
                | SecondDegreeFelony
                | ThirdDegreeFelony
                | StateJailFelony
        )
    }

    /// Whether this class is a misdemeanor.
    pub fn is_misdemeanor(self) -> bool {
        use OffenseClass::*;
        matches!(
            self,
            AMisdemeanor | BMisdemeanor | CMisdemeanor | UnclassifiedMisdemeanor | Misdemeanor
        )
    }
}

vocabulary! {
    /// What an agency did on a request after it was decided (`docs/formats.md`, "Events").
    EventKind: "EventKind" {
        /// The person was kept in custody past the time of release, on the request.
        Held = "held",
        /// The person was released from custody.
        Released = "released",
        /// The person was handed over to the requesting agency.
        Transferred = "transferred",
        /// A hold ended because its time ran out, and the person was released.
        HoldExpired = "hold-expired",
        /// The requesting agency said it would not take custody, and the person was released.
        CustodyDisavowed = "custody-disavowed",
        /// The agency answered the request itself (a release date, a court date, records),
        /// outside comity's dispatcher.
        ResponseSent = "response-sent",
    }
}

vocabulary! {
    /// What kind of State agency a `state-agency` is (`to.state_agency`).
    StateAgency: "StateAgency" {
        /// The State's police (New York State Police, California Highway Patrol).
        StatePolice = "state-police",
        /// The State's prisons (New York DOCCS, California CDCR).
        StateCorrections = "state-corrections",
        /// Any other State agency.
        Other = "other",
    }
}

vocabulary! {
    /// A later reduction of a conviction's class (`convictions[].reduced`).
    Reduction: "Reduction" {
        /// A California felony reduced to a misdemeanor under Proposition 47 (2014),
        /// Penal Code § 1170.18.
        Prop47 = "prop-47",
    }
}

vocabulary! {
    /// An inchoate form of an offense: the conviction is for attempting, conspiring to
    /// commit, soliciting or facilitating the offense named.
    Inchoate: "Inchoate" {
        /// Attempt (NY PL art. 110; CA PC 664).
        Attempt = "attempt",
        /// Conspiracy (NY PL art. 105; CA PC 182).
        Conspiracy = "conspiracy",
        /// Criminal solicitation (NY PL art. 100; CA PC 653f).
        Solicitation = "solicitation",
        /// Criminal facilitation (NY PL art. 115).
        Facilitation = "facilitation",
    }
}

impl Act {
    /// Whether the act tells its recipient something (a notice or a disclosure of records),
    /// so that the law in force must say what it may carry; the other acts are carried out
    /// by people and send nothing.
    pub fn tells(self) -> bool {
        matches!(
            self,
            Act::NotifyRelease
                | Act::NotifyCourtDate
                | Act::ShareStatus
                | Act::ShareRecords
                | Act::WarrantCheck
        )
    }

    /// Whether what the act carries is the records the request asks (`records`), within what
    /// the law allows; an act that tells without this carries all the law allows it.
    pub fn carries_asked_records(self) -> bool {
        matches!(self, Act::ShareRecords | Act::WarrantCheck)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for act in Act::ALL {
            assert_eq!(act.as_str().parse::<Act>().unwrap(), *act);
        }
        assert_eq!(
            "A-II-felony".parse::<OffenseClass>().unwrap(),
            OffenseClass::AIIFelony
        );
    }

    #[test]
    fn unknown_word_names_value_and_choices() {
        let err = "hodl".parse::<Act>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`hodl`"), "{text}");
        assert!(text.contains("hold, transfer"), "{text}");
    }
}
