//! The `spindle` binary: `serve`, and the admin commands for projects and API keys.

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use spindle_core::time::now_micros;
use spindle_server::bootstrap::{bootstrap, insert_key, GeneratedKeys};
use spindle_server::config::{InitConfig, LogFormat, ServeConfig, StorageConfig};
use spindle_server::resolver::{
    is_postgres_url, open_backend, open_store, secret_home, StoreOptions,
};
use spindle_server::secret::load_server_secret;
use spindle_server::state::{AppState, Limits};
use spindle_store::{Organization, Project};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "spindle",
    version,
    about = "Spindle: open-source LLM observability, Langfuse-compatible, in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeConfig>),
    /// Manage projects.
    Projects {
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage organizations and their API keys (which authenticate the administration API).
    Organizations {
        #[command(subcommand)]
        command: OrganizationsCommand,
    },
    /// Apply pending schema migrations to the database and exit.
    Migrate {
        #[command(flatten)]
        storage: StorageConfig,
    },
    /// Copy a SQLite data directory into PostgreSQL in batches; run it again to resume.
    CopyToPostgres {
        /// The SQLite data directory (or database file) to copy from.
        #[arg(long)]
        data_dir: std::path::PathBuf,
        /// The PostgreSQL database to copy into (`postgres://USER@HOST/DB`).
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// Rows per batch (one PostgreSQL transaction each).
        #[arg(long, default_value_t = 1000)]
        batch_rows: usize,
    },
    /// Print the `serve` options as a Markdown table (for the README).
    #[command(hide = true)]
    ConfigTable,
}

#[derive(Debug, Subcommand)]
enum ProjectsCommand {
    /// Create a project (no-op when it exists).
    Create {
        #[command(flatten)]
        storage: StorageConfig,
        /// Project id.
        #[arg(long)]
        id: String,
        /// Project name (defaults to the id).
        #[arg(long)]
        name: Option<String>,
        /// Organization id.
        #[arg(long, default_value = "default-org")]
        org_id: String,
        /// Organization name.
        #[arg(long, default_value = "Default Organization")]
        org_name: String,
    },
    /// List projects.
    List {
        #[command(flatten)]
        storage: StorageConfig,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create an API key pair for a project; prints the secret key once.
    Create {
        #[command(flatten)]
        storage: StorageConfig,
        /// The project the key grants access to.
        #[arg(long)]
        project_id: String,
        /// Use this public key instead of generating one.
        #[arg(long, requires = "secret_key")]
        public_key: Option<String>,
        /// Use this secret key instead of generating one.
        #[arg(long, requires = "public_key")]
        secret_key: Option<String>,
    },
    /// List API keys (secrets are never shown).
    List {
        #[command(flatten)]
        storage: StorageConfig,
        /// Only this project's keys.
        #[arg(long)]
        project_id: Option<String>,
    },
    /// Revoke an API key by its public key.
    Revoke {
        #[command(flatten)]
        storage: StorageConfig,
        /// The public key to revoke.
        public_key: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrganizationsCommand {
    /// Create an organization, or rename it when it exists.
    Create {
        #[command(flatten)]
        storage: StorageConfig,
        /// Organization id.
        #[arg(long)]
        id: String,
        /// Organization name (defaults to the id).
        #[arg(long)]
        name: Option<String>,
    },
    /// List organizations.
    List {
        #[command(flatten)]
        storage: StorageConfig,
    },
    /// Create an organization API key pair; prints the secret key once.
    CreateKey {
        #[command(flatten)]
        storage: StorageConfig,
        /// The organization the key administers.
        #[arg(long)]
        organization_id: String,
        /// A note to tell the key apart.
        #[arg(long)]
        note: Option<String>,
        /// Use this public key instead of generating one.
        #[arg(long, requires = "secret_key")]
        public_key: Option<String>,
        /// Use this secret key instead of generating one.
        #[arg(long, requires = "public_key")]
        secret_key: Option<String>,
    },
    /// List an organization's API keys (secrets are never shown).
    ListKeys {
        #[command(flatten)]
        storage: StorageConfig,
        #[arg(long)]
        organization_id: String,
    },
    /// Revoke an organization API key by its public key.
    RevokeKey {
        #[command(flatten)]
        storage: StorageConfig,
        #[arg(long)]
        organization_id: String,
        /// The public key to revoke.
        public_key: String,
    },
}

/// The allocator of everything Rust allocates: jemalloc. The ingest path allocates many
/// values on the runtime's threads that the writer thread frees; glibc's arenas, capped at one
/// per core for idle memory (`cap_heap_arenas`), spent about a sixth of the server's CPU on
/// that in locks and consolidation. SQLite's own allocations still go to glibc.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts: a background thread hands freed pages back to
/// the system within a second of their last use (`dirty_decay_ms`) and at once after that
/// (`muzzy_decay_ms:0`), so the memory of a burst goes back while the server is idle (without
/// them jemalloc kept about 100 MiB after the ingest benchmark, against about 40 MiB).
#[cfg(not(target_env = "msvc"))]
#[allow(unsafe_code, non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> anyhow::Result<()> {
    cap_heap_arenas();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(run(cli));
    // Connections dropped at the end of the grace period may still have parsing work on the
    // blocking pool; the process does not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

/// Caps glibc's heap arenas at one per core (at least two) before any thread starts. By
/// default glibc gives up to eight per core, each keeping the memory freed in it; with
/// request bodies parsed on many blocking threads that held 150-250 MB after a burst (before
/// Rust's allocations went to jemalloc; glibc still serves SQLite's). With the
/// cap, the memory freed after a burst goes back to the system (the SQLite store's idle
/// `malloc_trim` hands it over). `MALLOC_ARENA_MAX`, when set, wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn cap_heap_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let arenas = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
        .max(2);
    let arenas = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` takes two integers and only changes glibc's allocator settings; it is
    // called before the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

/// Other allocators and platforms bound their heaps by themselves, or offer no way to.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn cap_heap_arenas() {}

fn admin_store(
    storage: &StorageConfig,
) -> anyhow::Result<std::sync::Arc<dyn spindle_store::Store>> {
    open_store(storage, StoreOptions::admin())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => serve(*config).await,
        Command::Migrate { storage } => migrate(&storage).await,
        Command::CopyToPostgres {
            data_dir,
            database_url,
            batch_rows,
        } => copy_to_postgres(&data_dir, &database_url, batch_rows).await,
        Command::ConfigTable => {
            print_config_table();
            Ok(())
        }
        Command::Projects { command } => match command {
            ProjectsCommand::Create {
                storage,
                id,
                name,
                org_id,
                org_name,
            } => {
                let store = admin_store(&storage)?;
                let organization = Organization {
                    id: org_id,
                    name: org_name,
                };
                store.upsert_organization(&organization).await?;
                store
                    .upsert_project(&Project {
                        name: name.unwrap_or_else(|| id.clone()),
                        id: id.clone(),
                        organization,
                        retention_days: None,
                        created_at: now_micros(),
                    })
                    .await?;
                store.shutdown().await?;
                println!("project {id}");
                Ok(())
            }
            ProjectsCommand::List { storage } => {
                let store = admin_store(&storage)?;
                for project in store.list_projects().await? {
                    println!(
                        "{}\t{}\t{}",
                        project.id, project.name, project.organization.id
                    );
                }
                store.shutdown().await?;
                Ok(())
            }
        },
        Command::Organizations { command } => organizations(command).await,
        Command::Keys { command } => match command {
            KeysCommand::Create {
                storage,
                project_id,
                public_key,
                secret_key,
            } => {
                let (store, accounts, ..) = open_backend(&storage, StoreOptions::admin())?;
                let server_secret =
                    load_server_secret(&secret_home(&storage), accounts.as_ref()).await?;
                if store.get_project(&project_id).await?.is_none() {
                    anyhow::bail!("project {project_id:?} does not exist; create it with `spindle projects create`");
                }
                let public_key =
                    public_key.unwrap_or_else(|| format!("pk-lf-{}", uuid::Uuid::new_v4()));
                let secret_key =
                    secret_key.unwrap_or_else(|| format!("sk-lf-{}", uuid::Uuid::new_v4()));
                insert_key(
                    store.as_ref(),
                    &server_secret,
                    &project_id,
                    &public_key,
                    &secret_key,
                    now_micros(),
                )
                .await?;
                store.shutdown().await?;
                println!("LANGFUSE_PUBLIC_KEY={public_key}\nLANGFUSE_SECRET_KEY={secret_key}");
                Ok(())
            }
            KeysCommand::List {
                storage,
                project_id,
            } => {
                let store = admin_store(&storage)?;
                for key in store.list_api_keys(project_id.as_deref()).await? {
                    print_key(
                        &key.public_key,
                        &key.project_id,
                        &key.secret_hint,
                        key.revoked_at,
                    );
                }
                store.shutdown().await?;
                Ok(())
            }
            KeysCommand::Revoke {
                storage,
                public_key,
            } => {
                let store = admin_store(&storage)?;
                let revoked = store.revoke_api_key(&public_key, now_micros()).await?;
                store.shutdown().await?;
                if !revoked {
                    anyhow::bail!("no active key {public_key:?}");
                }
                println!("revoked {public_key}");
                Ok(())
            }
        },
    }
}

/// One line of a key listing: public key, owner (project or organization), hint, state.
fn print_key(public_key: &str, owner: &str, secret_hint: &str, revoked_at: Option<i64>) {
    let state = if revoked_at.is_some() {
        "revoked"
    } else {
        "active"
    };
    println!("{public_key}\t{owner}\t...{secret_hint}\t{state}");
}

async fn organizations(command: OrganizationsCommand) -> anyhow::Result<()> {
    match command {
        OrganizationsCommand::Create { storage, id, name } => {
            let store = admin_store(&storage)?;
            store
                .upsert_organization(&Organization {
                    name: name.unwrap_or_else(|| id.clone()),
                    id: id.clone(),
                })
                .await?;
            store.shutdown().await?;
            println!("organization {id}");
        }
        OrganizationsCommand::List { storage } => {
            let store = admin_store(&storage)?;
            for organization in store.list_organizations().await? {
                println!("{}\t{}", organization.id, organization.name);
            }
            store.shutdown().await?;
        }
        OrganizationsCommand::CreateKey {
            storage,
            organization_id,
            note,
            public_key,
            secret_key,
        } => {
            let (store, accounts, ..) = open_backend(&storage, StoreOptions::admin())?;
            let server_secret =
                load_server_secret(&secret_home(&storage), accounts.as_ref()).await?;
            if store.get_organization(&organization_id).await?.is_none() {
                anyhow::bail!("organization {organization_id:?} does not exist; create it with `spindle organizations create`");
            }
            let (public_key, secret_key) = match (public_key, secret_key) {
                (Some(public_key), Some(secret_key)) => (public_key, secret_key),
                _ => spindle_server::bootstrap::fresh_key_pair(),
            };
            let key = spindle_server::bootstrap::organization_api_key(
                &server_secret,
                &organization_id,
                &public_key,
                &secret_key,
                note,
                now_micros(),
            );
            store.insert_organization_api_key(&key).await?;
            store.shutdown().await?;
            println!("LANGFUSE_PUBLIC_KEY={public_key}\nLANGFUSE_SECRET_KEY={secret_key}");
        }
        OrganizationsCommand::ListKeys {
            storage,
            organization_id,
        } => {
            let store = admin_store(&storage)?;
            for key in store.list_organization_api_keys(&organization_id).await? {
                print_key(
                    &key.public_key,
                    &key.organization_id,
                    &key.secret_hint,
                    key.revoked_at,
                );
            }
            store.shutdown().await?;
        }
        OrganizationsCommand::RevokeKey {
            storage,
            organization_id,
            public_key,
        } => {
            let store = admin_store(&storage)?;
            let revoked = store
                .revoke_organization_api_key(&organization_id, &public_key, now_micros())
                .await?;
            store.shutdown().await?;
            if !revoked {
                anyhow::bail!("no active key {public_key:?} in organization {organization_id:?}");
            }
            println!("revoked {public_key}");
        }
    }
    Ok(())
}

fn init_logging(config: &ServeConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// `spindle migrate`: PostgreSQL URLs get their pending migrations; SQLite data dirs are
/// brought up to date by opening them.
async fn migrate(storage: &StorageConfig) -> anyhow::Result<()> {
    let url = storage.database_url.as_deref().unwrap_or("");
    if is_postgres_url(url) {
        return migrate_postgres(url).await;
    }
    let store = admin_store(storage)?;
    store.shutdown().await?;
    println!("the SQLite schema is up to date");
    Ok(())
}

#[cfg(feature = "postgres")]
async fn migrate_postgres(url: &str) -> anyhow::Result<()> {
    let applied = spindle_store_postgres::PostgresStore::migrate(url, None)
        .await
        .context("DATABASE_URL: migrating the PostgreSQL database")?;
    if applied.is_empty() {
        println!("the PostgreSQL schema is up to date");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

#[cfg(not(feature = "postgres"))]
async fn migrate_postgres(_url: &str) -> anyhow::Result<()> {
    Err(spindle_server::resolver::postgres_not_built())
}

/// `spindle copy-to-postgres`: the copy itself lives in the PostgreSQL backend crate.
#[cfg(feature = "postgres")]
async fn copy_to_postgres(
    data_dir: &std::path::Path,
    database_url: &str,
    batch_rows: usize,
) -> anyhow::Result<()> {
    use spindle_store_postgres::copy::{copy_from_sqlite, CopyOptions};
    use spindle_store_postgres::{PostgresOptions, PostgresStore};
    if !is_postgres_url(database_url) {
        anyhow::bail!("DATABASE_URL (--database-url): expected postgres://USER@HOST/DB");
    }
    let target = PostgresStore::open(
        database_url,
        PostgresOptions {
            pool_size: 2,
            ..PostgresOptions::default()
        },
    )
    .await
    .context("DATABASE_URL: opening the PostgreSQL database")?;
    let mut last_print = std::time::Instant::now();
    let options = CopyOptions {
        batch_rows: batch_rows.max(1),
        max_batches: None,
    };
    let summary = copy_from_sqlite(data_dir, &target, &options, |progress| {
        let done = progress.copied >= progress.total;
        if done || last_print.elapsed() >= Duration::from_secs(2) {
            println!("{}: {}/{}", progress.table, progress.copied, progress.total);
            last_print = std::time::Instant::now();
        }
    })
    .await
    .with_context(|| format!("copying {} into PostgreSQL", data_dir.display()))?;
    for table in &summary.tables {
        println!("{}: {} rows", table.table, table.copied);
    }
    carry_server_secret(data_dir, &target).await?;
    println!("copy complete (an interrupted copy resumes where it stopped when run again)");
    Ok(())
}

/// Stores the SQLite data dir's server secret in PostgreSQL, so the API keys and download
/// URLs made on SQLite keep working there. Fails when PostgreSQL has another secret already.
#[cfg(feature = "postgres")]
async fn carry_server_secret(
    data_dir: &std::path::Path,
    target: &spindle_store_postgres::PostgresStore,
) -> anyhow::Result<()> {
    use spindle_server::secret::{secret_file, SECRET_FILE};
    use spindle_store::accounts::Accounts;
    let dir = spindle_server::resolver::sqlite_dir(data_dir);
    if !dir.join(SECRET_FILE).exists() {
        return Ok(());
    }
    let secret = secret_file(&dir)?;
    let stored = target
        .server_secret(&secret)
        .await
        .context("storing the server secret in PostgreSQL")?;
    if stored != secret {
        anyhow::bail!(
            "the PostgreSQL database has another server secret than {}: API keys and media \
             download URLs made on SQLite will not work there (copy into a fresh database to \
             keep them)",
            dir.join(SECRET_FILE).display()
        );
    }
    println!("server secret: copied");
    Ok(())
}

#[cfg(not(feature = "postgres"))]
async fn copy_to_postgres(
    _data_dir: &std::path::Path,
    _database_url: &str,
    _batch_rows: usize,
) -> anyhow::Result<()> {
    Err(spindle_server::resolver::postgres_not_built())
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    init_logging(&config);
    config.validate()?;
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let init = InitConfig::from_env(&env)?;
    if config.storage.database_url.is_none() {
        std::fs::create_dir_all(&config.storage.data_dir).with_context(|| {
            format!(
                "SPINDLE_DATA_DIR: cannot create the data directory {}",
                config.storage.data_dir.display()
            )
        })?;
    }
    let backend = open_backend(
        &config.storage,
        StoreOptions {
            write_queue: config.write_queue,
            metrics_time_limit: (config.metrics_query_seconds > 0)
                .then(|| std::time::Duration::from_secs(config.metrics_query_seconds)),
        },
    )?;
    let (store, accounts, ..) = backend.clone();
    let server_secret =
        load_server_secret(&secret_home(&config.storage), accounts.as_ref()).await?;
    // The keys are printed before they are stored: a start killed in between leaves no key
    // whose secret nobody saw (the next start makes and prints another).
    let (host, port) = (config.host, config.port);
    let mut announce = |keys: &GeneratedKeys| -> anyhow::Result<()> {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "\nCreated project {:?} with an API key. The secret key is shown only this once:\n\n  LANGFUSE_PUBLIC_KEY={}\n  LANGFUSE_SECRET_KEY={}\n  LANGFUSE_BASE_URL=http://{host}:{port}\n",
            keys.project_id, keys.public_key, keys.secret_key
        )?;
        stdout.flush()?;
        Ok(())
    };
    bootstrap(
        store.as_ref(),
        &server_secret,
        &init,
        now_micros(),
        &mut announce,
    )
    .await?;
    let address = std::net::SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| {
            format!("SPINDLE_PORT: cannot listen on {address} (is another server using the port?)")
        })?;
    let local = listener.local_addr()?;
    let public_base_url = format!("http://{local}");
    let state = AppState::new(
        backend,
        Limits {
            max_body_bytes: config.max_body_bytes,
        },
        config.max_inflight_ingest,
        &public_base_url,
    )
    .with_body_budget(
        config.max_inflight_body_bytes,
        Duration::from_secs(config.body_read_timeout_seconds),
    )
    .with_slot_wait(Duration::from_millis(config.ingest_slot_wait_ms))
    .with_server_secret(server_secret);
    let connections = spindle_server::listen::Connections::new(config.max_connections);
    let state = state.with_connections(connections.clone());
    let state = match spindle_server::resolver::probe_dir(&config.storage) {
        Some(dir) => state.with_probe_dir(dir),
        None => state,
    };
    spindle_server::ui::bootstrap::announce(accounts.as_ref(), &env, &public_base_url).await?;
    spindle_server::ui::bootstrap::ensure_owners(store.as_ref(), accounts.as_ref(), now_micros())
        .await?;
    // Per-project retention of traces and dataset item history, hourly, in small batches
    // (every instance may run it).
    tokio::spawn(spindle_store::retention::run(
        store.clone(),
        state.datasets.clone(),
        Duration::from_secs(3600),
        spindle_store::retention::RetentionOptions::default(),
    ));
    // The purge of deleted projects: at start (resuming one a stop interrupted), after
    // each deletion, and every ten minutes for those another instance deleted.
    tokio::spawn(spindle_store::organizations::run_purge(
        store.clone(),
        Duration::from_secs(600),
        spindle_store::organizations::PurgeOptions::default(),
        state.purge_wakeup.clone(),
    ));
    // The sweeps of rolled-up metadata keys: at start (resuming one a stop interrupted),
    // after each change of a project's keys, and every minute for another instance's.
    tokio::spawn(spindle_store::metadata_rollups::run_sweeps(
        store.clone(),
        Duration::from_secs(60),
        state.sweep_wakeup.clone(),
    ));
    let app = spindle_server::app(state);
    // Signal handlers are in place before anyone can learn that the server listens, so a
    // SIGTERM right after start-up still stops it cleanly.
    let shutdown = shutdown_signal()?;
    tracing::info!(address = %local, data_dir = %config.storage.data_dir.display(), "spindle listening");
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        let _ = signalled.send(());
    };
    // Requests carry their connection's address, for the sign-in guard's per-address delays.
    let options = spindle_server::listen::ListenOptions {
        connections,
        header_read_timeout: Duration::from_secs(config.header_read_timeout_seconds),
        trusted_proxies: config.trusted_proxies.clone().into(),
    };
    let server = spindle_server::listen::serve(listener, app, options, graceful);
    tokio::pin!(server);
    let deadline = tokio::select! {
        () = &mut server => tokio::time::Instant::now() + grace,
        _ = on_signal => {
            // The grace period bounds the whole stop: requests in flight may finish until a
            // moment before its end; connections still open then (stalled clients) are
            // dropped, leaving that moment to commit the queued writes.
            let deadline = tokio::time::Instant::now() + grace;
            let reserve = (grace / 4).min(Duration::from_secs(2));
            if tokio::time::timeout_at(deadline - reserve, &mut server).await.is_err() {
                tracing::warn!(
                    grace_seconds = grace.as_secs(),
                    "connections still open at the end of the grace period are closed"
                );
            }
            deadline
        }
    };
    tracing::info!("no longer accepting requests; committing queued writes");
    let store_deadline = deadline.max(tokio::time::Instant::now() + Duration::from_secs(1));
    tokio::time::timeout_at(store_deadline, store.shutdown())
        .await
        .context("store shutdown timed out")??;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Registers SIGTERM and Ctrl-C handlers now and returns the future that completes on either.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("installing the SIGINT handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    })
}

fn print_config_table() {
    let command = Cli::command();
    let Some(serve) = command.find_subcommand("serve") else {
        return;
    };
    println!("| flag | variable | default | meaning |\n|---|---|---|---|");
    for argument in serve.get_arguments() {
        let Some(long) = argument.get_long() else {
            continue;
        };
        let env = argument
            .get_env()
            .map(|env| format!("`{}`", env.to_string_lossy()))
            .unwrap_or_default();
        let default = argument
            .get_default_values()
            .iter()
            .map(|value| value.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        let help = argument
            .get_help()
            .map(|help| help.to_string())
            .unwrap_or_default();
        println!(
            "| `--{long}` | {env} | {} | {help} |",
            if default.is_empty() {
                String::new()
            } else {
                format!("`{default}`")
            }
        );
    }
}

#[cfg(all(test, not(target_env = "msvc")))]
mod allocator_tests {
    /// `malloc_conf` reached jemalloc: its background thread, which returns freed pages while
    /// the server is idle, is on.
    #[test]
    fn jemalloc_runs_with_the_settings_that_return_memory_when_idle() {
        assert!(tikv_jemalloc_ctl::opt::background_thread::read().expect("opt.background_thread"));
        assert!(tikv_jemalloc_ctl::background_thread::read().expect("background_thread"));
    }
}
