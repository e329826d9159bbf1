//! SQLite's full-text search: a word index in a file of its own beside the database, filled
//! by a background thread, and the search condition that reads it and scans directly the
//! traces it has not indexed yet.
//!
//! The index (`spindle-search.db` beside `spindle.db`) is an FTS5 table without content or
//! positions (`content=''`, `detail=none`) whose rowid is the trace's `rowid` in `traces`
//! and whose one column holds the trace's distinct words (`spindle_store::search`: the
//! input, output and metadata of the trace and of its observations, the rules PostgreSQL's
//! index follows). It has its own connection and write lock, so the writer never waits for it:
//! the writer only appends the traces each transaction touched to `search_pending` (one
//! small row per trace and transaction). The indexer thread indexes them in chunks and
//! records in the index file the last `seq` it indexed; when the writer is busy it pauses
//! after each chunk eight times as long as the chunk took, so it holds at most a ninth of one
//! core, and it runs at a lower priority (`BACKGROUND_NICE`), so when the cores are all busy
//! ingestion gets them first. A new or deleted index file, or one of an older format
//! (`INDEX_FORMAT`: before metadata was indexed), is filled again from the newest trace down
//! (`backfill_below`, progress in the log), while the pending queue goes on.
//!
//! A search reads the index for the traces it covers and scans the others: those queued
//! above the last indexed `seq` and those below `backfill_below`, checking their text with
//! the same word rules (`spindle_search_hits`, a function the read connections register).
//! Deleted traces leave their rows in the index until a sweep (every ten minutes, while
//! idle) removes them; meanwhile the join with `traces` drops them, and a trace that reuses
//! a rowid is queued by its write, so its words replace the old ones.

use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use super::sql_error;
use super::writer::Command;
use super::BackgroundThread;
use spindle_core::Error;
use spindle_store::search::{
    distinct_words, matched_terms, metadata_texts, probes_each_trace, query_words, SearchConditions,
};
use spindle_store::sql::reads::substring_search;
use spindle_store::sql::{Dialect, Sql};
use spindle_store::Result;

/// The format of the index file (its `user_version`): 2 since metadata is indexed. A file of
/// another format is filled again from the traces (a backfill, whose progress is logged).
const INDEX_FORMAT: i64 = 2;

/// A backfill's progress is logged at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// The schema name the read connections attach the index file as.
const SCHEMA: &str = "search";

/// Traces indexed per transaction of the index.
const CHUNK_TRACES: i64 = 64;

/// How often the indexer looks for work when it has none.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// While the writer is busy, the indexer pauses this many times as long as its last chunk.
const BUSY_PAUSE_FACTOR: u32 = 8;

/// The writer counts as idle once no write came for this long.
const IDLE_AFTER: Duration = Duration::from_millis(250);

/// The queue rows below the indexed mark are deleted once this many have been indexed.
const TRIM_EVERY: i64 = 4096;

/// Index rows checked per step of a sweep for deleted traces.
const SWEEP_CHUNK: i64 = 2048;

/// A sweep for deleted traces starts this long after the last one ended (once the indexer
/// has caught up and the writer is idle).
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// The index file of the database at `database`: `spindle.db` → `spindle-search.db`.
pub(crate) fn index_path(database: &Path) -> PathBuf {
    let stem = database
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("spindle");
    database.with_file_name(format!("{stem}-search.db"))
}

/// Queues the traces a write transaction touched for the index (the writer's only part).
pub(crate) fn enqueue(
    transaction: &Transaction<'_>,
    project_id: &str,
    trace_ids: &[String],
) -> Result<()> {
    let mut statement = transaction
        .prepare_cached("INSERT INTO search_pending (project_id, trace_id) VALUES (?1, ?2)")
        .map_err(sql_error)?;
    for trace_id in trace_ids {
        statement
            .execute(params![project_id, trace_id])
            .map_err(sql_error)?;
    }
    Ok(())
}

/// Opens the index connection: the index is rebuilt from the database when lost, so a
/// crash may lose its last commits (`synchronous = NORMAL`); its page cache stays small.
fn open_index_connection(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path).map_err(sql_error)?;
    connection
        .busy_timeout(Duration::from_secs(5))
        .map_err(sql_error)?;
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA cache_size = -2048;
             CREATE VIRTUAL TABLE IF NOT EXISTS search_words USING fts5(
                 words, content = '', contentless_delete = 1, detail = none,
                 tokenize = 'ascii');
             CREATE VIRTUAL TABLE IF NOT EXISTS search_vocab
                 USING fts5vocab(search_words, 'row');
             CREATE TABLE IF NOT EXISTS search_docs (doc INTEGER PRIMARY KEY);
             CREATE TABLE IF NOT EXISTS search_state (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 indexed_seq INTEGER NOT NULL,
                 backfill_below INTEGER NOT NULL);",
        )
        .map_err(sql_error)?;
    Ok(connection)
}

/// Opens (creating or rebuilding when needed) the index of the database `main` is open on,
/// before any writer or reader runs. An index whose mark lies past the queue belongs to
/// another database (the queue always keeps its last indexed row) and is started again.
pub(crate) fn prepare_index(main: &Connection, path: &Path) -> Result<()> {
    let open_checked = || -> Result<Connection> {
        let index = open_index_connection(path)?;
        let state = read_state(&index)?;
        let format: i64 = index
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(sql_error)?;
        let last_seq: i64 = main
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM search_pending",
                [],
                |row| row.get(0),
            )
            .map_err(sql_error)?;
        match state {
            Some(_) if format != INDEX_FORMAT => Err(Error::internal(format!(
                "the search index has format {format}, not {INDEX_FORMAT} (metadata not indexed)"
            ))),
            Some(state) if state.indexed_seq <= last_seq => Ok(index),
            Some(_) => Err(Error::internal(
                "the search index belongs to another database",
            )),
            None => {
                let below: i64 = main
                    .query_row(
                        "SELECT coalesce(max(rowid), 0) + 1 FROM traces",
                        [],
                        |row| row.get(0),
                    )
                    .map_err(sql_error)?;
                index
                    .execute(
                        "INSERT INTO search_state (id, indexed_seq, backfill_below)
                         VALUES (1, ?1, ?2)",
                        params![last_seq, below],
                    )
                    .map_err(sql_error)?;
                index
                    .execute_batch(&format!("PRAGMA user_version = {INDEX_FORMAT}"))
                    .map_err(sql_error)?;
                Ok(index)
            }
        }
    };
    if let Err(error) = open_checked() {
        tracing::warn!(%error, path = %path.display(), "search index unusable, rebuilding it");
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
        open_checked()?;
    }
    Ok(())
}

/// Where the index stands: queue rows up to `indexed_seq` are indexed, and so are the traces
/// from `backfill_below` up (0 once the whole table is).
#[derive(Debug, Clone, Copy)]
struct State {
    indexed_seq: i64,
    backfill_below: i64,
}

fn read_state(connection: &Connection) -> Result<Option<State>> {
    read_state_in(connection, "main")
}

fn read_state_in(connection: &Connection, schema: &str) -> Result<Option<State>> {
    connection
        .prepare_cached(&format!(
            "SELECT indexed_seq, backfill_below FROM {schema}.search_state WHERE id = 1"
        ))
        .and_then(|mut statement| {
            statement
                .query_row([], |row| {
                    Ok(State {
                        indexed_seq: row.get(0)?,
                        backfill_below: row.get(1)?,
                    })
                })
                .optional()
        })
        .map_err(sql_error)
}

/// Attaches the index to a read connection and registers `spindle_search_hits(query, text)`:
/// the bit mask of the query's words that `text` holds ([`matched_terms`]), and
/// `spindle_search_metadata_hits(query, metadata)`: the same for the searched keys and values
/// of a metadata column ([`metadata_texts`]).
pub(crate) fn attach(connection: &Connection, path: &Path) -> Result<()> {
    connection
        .execute(
            &format!("ATTACH DATABASE ?1 AS {SCHEMA}"),
            params![path.to_string_lossy()],
        )
        .map_err(sql_error)?;
    connection
        .execute_batch(&format!("PRAGMA {SCHEMA}.cache_size = -2048;"))
        .map_err(sql_error)?;
    register_hits(connection, "spindle_search_hits", |terms, text| {
        matched_terms(terms, std::iter::once(text))
    })?;
    register_hits(
        connection,
        "spindle_search_metadata_hits",
        |terms, metadata| {
            // `{}`: no metadata, nothing to parse.
            if metadata.len() <= 2 {
                return 0;
            }
            let texts = metadata_texts(metadata);
            matched_terms(terms, texts.iter().map(String::as_str))
        },
    )
}

/// Registers `name(query, text)`: `hits` of the query's words in `text` (0 for NULL).
fn register_hits(
    connection: &Connection,
    name: &str,
    hits: impl Fn(&[(String, bool)], &str) -> u64 + Send + 'static,
) -> Result<()> {
    connection
        .create_scalar_function(
            name,
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            move |context| {
                let query = context.get_raw(0).as_str().unwrap_or("");
                let Ok(Some(text)) = context.get_raw(1).as_str_or_null() else {
                    return Ok(0_i64);
                };
                let mask = hits(&query_words(query), text);
                Ok(i64::try_from(mask).unwrap_or(0))
            },
        )
        .map_err(sql_error)
}

/// A prefix standing for more index words than this is matched as an FTS5 prefix.
const PREFIX_TERMS: usize = 64;

/// The search conditions on the trace `t`: its id, or every word of `search` among its
/// words (the last word as a prefix), from the index where it covers the trace and from the
/// trace's text elsewhere. Text without any word is searched as a substring.
/// `project_traces` is the project's number of traces.
pub(crate) fn condition(
    connection: &Connection,
    project_id: &str,
    search: &str,
    project_traces: u64,
) -> Result<SearchConditions> {
    const DIALECT: Dialect = Dialect::Sqlite;
    let terms = query_words(search);
    if terms.is_empty() {
        return Ok(SearchConditions {
            gathered: substring_search(DIALECT, search),
            probing: None,
            estimate: 0,
        });
    }
    let Some(state) = read_state_in(connection, SCHEMA)? else {
        return Err(Error::internal("the search index has no state"));
    };
    // Each word's index words (a prefix's, when few) and how many traces hold them.
    let mut estimate = u64::MAX;
    let mut match_terms = Vec::with_capacity(terms.len());
    for (word, prefix) in &terms {
        let (words, traces) = index_words(connection, word, *prefix)?;
        estimate = estimate.min(traces);
        match_terms.push(match words {
            Some(words) if words.is_empty() => format!("\"{word}\""),
            Some(words) => {
                let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
                format!("({})", quoted.join(" OR "))
            }
            None => format!("\"{word}\"*"),
        });
    }
    let match_query = match_terms.join(" AND ");
    // The queued traces above the mark: scanned, and their index rows (older text) ignored.
    let queued = |sql: &mut Sql, alias: &str| {
        sql.push(&format!(
            "SELECT {alias}.rowid FROM search_pending p CROSS JOIN traces {alias} \
             ON {alias}.project_id = p.project_id AND {alias}.id = p.trace_id WHERE p.seq > "
        ))
        .bind(state.indexed_seq);
    };
    let scanned = |sql: &mut Sql| {
        queued(sql, "s");
        sql.push(" AND p.project_id = ").bind(project_id);
        text_scan(sql, search, terms.len(), "s");
        sql.push(" UNION ALL SELECT s.rowid FROM traces s WHERE s.rowid < ")
            .bind(state.backfill_below)
            .push(" AND s.project_id = ")
            .bind(project_id);
        text_scan(sql, search, terms.len(), "s");
    };
    let mut gathered = Sql::new(DIALECT, "(t.id = ");
    gathered
        .bind(search)
        .push(" OR t.rowid IN (SELECT rowid FROM search.search_words WHERE search_words MATCH ")
        .bind(match_query.clone())
        .push(" AND rowid >= ")
        .bind(state.backfill_below)
        .push(" AND rowid NOT IN (");
    queued(&mut gathered, "q");
    gathered.push(") UNION ALL ");
    scanned(&mut gathered);
    gathered.push("))");
    let probing = probes_each_trace(estimate, project_traces).then(|| {
        let mut probing = Sql::new(DIALECT, "(t.id = ");
        probing
            .bind(search)
            .push(" OR (t.rowid >= ")
            .bind(state.backfill_below)
            .push(
                " AND EXISTS (SELECT 1 FROM search.search_words \
                 WHERE search_words MATCH ",
            )
            .bind(match_query)
            .push(" AND rowid = t.rowid) AND t.rowid NOT IN (");
        queued(&mut probing, "q");
        probing.push(")) OR t.rowid IN (");
        scanned(&mut probing);
        probing.push("))");
        probing
    });
    Ok(SearchConditions {
        gathered,
        probing,
        estimate,
    })
}

/// The index words a query word stands for, and how many traces hold one of them (at most
/// the sum of each word's count): the word itself, or for a prefix every index word
/// starting with it (`None` when there are more than [`PREFIX_TERMS`]).
fn index_words(
    connection: &Connection,
    word: &str,
    prefix: bool,
) -> Result<(Option<Vec<String>>, u64)> {
    if !prefix {
        let traces: Option<i64> = connection
            .prepare_cached("SELECT doc FROM search.search_vocab WHERE term = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row(params![word], |row| row.get(0))
                    .optional()
            })
            .map_err(sql_error)?;
        return Ok((Some(Vec::new()), traces.map_or(0, |n| n.max(0) as u64)));
    }
    // Every word starting with `word` sorts from it to it followed by the last character.
    let end = format!("{word}\u{10FFFF}");
    let rows: Vec<(String, i64)> = connection
        .prepare_cached(
            "SELECT term, doc FROM search.search_vocab WHERE term >= ?1 AND term < ?2 LIMIT ?3",
        )
        .and_then(|mut statement| {
            statement
                .query_map(params![word, end, PREFIX_TERMS as i64 + 1], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect()
        })
        .map_err(sql_error)?;
    let traces = rows
        .iter()
        .filter(|(term, _)| term.starts_with(word))
        .map(|(_, docs)| docs.max(&0).unsigned_abs())
        .sum();
    if rows.len() > PREFIX_TERMS {
        return Ok((None, traces));
    }
    let words: Vec<String> = rows
        .into_iter()
        .map(|(term, _)| term)
        .filter(|term| term.starts_with(word))
        .collect();
    if words.is_empty() {
        // No index word: the word itself keeps the query valid (it matches nothing indexed).
        return Ok((Some(Vec::new()), 0));
    }
    Ok((Some(words), traces))
}

/// `AND` every word of `search` in the text of the trace `alias` or of its observations.
fn text_scan(sql: &mut Sql, search: &str, terms: usize, alias: &str) {
    for term in 0..terms {
        let bit = 1_i64 << term;
        sql.push(" AND (spindle_search_hits(")
            .bind(search)
            .push(&format!(
                ", spindle_payload({alias}.input)) & {bit} OR spindle_search_hits("
            ))
            .bind(search)
            .push(&format!(
                ", spindle_payload({alias}.output)) & {bit} OR spindle_search_metadata_hits("
            ))
            .bind(search)
            .push(&format!(
                ", {alias}.metadata) & {bit} OR EXISTS (SELECT 1 FROM observations o \
                 WHERE o.project_id = {alias}.project_id AND o.trace_id = {alias}.id \
                 AND (spindle_search_hits("
            ))
            .bind(search)
            .push(", spindle_payload(o.input)) | spindle_search_hits(")
            .bind(search)
            .push(", spindle_payload(o.output)) | spindle_search_metadata_hits(")
            .bind(search)
            .push(&format!(", o.metadata)) & {bit}))"));
    }
}

/// The queue rows above the indexed mark, plus one while a backfill is under way.
pub(crate) fn backlog(connection: &Connection) -> Result<u64> {
    let Some(state) = read_state_in(connection, SCHEMA)? else {
        return Ok(0);
    };
    let queued: i64 = connection
        .query_row(
            "SELECT count(*) FROM search_pending WHERE seq > ?1",
            params![state.indexed_seq],
            |row| row.get(0),
        )
        .map_err(sql_error)?;
    let backfill = i64::from(state.backfill_below > 0);
    Ok(u64::try_from(queued + backfill).unwrap_or(0))
}

/// Removes a trace's row from the index, if it has one.
fn forget(transaction: &Transaction<'_>, doc: i64) -> Result<()> {
    let removed = transaction
        .prepare_cached("DELETE FROM search_docs WHERE doc = ?1")
        .and_then(|mut statement| statement.execute(params![doc]))
        .map_err(sql_error)?;
    if removed > 0 {
        transaction
            .prepare_cached("DELETE FROM search_words WHERE rowid = ?1")
            .and_then(|mut statement| statement.execute(params![doc]))
            .map_err(sql_error)?;
    }
    Ok(())
}

/// One trace to index: its rowid and the texts of it and its observations.
struct Document {
    rowid: i64,
    texts: Vec<String>,
}

impl Document {
    /// A trace's document from its input and output and its metadata column.
    fn of(rowid: i64, payloads: [Option<String>; 2], metadata: Option<String>) -> Document {
        let mut document = Document {
            rowid,
            texts: Vec::new(),
        };
        document.add(payloads, metadata);
        document
    }

    /// Adds the input, output and metadata of the trace or of one of its observations.
    fn add(&mut self, payloads: [Option<String>; 2], metadata: Option<String>) {
        self.texts.extend(payloads.into_iter().flatten());
        if let Some(metadata) = metadata {
            self.texts.extend(metadata_texts(&metadata));
        }
    }
}

/// The indexer's two connections: the index, and a read connection to the database.
pub(crate) struct Indexer {
    index: Connection,
    main: Connection,
    /// The traces a backfill indexed since this indexer opened, and when it last said so.
    backfilled: u64,
    backfill_logged: Option<Instant>,
}

impl Indexer {
    pub(crate) fn open(database: &Path) -> Result<Indexer> {
        let index = open_index_connection(&index_path(database))?;
        let main = super::schema::open_reader(database)?;
        main.execute_batch("PRAGMA cache_size = -2048;")
            .map_err(sql_error)?;
        Ok(Indexer {
            index,
            main,
            backfilled: 0,
            backfill_logged: None,
        })
    }

    /// Logs a backfill's progress: when it starts, every [`PROGRESS_EVERY`], and at its end
    /// (`below` 0). Rowids count down to 1, so `below` is about the traces left.
    fn backfill_progress(&mut self, traces: usize, below: i64) {
        self.backfilled += traces as u64;
        let due = self
            .backfill_logged
            .is_none_or(|logged| logged.elapsed() >= PROGRESS_EVERY);
        if below == 0 {
            if self.backfilled > 0 {
                tracing::info!(traces = self.backfilled, "search index filled");
            }
        } else if due {
            tracing::info!(
                traces = self.backfilled,
                below_rowid = below,
                "filling the search index from the stored traces"
            );
        } else {
            return;
        }
        self.backfill_logged = Some(Instant::now());
    }

    /// Indexes one chunk: queued traces first, else the next traces of a backfill. Returns
    /// the new indexed mark when queue rows were indexed, and whether there was work.
    fn chunk(&mut self) -> Result<(Option<i64>, bool)> {
        let transaction = self
            .index
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        let Some(mut state) = read_state(&transaction)? else {
            return Err(Error::internal("the search index has no state"));
        };
        // One snapshot of the database for the whole chunk.
        let snapshot = self.main.unchecked_transaction().map_err(sql_error)?;
        let queued: Vec<(i64, String, String)> = snapshot
            .prepare_cached(
                "SELECT seq, project_id, trace_id FROM search_pending
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .and_then(|mut statement| {
                statement
                    .query_map(params![state.indexed_seq, CHUNK_TRACES], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                    })?
                    .collect()
            })
            .map_err(sql_error)?;
        let mut documents: Vec<(String, String, Document)> = Vec::new();
        let mut marked = None;
        let mut backfilled = None;
        if let Some((last, _, _)) = queued.last() {
            state.indexed_seq = *last;
            marked = Some(*last);
            let mut seen = std::collections::HashSet::new();
            let mut statement = snapshot
                .prepare_cached(
                    "SELECT rowid, spindle_payload(input), spindle_payload(output), metadata \
                     FROM traces WHERE project_id = ?1 AND id = ?2",
                )
                .map_err(sql_error)?;
            for (_, project_id, trace_id) in &queued {
                if !seen.insert((project_id, trace_id)) {
                    continue;
                }
                let row = statement
                    .query_row(params![project_id, trace_id], |row| {
                        Ok(Document::of(
                            row.get(0)?,
                            [row.get(1)?, row.get(2)?],
                            row.get(3)?,
                        ))
                    })
                    .optional()
                    .map_err(sql_error)?;
                if let Some(document) = row {
                    documents.push((project_id.clone(), trace_id.clone(), document));
                }
            }
        } else if state.backfill_below > 0 {
            let rows: Vec<(String, String, Document)> = snapshot
                .prepare_cached(
                    "SELECT rowid, project_id, id, spindle_payload(input), spindle_payload(output),
                         metadata FROM traces
                     WHERE rowid < ?1 ORDER BY rowid DESC LIMIT ?2",
                )
                .and_then(|mut statement| {
                    statement
                        .query_map(params![state.backfill_below, CHUNK_TRACES], |row| {
                            Ok((
                                row.get(1)?,
                                row.get(2)?,
                                Document::of(row.get(0)?, [row.get(3)?, row.get(4)?], row.get(5)?),
                            ))
                        })?
                        .collect()
                })
                .map_err(sql_error)?;
            state.backfill_below = match rows.last() {
                Some((_, _, last)) if rows.len() as i64 == CHUNK_TRACES => last.rowid,
                _ => 0,
            };
            backfilled = Some((rows.len(), state.backfill_below));
            documents = rows;
        } else {
            return Ok((None, false));
        }
        {
            let mut observations = snapshot
                .prepare_cached(
                    "SELECT spindle_payload(input), spindle_payload(output), metadata \
                     FROM observations WHERE project_id = ?1 AND trace_id = ?2",
                )
                .map_err(sql_error)?;
            for (project_id, trace_id, document) in &mut documents {
                let rows = observations
                    .query_map(params![project_id.as_str(), trace_id.as_str()], |row| {
                        Ok((
                            [row.get::<_, Option<String>>(0)?, row.get(1)?],
                            row.get::<_, Option<String>>(2)?,
                        ))
                    })
                    .map_err(sql_error)?;
                for row in rows {
                    let (payloads, metadata) = row.map_err(sql_error)?;
                    document.add(payloads, metadata);
                }
            }
        }
        snapshot.commit().map_err(sql_error)?;
        {
            let mut add_doc = transaction
                .prepare_cached("INSERT INTO search_docs (doc) VALUES (?1)")
                .map_err(sql_error)?;
            let mut add_words = transaction
                .prepare_cached("INSERT INTO search_words (rowid, words) VALUES (?1, ?2)")
                .map_err(sql_error)?;
            for (_, _, document) in &documents {
                forget(&transaction, document.rowid)?;
                let mut words = String::new();
                distinct_words(document.texts.iter().map(String::as_str), |group| {
                    for word in group {
                        if !words.is_empty() {
                            words.push(' ');
                        }
                        // Words are whole UTF-8 sequences of letters and digits.
                        words.push_str(std::str::from_utf8(word).unwrap_or_default());
                    }
                });
                if words.is_empty() {
                    continue;
                }
                add_doc
                    .execute(params![document.rowid])
                    .map_err(sql_error)?;
                add_words
                    .execute(params![document.rowid, words])
                    .map_err(sql_error)?;
            }
        }
        transaction
            .execute(
                "UPDATE search_state SET indexed_seq = ?1, backfill_below = ?2 WHERE id = 1",
                params![state.indexed_seq, state.backfill_below],
            )
            .map_err(sql_error)?;
        transaction.commit().map_err(sql_error)?;
        if let Some((traces, below)) = backfilled {
            self.backfill_progress(traces, below);
        }
        Ok((marked, true))
    }

    /// Indexes until nothing is left and sweeps the whole index; returns how many index rows
    /// remain.
    pub(crate) fn catch_up(&mut self) -> Result<u64> {
        while self.chunk()?.1 {}
        let mut from = Some(0);
        while let Some(after) = from {
            from = self.sweep(after)?;
        }
        let rows: i64 = self
            .index
            .query_row("SELECT count(*) FROM search_docs", [], |row| row.get(0))
            .map_err(sql_error)?;
        Ok(u64::try_from(rows).unwrap_or(0))
    }

    /// Removes the index rows of deleted traces among the next [`SWEEP_CHUNK`] rows after
    /// `after`; returns where the sweep goes on, or `None` at its end.
    fn sweep(&mut self, after: i64) -> Result<Option<i64>> {
        let transaction = self
            .index
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        let docs: Vec<i64> = transaction
            .prepare_cached("SELECT doc FROM search_docs WHERE doc > ?1 ORDER BY doc LIMIT ?2")
            .and_then(|mut statement| {
                statement
                    .query_map(params![after, SWEEP_CHUNK], |row| row.get(0))?
                    .collect()
            })
            .map_err(sql_error)?;
        {
            let mut exists = self
                .main
                .prepare_cached("SELECT 1 FROM traces WHERE rowid = ?1")
                .map_err(sql_error)?;
            for doc in &docs {
                // A trace that takes the rowid later is queued, so indexed again.
                if !exists.exists(params![doc]).map_err(sql_error)? {
                    forget(&transaction, *doc)?;
                }
            }
        }
        transaction.commit().map_err(sql_error)?;
        let full = i64::try_from(docs.len()).unwrap_or(0) == SWEEP_CHUNK;
        Ok(docs.last().copied().filter(|_| full))
    }

    /// Empties both connections' page caches.
    fn release_memory(&self) {
        for connection in [&self.index, &self.main] {
            if let Err(error) = connection.execute_batch("PRAGMA shrink_memory") {
                tracing::debug!(%error, "releasing search index memory failed");
            }
        }
        super::return_freed_heap();
    }
}

/// Asks the writer to delete the queue rows below `mark` (the row at the mark stays, so the
/// queue's next `seq` stays above it). Skipped when the writer's queue is full.
pub(crate) fn trim_job(mark: i64) -> Command {
    Command::Exec(Box::new(move |connection: &mut Connection| {
        if let Err(error) =
            connection.execute("DELETE FROM search_pending WHERE seq < ?1", params![mark])
        {
            tracing::debug!(%error, "trimming the search queue failed");
        }
    }))
}

/// Starts indexing the database at `database`; `writes` is bumped by every write, and
/// `writer` takes the queue trims.
pub(crate) fn start_indexer(
    database: &Path,
    writes: Arc<AtomicU64>,
    writer: mpsc::WeakSender<Command>,
) -> Result<BackgroundThread> {
    let mut indexer = Indexer::open(database)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("spindle-search-index".to_owned())
        .spawn(move || {
            super::run_in_background();
            let mut trimmed: i64 = 0;
            let mut last_writes = writes.load(Ordering::Acquire);
            let mut last_write_at = Instant::now();
            // The first idle moment trims what an earlier run indexed and left queued.
            let mut dirty = true;
            let mut sweep_from: Option<i64> = None;
            let mut next_sweep = Instant::now() + SWEEP_INTERVAL;
            while !stop_flag.load(Ordering::Acquire) {
                let writes_now = writes.load(Ordering::Acquire);
                if writes_now != last_writes {
                    last_writes = writes_now;
                    last_write_at = Instant::now();
                }
                let started = Instant::now();
                let (marked, worked) = match indexer.chunk() {
                    Ok(done) => done,
                    Err(error) => {
                        tracing::warn!(%error, "search indexing failed");
                        (None, false)
                    }
                };
                if let Some(mark) = marked.filter(|mark| mark - trimmed >= TRIM_EVERY) {
                    trimmed = request_trim(&writer, mark).unwrap_or(trimmed);
                }
                dirty |= worked;
                if worked {
                    if last_write_at.elapsed() < IDLE_AFTER {
                        std::thread::park_timeout(started.elapsed() * BUSY_PAUSE_FACTOR);
                    }
                    continue;
                }
                let idle = last_write_at.elapsed() >= IDLE_AFTER;
                if idle && (sweep_from.is_some() || Instant::now() >= next_sweep) {
                    sweep_from = match indexer.sweep(sweep_from.unwrap_or(0)) {
                        Ok(next) => next,
                        Err(error) => {
                            tracing::warn!(%error, "sweeping the search index failed");
                            None
                        }
                    };
                    if sweep_from.is_none() {
                        next_sweep = Instant::now() + SWEEP_INTERVAL;
                    }
                    dirty = true;
                }
                if dirty && sweep_from.is_none() {
                    // Caught up: the queue below the mark goes, the caches are emptied.
                    if let Ok(Some(state)) = read_state(&indexer.index) {
                        if state.indexed_seq > trimmed {
                            trimmed = request_trim(&writer, state.indexed_seq).unwrap_or(trimmed);
                        }
                    }
                    indexer.release_memory();
                    dirty = false;
                }
                std::thread::park_timeout(POLL_INTERVAL);
            }
        })
        .map_err(|e| Error::internal(format!("cannot start the search indexer: {e}")))?;
    Ok(BackgroundThread::new(stop, Some(thread)))
}

/// Sends the trim of the queue below `mark`; returns the mark when it was sent.
fn request_trim(writer: &mpsc::WeakSender<Command>, mark: i64) -> Option<i64> {
    let writer = writer.upgrade()?;
    writer.try_send(trim_job(mark)).ok().map(|()| mark)
}
