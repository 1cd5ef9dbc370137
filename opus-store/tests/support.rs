//! Shared by the SQL backend tests: where the services are, and fresh
//! databases for each test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// The PostgreSQL URL from `OPUS_POSTGRES_URL`; `None` (with a message) when
/// unset, except under `CI=true`, where it fails.
pub(crate) fn postgres_url() -> Option<String> {
    match std::env::var("OPUS_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_POSTGRES_URL is not set: the PostgreSQL tests must run in CI")
        }
        Err(_) => {
            eprintln!(
                "skipping PostgreSQL tests: set OPUS_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// A new, empty schema in the test database; the store's connections use it.
#[cfg(feature = "postgres")]
pub(crate) async fn postgres_store(url: &str, connections: u32) -> opus_store::PostgresStore {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let schema = format!("opus_t_{}", uuid::Uuid::new_v4().simple());
    let options: PgConnectOptions = url.parse().unwrap();
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    opus_store::PostgresStore::from_pool(pool).await.unwrap()
}

/// A fresh SQLite file under the target directory.
pub(crate) fn sqlite_path() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()))
}
