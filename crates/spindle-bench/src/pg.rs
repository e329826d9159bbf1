//! PostgreSQL for the benchmarks: a fresh database per run (created from the URL's
//! database name, dropped afterwards), the bytes its tables take, and the CPU time of the
//! `postgres` processes on this machine.

use anyhow::{bail, Context};

/// The URL's database name and the same URL pointing at the `postgres` maintenance database.
fn split(url: &str) -> anyhow::Result<(String, String)> {
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!("--database-url {url:?}: expected postgres://USER@HOST:PORT/DATABASE");
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let Some((authority, database)) = rest.split_once('/') else {
        bail!("--database-url {url:?}: no database name");
    };
    if database.is_empty()
        || !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!("--database-url {url:?}: the database name must be letters, digits and _");
    }
    Ok((
        database.to_owned(),
        format!("{scheme}://{authority}/postgres{query}"),
    ))
}

async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Drops `database` if it exists, disconnecting its sessions.
async fn drop_if_exists(client: &tokio_postgres::Client, database: &str) -> anyhow::Result<()> {
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .await
        .with_context(|| format!("dropping database {database}"))
}

/// Drops (if it exists) and creates the database named in `url`.
pub async fn recreate(url: &str) -> anyhow::Result<()> {
    let (database, maintenance) = split(url)?;
    let client = connect(&maintenance).await?;
    // Two statements: a multi-statement string would run as one transaction block.
    drop_if_exists(&client, &database).await?;
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .with_context(|| format!("creating database {database}"))?;
    Ok(())
}

/// Drops the database named in `url`.
pub async fn drop_database(url: &str) -> anyhow::Result<()> {
    let (database, maintenance) = split(url)?;
    let client = connect(&maintenance).await?;
    drop_if_exists(&client, &database).await
}

/// Whether the database named in `url` exists.
pub async fn exists(url: &str) -> anyhow::Result<bool> {
    let (database, maintenance) = split(url)?;
    let client = connect(&maintenance).await?;
    let row = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
        .await?;
    Ok(row.is_some())
}

/// Bytes of every table of the `public` schema with its indexes and TOAST.
pub async fn table_bytes(url: &str) -> anyhow::Result<u64> {
    let client = connect(url).await?;
    let row = client
        .query_one(
            "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname = 'public'",
            &[],
        )
        .await?;
    let bytes: i64 = row.get(0);
    Ok(u64::try_from(bytes).unwrap_or(0))
}

/// Runs `statement` on the database of `url` (a marker table, `VACUUM ANALYZE`).
pub async fn execute(url: &str, statement: &str) -> anyhow::Result<()> {
    let client = connect(url).await?;
    client
        .batch_execute(statement)
        .await
        .with_context(|| format!("running {statement:?}"))?;
    Ok(())
}

/// The one `bigint` that `statement` selects with `$1` bound to `parameter` (a count, a
/// flag as 0 or 1).
pub async fn select_i64(url: &str, statement: &str, parameter: &str) -> anyhow::Result<i64> {
    let client = connect(url).await?;
    let row = client
        .query_one(statement, &[&parameter])
        .await
        .with_context(|| format!("running {statement:?}"))?;
    Ok(row.get(0))
}

/// Whether `table` exists in the database of `url`.
pub async fn has_table(url: &str, table: &str) -> anyhow::Result<bool> {
    let client = connect(url).await?;
    let row = client
        .query_opt(
            "SELECT 1 FROM information_schema.tables WHERE table_name = $1",
            &[&table],
        )
        .await?;
    Ok(row.is_some())
}

/// CPU seconds used so far by each process named `postgres` (the server and its backends),
/// by pid.
pub fn cpu_by_pid() -> std::collections::HashMap<u32, f64> {
    let mut by_pid = std::collections::HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return by_pid;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() != "postgres" {
            continue;
        }
        if let Ok(seconds) = crate::server::stat_seconds(&format!("/proc/{pid}/stat")) {
            by_pid.insert(pid, seconds);
        }
    }
    by_pid
}

/// CPU seconds the `postgres` processes used since `before` (from [`cpu_by_pid`]): per
/// process alive now, what it used since then (all of it for a process started since). A
/// process that exited meanwhile is not counted, so this is a lower bound.
pub fn cpu_since(before: &std::collections::HashMap<u32, f64>) -> f64 {
    cpu_by_pid()
        .into_iter()
        .map(|(pid, now)| (now - before.get(&pid).copied().unwrap_or(0.0)).max(0.0))
        .sum()
}

/// Samples of what the database's backends were doing: (statement kind, wait event) → count.
pub type ActivitySamples = std::collections::BTreeMap<(String, String), u64>;

/// A short name for a statement: its first words up to the table name, numbers dropped.
fn statement_kind(query: &str) -> String {
    let words: Vec<&str> = query.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let table_after = |keyword: &str| -> Option<String> {
        let at = upper.iter().position(|w| w == keyword)?;
        words.get(at + 1).map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
                .to_owned()
        })
    };
    let first = upper.first().cloned().unwrap_or_default();
    let table = match first.as_str() {
        "INSERT" => table_after("INTO"),
        "UPDATE" => words.get(1).map(|w| (*w).to_owned()),
        "SELECT" => table_after("FROM"),
        _ => None,
    };
    let lock = if upper.iter().any(|w| w == "UPDATE") && first == "SELECT" {
        " … FOR UPDATE"
    } else {
        ""
    };
    match table {
        Some(table) => format!("{first} {table}{lock}"),
        None => first,
    }
}

/// Polls `pg_stat_activity` every `every` until `stop` is set, counting the active backends
/// of the database of `url` by statement kind and wait event: a sampling profile of where
/// the database's time goes, for servers without `pg_stat_statements`.
pub async fn sample_activity(
    url: String,
    every: std::time::Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<(ActivitySamples, u64)> {
    let (database, _) = split(&url)?;
    let client = connect(&url).await?;
    let statement = client
        .prepare(
            "SELECT query, COALESCE(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity \
             WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()",
        )
        .await?;
    let mut samples = ActivitySamples::new();
    let mut polls = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        for row in client.query(&statement, &[&database]).await? {
            let query: String = row.get(0);
            let wait: String = row.get(1);
            *samples.entry((statement_kind(&query), wait)).or_default() += 1;
        }
        polls += 1;
        tokio::time::sleep(every).await;
    }
    Ok((samples, polls))
}
