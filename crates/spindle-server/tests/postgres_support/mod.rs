//! Test support for the server on PostgreSQL: a fresh database per test, dropped at the
//! end, and a clear failure when PostgreSQL is not running.

#![allow(dead_code)]

pub fn database_url() -> String {
    std::env::var("SPINDLE_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh database next to the test database; dropped by [`FreshDatabase::drop`].
pub struct FreshDatabase {
    admin_url: String,
    name: String,
}

impl FreshDatabase {
    pub fn create() -> FreshDatabase {
        let admin_url = database_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("spindle_it_{}_{nanos}", std::process::id());
        // Through the maintenance database, so a machine without the test database works.
        let admin_url = maintenance_url(&admin_url);
        admin(&admin_url, &format!("CREATE DATABASE {name}"));
        FreshDatabase { admin_url, name }
    }

    /// The URL of the fresh database.
    pub fn url(&self) -> String {
        let config: tokio_postgres::Config = self.admin_url.parse().expect("test database URL");
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres");
        let password = config
            .get_password()
            .map(|p| format!(":{}", String::from_utf8_lossy(p)))
            .unwrap_or_default();
        format!("postgres://{user}{password}@{host}:{port}/{}", self.name)
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        admin(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// The test URL with the `postgres` maintenance database instead of its own.
fn maintenance_url(url: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, database)) if !server.ends_with('/') => {
            let query = database
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{server}/postgres{query}")
        }
        _ => url.to_owned(),
    }
}

/// Runs one statement on the database at `url`.
pub fn admin(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(admin_async(url, sql));
}

/// [`admin`] from async code.
pub async fn admin_async(url: &str, sql: &str) {
    let (client, connection) = match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(error) => panic!(
            "PostgreSQL is required for this test and is not reachable at {url}: {error}\n\
             start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             (or point SPINDLE_TEST_DATABASE_URL at another server)"
        ),
    };
    let connection = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = connection.await;
}
