//! Multi-row statements built at run time (placeholders only; table and column names are
//! constants of this crate), and hash columns.

use comity_ledger::Hash;
use sqlx::{AnyConnection, AssertSqlSafe};

use crate::{Backend, StoreError};

/// A value to bind.
pub(crate) enum Cell {
    Int(i64),
    Text(String),
}

/// Rows to insert into one table.
pub(crate) struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
    /// Whether a row whose key is stored already is left out, rather than failing.
    skip_existing: bool,
}

impl Table {
    /// `rows` of `columns` (each row a cell per column, in order) for table `name`.
    pub(crate) fn new(
        name: &'static str,
        columns: &'static [&'static str],
        rows: Vec<Vec<Cell>>,
    ) -> Table {
        Table {
            name,
            columns,
            rows,
            skip_existing: false,
        }
    }

    /// The same rows, leaving out those whose `id` is stored already.
    pub(crate) fn skipping_existing(self) -> Table {
        Table {
            skip_existing: true,
            ..self
        }
    }

    /// What the table's `INSERT` ends with.
    fn conflict_clause(&self) -> &'static str {
        if self.skip_existing {
            " ON CONFLICT (id) DO NOTHING"
        } else {
            ""
        }
    }
}

/// Inserts the rows of every table; a table's rows may refer to an earlier table's.
///
/// SQLite runs in the process: a multi-row `INSERT` per table costs no round trip.
/// PostgreSQL is a round trip away: every table goes in one statement, a chain of
/// data-modifying `WITH` queries (foreign keys are checked when the statement ends), each
/// column of a table one text parameter that PostgreSQL splits into an array, so that the
/// statement's text does not change with the number of rows and stays prepared. (sqlx's
/// `Any` driver binds no arrays; JSON parameters cost PostgreSQL a quarter of its time
/// unescaping them.)
pub(crate) async fn insert_all(
    conn: &mut AnyConnection,
    tables: Vec<Table>,
) -> Result<(), StoreError> {
    let tables: Vec<Table> = tables.into_iter().filter(|t| !t.rows.is_empty()).collect();
    if !Backend::of(conn).inserts_as_arrays() {
        for t in tables {
            insert(conn, t).await?;
        }
        return Ok(());
    }
    let mut param = 0;
    let mut statements: Vec<String> = tables
        .iter()
        .map(|t| {
            let first = param + 1;
            param += t.columns.len();
            unnest_insert(t, first)
        })
        .collect::<Vec<_>>();
    let Some(main) = statements.pop() else {
        return Ok(());
    };
    let sql = if statements.is_empty() {
        main
    } else {
        let with: Vec<String> = statements
            .iter()
            .enumerate()
            .map(|(i, s)| format!("t{i} AS ({s})"))
            .collect();
        format!("WITH {} {main}", with.join(", "))
    };
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for t in &tables {
        for column in 0..t.columns.len() {
            query = query.bind(joined(t, column)?);
        }
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// `INSERT INTO table … SELECT … FROM unnest(…)`: each column of `t` one text parameter
/// (from `$first` on) that PostgreSQL splits into an array.
fn unnest_insert(t: &Table, first: usize) -> String {
    let arrays: Vec<String> = (0..t.columns.len())
        .map(|i| format!("(string_to_array(${}, chr(30)))[2:]", first + i))
        .collect();
    let values: Vec<String> = t.rows[0]
        .iter()
        .enumerate()
        .map(|(i, cell)| match cell {
            Cell::Int(_) => format!("x{i}::bigint"),
            Cell::Text(_) => format!("x{i}"),
        })
        .collect();
    let names: Vec<String> = (0..t.columns.len()).map(|i| format!("x{i}")).collect();
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS x({}){}",
        t.name,
        t.columns.join(", "),
        values.join(", "),
        arrays.join(", "),
        names.join(", "),
        t.conflict_clause()
    )
}

/// A column of a table's rows as one text: each value after the record separator, which
/// none may hold (JSON text, hashes, numbers, times and validated names cannot).
fn joined(table: &Table, column: usize) -> Result<String, StoreError> {
    let mut out = String::new();
    for row in &table.rows {
        out.push(RECORD);
        match &row[column] {
            Cell::Int(v) => out.push_str(&v.to_string()),
            Cell::Text(v) if v.contains(RECORD) => {
                return Err(StoreError::Corrupt(format!(
                    "a value for {}.{} holds the record separator (U+001E)",
                    table.name, table.columns[column]
                )));
            }
            Cell::Text(v) => out.push_str(v),
        }
    }
    Ok(out)
}

/// Most placeholders in one SQLite statement: within its 32,766, so that a batch of a
/// thousand rows is one statement (with anonymous placeholders a statement's cost grows with
/// its size, not faster; docs/perf.md).
const MAX_PARAMS: usize = 30_000;

/// `INSERT INTO table (columns) VALUES (…), (…), …` in as few statements as the placeholder
/// limit allows (for SQLite; PostgreSQL takes every table at once, see [`insert_all`]).
async fn insert(conn: &mut AnyConnection, table: Table) -> Result<(), sqlx::Error> {
    let backend = Backend::of(conn);
    let conflict = table.conflict_clause();
    let Table {
        name,
        columns,
        rows,
        ..
    } = table;
    let per_statement = (MAX_PARAMS / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per_statement).collect();
        let marks = backend.marks(chunk.len() * columns.len());
        let values: Vec<String> = marks
            .chunks(columns.len())
            .map(|row| format!("({})", row.join(", ")))
            .collect();
        let sql = format!(
            "INSERT INTO {name} ({}) VALUES {}{conflict}",
            columns.join(", "),
            values.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for cell in chunk.into_iter().flatten() {
            query = match cell {
                Cell::Int(v) => query.bind(v),
                Cell::Text(v) => query.bind(v),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A stored hash column.
pub(crate) fn hash(text: &str, what: impl FnOnce() -> String) -> Result<Hash, StoreError> {
    comity_ledger::from_hex(text)
        .map_err(|_| StoreError::Corrupt(format!("{}: `{text}` is not a SHA-256 hash", what())))
}

/// Separates fields within a record, and records within a page, in aggregated reads. Neither
/// can occur raw in the values read: hex, numbers, words, and JSON text (in which control
/// characters are always escaped).
const FIELD: char = '\u{1f}';
const RECORD: char = '\u{1e}';

/// Reads up to `limit` rows of `fields` from `from` (a table, with joins) whose `key` (the
/// first field) lies strictly between `after` and `before`, in key order, as one aggregated
/// value. sqlx's cost
/// per row returned (several microseconds) exceeds SQLite's own; one row per page makes long
/// scans several times faster.
pub(crate) async fn records(
    conn: &mut AnyConnection,
    backend: Backend,
    fields: &[&str],
    from: &str,
    (after, before): (i64, i64),
    limit: i64,
) -> Result<Page, StoreError> {
    let key = fields[0];
    let aliases: Vec<String> = (0..fields.len()).map(|i| format!("c{i}")).collect();
    let selected: Vec<String> = fields
        .iter()
        .zip(&aliases)
        .map(|(f, a)| format!("{f} AS {a}"))
        .collect();
    let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let sql = format!(
        "SELECT {} FROM (SELECT {} FROM {from} WHERE {key} > $1 AND {key} < $2 ORDER BY {key} LIMIT $3) AS page",
        aggregate(backend, &aliases),
        selected.join(", ")
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(after)
        .bind(before)
        .bind(limit)
        .fetch_one(&mut *conn)
        .await?;
    Page::new(sqlx::Row::get::<Option<String>, _>(&row, 0))
}

/// A page of rows read as one aggregated value, its fields borrowed from it rather than
/// copied out.
pub(crate) struct Page {
    text: String,
    /// Each row's fields, as byte ranges of `text`, in key order.
    rows: Vec<Vec<(usize, usize)>>,
}

impl Page {
    /// The page in an aggregated value (`None` when no row was read).
    pub(crate) fn new(value: Option<String>) -> Result<Page, StoreError> {
        let text = value.unwrap_or_default();
        let mut rows = Vec::new();
        let mut start = 0;
        // An empty aggregate is no rows (not one row with one empty field).
        let records = text
            .split(RECORD)
            .take(if text.is_empty() { 0 } else { usize::MAX });
        for record in records {
            let mut fields = Vec::new();
            let mut at = start;
            for field in record.split(FIELD) {
                fields.push((at, at + field.len()));
                at += field.len() + FIELD.len_utf8();
            }
            start += record.len() + RECORD.len_utf8();
            rows.push(fields);
        }
        let mut page = Page { text, rows };
        // An aggregate's order is not guaranteed: put the page back in key order.
        let keys = page
            .rows
            .iter()
            .map(|r| parse_id(&page.text[r[0].0..r[0].1]))
            .collect::<Result<Vec<_>, _>>()?;
        if !keys.is_sorted() {
            let mut keyed: Vec<_> = keys
                .into_iter()
                .zip(std::mem::take(&mut page.rows))
                .collect();
            keyed.sort_by_key(|(k, _)| *k);
            page.rows = keyed.into_iter().map(|(_, r)| r).collect();
        }
        Ok(page)
    }

    /// The rows, each as its fields.
    pub(crate) fn rows(&self) -> impl Iterator<Item = Vec<&str>> {
        self.rows
            .iter()
            .map(|r| r.iter().map(|&(a, b)| &self.text[a..b]).collect())
    }
}

/// The aggregate of `fields` over the rows selected, as one text value: fields joined by
/// the unit separator, rows by the record separator, in the order the rows are read.
pub(crate) fn aggregate(backend: Backend, fields: &[&str]) -> String {
    backend.aggregate(fields, u32::from(FIELD), u32::from(RECORD))
}

/// An integer read back from an aggregated value.
pub(crate) fn parse_id(text: &str) -> Result<i64, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("`{text}` is not an integer key")))
}
