// The storage ports over sqlx, shared by the PostgreSQL and SQLite backends.
//
// This file is `include!`d by `postgres.rs` and `sqlite.rs`, each of which
// defines `Db` (the sqlx database), `Store` (its store type, with a `pool`
// field), `begin_write` (how a writing transaction starts) and the
// dialect-specific statements `CLAIM_DUE` and `IDEMPOTENCY_ROW`. Statements use
// `$N` placeholders, which both engines bind by number.
//
// Atomicity: compare-and-set is a conditional `UPDATE`; insert-if-absent is
// `INSERT … ON CONFLICT DO NOTHING` checked by the affected-row count;
// several statements that must happen together run in one transaction.

use opus_core::consent::{ConsentKind, ConsentStatus};
use opus_core::envelope::Page;
use opus_core::id::{BrandId, ClientId, ConsentId, GrantId, InteractionSessionId, Jti, MessageId, PaymentId};
use opus_core::keys::WrappedKey;
use opus_core::payment::PaymentStatus;
use opus_core::seal::{BlindIndex, DataKeyKind, DataKeyStore, Sealed, StoredDataKey};
use opus_core::store::{
    AuditLog, AuditRecord, AuthorizationCodeRecord, ClaimedMessage, ClientRecord, ClientStatus,
    ClientStore, CodeRedemption, ConsentFilter, ConsentRecord, ConsentStore, CounterKey,
    CounterOutcome, CounterStore, GrantStore, IdempotencyBegin, IdempotencyScope,
    IdempotencyStore, InteractionRecord, InteractionStore, LeaseId, OperationsStore, OutageRecord,
    CallSample, DailyCallStats, latency_bucket, Outbox, RegistrationRecord, RegistrationStore, DocumentStore, StoredDocument, OutboxMessage, ParRecord, PaymentRecord, PaymentStore,
    ReplayGuard, ReplayScope, RequestFingerprint, StoreError, StoredResponse, TokenHash,
    TokenKind, TokenRecord, Topic, Window,
};
use opus_core::{Date, KeyId, Timestamp};
use sqlx::{QueryBuilder, Row};

type DbRow = <Db as sqlx::Database>::Row;
type Tx = sqlx::Transaction<'static, Db>;

fn db_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(e))
        }
        _ => StoreError::Other(Box::new(e)),
    }
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::Other(format!("unreadable stored {what}").into())
}

fn ms(t: Timestamp) -> i64 {
    t.unix_millis()
}

fn ts(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix_millis(v).map_err(|_| corrupt("time"))
}

fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    v.map(ts).transpose()
}

/// An enum's serde spelling, as stored.
fn text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn parse_text<T: serde::de::DeserializeOwned>(value: String, what: &'static str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(value)).map_err(|_| corrupt(what))
}

fn token_kind_text(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Refresh => "refresh",
        _ => "access",
    }
}

fn get<'r, T>(row: &'r DbRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(column).map_err(db_error)
}

fn hash32(bytes: Vec<u8>, what: &'static str) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| corrupt(what))
}

fn consent_from(row: &DbRow) -> Result<ConsentRecord, StoreError> {
    let index = |v: Option<Vec<u8>>| -> Result<Option<BlindIndex>, StoreError> {
        v.map(|b| hash32(b, "blind index").map(BlindIndex::from_bytes)).transpose()
    };
    Ok(ConsentRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        id: ConsentId::new(get::<String>(row, "id")?).map_err(|_| corrupt("consent id"))?,
        kind: parse_text::<ConsentKind>(get(row, "kind")?, "consent kind")?,
        client_id: ClientId::new(get::<String>(row, "client_id")?).map_err(|_| corrupt("client id"))?,
        status: parse_text::<ConsentStatus>(get(row, "status")?, "consent status")?,
        version: u64::try_from(get::<i64>(row, "version")?).map_err(|_| corrupt("version"))?,
        created_at: ts(get(row, "created_at")?)?,
        status_updated_at: ts(get(row, "status_updated_at")?)?,
        expires_at: opt_ts(get(row, "expires_at")?)?,
        subject: index(get(row, "subject")?)?,
        business_entity: index(get(row, "business_entity")?)?,
        body: Sealed::from_stored(get(row, "body")?).map_err(|_| corrupt("sealed body"))?,
    })
}

fn payment_from(row: &DbRow) -> Result<PaymentRecord, StoreError> {
    Ok(PaymentRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        id: PaymentId::new(get::<String>(row, "id")?).map_err(|_| corrupt("payment id"))?,
        consent_id: ConsentId::new(get::<String>(row, "consent_id")?).map_err(|_| corrupt("consent id"))?,
        client_id: ClientId::new(get::<String>(row, "client_id")?).map_err(|_| corrupt("client id"))?,
        status: parse_text::<PaymentStatus>(get(row, "status")?, "payment status")?,
        version: u64::try_from(get::<i64>(row, "version")?).map_err(|_| corrupt("version"))?,
        created_at: ts(get(row, "created_at")?)?,
        status_updated_at: ts(get(row, "status_updated_at")?)?,
        scheduled_for: get::<Option<String>>(row, "scheduled_for")?
            .map(|d| Date::parse(&d).map_err(|_| corrupt("date")))
            .transpose()?,
        body: Sealed::from_stored(get(row, "body")?).map_err(|_| corrupt("sealed body"))?,
    })
}

fn client_from(row: &DbRow) -> Result<ClientRecord, StoreError> {
    Ok(ClientRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        client_id: ClientId::new(get::<String>(row, "client_id")?).map_err(|_| corrupt("client id"))?,
        organisation_id: opus_core::OrganisationId::parse(&get::<String>(row, "organisation_id")?)
            .map_err(|_| corrupt("organisation id"))?,
        software_statement_id: opus_core::SoftwareStatementId::parse(&get::<String>(row, "software_statement_id")?)
            .map_err(|_| corrupt("software statement id"))?,
        status: parse_text::<ClientStatus>(get(row, "status")?, "client status")?,
        version: u64::try_from(get::<i64>(row, "version")?).map_err(|_| corrupt("version"))?,
        created_at: ts(get(row, "created_at")?)?,
        updated_at: ts(get(row, "updated_at")?)?,
        registration_access_token: get::<Option<Vec<u8>>>(row, "registration_access_token")?
            .map(|b| hash32(b, "token hash").map(TokenHash::from_bytes))
            .transpose()?,
        metadata: get(row, "metadata")?,
    })
}

fn par_from(row: &DbRow) -> Result<ParRecord, StoreError> {
    Ok(ParRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        request_uri: get(row, "request_uri")?,
        client_id: ClientId::new(get::<String>(row, "client_id")?).map_err(|_| corrupt("client id"))?,
        created_at: ts(get(row, "created_at")?)?,
        expires_at: ts(get(row, "expires_at")?)?,
        request: Sealed::from_stored(get(row, "request")?).map_err(|_| corrupt("sealed request"))?,
    })
}

fn interaction_from(row: &DbRow) -> Result<InteractionRecord, StoreError> {
    Ok(InteractionRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        id: InteractionSessionId::parse(&get::<String>(row, "id")?).map_err(|_| corrupt("interaction id"))?,
        handoff: get::<Option<Vec<u8>>>(row, "handoff")?
            .map(|b| hash32(b, "hand-off hash").map(TokenHash::from_bytes))
            .transpose()?,
        version: u64::try_from(get::<i64>(row, "version")?).map_err(|_| corrupt("version"))?,
        created_at: ts(get(row, "created_at")?)?,
        expires_at: ts(get(row, "expires_at")?)?,
        state: Sealed::from_stored(get(row, "state")?).map_err(|_| corrupt("sealed interaction"))?,
    })
}

fn grant_id(value: &str) -> Result<GrantId, StoreError> {
    GrantId::parse(value).map_err(|_| corrupt("grant id"))
}

fn opt_consent(value: Option<String>) -> Result<Option<ConsentId>, StoreError> {
    value.map(|c| ConsentId::new(c).map_err(|_| corrupt("consent id"))).transpose()
}

fn code_from(row: &DbRow) -> Result<AuthorizationCodeRecord, StoreError> {
    Ok(AuthorizationCodeRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        code: TokenHash::from_bytes(hash32(get(row, "code")?, "code hash")?),
        grant_id: grant_id(&get::<String>(row, "grant_id")?)?,
        client_id: ClientId::new(get::<String>(row, "client_id")?).map_err(|_| corrupt("client id"))?,
        consent_id: opt_consent(get(row, "consent_id")?)?,
        created_at: ts(get(row, "created_at")?)?,
        expires_at: ts(get(row, "expires_at")?)?,
        grant: Sealed::from_stored(get(row, "grant_body")?).map_err(|_| corrupt("sealed grant"))?,
    })
}

fn token_from(row: &DbRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        token: TokenHash::from_bytes(hash32(get(row, "token")?, "token hash")?),
        kind: if get::<String>(row, "kind")? == "refresh" { TokenKind::Refresh } else { TokenKind::Access },
        grant_id: grant_id(&get::<String>(row, "grant_id")?)?,
        client_id: ClientId::new(get::<String>(row, "client_id")?).map_err(|_| corrupt("client id"))?,
        consent_id: opt_consent(get(row, "consent_id")?)?,
        scope: get(row, "scope")?,
        certificate_thumbprint: get(row, "certificate_thumbprint")?,
        issued_at: ts(get(row, "issued_at")?)?,
        expires_at: opt_ts(get(row, "expires_at")?)?,
        revoked_at: opt_ts(get(row, "revoked_at")?)?,
        subject: get::<Option<String>>(row, "subject")?
            .map(|s| Sealed::from_stored(s).map_err(|_| corrupt("sealed subject")))
            .transpose()?,
    })
}

fn message_from(row: &DbRow) -> Result<OutboxMessage, StoreError> {
    Ok(OutboxMessage {
        id: MessageId::parse(&get::<String>(row, "id")?).map_err(|_| corrupt("message id"))?,
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        topic: Topic::new(get::<String>(row, "topic")?).map_err(|_| corrupt("topic"))?,
        payload: get(row, "payload")?,
        created_at: ts(get(row, "created_at")?)?,
        available_at: ts(get(row, "available_at")?)?,
    })
}

fn audit_from(row: &DbRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: MessageId::parse(&get::<String>(row, "id")?).map_err(|_| corrupt("audit id"))?,
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        at: ts(get(row, "at")?)?,
        action: get(row, "action")?,
        interaction_id: get::<Option<String>>(row, "interaction_id")?
            .map(|i| opus_core::InteractionId::parse(&i).map_err(|_| corrupt("interaction id")))
            .transpose()?,
        actor: Sealed::from_stored(get(row, "actor")?).map_err(|_| corrupt("sealed actor"))?,
        details: Sealed::from_stored(get(row, "details")?).map_err(|_| corrupt("sealed details"))?,
    })
}

/// Inserts outbox messages in `tx`; a duplicate id is a conflict.
async fn insert_outbox(tx: &mut Tx, messages: &[OutboxMessage]) -> Result<(), StoreError> {
    for m in messages {
        insert_message(&mut **tx, m).await?;
    }
    Ok(())
}

/// Inserts one outbox message; `Conflict` when its id is taken.
async fn insert_message<'e, E>(executor: E, m: &OutboxMessage) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let done = sqlx::query(
        "INSERT INTO outbox (id, brand, topic, payload, created_at, available_at, attempts, state) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, 'pending') ON CONFLICT DO NOTHING",
    )
    .bind(m.id.to_string())
    .bind(m.brand.as_str())
    .bind(m.topic.as_str())
    .bind(&m.payload)
    .bind(ms(m.created_at))
    .bind(ms(m.available_at))
    .execute(executor)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// The upsert of a day's statistics for one call, for `rows` (`VALUES (…)`
/// or a `SELECT`) that give brand, endpoint, day, 1, errors, rejections,
/// duration, the second's count and the twelve latency buckets.
fn call_stats_upsert(rows: &str) -> String {
    let mut buckets = String::new();
    let mut updates = String::new();
    for b in 0..12 {
        buckets.push_str(&format!(", b{b}"));
        updates.push_str(&format!(", b{b} = call_stats.b{b} + excluded.b{b}"));
    }
    format!(
        "INSERT INTO call_stats (brand, endpoint, day, invocations, errors, rejections, duration_ms_sum, \
         peak_per_second{buckets}) {rows} \
         ON CONFLICT (brand, endpoint, day) DO UPDATE SET invocations = call_stats.invocations + 1, \
         errors = call_stats.errors + excluded.errors, rejections = call_stats.rejections + excluded.rejections, \
         duration_ms_sum = call_stats.duration_ms_sum + excluded.duration_ms_sum, \
         peak_per_second = CASE WHEN excluded.peak_per_second > call_stats.peak_per_second \
         THEN excluded.peak_per_second ELSE call_stats.peak_per_second END{updates}"
    )
}

/// The twelve latency-bucket values of a new `call_stats` row: 1 in
/// `bucket`.
fn bucket_values(bucket: usize) -> String {
    (0..12).map(|b| if b == bucket { ", 1" } else { ", 0" }).collect()
}

/// How long the per-second call counts are kept (the peak of a day needs
/// the day's seconds).
const CALL_SECONDS_KEPT: i64 = 2 * 86_400;

async fn commit(tx: Tx) -> Result<(), StoreError> {
    tx.commit().await.map_err(db_error)
}

/// Compare-and-set of a consent inside `tx`: `NotFound` when absent,
/// `Conflict` when the version moved on or an immutable field differs.
async fn cas_consent(tx: &mut Tx, record: &ConsentRecord, expected: u64) -> Result<ConsentRecord, StoreError> {
    let next = i64::try_from(expected + 1).map_err(|_| StoreError::Conflict)?;
    let row = sqlx::query(
        "UPDATE consents SET status = $1, version = $2, status_updated_at = $3, expires_at = $4, \
         subject = $5, business_entity = $6, body = $7 \
         WHERE brand = $8 AND id = $9 AND version = $10 AND kind = $11 AND client_id = $12 AND created_at = $13 \
         RETURNING *",
    )
    .bind(text(&record.status))
    .bind(next)
    .bind(ms(record.status_updated_at))
    .bind(record.expires_at.map(ms))
    .bind(record.subject.map(|s| s.as_bytes().to_vec()))
    .bind(record.business_entity.map(|s| s.as_bytes().to_vec()))
    .bind(record.body.as_str())
    .bind(record.brand.as_str())
    .bind(record.id.as_str())
    .bind(i64::try_from(expected).map_err(|_| StoreError::Conflict)?)
    .bind(text(&record.kind))
    .bind(record.client_id.as_str())
    .bind(ms(record.created_at))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    match row {
        Some(row) => consent_from(&row),
        None => {
            let exists = sqlx::query("SELECT 1 FROM consents WHERE brand = $1 AND id = $2")
                .bind(record.brand.as_str())
                .bind(record.id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_error)?;
            Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound })
        }
    }
}

#[async_trait::async_trait]
impl ConsentStore for Store {
    async fn insert_consent(&self, record: &ConsentRecord, outbox: &[OutboxMessage]) -> Result<ConsentRecord, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let row = sqlx::query(
            "INSERT INTO consents (brand, id, kind, client_id, status, version, created_at, status_updated_at, \
             expires_at, subject, business_entity, body) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT DO NOTHING RETURNING *",
        )
        .bind(record.brand.as_str())
        .bind(record.id.as_str())
        .bind(text(&record.kind))
        .bind(record.client_id.as_str())
        .bind(text(&record.status))
        .bind(ms(record.created_at))
        .bind(ms(record.status_updated_at))
        .bind(record.expires_at.map(ms))
        .bind(record.subject.map(|s| s.as_bytes().to_vec()))
        .bind(record.business_entity.map(|s| s.as_bytes().to_vec()))
        .bind(record.body.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::Conflict)?;
        let stored = consent_from(&row)?;
        insert_outbox(&mut tx, outbox).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn get_consent(&self, brand: &BrandId, id: &ConsentId) -> Result<Option<ConsentRecord>, StoreError> {
        sqlx::query("SELECT * FROM consents WHERE brand = $1 AND id = $2")
            .bind(brand.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(|row| consent_from(&row))
            .transpose()
    }

    async fn update_consent(&self, record: &ConsentRecord, expected_version: u64, outbox: &[OutboxMessage]) -> Result<ConsentRecord, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let stored = cas_consent(&mut tx, record, expected_version).await?;
        insert_outbox(&mut tx, outbox).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn list_consents(&self, filter: &ConsentFilter, window: Window) -> Result<Page<ConsentRecord>, StoreError> {
        fn conditions(q: &mut QueryBuilder<Db>, f: &ConsentFilter) {
            q.push(" WHERE brand = ").push_bind(f.brand.as_str().to_owned());
            if let Some(c) = &f.client_id {
                q.push(" AND client_id = ").push_bind(c.as_str().to_owned());
            }
            if let Some(s) = &f.subject {
                q.push(" AND subject = ").push_bind(s.as_bytes().to_vec());
            }
            if let Some(b) = &f.business_entity {
                q.push(" AND business_entity = ").push_bind(b.as_bytes().to_vec());
            }
            if let Some(k) = &f.kind {
                q.push(" AND kind = ").push_bind(text(k));
            }
            if !f.statuses.is_empty() {
                q.push(" AND status IN (");
                let mut list = q.separated(", ");
                for s in &f.statuses {
                    list.push_bind(text(s));
                }
                q.push(")");
            }
            if let Some(t) = f.expires_at_or_before {
                q.push(" AND expires_at IS NOT NULL AND expires_at <= ").push_bind(ms(t));
            }
        }
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM consents");
        conditions(&mut count, filter);
        let total: i64 = count.build().fetch_one(&self.pool).await.map_err(db_error)?.try_get("n").map_err(db_error)?;
        let mut select = QueryBuilder::<Db>::new("SELECT * FROM consents");
        conditions(&mut select, filter);
        select
            .push(" ORDER BY created_at, id LIMIT ")
            .push_bind(i64::from(window.limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(window.offset).unwrap_or(i64::MAX));
        let rows = select.build().fetch_all(&self.pool).await.map_err(db_error)?;
        Ok(Page {
            items: rows.iter().map(consent_from).collect::<Result<_, _>>()?,
            total_records: u64::try_from(total).unwrap_or(0),
        })
    }
}

#[async_trait::async_trait]
impl PaymentStore for Store {
    async fn create_consuming(&self, consent: &ConsentRecord, expected_consent_version: u64, payments: &[PaymentRecord], outbox: &[OutboxMessage]) -> Result<Vec<PaymentRecord>, StoreError> {
        if payments.iter().any(|p| p.brand != consent.brand || p.consent_id != consent.id) {
            return Err(StoreError::Conflict);
        }
        let mut tx = begin_write(&self.pool).await?;
        cas_consent(&mut tx, consent, expected_consent_version).await?;
        let mut stored = Vec::with_capacity(payments.len());
        for p in payments {
            let row = sqlx::query(
                "INSERT INTO payments (brand, id, consent_id, client_id, status, version, created_at, \
                 status_updated_at, scheduled_for, body) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9) \
                 ON CONFLICT DO NOTHING RETURNING *",
            )
            .bind(p.brand.as_str())
            .bind(p.id.as_str())
            .bind(p.consent_id.as_str())
            .bind(p.client_id.as_str())
            .bind(text(&p.status))
            .bind(ms(p.created_at))
            .bind(ms(p.status_updated_at))
            .bind(p.scheduled_for.map(|d| d.to_string()))
            .bind(p.body.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
            .ok_or(StoreError::Conflict)?;
            stored.push(payment_from(&row)?);
        }
        insert_outbox(&mut tx, outbox).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn get_payment(&self, brand: &BrandId, id: &PaymentId) -> Result<Option<PaymentRecord>, StoreError> {
        sqlx::query("SELECT * FROM payments WHERE brand = $1 AND id = $2")
            .bind(brand.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(|row| payment_from(&row))
            .transpose()
    }

    async fn update_payment(&self, record: &PaymentRecord, expected_version: u64, outbox: &[OutboxMessage]) -> Result<PaymentRecord, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let row = sqlx::query(
            "UPDATE payments SET status = $1, version = $2, status_updated_at = $3, scheduled_for = $4, body = $5 \
             WHERE brand = $6 AND id = $7 AND version = $8 AND consent_id = $9 AND client_id = $10 AND created_at = $11 \
             RETURNING *",
        )
        .bind(text(&record.status))
        .bind(i64::try_from(expected_version + 1).map_err(|_| StoreError::Conflict)?)
        .bind(ms(record.status_updated_at))
        .bind(record.scheduled_for.map(|d| d.to_string()))
        .bind(record.body.as_str())
        .bind(record.brand.as_str())
        .bind(record.id.as_str())
        .bind(i64::try_from(expected_version).map_err(|_| StoreError::Conflict)?)
        .bind(record.consent_id.as_str())
        .bind(record.client_id.as_str())
        .bind(ms(record.created_at))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(row) = row else {
            let exists = sqlx::query("SELECT 1 FROM payments WHERE brand = $1 AND id = $2")
                .bind(record.brand.as_str())
                .bind(record.id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
            return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound });
        };
        let stored = payment_from(&row)?;
        insert_outbox(&mut tx, outbox).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn list_payments_by_consent(&self, brand: &BrandId, consent_id: &ConsentId) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM payments WHERE brand = $1 AND consent_id = $2 ORDER BY created_at, id")
            .bind(brand.as_str())
            .bind(consent_id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(payment_from).collect()
    }

    async fn list_payments_due(&self, brand: &BrandId, status: PaymentStatus, date: Date, limit: u32) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM payments WHERE brand = $1 AND status = $2 AND scheduled_for IS NOT NULL \
             AND scheduled_for <= $3 ORDER BY scheduled_for, created_at, id LIMIT $4",
        )
        .bind(brand.as_str())
        .bind(text(&status))
        .bind(date.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(payment_from).collect()
    }
}

#[async_trait::async_trait]
impl ClientStore for Store {
    async fn insert_client(&self, record: &ClientRecord) -> Result<ClientRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO clients (brand, client_id, organisation_id, software_statement_id, status, version, \
             created_at, updated_at, registration_access_token, metadata) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING RETURNING *",
        )
        .bind(record.brand.as_str())
        .bind(record.client_id.as_str())
        .bind(record.organisation_id.to_string())
        .bind(record.software_statement_id.to_string())
        .bind(text(&record.status))
        .bind(ms(record.created_at))
        .bind(ms(record.updated_at))
        .bind(record.registration_access_token.map(|t| t.as_bytes().to_vec()))
        .bind(&record.metadata)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::Conflict)?;
        client_from(&row)
    }

    async fn get_client(&self, brand: &BrandId, client_id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        sqlx::query("SELECT * FROM clients WHERE brand = $1 AND client_id = $2")
            .bind(brand.as_str())
            .bind(client_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(|row| client_from(&row))
            .transpose()
    }

    async fn update_client(&self, record: &ClientRecord, expected_version: u64) -> Result<ClientRecord, StoreError> {
        let row = sqlx::query(
            "UPDATE clients SET status = $1, version = $2, updated_at = $3, registration_access_token = $4, metadata = $5 \
             WHERE brand = $6 AND client_id = $7 AND version = $8 AND organisation_id = $9 \
             AND software_statement_id = $10 AND created_at = $11 RETURNING *",
        )
        .bind(text(&record.status))
        .bind(i64::try_from(expected_version + 1).map_err(|_| StoreError::Conflict)?)
        .bind(ms(record.updated_at))
        .bind(record.registration_access_token.map(|t| t.as_bytes().to_vec()))
        .bind(&record.metadata)
        .bind(record.brand.as_str())
        .bind(record.client_id.as_str())
        .bind(i64::try_from(expected_version).map_err(|_| StoreError::Conflict)?)
        .bind(record.organisation_id.to_string())
        .bind(record.software_statement_id.to_string())
        .bind(ms(record.created_at))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        match row {
            Some(row) => client_from(&row),
            None => match self.get_client(&record.brand, &record.client_id).await? {
                Some(_) => Err(StoreError::Conflict),
                None => Err(StoreError::NotFound),
            },
        }
    }

    async fn delete_client(&self, brand: &BrandId, client_id: &ClientId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM clients WHERE brand = $1 AND client_id = $2")
            .bind(brand.as_str())
            .bind(client_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_clients_by_software_statement(&self, brand: &BrandId, software_statement_id: &opus_core::SoftwareStatementId) -> Result<Vec<ClientRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM clients WHERE brand = $1 AND software_statement_id = $2 ORDER BY created_at, client_id")
            .bind(brand.as_str())
            .bind(software_statement_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(client_from).collect()
    }
}

#[async_trait::async_trait]
impl GrantStore for Store {
    async fn put_par(&self, record: &ParRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO pars (brand, request_uri, client_id, created_at, expires_at, request) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(record.brand.as_str())
        .bind(&record.request_uri)
        .bind(record.client_id.as_str())
        .bind(ms(record.created_at))
        .bind(ms(record.expires_at))
        .bind(record.request.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn take_par(&self, brand: &BrandId, request_uri: &str, client_id: &ClientId, now: Timestamp) -> Result<Option<ParRecord>, StoreError> {
        sqlx::query(
            "DELETE FROM pars WHERE brand = $1 AND request_uri = $2 AND client_id = $3 AND expires_at > $4 RETURNING *",
        )
        .bind(brand.as_str())
        .bind(request_uri)
        .bind(client_id.as_str())
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .map(|row| par_from(&row))
        .transpose()
    }

    async fn put_code(&self, record: &AuthorizationCodeRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO codes (brand, code, grant_id, client_id, consent_id, created_at, expires_at, grant_body, redeemed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE) ON CONFLICT DO NOTHING",
        )
        .bind(record.brand.as_str())
        .bind(record.code.as_bytes().to_vec())
        .bind(record.grant_id.to_string())
        .bind(record.client_id.as_str())
        .bind(record.consent_id.as_ref().map(|c| c.as_str().to_owned()))
        .bind(ms(record.created_at))
        .bind(ms(record.expires_at))
        .bind(record.grant.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn redeem_code(&self, brand: &BrandId, code: &TokenHash, now: Timestamp) -> Result<CodeRedemption, StoreError> {
        let redeemed = sqlx::query(
            "UPDATE codes SET redeemed = TRUE WHERE brand = $1 AND code = $2 AND redeemed = FALSE AND expires_at > $3 RETURNING *",
        )
        .bind(brand.as_str())
        .bind(code.as_bytes().to_vec())
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        if let Some(row) = redeemed {
            return Ok(CodeRedemption::Redeemed(code_from(&row)?));
        }
        let spent = sqlx::query("SELECT grant_id FROM codes WHERE brand = $1 AND code = $2 AND redeemed = TRUE")
            .bind(brand.as_str())
            .bind(code.as_bytes().to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        match spent {
            Some(row) => Ok(CodeRedemption::AlreadyRedeemed { grant_id: grant_id(&get::<String>(&row, "grant_id")?)? }),
            None => Ok(CodeRedemption::Unknown),
        }
    }

    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let done = insert_token(&self.pool, record).await?;
        if done { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn get_token(&self, brand: &BrandId, token: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM tokens WHERE brand = $1 AND token = $2")
            .bind(brand.as_str())
            .bind(token.as_bytes().to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(|row| token_from(&row))
            .transpose()
    }

    async fn revoke_token(&self, brand: &BrandId, token: &TokenHash, now: Timestamp) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE brand = $2 AND token = $3 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(ms(now))
        .bind(brand.as_str())
        .bind(token.as_bytes().to_vec())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_grant(&self, brand: &BrandId, grant: &GrantId, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE brand = $2 AND grant_id = $3 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(ms(now))
        .bind(brand.as_str())
        .bind(grant.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn revoke_consent_tokens(&self, brand: &BrandId, consent_id: &ConsentId, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE brand = $2 AND consent_id = $3 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(ms(now))
        .bind(brand.as_str())
        .bind(consent_id.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn rotate_refresh_token(&self, brand: &BrandId, old: &TokenHash, new: &TokenRecord, now: Timestamp) -> Result<(), StoreError> {
        if &new.brand != brand {
            return Err(StoreError::Conflict);
        }
        let mut tx = begin_write(&self.pool).await?;
        let revoked = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE brand = $2 AND token = $3 AND kind = 'refresh' \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(ms(now))
        .bind(brand.as_str())
        .bind(old.as_bytes().to_vec())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if revoked.rows_affected() != 1 {
            let exists = sqlx::query("SELECT 1 FROM tokens WHERE brand = $1 AND token = $2")
                .bind(brand.as_str())
                .bind(old.as_bytes().to_vec())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
            return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound });
        }
        if !insert_token(&mut *tx, new).await? {
            return Err(StoreError::Conflict);
        }
        commit(tx).await
    }

    async fn purge_expired_grants(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut total = 0;
        for statement in [
            "DELETE FROM pars WHERE expires_at <= $1",
            "DELETE FROM codes WHERE expires_at <= $1",
            "DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= $1",
        ] {
            total += sqlx::query(statement).bind(ms(now)).execute(&self.pool).await.map_err(db_error)?.rows_affected();
        }
        Ok(total)
    }
}

async fn insert_token<'e, E>(executor: E, record: &TokenRecord) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let done = sqlx::query(
        "INSERT INTO tokens (brand, token, kind, grant_id, client_id, consent_id, scope, certificate_thumbprint, \
         issued_at, expires_at, revoked_at, subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT DO NOTHING",
    )
    .bind(record.brand.as_str())
    .bind(record.token.as_bytes().to_vec())
    .bind(token_kind_text(record.kind))
    .bind(record.grant_id.to_string())
    .bind(record.client_id.as_str())
    .bind(record.consent_id.as_ref().map(|c| c.as_str().to_owned()))
    .bind(&record.scope)
    .bind(record.certificate_thumbprint.clone())
    .bind(ms(record.issued_at))
    .bind(record.expires_at.map(ms))
    .bind(record.revoked_at.map(ms))
    .bind(record.subject.as_ref().map(|s| s.as_str().to_owned()))
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(done.rows_affected() == 1)
}

/// Gives an idempotency key to a new holder until `lease_until`; with
/// `restart`, as a new key (new fingerprint and retention, outcome cleared).
async fn take_over_key(
    tx: &mut Tx,
    scope: &IdempotencyScope,
    restart: Option<(RequestFingerprint, Timestamp)>,
    lease_until: Timestamp,
) -> Result<(), StoreError> {
    let query = match restart {
        Some((fingerprint, retain_until)) => sqlx::query(
            "UPDATE idempotency SET fingerprint = $1, done = FALSE, lease_until = $2, retain_until = $3, \
             status = NULL, body = NULL WHERE brand = $4 AND client_id = $5 AND operation = $6 AND idem_key = $7",
        )
        .bind(fingerprint.as_bytes().to_vec())
        .bind(ms(lease_until))
        .bind(ms(retain_until)),
        None => sqlx::query(
            "UPDATE idempotency SET lease_until = $1 WHERE brand = $2 AND client_id = $3 AND operation = $4 AND idem_key = $5",
        )
        .bind(ms(lease_until)),
    };
    query
        .bind(scope.brand.as_str())
        .bind(scope.client_id.as_str())
        .bind(&scope.operation)
        .bind(scope.key.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

#[async_trait::async_trait]
impl IdempotencyStore for Store {
    async fn begin(&self, scope: &IdempotencyScope, fingerprint: RequestFingerprint, now: Timestamp, lease_until: Timestamp, retain_until: Timestamp) -> Result<IdempotencyBegin, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency (brand, client_id, operation, idem_key, fingerprint, done, lease_until, retain_until) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(scope.brand.as_str())
        .bind(scope.client_id.as_str())
        .bind(&scope.operation)
        .bind(scope.key.as_str())
        .bind(fingerprint.as_bytes().to_vec())
        .bind(ms(lease_until))
        .bind(ms(retain_until))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if inserted.rows_affected() == 1 {
            commit(tx).await?;
            return Ok(IdempotencyBegin::Started);
        }
        let row = sqlx::query(IDEMPOTENCY_ROW)
            .bind(scope.brand.as_str())
            .bind(scope.client_id.as_str())
            .bind(&scope.operation)
            .bind(scope.key.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let stored_fp = hash32(get(&row, "fingerprint")?, "fingerprint")?;
        let retained = ts(get(&row, "retain_until")?)? > now;
        let outcome = if !retained {
            take_over_key(&mut tx, scope, Some((fingerprint, retain_until)), lease_until).await?;
            IdempotencyBegin::Started
        } else if stored_fp != *fingerprint.as_bytes() {
            IdempotencyBegin::Mismatch
        } else if get::<bool>(&row, "done")? {
            let status = u16::try_from(get::<Option<i64>>(&row, "status")?.unwrap_or_default()).map_err(|_| corrupt("status"))?;
            let body = Sealed::from_stored(get::<Option<String>>(&row, "body")?.unwrap_or_default())
                .map_err(|_| corrupt("sealed response"))?;
            IdempotencyBegin::Completed(StoredResponse { status, body })
        } else if ts(get(&row, "lease_until")?)? > now {
            IdempotencyBegin::InProgress
        } else {
            take_over_key(&mut tx, scope, None, lease_until).await?;
            IdempotencyBegin::Started
        };
        commit(tx).await?;
        Ok(outcome)
    }

    async fn complete(&self, scope: &IdempotencyScope, fingerprint: RequestFingerprint, response: &StoredResponse) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE idempotency SET done = TRUE, status = $1, body = $2 WHERE brand = $3 AND client_id = $4 \
             AND operation = $5 AND idem_key = $6 AND fingerprint = $7 AND done = FALSE",
        )
        .bind(i64::from(response.status))
        .bind(response.body.as_str())
        .bind(scope.brand.as_str())
        .bind(scope.client_id.as_str())
        .bind(&scope.operation)
        .bind(scope.key.as_str())
        .bind(fingerprint.as_bytes().to_vec())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let exists = sqlx::query("SELECT 1 FROM idempotency WHERE brand = $1 AND client_id = $2 AND operation = $3 AND idem_key = $4")
            .bind(scope.brand.as_str())
            .bind(scope.client_id.as_str())
            .bind(&scope.operation)
            .bind(scope.key.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound })
    }

    async fn release(&self, scope: &IdempotencyScope) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency WHERE brand = $1 AND client_id = $2 AND operation = $3 AND idem_key = $4 AND done = FALSE")
            .bind(scope.brand.as_str())
            .bind(scope.client_id.as_str())
            .bind(&scope.operation)
            .bind(scope.key.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn purge_expired_idempotency(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency WHERE retain_until <= $1")
            .bind(ms(now))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}

#[async_trait::async_trait]
impl ReplayGuard for Store {
    async fn insert_jti(&self, scope: &ReplayScope, jti: &Jti, expires_at: Timestamp, now: Timestamp) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO jtis (brand, namespace, jti, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (brand, namespace, jti) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE jtis.expires_at <= $5",
        )
        .bind(scope.brand.as_str())
        .bind(&scope.namespace)
        .bind(jti.as_str())
        .bind(ms(expires_at))
        .bind(ms(now))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn purge_expired_jtis(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM jtis WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}

#[async_trait::async_trait]
impl Outbox for Store {
    async fn enqueue(&self, messages: &[OutboxMessage]) -> Result<(), StoreError> {
        // One message is one statement: no transaction (round trips) needed.
        if let [message] = messages {
            return insert_message(&self.pool, message).await;
        }
        let mut tx = begin_write(&self.pool).await?;
        insert_outbox(&mut tx, messages).await?;
        commit(tx).await
    }

    async fn claim(&self, topic: &Topic, max: u32, now: Timestamp, lease_until: Timestamp) -> Result<Vec<ClaimedMessage>, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let due = sqlx::query(CLAIM_DUE)
            .bind(topic.as_str())
            .bind(ms(now))
            .bind(i64::from(max))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let mut claimed = Vec::with_capacity(due.len());
        for row in due {
            let id: String = get(&row, "id")?;
            let lease = LeaseId::random();
            let row = sqlx::query(
                "UPDATE outbox SET state = 'claimed', lease = $1, lease_until = $2, attempts = attempts + 1 \
                 WHERE id = $3 RETURNING *",
            )
            .bind(lease.0.to_string())
            .bind(ms(lease_until))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            claimed.push(ClaimedMessage {
                message: message_from(&row)?,
                attempts: u32::try_from(get::<i64>(&row, "attempts")?).map_err(|_| corrupt("attempts"))?,
                lease,
                lease_expires_at: lease_until,
            });
        }
        commit(tx).await?;
        Ok(claimed)
    }

    async fn ack(&self, id: &MessageId, lease: LeaseId) -> Result<(), StoreError> {
        self.finish_claim(id, lease, "UPDATE outbox SET state = 'delivered', lease = NULL WHERE id = $1 AND state = 'claimed' AND lease = $2", None).await
    }

    async fn retry(&self, id: &MessageId, lease: LeaseId, available_at: Timestamp) -> Result<(), StoreError> {
        self.finish_claim(
            id,
            lease,
            "UPDATE outbox SET state = 'pending', lease = NULL, available_at = $3 WHERE id = $1 AND state = 'claimed' AND lease = $2",
            Some(ms(available_at)),
        )
        .await
    }

    async fn dead_letter(&self, id: &MessageId, lease: LeaseId) -> Result<(), StoreError> {
        self.finish_claim(id, lease, "UPDATE outbox SET state = 'dead', lease = NULL WHERE id = $1 AND state = 'claimed' AND lease = $2", None).await
    }

    async fn pending(&self, topic: &Topic) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE topic = $1 AND state IN ('pending', 'claimed')")
            .bind(topic.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(u64::try_from(get::<i64>(&row, "n")?).unwrap_or(0))
    }
}

impl Store {
    /// Applies `statement` (binding `$1` = id, `$2` = lease, `$3` = `extra`)
    /// only while `lease` is the message's current claim.
    async fn finish_claim(&self, id: &MessageId, lease: LeaseId, statement: &'static str, extra: Option<i64>) -> Result<(), StoreError> {
        let mut query = sqlx::query(statement).bind(id.to_string()).bind(lease.0.to_string());
        if let Some(extra) = extra {
            query = query.bind(extra);
        }
        let done = query.execute(&self.pool).await.map_err(db_error)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let exists = sqlx::query("SELECT 1 FROM outbox WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound })
    }
}

#[async_trait::async_trait]
impl CounterStore for Store {
    async fn try_increment(&self, key: &CounterKey, limit: u64) -> Result<CounterOutcome, StoreError> {
        let canonical = key.canonical();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if limit > 0 {
            let row = sqlx::query(
                "INSERT INTO counters (counter_key, count) VALUES ($1, 1) ON CONFLICT (counter_key) \
                 DO UPDATE SET count = counters.count + 1 WHERE counters.count < $2 RETURNING count",
            )
            .bind(&canonical)
            .bind(limit)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
            if let Some(row) = row {
                return Ok(CounterOutcome::Counted(u64::try_from(get::<i64>(&row, "count")?).unwrap_or(0)));
            }
        }
        Ok(CounterOutcome::LimitReached(self.count(key).await?))
    }

    async fn refund(&self, key: &CounterKey) -> Result<(), StoreError> {
        sqlx::query("UPDATE counters SET count = count - 1 WHERE counter_key = $1 AND count > 0")
            .bind(key.canonical())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn count(&self, key: &CounterKey) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT count FROM counters WHERE counter_key = $1")
            .bind(key.canonical())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        match row {
            Some(row) => Ok(u64::try_from(get::<i64>(&row, "count")?).unwrap_or(0)),
            None => Ok(0),
        }
    }
}

#[async_trait::async_trait]
impl DataKeyStore for Store {
    async fn insert_data_key(&self, key: &StoredDataKey) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO data_keys (id, kind, kek_id, alg, wrapped, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING",
        )
        .bind(key.id.as_str())
        .bind(text(&key.kind))
        .bind(key.wrapped.kek_id.as_str())
        .bind(&key.wrapped.alg)
        .bind(&key.wrapped.bytes)
        .bind(ms(key.created_at))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn list_data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError> {
        let rows = sqlx::query("SELECT * FROM data_keys ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                Ok(StoredDataKey {
                    id: opus_core::DataKeyId::new(get::<String>(row, "id")?).map_err(|_| corrupt("data key id"))?,
                    kind: parse_text::<DataKeyKind>(get(row, "kind")?, "data key kind")?,
                    wrapped: WrappedKey {
                        kek_id: KeyId::new(get::<String>(row, "kek_id")?).map_err(|_| corrupt("kek id"))?,
                        alg: get(row, "alg")?,
                        bytes: get(row, "wrapped")?,
                    },
                    created_at: ts(get(row, "created_at")?)?,
                })
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl AuditLog for Store {
    async fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO audit (id, brand, at, action, interaction_id, actor, details) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT DO NOTHING",
        )
        .bind(record.id.to_string())
        .bind(record.brand.as_str())
        .bind(ms(record.at))
        .bind(&record.action)
        .bind(record.interaction_id.map(|i| i.to_string()))
        .bind(record.actor.as_str())
        .bind(record.details.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn list_audit(&self, brand: &BrandId, from: Timestamp, to: Timestamp, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit WHERE brand = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4")
            .bind(brand.as_str())
            .bind(ms(from))
            .bind(ms(to))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(audit_from).collect()
    }
}

#[async_trait::async_trait]
impl InteractionStore for Store {
    async fn insert_interaction(&self, record: &InteractionRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO interactions (brand, id, handoff, version, created_at, expires_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(record.brand.as_str())
        .bind(record.id.to_string())
        .bind(record.handoff.map(|h| h.as_bytes().to_vec()))
        .bind(i64::try_from(record.version).map_err(|_| StoreError::Conflict)?)
        .bind(ms(record.created_at))
        .bind(ms(record.expires_at))
        .bind(record.state.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn get_interaction(&self, brand: &BrandId, id: &InteractionSessionId, now: Timestamp) -> Result<Option<InteractionRecord>, StoreError> {
        sqlx::query("SELECT * FROM interactions WHERE brand = $1 AND id = $2 AND expires_at > $3")
            .bind(brand.as_str())
            .bind(id.to_string())
            .bind(ms(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(|row| interaction_from(&row))
            .transpose()
    }

    async fn find_interaction_by_handoff(&self, brand: &BrandId, handoff: &TokenHash, now: Timestamp) -> Result<Option<InteractionRecord>, StoreError> {
        sqlx::query("SELECT * FROM interactions WHERE brand = $1 AND handoff = $2 AND expires_at > $3")
            .bind(brand.as_str())
            .bind(handoff.as_bytes().to_vec())
            .bind(ms(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(|row| interaction_from(&row))
            .transpose()
    }

    async fn update_interaction(&self, record: &InteractionRecord, expected_version: u64) -> Result<InteractionRecord, StoreError> {
        let row = sqlx::query(
            "UPDATE interactions SET handoff = $1, version = $2, state = $3 \
             WHERE brand = $4 AND id = $5 AND version = $6 AND created_at = $7 AND expires_at = $8 RETURNING *",
        )
        .bind(record.handoff.map(|h| h.as_bytes().to_vec()))
        .bind(i64::try_from(expected_version + 1).map_err(|_| StoreError::Conflict)?)
        .bind(record.state.as_str())
        .bind(record.brand.as_str())
        .bind(record.id.to_string())
        .bind(i64::try_from(expected_version).map_err(|_| StoreError::Conflict)?)
        .bind(ms(record.created_at))
        .bind(ms(record.expires_at))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        match row {
            Some(row) => interaction_from(&row),
            None => {
                let exists = sqlx::query("SELECT 1 FROM interactions WHERE brand = $1 AND id = $2")
                    .bind(record.brand.as_str())
                    .bind(record.id.to_string())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound })
            }
        }
    }

    async fn purge_expired_interactions(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM interactions WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&self.pool)
            .await
            .map_err(db_error)?
            .rows_affected())
    }
}

fn outage_from(row: &DbRow) -> Result<OutageRecord, StoreError> {
    let endpoints: String = get(row, "endpoints")?;
    Ok(OutageRecord {
        brand: BrandId::new(get::<String>(row, "brand")?).map_err(|_| corrupt("brand"))?,
        id: get(row, "id")?,
        scheduled: get::<i64>(row, "scheduled")? != 0,
        partial: get::<i64>(row, "partial")? != 0,
        starts_at: ts(get(row, "starts_at")?)?,
        ends_at: opt_ts(get(row, "ends_at")?)?,
        explanation: get(row, "explanation")?,
        endpoints: serde_json::from_str(&endpoints).map_err(|_| corrupt("outage endpoints"))?,
    })
}

fn count(row: &DbRow, column: &str) -> Result<u64, StoreError> {
    Ok(u64::try_from(get::<i64>(row, column)?).unwrap_or(0))
}

#[async_trait::async_trait]
impl OperationsStore for Store {
    async fn put_outage(&self, outage: &OutageRecord) -> Result<(), StoreError> {
        let endpoints = serde_json::to_string(&outage.endpoints).map_err(|e| StoreError::Other(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO outages (brand, id, scheduled, partial, starts_at, ends_at, explanation, endpoints) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (brand, id) DO UPDATE SET \
             scheduled = excluded.scheduled, partial = excluded.partial, starts_at = excluded.starts_at, \
             ends_at = excluded.ends_at, explanation = excluded.explanation, endpoints = excluded.endpoints",
        )
        .bind(outage.brand.as_str())
        .bind(&outage.id)
        .bind(i64::from(outage.scheduled))
        .bind(i64::from(outage.partial))
        .bind(ms(outage.starts_at))
        .bind(outage.ends_at.map(ms))
        .bind(&outage.explanation)
        .bind(endpoints)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn list_outages(&self, brand: &BrandId, from: Timestamp, to: Timestamp) -> Result<Vec<OutageRecord>, StoreError> {
        sqlx::query(
            "SELECT * FROM outages WHERE brand = $1 AND starts_at < $2 AND (ends_at IS NULL OR ends_at > $3) \
             ORDER BY starts_at, id",
        )
        .bind(brand.as_str())
        .bind(ms(to))
        .bind(ms(from))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .iter()
        .map(outage_from)
        .collect()
    }

    async fn record_call(&self, sample: &CallSample) -> Result<(), StoreError> {
        record_call_in(&self.pool, sample).await
    }

    async fn call_stats(&self, brand: &BrandId, from: Date, to: Date) -> Result<Vec<DailyCallStats>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM call_stats WHERE brand = $1 AND day >= $2 AND day <= $3 ORDER BY endpoint, day",
        )
        .bind(brand.as_str())
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let mut latency = [0u64; 12];
                for (b, slot) in latency.iter_mut().enumerate() {
                    *slot = count(row, &format!("b{b}"))?;
                }
                Ok(DailyCallStats {
                    endpoint: get(row, "endpoint")?,
                    day: Date::parse(&get::<String>(row, "day")?).map_err(|_| corrupt("day"))?,
                    invocations: count(row, "invocations")?,
                    errors: count(row, "errors")?,
                    rejections: count(row, "rejections")?,
                    duration_ms_sum: count(row, "duration_ms_sum")?,
                    peak_per_second: count(row, "peak_per_second")?,
                    latency,
                })
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl RegistrationStore for Store {
    async fn get_registration(
        &self,
        owner: &BrandId,
        issuer: &str,
        software_statement_id: &opus_core::SoftwareStatementId,
    ) -> Result<Option<RegistrationRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM registrations WHERE owner = $1 AND issuer = $2 AND software_statement_id = $3",
        )
        .bind(owner.as_str())
        .bind(issuer)
        .bind(software_statement_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(RegistrationRecord {
            owner: BrandId::new(get::<String>(&row, "owner")?).map_err(|_| corrupt("owner"))?,
            issuer: get(&row, "issuer")?,
            software_statement_id: opus_core::SoftwareStatementId::parse(&get::<String>(&row, "software_statement_id")?)
                .map_err(|_| corrupt("software statement"))?,
            client_id: ClientId::new(get::<String>(&row, "client_id")?).map_err(|_| corrupt("client id"))?,
            registration_client_uri: get(&row, "registration_client_uri")?,
            registration_access_token: Sealed::from_stored(get(&row, "registration_access_token")?)
                .map_err(|_| corrupt("registration access token"))?,
            metadata_digest: get(&row, "metadata_digest")?,
            updated_at: ts(get(&row, "updated_at")?)?,
        }))
    }

    async fn put_registration(&self, record: &RegistrationRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO registrations (owner, issuer, software_statement_id, client_id, registration_client_uri, \
             registration_access_token, metadata_digest, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (owner, issuer, software_statement_id) DO UPDATE SET client_id = excluded.client_id, \
             registration_client_uri = excluded.registration_client_uri, \
             registration_access_token = excluded.registration_access_token, \
             metadata_digest = excluded.metadata_digest, updated_at = excluded.updated_at",
        )
        .bind(record.owner.as_str())
        .bind(&record.issuer)
        .bind(record.software_statement_id.to_string())
        .bind(record.client_id.as_str())
        .bind(&record.registration_client_uri)
        .bind(record.registration_access_token.as_str())
        .bind(&record.metadata_digest)
        .bind(ms(record.updated_at))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

fn document_of(row: &DbRow) -> Result<StoredDocument, StoreError> {
    let person: Option<String> = get(row, "person")?;
    Ok(StoredDocument {
        owner: BrandId::new(get::<String>(row, "owner")?).map_err(|_| corrupt("owner"))?,
        collection: get(row, "collection")?,
        key: get(row, "doc_key")?,
        person: person
            .map(BlindIndex::try_from)
            .transpose()
            .map_err(|_| corrupt("person"))?,
        body: Sealed::from_stored(get(row, "body")?).map_err(|_| corrupt("document body"))?,
        version: u64::try_from(get::<i64>(row, "version")?).map_err(|_| corrupt("version"))?,
        updated_at: ts(get(row, "updated_at")?)?,
    })
}

#[async_trait::async_trait]
impl DocumentStore for Store {
    async fn get_document(
        &self,
        owner: &BrandId,
        collection: &str,
        key: &str,
    ) -> Result<Option<StoredDocument>, StoreError> {
        sqlx::query("SELECT * FROM documents WHERE owner = $1 AND collection = $2 AND doc_key = $3")
            .bind(owner.as_str())
            .bind(collection)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(document_of)
            .transpose()
    }

    async fn put_document(&self, document: &StoredDocument, expected: u64) -> Result<u64, StoreError> {
        let version = i64::try_from(expected + 1).map_err(|_| StoreError::Conflict)?;
        let person = document.person.map(String::from);
        let done = if expected == 0 {
            sqlx::query(
                "INSERT INTO documents (owner, collection, doc_key, person, body, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (owner, collection, doc_key) DO NOTHING",
            )
            .bind(document.owner.as_str())
            .bind(&document.collection)
            .bind(&document.key)
            .bind(person)
            .bind(document.body.as_str())
            .bind(ms(document.updated_at))
            .execute(&self.pool)
            .await
        } else {
            sqlx::query(
                "UPDATE documents SET person = $4, body = $5, version = $6, updated_at = $7 \
                 WHERE owner = $1 AND collection = $2 AND doc_key = $3 AND version = $8",
            )
            .bind(document.owner.as_str())
            .bind(&document.collection)
            .bind(&document.key)
            .bind(person)
            .bind(document.body.as_str())
            .bind(version)
            .bind(ms(document.updated_at))
            .bind(version - 1)
            .execute(&self.pool)
            .await
        }
        .map_err(db_error)?;
        if done.rows_affected() == 1 {
            Ok(expected + 1)
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn documents_of(
        &self,
        owner: &BrandId,
        collection: &str,
        person: &BlindIndex,
    ) -> Result<Vec<StoredDocument>, StoreError> {
        sqlx::query(
            "SELECT * FROM documents WHERE owner = $1 AND collection = $2 AND person = $3 ORDER BY doc_key",
        )
        .bind(owner.as_str())
        .bind(collection)
        .bind(String::from(*person))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .iter()
        .map(document_of)
        .collect()
    }

    async fn documents(&self, owner: &BrandId, collection: &str) -> Result<Vec<StoredDocument>, StoreError> {
        sqlx::query("SELECT * FROM documents WHERE owner = $1 AND collection = $2 ORDER BY doc_key")
            .bind(owner.as_str())
            .bind(collection)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?
            .iter()
            .map(document_of)
            .collect()
    }

    async fn delete_document(&self, owner: &BrandId, collection: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM documents WHERE owner = $1 AND collection = $2 AND doc_key = $3")
            .bind(owner.as_str())
            .bind(collection)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
