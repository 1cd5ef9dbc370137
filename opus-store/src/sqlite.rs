//! The SQLite backend (feature `sqlite`): the embedded default, one file
//! and no server. Writes take the database lock at their start (`BEGIN
//! IMMEDIATE`), so every transaction that changes state runs alone;
//! readers are not blocked (WAL journal).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

type Db = Sqlite;
type Store = SqliteStore;

/// Due messages of a topic, oldest first (the write transaction holds the lock).
const CLAIM_DUE: &str = "SELECT id FROM outbox WHERE topic = $1 AND available_at <= $2 \
    AND (state = 'pending' OR (state = 'claimed' AND lease_until <= $2)) \
    ORDER BY available_at, created_at, id LIMIT $3";

/// An idempotency row (the write transaction holds the lock).
const IDEMPOTENCY_ROW: &str = "SELECT * FROM idempotency WHERE brand = $1 AND client_id = $2 \
    AND operation = $3 AND idem_key = $4";

async fn begin_write(pool: &SqlitePool) -> Result<Tx, StoreError> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)
}

/// Every storage port in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies
    /// the embedded migrations.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened;
    /// [`StoreError::Other`] when a migration fails.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        Self::with_options(options, 4).await
    }

    /// A private in-memory database (one connection), for tests.
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        Self::with_options(options, 1).await
    }

    async fn with_options(
        options: SqliteConnectOptions,
        connections: u32,
    ) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(Self { pool })
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Counts one call in one write transaction: the second's count, the old
/// seconds purged, the day's statistics.
async fn record_call_in(pool: &SqlitePool, sample: &CallSample) -> Result<(), StoreError> {
    let second = sample.at.unix_seconds();
    let mut tx = begin_write(pool).await?;
    let row = sqlx::query(
        "INSERT INTO call_seconds (brand, endpoint, second, count) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (brand, endpoint, second) DO UPDATE SET count = call_seconds.count + 1 RETURNING count",
    )
    .bind(sample.brand.as_str())
    .bind(&sample.endpoint)
    .bind(second)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let in_second: i64 = get(&row, "count")?;
    sqlx::query("DELETE FROM call_seconds WHERE brand = $1 AND endpoint = $2 AND second < $3")
        .bind(sample.brand.as_str())
        .bind(&sample.endpoint)
        .bind(second - CALL_SECONDS_KEPT)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let values = bucket_values(latency_bucket(sample.duration_ms));
    let statement = call_stats_upsert(&format!("VALUES ($1, $2, $3, 1, $4, $5, $6, $7{values})"));
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(sample.brand.as_str())
        .bind(&sample.endpoint)
        .bind(sample.at.date_in_brasilia().to_string())
        .bind(i64::from(sample.status >= 500))
        .bind(i64::from(sample.status == 429))
        .bind(i64::from(sample.duration_ms))
        .bind(in_second)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    commit(tx).await
}

include!("sql/common.rs");
