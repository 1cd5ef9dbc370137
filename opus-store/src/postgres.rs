//! The PostgreSQL backend (feature `postgres`): many replicas share one
//! database. Single-use and compare-and-set operations are conditional
//! statements whose row locks serialise competing replicas; outbox workers
//! claim with `FOR UPDATE SKIP LOCKED`, so they never wait on or share a
//! message.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

type Db = Postgres;
type Store = PostgresStore;

/// Due messages of a topic, oldest first, locked for this transaction; rows
/// locked by another worker are skipped.
const CLAIM_DUE: &str = "SELECT id FROM outbox WHERE topic = $1 AND available_at <= $2 \
    AND (state = 'pending' OR (state = 'claimed' AND lease_until <= $2)) \
    ORDER BY available_at, created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED";

/// An idempotency row, locked for the deciding transaction.
const IDEMPOTENCY_ROW: &str = "SELECT * FROM idempotency WHERE brand = $1 AND client_id = $2 \
    AND operation = $3 AND idem_key = $4 FOR UPDATE";

async fn begin_write(pool: &PgPool) -> Result<Tx, StoreError> {
    pool.begin().await.map_err(db_error)
}

/// Every storage port on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (e.g. `postgres://user@127.0.0.1:5432/db`) with up
    /// to `max_connections`, and applies the embedded migrations.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached;
    /// [`StoreError::Other`] when a migration fails.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(|e| StoreError::Other(Box::new(e)))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool and applies the embedded migrations.
    ///
    /// # Errors
    /// [`StoreError::Other`] when a migration fails.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(Self { pool })
    }

    /// The connection pool (for health checks and operational queries).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The statement that counts one call whose latency falls in bucket `b`:
/// one statement (one round trip, its row locks held only while it runs)
/// whose data-modifying parts count the second, purge the old seconds and
/// add to the day's statistics. `$1` brand, `$2` endpoint, `$3` day, `$4`
/// errors, `$5` rejections, `$6` duration, `$7` the second, `$8` the
/// oldest second kept.
fn record_call_statement(bucket: usize) -> &'static str {
    static STATEMENTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let statements = STATEMENTS.get_or_init(|| {
        (0..12)
            .map(|b| {
                let values = bucket_values(b);
                format!(
                    "WITH this_second AS (INSERT INTO call_seconds (brand, endpoint, second, count) \
                     VALUES ($1, $2, $7, 1) ON CONFLICT (brand, endpoint, second) \
                     DO UPDATE SET count = call_seconds.count + 1 RETURNING count), \
                     purged AS (DELETE FROM call_seconds WHERE brand = $1 AND endpoint = $2 AND second < $8) {}",
                    call_stats_upsert(&format!(
                        "SELECT $1, $2, $3, 1, $4, $5, $6, this_second.count{values} FROM this_second"
                    ))
                )
            })
            .collect()
    });
    statements
        .get(bucket)
        .or(statements.last())
        .map_or("", String::as_str)
}

/// Counts one call in one statement (see [`record_call_statement`]).
async fn record_call_in(pool: &PgPool, sample: &CallSample) -> Result<(), StoreError> {
    let second = sample.at.unix_seconds();
    let statement = record_call_statement(latency_bucket(sample.duration_ms));
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(sample.brand.as_str())
        .bind(&sample.endpoint)
        .bind(sample.at.date_in_brasilia().to_string())
        .bind(i64::from(sample.status >= 500))
        .bind(i64::from(sample.status == 429))
        .bind(i64::from(sample.duration_ms))
        .bind(second)
        .bind(second - CALL_SECONDS_KEPT)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

include!("sql/common.rs");
