//! Inputs and outputs stored compressed (on by default, `SqliteOptions::compress_payloads`).
//! A payload of at least [`MIN_PACKED_BYTES`] is written as a BLOB holding one zstd frame
//! when that is smaller than its text; shorter ones, and every row written with compression
//! off, stay TEXT (a BLOB that is no zstd frame is refused as corrupt, so another format can
//! be told apart by its own magic number later).
//!
//! Frames are made with a dictionary trained on the database's own first payloads
//! ([`Packer`]): about a third smaller than without one, and cheaper to make. Until a
//! database has one, payloads are packed without a dictionary. A frame names its dictionary
//! by zstd's dictionary id (made from the dictionary's content); the dictionaries live in
//! `payload_dictionaries`, each written in the transaction of the first payloads packed with
//! it, so a committed payload always has its dictionary.
//!
//! The writer thread does not compress what it can avoid: [`Packer::pack_ahead`] packs a
//! batch's payloads on the blocking pool before the batch is queued, and the writer binds
//! those bytes when the merged value is the text that was packed ([`Prepacked`]); only
//! values a merge changed are packed on the writer thread.
//!
//! Statements read the columns through the SQL function `spindle_payload(x)` ([`register`],
//! on every connection the store opens and the copy tool's), which answers the text either
//! way, so the shared statements and decoders never see a BLOB (`Dialect::payload`), and a
//! database written with compression on reads the same with it off.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension};
use rustc_hash::FxHashMap;
use spindle_core::{ObservationRecord, TraceRecord, WriteBatch};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// Shorter payloads are not worth a frame's header.
const MIN_PACKED_BYTES: usize = 64;

/// zstd's fastest regular level: with a dictionary it packs the benchmark's payloads to
/// about 0.29 of their size (level 3: 0.27 for a tenth more CPU).
const LEVEL: i32 = 1;

/// A packed payload decompresses to at most this many bytes (larger frames are refused as
/// corrupt): above every request body limit.
const MAX_UNPACKED_BYTES: u64 = 1 << 30;

/// Payloads kept to train a database's dictionary.
const TRAINING_SAMPLES: usize = 1000;

/// Bytes of payload text kept to train a dictionary, at most.
const TRAINING_BYTES: usize = 2 << 20;

/// The size of a trained dictionary: on the benchmark's payloads 16 KiB packs as well as 64.
const DICTIONARY_BYTES: usize = 16 << 10;

/// The dictionaries this process has seen, by id. Ids are made from the dictionaries'
/// content, so this is a cache whatever the database: a store adds its database's
/// dictionaries when it opens and each one it trains before packing with it, and the copy
/// tool's [`register`] adds those of the database it reads.
fn known_dictionaries() -> &'static RwLock<HashMap<u32, Arc<[u8]>>> {
    static KNOWN: OnceLock<RwLock<HashMap<u32, Arc<[u8]>>>> = OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

fn known_dictionary(id: u32) -> Option<Arc<[u8]>> {
    let known = known_dictionaries()
        .read()
        .unwrap_or_else(|e| e.into_inner());
    known.get(&id).cloned()
}

fn remember_dictionary(id: u32, dictionary: Arc<[u8]>) {
    let mut known = known_dictionaries()
        .write()
        .unwrap_or_else(|e| e.into_inner());
    known.entry(id).or_insert(dictionary);
}

thread_local! {
    /// This thread's compressor, with the id of its dictionary (0: none).
    static COMPRESSOR: RefCell<Option<(u32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
    /// This thread's decompressors, by dictionary id (0: none).
    static DECOMPRESSORS: RefCell<HashMap<u32, zstd::bulk::Decompressor<'static>>> =
        RefCell::new(HashMap::new());
}

/// `text` packed with `dictionary` (`(id, bytes)`, or none), or `None` when it is kept as
/// text (short, or not smaller packed).
fn pack_with(text: &str, dictionary: Option<&(u32, Arc<[u8]>)>) -> Option<Vec<u8>> {
    if text.len() < MIN_PACKED_BYTES {
        return None;
    }
    let id = dictionary.map_or(0, |(id, _)| *id);
    let packed = COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().map(|(current, _)| *current) != Some(id) {
            let compressor = match dictionary {
                Some((_, bytes)) => zstd::bulk::Compressor::with_dictionary(LEVEL, bytes),
                None => zstd::bulk::Compressor::new(LEVEL),
            };
            *slot = Some((id, compressor.ok()?));
        }
        let (_, compressor) = slot.as_mut()?;
        compressor.compress(text.as_bytes()).ok()
    })?;
    (packed.len() < text.len()).then_some(packed)
}

/// `text` packed without a dictionary, or `None` (see [`pack_with`]).
#[cfg(test)]
pub(crate) fn pack(text: &str) -> Option<Vec<u8>> {
    pack_with(text, None)
}

/// The text of a packed payload.
pub(crate) fn unpack(packed: &[u8]) -> Result<String, String> {
    let size = zstd::zstd_safe::get_frame_content_size(packed)
        .ok()
        .flatten()
        .filter(|size| *size <= MAX_UNPACKED_BYTES)
        .ok_or("not a zstd frame of known size")?;
    let id = zstd::zstd_safe::get_dict_id_from_frame(packed).map_or(0, |id| id.get());
    let bytes = DECOMPRESSORS.with(|cell| {
        let mut decompressors = cell.borrow_mut();
        let decompressor = match decompressors.entry(id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let decompressor = if id == 0 {
                    zstd::bulk::Decompressor::new()
                } else {
                    let dictionary =
                        known_dictionary(id).ok_or_else(|| format!("unknown dictionary {id}"))?;
                    zstd::bulk::Decompressor::with_dictionary(&dictionary)
                };
                entry.insert(decompressor.map_err(|e| e.to_string())?)
            }
        };
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
    Prepacked(&'a [u8]),
}

impl rusqlite::ToSql for Payload<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Payload::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Payload::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Payload::Packed(packed) => ToSqlOutput::Borrowed(ValueRef::Blob(packed)),
            Payload::Prepacked(packed) => ToSqlOutput::Borrowed(ValueRef::Blob(packed)),
        })
    }
}

/// How a store packs payloads: its database's current dictionary, the samples it keeps to
/// train one, and the dictionaries not yet written to the database.
pub(crate) struct Packer {
    /// The dictionary payloads are packed with: `(id, bytes)`, or none yet.
    current: RwLock<Option<(u32, Arc<[u8]>)>>,
    /// Payloads kept to train the first dictionary; `None` once one is trained or loaded
    /// (or training failed).
    samples: Mutex<Option<Vec<String>>>,
    /// Dictionaries made current but not yet committed: the writer adds them to
    /// `payload_dictionaries` in each transaction until one commits ([`Packer::save`]).
    unsaved: Mutex<Vec<(u32, Arc<[u8]>)>>,
}

impl Packer {
    /// The packer of the database `connection` is open on (after its migrations): its newest
    /// dictionary current, every one of them known to this process.
    pub(crate) fn load(connection: &Connection) -> rusqlite::Result<Arc<Packer>> {
        let dictionaries = load_dictionaries(connection)?;
        let current = dictionaries.last().cloned();
        let samples = current.is_none().then(Vec::new);
        Ok(Arc::new(Packer {
            current: RwLock::new(current),
            samples: Mutex::new(samples),
            unsaved: Mutex::new(Vec::new()),
        }))
    }

    fn current(&self) -> Option<(u32, Arc<[u8]>)> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `text` packed with the current dictionary, or `None` when it is kept as text; while
    /// the database has no dictionary, `text` may be kept as a training sample.
    pub(crate) fn pack(self: &Arc<Self>, text: &str) -> Option<Vec<u8>> {
        if text.len() < MIN_PACKED_BYTES {
            return None;
        }
        let current = self.current();
        if current.is_none() {
            self.sample(text);
        }
        pack_with(text, current.as_ref())
    }

    /// Keeps `text` to train a dictionary; the sample that completes the set starts the
    /// training on a thread of its own.
    fn sample(self: &Arc<Self>, text: &str) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let Some(kept) = samples.as_mut() else {
            return;
        };
        kept.push(text.to_owned());
        let bytes: usize = kept.iter().map(String::len).sum();
        if kept.len() < TRAINING_SAMPLES && bytes < TRAINING_BYTES {
            return;
        }
        let Some(kept) = samples.take() else {
            return;
        };
        drop(samples);
        let packer = Arc::clone(self);
        let started = std::thread::Builder::new()
            .name("spindle-dictionary".to_owned())
            .spawn(move || packer.train(&kept));
        if let Err(error) = started {
            tracing::warn!(%error, "cannot start training a payload dictionary");
        }
    }

    /// Trains a dictionary on `samples` and makes it current (after it is known to this
    /// process and queued to be saved, so no payload is packed with a dictionary that
    /// cannot be read or would not be committed with it).
    fn train(&self, samples: &[String]) {
        let trained = match zstd::dict::from_samples(samples, DICTIONARY_BYTES) {
            Ok(trained) => trained,
            Err(error) => {
                tracing::warn!(%error, samples = samples.len(), "no payload dictionary trained");
                return;
            }
        };
        let Some(id) = zstd::zstd_safe::get_dict_id_from_dict(&trained) else {
            tracing::warn!("the trained payload dictionary has no id");
            return;
        };
        let dictionary: Arc<[u8]> = trained.into();
        remember_dictionary(id.get(), Arc::clone(&dictionary));
        self.unsaved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id.get(), Arc::clone(&dictionary)));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some((id.get(), dictionary));
        tracing::info!(
            dictionary = id.get(),
            samples = samples.len(),
            "payload dictionary trained"
        );
    }

    /// Writes the dictionaries not yet committed into `transaction` (before the payloads
    /// packed with them); returns their ids, to pass to [`Packer::saved`] once it commits.
    pub(crate) fn save(&self, transaction: &Connection, now: i64) -> rusqlite::Result<Vec<u32>> {
        let unsaved = self
            .unsaved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (id, dictionary) in &unsaved {
            transaction.execute(
                "INSERT INTO payload_dictionaries (id, created_at, dictionary) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (id) DO NOTHING",
                rusqlite::params![i64::from(*id), now, &dictionary[..]],
            )?;
        }
        Ok(unsaved.into_iter().map(|(id, _)| id).collect())
    }

    /// Marks the dictionaries `ids` as committed.
    pub(crate) fn saved(&self, ids: &[u32]) {
        if ids.is_empty() {
            return;
        }
        self.unsaved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| !ids.contains(id));
    }

    /// Packs the inputs and outputs of `batch`'s traces and observations, for the writer to
    /// bind as they are when the merged values are these texts. Runs off the writer thread.
    /// A text the batch holds more than once (a root span's input is also its trace's) is
    /// packed once.
    pub(crate) fn pack_ahead(self: &Arc<Self>, batch: &WriteBatch) -> Prepacked {
        let mut prepacked = Prepacked::default();
        // Each distinct text of at least `MIN_PACKED_BYTES`: its index in `prepacked.packed`,
        // or none when it stays text.
        let mut seen: FxHashMap<&str, Option<usize>> = FxHashMap::default();
        for (position, text) in payload_fields(batch).enumerate() {
            let Some(text) = text.filter(|text| text.len() >= MIN_PACKED_BYTES) else {
                continue;
            };
            let packed = match seen.get(text) {
                Some(earlier) => earlier.map(|index| prepacked.packed[index].1.clone()),
                None => {
                    let packed = self.pack(text);
                    seen.insert(text, packed.as_ref().map(|_| prepacked.packed.len()));
                    packed
                }
            };
            if let Some(packed) = packed {
                prepacked.packed.push((position, packed));
            }
        }
        prepacked
    }
}

/// The inputs and outputs of `batch`'s traces, then of its observations.
fn payload_fields(batch: &WriteBatch) -> impl Iterator<Item = Option<&str>> {
    let traces = batch
        .traces
        .iter()
        .flat_map(|t: &TraceRecord| [t.input.as_deref(), t.output.as_deref()]);
    let observations = batch
        .observations
        .iter()
        .flat_map(|o: &ObservationRecord| [o.input.as_deref(), o.output.as_deref()]);
    traces.chain(observations)
}

/// A batch's payloads packed ahead ([`Packer::pack_ahead`]), by their position in
/// [`payload_fields`] (the texts kept as text left out).
#[derive(Default)]
pub(crate) struct Prepacked {
    packed: Vec<(usize, Vec<u8>)>,
}

/// What a write group's batches packed ahead, found by text: the writer binds these bytes
/// for a merged value equal to the text packed (the batch's own string when one patch made
/// the row, a copy of it after a merge).
///
/// A lookup costs one hash whatever the group holds: the batch's own strings are found by
/// their address, and copies by content in a map built at the first copy looked up (a group
/// of thousands of payloads of one length must not compare each with all the others).
#[derive(Default)]
pub(crate) struct PackedTexts<'a> {
    /// The packed texts, in the order added.
    texts: Vec<(&'a str, &'a [u8])>,
    /// Index in `texts` by the text's address and length.
    by_address: FxHashMap<(usize, usize), usize>,
    /// Index in `texts` by content, built when first needed (Fx: the keys are whole
    /// payloads, which SipHash would hash at a fraction of the speed).
    by_content: OnceCell<FxHashMap<&'a str, usize>>,
}

impl<'a> PackedTexts<'a> {
    /// Adds what `prepacked` holds for `batch`.
    pub(crate) fn add(&mut self, batch: &'a WriteBatch, prepacked: &'a Prepacked) {
        // Texts added after the content index was built would be missing from it.
        self.by_content.take();
        let mut packed = prepacked.packed.iter().peekable();
        for (position, text) in payload_fields(batch).enumerate() {
            let Some((packed_position, bytes)) = packed.peek() else {
                return;
            };
            if *packed_position != position {
                continue;
            }
            packed.next();
            if let Some(text) = text {
                self.by_address
                    .insert((text.as_ptr() as usize, text.len()), self.texts.len());
                self.texts.push((text, bytes.as_slice()));
            }
        }
    }

    /// The bytes packed ahead for `text`, if any.
    fn find(&self, text: &str) -> Option<&'a [u8]> {
        let index = match self.by_address.get(&(text.as_ptr() as usize, text.len())) {
            Some(index) => *index,
            None => *self
                .by_content
                .get_or_init(|| {
                    let mut by_content =
                        FxHashMap::with_capacity_and_hasher(self.texts.len(), Default::default());
                    for (index, (packed_text, _)) in self.texts.iter().enumerate() {
                        by_content.entry(*packed_text).or_insert(index);
                    }
                    by_content
                })
                .get(text)?,
        };
        Some(self.texts[index].1)
    }

    /// `text` as the writer binds it: the bytes packed ahead, else packed now by `packer`
    /// when that pays, else the text; all text when `packer` is `None` (compression off).
    pub(crate) fn payload<'t>(
        &self,
        packer: Option<&Arc<Packer>>,
        text: Option<&'t str>,
    ) -> Payload<'t>
    where
        'a: 't,
    {
        let (Some(packer), Some(value)) = (packer, text) else {
            return Payload::Text(text);
        };
        if let Some(bytes) = self.find(value) {
            return Payload::Prepacked(bytes);
        }
        match packer.pack(value) {
            Some(packed) => Payload::Packed(packed),
            None => Payload::Text(text),
        }
    }
}

/// Every dictionary of the database `connection` is open on, oldest first, made known to
/// this process; none when the table does not exist (a database before version 29).
pub(crate) fn load_dictionaries(
    connection: &Connection,
) -> rusqlite::Result<Vec<(u32, Arc<[u8]>)>> {
    let exists: Option<i64> = connection
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'payload_dictionaries'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut statement = connection
        .prepare("SELECT id, dictionary FROM payload_dictionaries ORDER BY created_at, id")?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
    })?;
    let mut dictionaries = Vec::new();
    for row in rows {
        let (id, bytes) = row?;
        let id = u32::try_from(id).map_err(|_| {
            rusqlite::Error::UserFunctionError(format!("dictionary id {id} out of range").into())
        })?;
        let bytes: Arc<[u8]> = bytes.into();
        remember_dictionary(id, Arc::clone(&bytes));
        dictionaries.push((id, bytes));
    }
    Ok(dictionaries)
}

/// Registers `spindle_payload(x)` on a connection, after making the dictionaries of its
/// database known (for connections opened outside a store, such as the copy tool's).
pub fn register(connection: &Connection) -> rusqlite::Result<()> {
    load_dictionaries(connection)?;
    register_function(connection)
}

/// Registers `spindle_payload(x)` on a connection: a BLOB unpacked to its text, anything
/// else as it is.
pub(crate) fn register_function(connection: &Connection) -> rusqlite::Result<()> {
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
mod tests;
