//! Inputs and outputs stored compressed, when the store is opened with
//! `SqliteOptions::compress_payloads` (off by default: zstd on the single writer thread costs
//! ingest about a fifth more server CPU). A payload of at least [`MIN_PACKED_BYTES`] is then
//! written as a BLOB holding one zstd frame when that is smaller than its text; shorter
//! ones, and every row written before, stay TEXT (a BLOB that is no zstd frame is refused
//! as corrupt, so another format can be told apart by its own magic number later).
//! Statements read the columns through the SQL function `spindle_payload(x)` ([`register`],
//! on every connection the store opens and the copy tool's), which answers the text either
//! way, so the shared statements and decoders never see a BLOB (`Dialect::payload`), and a
//! database written with compression on reads the same with it off.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;
use std::cell::RefCell;

/// Shorter payloads are not worth a frame's header.
const MIN_PACKED_BYTES: usize = 64;

/// zstd's fastest regular level: payloads are compressed on the write path.
const LEVEL: i32 = 1;

/// A packed payload decompresses to at most this many bytes (larger frames are refused as
/// corrupt): above every request body limit.
const MAX_UNPACKED_BYTES: u64 = 1 << 30;

thread_local! {
    /// Whether this thread's writes pack payloads: set by the writer thread as it starts
    /// ([`set_packing`]), off on every other thread.
    static PACKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// Makes [`Payload::of`] on this thread pack payloads (`on`) or keep them as text.
pub(crate) fn set_packing(on: bool) {
    PACKING.with(|packing| packing.set(on));
}

/// `text` packed, or `None` when it is kept as text (short, or not smaller packed).
pub(crate) fn pack(text: &str) -> Option<Vec<u8>> {
    if text.len() < MIN_PACKED_BYTES {
        return None;
    }
    let packed = COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        slot.as_mut()?.compress(text.as_bytes()).ok()
    })?;
    (packed.len() < text.len()).then_some(packed)
}

/// The text of a packed payload.
pub(crate) fn unpack(packed: &[u8]) -> Result<String, String> {
    let size = zstd::zstd_safe::get_frame_content_size(packed)
        .ok()
        .flatten()
        .filter(|size| *size <= MAX_UNPACKED_BYTES)
        .ok_or("not a zstd frame of known size")?;
    let bytes = DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?);
        }
        let decompressor = slot.as_mut().ok_or("no decompressor")?;
        decompressor
            .decompress(packed, size as usize)
            .map_err(|e| e.to_string())
    })?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// A payload as SQLite binds it: packed as a BLOB, else as the text itself.
pub(crate) enum Payload<'a> {
    Text(Option<&'a str>),
    Packed(Vec<u8>),
}

impl<'a> Payload<'a> {
    /// `text` as this thread writes it: packed when packing is on ([`set_packing`]) and
    /// that pays, else as text.
    pub(crate) fn of(text: Option<&'a str>) -> Self {
        let packing = PACKING.with(std::cell::Cell::get);
        match text.filter(|_| packing).and_then(pack) {
            Some(packed) => Payload::Packed(packed),
            None => Payload::Text(text),
        }
    }
}

impl rusqlite::ToSql for Payload<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Payload::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Payload::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Payload::Packed(packed) => ToSqlOutput::Borrowed(ValueRef::Blob(packed)),
        })
    }
}

/// Registers `spindle_payload(x)` on a connection: a BLOB unpacked to its text, anything
/// else as it is.
pub fn register(connection: &Connection) -> rusqlite::Result<()> {
    connection.create_scalar_function(
        "spindle_payload",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            let value = match context.get_raw(0) {
                ValueRef::Blob(packed) => unpack(packed).map(rusqlite::types::Value::Text),
                other => Ok(rusqlite::types::Value::from(other)),
            };
            value.map_err(|reason| {
                rusqlite::Error::UserFunctionError(
                    format!("stored payload is not readable: {reason}").into(),
                )
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_through_the_sql_function() {
        set_packing(true);
        let connection = Connection::open_in_memory().unwrap();
        register(&connection).unwrap();
        connection.execute_batch("CREATE TABLE p (x)").unwrap();
        let long = "the same words again and again, ".repeat(20);
        let unicode = format!("{long} ünïcødé ✓");
        let cases: [Option<&str>; 5] = [None, Some(""), Some("short"), Some(&long), Some(&unicode)];
        for text in cases {
            connection
                .execute("INSERT INTO p (x) VALUES (?1)", [Payload::of(text)])
                .unwrap();
        }
        let kinds: Vec<String> = connection
            .prepare("SELECT typeof(x) FROM p ORDER BY rowid")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(kinds, ["null", "text", "text", "blob", "blob"]);
        let read: Vec<Option<String>> = connection
            .prepare("SELECT spindle_payload(x) FROM p ORDER BY rowid")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let expected: Vec<Option<String>> = cases.iter().map(|c| c.map(str::to_owned)).collect();
        assert_eq!(read, expected);
        let found: i64 = connection
            .query_row(
                "SELECT count(*) FROM p WHERE spindle_payload(x) LIKE '%ÜNÏ%' \
                 OR spindle_payload(x) LIKE '%AGAIN, THE%'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(found, 2);
    }

    #[test]
    fn incompressible_payloads_stay_text() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let noise: String = (0..200)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + (state % 94) as u8)
            })
            .collect();
        assert!(pack(&noise).is_none());
    }

    #[test]
    fn corrupt_blobs_are_errors_not_panics() {
        let connection = Connection::open_in_memory().unwrap();
        register(&connection).unwrap();
        let mut packed = pack(&"abc ".repeat(100)).unwrap();
        packed.truncate(packed.len() / 2);
        for blob in [vec![], vec![1, 2, 3], packed] {
            let read: rusqlite::Result<Option<String>> =
                connection.query_row("SELECT spindle_payload(?1)", [blob], |row| row.get(0));
            assert!(read.is_err());
        }
    }
}
