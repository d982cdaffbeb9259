//! OpenAPI schemas of the contracts (feature `openapi`), so that the served document types
//! requests and decisions as the model reads and writes them. The structs derive theirs;
//! the types written as strings say here what a valid string is.

use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

use crate::{Date, Instant, Jurisdiction, OffenseCode};

/// A string schema with a format or pattern, and an example.
fn string(
    description: &str,
    format: Option<KnownFormat>,
    pattern: Option<&str>,
    example: &str,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .format(format.map(SchemaFormat::KnownFormat))
        .pattern(pattern)
        .examples([example])
        .into()
}

impl utoipa::PartialSchema for Instant {
    fn schema() -> RefOr<Schema> {
        string(
            "An instant in RFC 3339 with its UTC offset, in the years 1900 to 2199",
            Some(KnownFormat::DateTime),
            None,
            "2018-03-02T14:05:00-05:00",
        )
    }
}
impl utoipa::ToSchema for Instant {}

impl utoipa::PartialSchema for Date {
    fn schema() -> RefOr<Schema> {
        string(
            "A calendar date, YYYY-MM-DD, in the years 1900 to 2199",
            Some(KnownFormat::Date),
            None,
            "2014-05-01",
        )
    }
}
impl utoipa::ToSchema for Date {}

impl utoipa::PartialSchema for OffenseCode {
    fn schema() -> RefOr<Schema> {
        string(
            "An offense code: state, code and section with subdivisions, as a catalog of catalog/ names it",
            None,
            Some(r"^[A-Z]{2} [A-Z]+ [0-9][0-9a-z.\-]*[0-9a-z](\([0-9A-Za-z\-]+\))*$"),
            "NY PL 265.02(3)",
        )
    }
}
impl utoipa::ToSchema for OffenseCode {}

impl utoipa::PartialSchema for Jurisdiction {
    fn schema() -> RefOr<Schema> {
        string(
            "An Open Civic Data division id of the registry (catalog/divisions.toml)",
            None,
            Some(r"^ocd-division/country:[a-z0-9_\-.~]+(/[a-z_]+:[a-z0-9_\-.~]+)*$"),
            "ocd-division/country:us/state:ny/place:new_york",
        )
    }
}
impl utoipa::ToSchema for Jurisdiction {}
