//! The in-memory backend.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use opus_core::envelope::Page;
use opus_core::id::{
    BrandId, ClientId, ConsentId, GrantId, InteractionSessionId, Jti, MessageId, PaymentId,
};
use opus_core::payment::PaymentStatus;
use opus_core::seal::{DataKeyStore, StoredDataKey};
use opus_core::store::{
    AuditLog, AuditRecord, AuthorizationCodeRecord, CallSample, ClaimedMessage, ClientRecord,
    ClientStore, CodeRedemption, ConsentFilter, ConsentRecord, ConsentStore, CounterKey,
    CounterOutcome, CounterStore, DailyCallStats, DocumentStore, GrantStore, IdempotencyBegin,
    IdempotencyScope, IdempotencyStore, InteractionRecord, InteractionStore, LeaseId,
    OperationsStore, OutageRecord, Outbox, OutboxMessage, ParRecord, PaymentRecord, PaymentStore,
    RegistrationRecord, RegistrationStore, ReplayGuard, ReplayScope, RequestFingerprint,
    StoreError, StoredDocument, StoredResponse, TokenHash, TokenKind, TokenRecord, Topic, Window,
    latency_bucket,
};
use opus_core::{Date, SoftwareStatementId, Timestamp};

/// Every storage port in process memory.
///
/// One mutex guards all state; each operation validates everything it will
/// do before changing anything, so a failed call leaves no partial state,
/// and holds the lock for its whole duration, so compare-and-set,
/// consume-once and insert-if-absent are atomic under any concurrency. The
/// lock is never held across an `.await`.
///
/// Nothing survives the process: use it for tests, the sandbox and
/// single-process development.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    consents: HashMap<(BrandId, ConsentId), ConsentRecord>,
    payments: HashMap<(BrandId, PaymentId), PaymentRecord>,
    clients: HashMap<(BrandId, ClientId), ClientRecord>,
    pars: HashMap<(BrandId, String), ParRecord>,
    codes: HashMap<(BrandId, TokenHash), CodeEntry>,
    tokens: HashMap<(BrandId, TokenHash), TokenRecord>,
    idempotency: HashMap<IdempotencyScope, IdempotencyEntry>,
    jtis: HashMap<(ReplayScope, Jti), Timestamp>,
    outbox: HashMap<MessageId, OutboxEntry>,
    counters: HashMap<String, u64>,
    data_keys: BTreeMap<String, StoredDataKey>,
    audit: Vec<AuditRecord>,
    interactions: HashMap<(BrandId, InteractionSessionId), InteractionRecord>,
    outages: BTreeMap<(BrandId, String), OutageRecord>,
    call_stats: BTreeMap<(BrandId, String, Date), DailyCallStats>,
    call_seconds: HashMap<(BrandId, String, i64), u64>,
    registrations: HashMap<(BrandId, String, SoftwareStatementId), RegistrationRecord>,
    documents: BTreeMap<(BrandId, String, String), StoredDocument>,
}

struct CodeEntry {
    record: AuthorizationCodeRecord,
    redeemed: bool,
}

struct IdempotencyEntry {
    fingerprint: RequestFingerprint,
    state: IdempotencyState,
    retain_until: Timestamp,
}

enum IdempotencyState {
    InFlight { lease_until: Timestamp },
    Done(StoredResponse),
}

struct OutboxEntry {
    message: OutboxMessage,
    attempts: u32,
    state: DeliveryState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DeliveryState {
    Pending,
    Claimed { lease: LeaseId, until: Timestamp },
    Delivered,
    Dead,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored value in the textual form a database column would hold
    /// it (sealed values and blind indexes as stored), one record per line.
    /// For inspection and for tests that check what reaches a backend.
    pub fn export_text(&self) -> Result<String, StoreError> {
        let state = self.lock()?;
        let mut out = String::new();
        for c in state.consents.values() {
            let _ = writeln!(
                out,
                "consent {} {} {:?} {} {} {} {} {} {:?} {} {} {}",
                c.brand,
                c.id,
                c.kind,
                c.client_id,
                c.status.as_str(),
                c.version,
                c.created_at,
                c.status_updated_at,
                c.expires_at.map(|t| t.to_string()),
                c.subject.map(String::from).unwrap_or_default(),
                c.business_entity.map(String::from).unwrap_or_default(),
                c.body.as_str(),
            );
        }
        for p in state.payments.values() {
            let _ = writeln!(
                out,
                "payment {} {} {} {} {} {} {}",
                p.brand,
                p.id,
                p.consent_id,
                p.client_id,
                p.status.as_str(),
                p.version,
                p.body.as_str()
            );
        }
        for t in state.tokens.values() {
            let _ = writeln!(
                out,
                "token {} {} {}",
                t.brand,
                t.scope,
                t.subject.as_ref().map(|s| s.as_str()).unwrap_or_default()
            );
        }
        for a in &state.audit {
            let _ = writeln!(
                out,
                "audit {} {} {} {} {}",
                a.brand,
                a.at,
                a.action,
                a.actor.as_str(),
                a.details.as_str()
            );
        }
        for m in state.outbox.values() {
            let _ = writeln!(
                out,
                "outbox {} {} {}",
                m.message.brand,
                m.message.topic.as_str(),
                String::from_utf8_lossy(&m.message.payload)
            );
        }
        Ok(out)
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Other("memory store lock poisoned".into()))
    }
}

impl State {
    /// Outbox messages can be written only if none of their ids exists.
    fn check_outbox(&self, messages: &[OutboxMessage]) -> Result<(), StoreError> {
        let mut seen = std::collections::HashSet::new();
        for m in messages {
            if self.outbox.contains_key(&m.id) || !seen.insert(m.id) {
                return Err(StoreError::Conflict);
            }
        }
        Ok(())
    }

    fn write_outbox(&mut self, messages: &[OutboxMessage]) {
        for m in messages {
            self.outbox.insert(
                m.id,
                OutboxEntry {
                    message: m.clone(),
                    attempts: 0,
                    state: DeliveryState::Pending,
                },
            );
        }
    }

    /// The stored consent that `record` may replace at `expected_version`.
    fn consent_for_update(
        &self,
        record: &ConsentRecord,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let stored = self
            .consents
            .get(&(record.brand.clone(), record.id.clone()))
            .ok_or(StoreError::NotFound)?;
        if stored.version != expected_version
            || stored.kind != record.kind
            || stored.client_id != record.client_id
            || stored.created_at != record.created_at
        {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }
}

fn window<T>(mut items: Vec<T>, window: Window) -> Page<T> {
    let total_records = items.len() as u64;
    let start = usize::try_from(window.offset)
        .unwrap_or(usize::MAX)
        .min(items.len());
    let end = start.saturating_add(window.limit as usize).min(items.len());
    let items: Vec<T> = items.drain(start..end).collect();
    Page {
        items,
        total_records,
    }
}

#[async_trait]
impl ConsentStore for MemoryStore {
    async fn insert_consent(
        &self,
        record: &ConsentRecord,
        outbox: &[OutboxMessage],
    ) -> Result<ConsentRecord, StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.id.clone());
        if state.consents.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        state.check_outbox(outbox)?;
        let stored = ConsentRecord {
            version: 1,
            ..record.clone()
        };
        state.consents.insert(key, stored.clone());
        state.write_outbox(outbox);
        Ok(stored)
    }

    async fn get_consent(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state.consents.get(&(brand.clone(), id.clone())).cloned())
    }

    async fn update_consent(
        &self,
        record: &ConsentRecord,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> Result<ConsentRecord, StoreError> {
        let mut state = self.lock()?;
        state.consent_for_update(record, expected_version)?;
        state.check_outbox(outbox)?;
        let stored = ConsentRecord {
            version: expected_version + 1,
            ..record.clone()
        };
        state
            .consents
            .insert((record.brand.clone(), record.id.clone()), stored.clone());
        state.write_outbox(outbox);
        Ok(stored)
    }

    async fn list_consents(
        &self,
        filter: &ConsentFilter,
        win: Window,
    ) -> Result<Page<ConsentRecord>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<ConsentRecord> = state
            .consents
            .values()
            .filter(|c| filter.matches(c))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(window(found, win))
    }
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn create_consuming(
        &self,
        consent: &ConsentRecord,
        expected_consent_version: u64,
        payments: &[PaymentRecord],
        outbox: &[OutboxMessage],
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let mut state = self.lock()?;
        state.consent_for_update(consent, expected_consent_version)?;
        let mut ids = std::collections::HashSet::new();
        for p in payments {
            if p.brand != consent.brand
                || p.consent_id != consent.id
                || !ids.insert(p.id.clone())
                || state
                    .payments
                    .contains_key(&(p.brand.clone(), p.id.clone()))
            {
                return Err(StoreError::Conflict);
            }
        }
        state.check_outbox(outbox)?;
        let stored_consent = ConsentRecord {
            version: expected_consent_version + 1,
            ..consent.clone()
        };
        state
            .consents
            .insert((consent.brand.clone(), consent.id.clone()), stored_consent);
        let stored: Vec<PaymentRecord> = payments
            .iter()
            .map(|p| PaymentRecord {
                version: 1,
                ..p.clone()
            })
            .collect();
        for p in &stored {
            state
                .payments
                .insert((p.brand.clone(), p.id.clone()), p.clone());
        }
        state.write_outbox(outbox);
        Ok(stored)
    }

    async fn get_payment(
        &self,
        brand: &BrandId,
        id: &PaymentId,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state.payments.get(&(brand.clone(), id.clone())).cloned())
    }

    async fn update_payment(
        &self,
        record: &PaymentRecord,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> Result<PaymentRecord, StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.id.clone());
        let stored = state.payments.get(&key).ok_or(StoreError::NotFound)?;
        if stored.version != expected_version
            || stored.consent_id != record.consent_id
            || stored.client_id != record.client_id
            || stored.created_at != record.created_at
        {
            return Err(StoreError::Conflict);
        }
        state.check_outbox(outbox)?;
        let stored = PaymentRecord {
            version: expected_version + 1,
            ..record.clone()
        };
        state.payments.insert(key, stored.clone());
        state.write_outbox(outbox);
        Ok(stored)
    }

    async fn list_payments_by_consent(
        &self,
        brand: &BrandId,
        consent_id: &ConsentId,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<PaymentRecord> = state
            .payments
            .values()
            .filter(|p| &p.brand == brand && &p.consent_id == consent_id)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn list_payments_due(
        &self,
        brand: &BrandId,
        status: PaymentStatus,
        date: Date,
        limit: u32,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<PaymentRecord> = state
            .payments
            .values()
            .filter(|p| {
                &p.brand == brand
                    && p.status == status
                    && p.scheduled_for.is_some_and(|d| d <= date)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (a.scheduled_for, a.created_at, &a.id).cmp(&(b.scheduled_for, b.created_at, &b.id))
        });
        found.truncate(limit as usize);
        Ok(found)
    }
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn insert_client(&self, record: &ClientRecord) -> Result<ClientRecord, StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.client_id.clone());
        if state.clients.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        let stored = ClientRecord {
            version: 1,
            ..record.clone()
        };
        state.clients.insert(key, stored.clone());
        Ok(stored)
    }

    async fn get_client(
        &self,
        brand: &BrandId,
        client_id: &ClientId,
    ) -> Result<Option<ClientRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .clients
            .get(&(brand.clone(), client_id.clone()))
            .cloned())
    }

    async fn update_client(
        &self,
        record: &ClientRecord,
        expected_version: u64,
    ) -> Result<ClientRecord, StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.client_id.clone());
        let stored = state.clients.get(&key).ok_or(StoreError::NotFound)?;
        if stored.version != expected_version
            || stored.organisation_id != record.organisation_id
            || stored.software_statement_id != record.software_statement_id
            || stored.created_at != record.created_at
        {
            return Err(StoreError::Conflict);
        }
        let stored = ClientRecord {
            version: expected_version + 1,
            ..record.clone()
        };
        state.clients.insert(key, stored.clone());
        Ok(stored)
    }

    async fn delete_client(
        &self,
        brand: &BrandId,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        Ok(state
            .clients
            .remove(&(brand.clone(), client_id.clone()))
            .is_some())
    }

    async fn list_clients_by_software_statement(
        &self,
        brand: &BrandId,
        software_statement_id: &opus_core::SoftwareStatementId,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<ClientRecord> = state
            .clients
            .values()
            .filter(|c| &c.brand == brand && &c.software_statement_id == software_statement_id)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
        Ok(found)
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn put_par(&self, record: &ParRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.request_uri.clone());
        if state.pars.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        state.pars.insert(key, record.clone());
        Ok(())
    }

    async fn take_par(
        &self,
        brand: &BrandId,
        request_uri: &str,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<ParRecord>, StoreError> {
        let mut state = self.lock()?;
        let key = (brand.clone(), request_uri.to_owned());
        let Some(record) = state.pars.get(&key) else {
            return Ok(None);
        };
        if now >= record.expires_at {
            state.pars.remove(&key);
            return Ok(None);
        }
        if &record.client_id != client_id {
            return Ok(None);
        }
        Ok(state.pars.remove(&key))
    }

    async fn put_code(&self, record: &AuthorizationCodeRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.code);
        if state.codes.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        state.codes.insert(
            key,
            CodeEntry {
                record: record.clone(),
                redeemed: false,
            },
        );
        Ok(())
    }

    async fn redeem_code(
        &self,
        brand: &BrandId,
        code: &TokenHash,
        now: Timestamp,
    ) -> Result<CodeRedemption, StoreError> {
        let mut state = self.lock()?;
        let Some(entry) = state.codes.get_mut(&(brand.clone(), *code)) else {
            return Ok(CodeRedemption::Unknown);
        };
        if entry.redeemed {
            return Ok(CodeRedemption::AlreadyRedeemed {
                grant_id: entry.record.grant_id,
            });
        }
        if now >= entry.record.expires_at {
            return Ok(CodeRedemption::Unknown);
        }
        entry.redeemed = true;
        Ok(CodeRedemption::Redeemed(entry.record.clone()))
    }

    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.token);
        if state.tokens.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        state.tokens.insert(key, record.clone());
        Ok(())
    }

    async fn get_token(
        &self,
        brand: &BrandId,
        token: &TokenHash,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state.tokens.get(&(brand.clone(), *token)).cloned())
    }

    async fn revoke_token(
        &self,
        brand: &BrandId,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        match state.tokens.get_mut(&(brand.clone(), *token)) {
            Some(t) if t.is_active(now) => {
                t.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_grant(
        &self,
        brand: &BrandId,
        grant_id: &GrantId,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        Ok(revoke_where(&mut state, now, |t| {
            &t.brand == brand && &t.grant_id == grant_id
        }))
    }

    async fn revoke_consent_tokens(
        &self,
        brand: &BrandId,
        consent_id: &ConsentId,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        Ok(revoke_where(&mut state, now, |t| {
            &t.brand == brand && t.consent_id.as_ref() == Some(consent_id)
        }))
    }

    async fn rotate_refresh_token(
        &self,
        brand: &BrandId,
        old: &TokenHash,
        new: &TokenRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let old_key = (brand.clone(), *old);
        let new_key = (new.brand.clone(), new.token);
        let current = state.tokens.get(&old_key).ok_or(StoreError::NotFound)?;
        if current.kind != TokenKind::Refresh
            || !current.is_active(now)
            || &new.brand != brand
            || state.tokens.contains_key(&new_key)
        {
            return Err(StoreError::Conflict);
        }
        if let Some(t) = state.tokens.get_mut(&old_key) {
            t.revoked_at = Some(now);
        }
        state.tokens.insert(new_key, new.clone());
        Ok(())
    }

    async fn purge_expired_grants(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        let before = state.pars.len() + state.codes.len() + state.tokens.len();
        state.pars.retain(|_, p| p.expires_at > now);
        state.codes.retain(|_, c| c.record.expires_at > now);
        state
            .tokens
            .retain(|_, t| t.expires_at.is_none_or(|e| e > now));
        let after = state.pars.len() + state.codes.len() + state.tokens.len();
        Ok((before - after) as u64)
    }
}

fn revoke_where(state: &mut State, now: Timestamp, pred: impl Fn(&TokenRecord) -> bool) -> u64 {
    let mut count = 0;
    for t in state.tokens.values_mut() {
        if pred(t) && t.is_active(now) {
            t.revoked_at = Some(now);
            count += 1;
        }
    }
    count
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: RequestFingerprint,
        now: Timestamp,
        lease_until: Timestamp,
        retain_until: Timestamp,
    ) -> Result<IdempotencyBegin, StoreError> {
        let mut state = self.lock()?;
        if let Some(entry) = state
            .idempotency
            .get_mut(scope)
            .filter(|e| e.retain_until > now)
        {
            if entry.fingerprint != fingerprint {
                return Ok(IdempotencyBegin::Mismatch);
            }
            return Ok(match &entry.state {
                IdempotencyState::Done(response) => IdempotencyBegin::Completed(response.clone()),
                IdempotencyState::InFlight { lease_until: held } if *held > now => {
                    IdempotencyBegin::InProgress
                }
                IdempotencyState::InFlight { .. } => {
                    // The previous holder's lease lapsed: take the key over.
                    entry.state = IdempotencyState::InFlight { lease_until };
                    IdempotencyBegin::Started
                }
            });
        }
        state.idempotency.insert(
            scope.clone(),
            IdempotencyEntry {
                fingerprint,
                state: IdempotencyState::InFlight { lease_until },
                retain_until,
            },
        );
        Ok(IdempotencyBegin::Started)
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        fingerprint: RequestFingerprint,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let entry = state
            .idempotency
            .get_mut(scope)
            .ok_or(StoreError::NotFound)?;
        if entry.fingerprint != fingerprint {
            return Err(StoreError::Conflict);
        }
        match entry.state {
            IdempotencyState::Done(_) => Err(StoreError::Conflict),
            IdempotencyState::InFlight { .. } => {
                entry.state = IdempotencyState::Done(response.clone());
                Ok(())
            }
        }
    }

    async fn release(&self, scope: &IdempotencyScope) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        if matches!(
            state.idempotency.get(scope).map(|e| &e.state),
            Some(IdempotencyState::InFlight { .. })
        ) {
            state.idempotency.remove(scope);
        }
        Ok(())
    }

    async fn purge_expired_idempotency(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        let before = state.idempotency.len();
        state.idempotency.retain(|_, e| e.retain_until > now);
        Ok((before - state.idempotency.len()) as u64)
    }
}

#[async_trait]
impl ReplayGuard for MemoryStore {
    async fn insert_jti(
        &self,
        scope: &ReplayScope,
        jti: &Jti,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let key = (scope.clone(), jti.clone());
        if state.jtis.get(&key).is_some_and(|until| *until > now) {
            return Err(StoreError::Conflict);
        }
        state.jtis.insert(key, expires_at);
        Ok(())
    }

    async fn purge_expired_jtis(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        let before = state.jtis.len();
        state.jtis.retain(|_, until| *until > now);
        Ok((before - state.jtis.len()) as u64)
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn enqueue(&self, messages: &[OutboxMessage]) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        state.check_outbox(messages)?;
        state.write_outbox(messages);
        Ok(())
    }

    async fn claim(
        &self,
        topic: &Topic,
        max: u32,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        let mut state = self.lock()?;
        let mut due: Vec<(Timestamp, Timestamp, MessageId)> = state
            .outbox
            .values()
            .filter(|e| &e.message.topic == topic && e.message.available_at <= now)
            .filter(|e| match e.state {
                DeliveryState::Pending => true,
                DeliveryState::Claimed { until, .. } => until <= now,
                DeliveryState::Delivered | DeliveryState::Dead => false,
            })
            .map(|e| (e.message.available_at, e.message.created_at, e.message.id))
            .collect();
        due.sort();
        due.truncate(max as usize);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, _, id) in due {
            if let Some(entry) = state.outbox.get_mut(&id) {
                let lease = LeaseId::random();
                entry.attempts += 1;
                entry.state = DeliveryState::Claimed {
                    lease,
                    until: lease_until,
                };
                claimed.push(ClaimedMessage {
                    message: entry.message.clone(),
                    attempts: entry.attempts,
                    lease,
                    lease_expires_at: lease_until,
                });
            }
        }
        Ok(claimed)
    }

    async fn ack(&self, id: &MessageId, lease: LeaseId) -> Result<(), StoreError> {
        self.finish_claim(id, lease, |e| e.state = DeliveryState::Delivered)
    }

    async fn retry(
        &self,
        id: &MessageId,
        lease: LeaseId,
        available_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.finish_claim(id, lease, |e| {
            e.state = DeliveryState::Pending;
            e.message.available_at = available_at;
        })
    }

    async fn dead_letter(&self, id: &MessageId, lease: LeaseId) -> Result<(), StoreError> {
        self.finish_claim(id, lease, |e| e.state = DeliveryState::Dead)
    }

    async fn pending(&self, topic: &Topic) -> Result<u64, StoreError> {
        let state = self.lock()?;
        Ok(state
            .outbox
            .values()
            .filter(|e| {
                &e.message.topic == topic
                    && matches!(
                        e.state,
                        DeliveryState::Pending | DeliveryState::Claimed { .. }
                    )
            })
            .count() as u64)
    }
}

impl MemoryStore {
    /// Applies `f` to a message only while `lease` is its current claim.
    fn finish_claim(
        &self,
        id: &MessageId,
        lease: LeaseId,
        f: impl FnOnce(&mut OutboxEntry),
    ) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let entry = state.outbox.get_mut(id).ok_or(StoreError::NotFound)?;
        match entry.state {
            DeliveryState::Claimed { lease: held, .. } if held == lease => {
                f(entry);
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }
}

#[async_trait]
impl CounterStore for MemoryStore {
    async fn try_increment(
        &self,
        key: &CounterKey,
        limit: u64,
    ) -> Result<CounterOutcome, StoreError> {
        let mut state = self.lock()?;
        let count = state.counters.entry(key.canonical()).or_insert(0);
        if *count >= limit {
            return Ok(CounterOutcome::LimitReached(*count));
        }
        *count += 1;
        Ok(CounterOutcome::Counted(*count))
    }

    async fn refund(&self, key: &CounterKey) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        if let Some(count) = state.counters.get_mut(&key.canonical()) {
            *count = count.saturating_sub(1);
        }
        Ok(())
    }

    async fn count(&self, key: &CounterKey) -> Result<u64, StoreError> {
        let state = self.lock()?;
        Ok(state.counters.get(&key.canonical()).copied().unwrap_or(0))
    }
}

#[async_trait]
impl DataKeyStore for MemoryStore {
    async fn insert_data_key(&self, key: &StoredDataKey) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let id = key.id.to_string();
        if state.data_keys.contains_key(&id) {
            return Err(StoreError::Conflict);
        }
        state.data_keys.insert(id, key.clone());
        Ok(())
    }

    async fn list_data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError> {
        let state = self.lock()?;
        let mut keys: Vec<StoredDataKey> = state.data_keys.values().cloned().collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        if state.audit.iter().any(|a| a.id == record.id) {
            return Err(StoreError::Conflict);
        }
        state.audit.push(record.clone());
        Ok(())
    }

    async fn list_audit(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<AuditRecord> = state
            .audit
            .iter()
            .filter(|a| &a.brand == brand && a.at >= from && a.at < to)
            .cloned()
            .collect();
        found.sort_by_key(|a| (a.at, a.id));
        found.truncate(limit as usize);
        Ok(found)
    }
}

#[async_trait]
impl InteractionStore for MemoryStore {
    async fn insert_interaction(&self, record: &InteractionRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.id);
        let handoff_taken = record.handoff.is_some_and(|h| {
            state
                .interactions
                .values()
                .any(|r| r.brand == record.brand && r.handoff == Some(h))
        });
        if state.interactions.contains_key(&key) || handoff_taken {
            return Err(StoreError::Conflict);
        }
        state.interactions.insert(key, record.clone());
        Ok(())
    }

    async fn get_interaction(
        &self,
        brand: &BrandId,
        id: &InteractionSessionId,
        now: Timestamp,
    ) -> Result<Option<InteractionRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .interactions
            .get(&(brand.clone(), *id))
            .filter(|r| now < r.expires_at)
            .cloned())
    }

    async fn find_interaction_by_handoff(
        &self,
        brand: &BrandId,
        handoff: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<InteractionRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .interactions
            .values()
            .find(|r| &r.brand == brand && r.handoff.as_ref() == Some(handoff))
            .filter(|r| now < r.expires_at)
            .cloned())
    }

    async fn update_interaction(
        &self,
        record: &InteractionRecord,
        expected_version: u64,
    ) -> Result<InteractionRecord, StoreError> {
        let mut state = self.lock()?;
        let key = (record.brand.clone(), record.id);
        let stored = state.interactions.get(&key).ok_or(StoreError::NotFound)?;
        if stored.version != expected_version
            || stored.created_at != record.created_at
            || stored.expires_at != record.expires_at
        {
            return Err(StoreError::Conflict);
        }
        if let Some(h) = record.handoff
            && state
                .interactions
                .values()
                .any(|r| r.brand == record.brand && r.id != record.id && r.handoff == Some(h))
        {
            return Err(StoreError::Conflict);
        }
        let stored = InteractionRecord {
            version: expected_version + 1,
            ..record.clone()
        };
        state.interactions.insert(key, stored.clone());
        Ok(stored)
    }

    async fn purge_expired_interactions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        let before = state.interactions.len();
        state.interactions.retain(|_, r| now < r.expires_at);
        Ok((before - state.interactions.len()) as u64)
    }
}

#[async_trait]
impl OperationsStore for MemoryStore {
    async fn put_outage(&self, outage: &OutageRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        state
            .outages
            .insert((outage.brand.clone(), outage.id.clone()), outage.clone());
        Ok(())
    }

    async fn list_outages(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OutageRecord>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<OutageRecord> = state
            .outages
            .values()
            .filter(|o| {
                &o.brand == brand && o.starts_at < to && o.ends_at.is_none_or(|end| end > from)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
        Ok(found)
    }

    async fn record_call(&self, sample: &CallSample) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let second = sample.at.unix_seconds();
        let in_second = {
            let count = state
                .call_seconds
                .entry((sample.brand.clone(), sample.endpoint.clone(), second))
                .or_insert(0);
            *count += 1;
            *count
        };
        // Seconds older than two days are no longer needed for peaks.
        if state.call_seconds.len() > 100_000 {
            state
                .call_seconds
                .retain(|(_, _, s), _| *s >= second - 2 * 86_400);
        }
        let day = sample.at.date_in_brasilia();
        let stats = state
            .call_stats
            .entry((sample.brand.clone(), sample.endpoint.clone(), day))
            .or_insert_with(|| DailyCallStats {
                endpoint: sample.endpoint.clone(),
                day,
                invocations: 0,
                errors: 0,
                rejections: 0,
                duration_ms_sum: 0,
                peak_per_second: 0,
                latency: [0; 12],
            });
        stats.invocations += 1;
        stats.errors += u64::from(sample.status >= 500);
        stats.rejections += u64::from(sample.status == 429);
        stats.duration_ms_sum += u64::from(sample.duration_ms);
        stats.peak_per_second = stats.peak_per_second.max(in_second);
        stats.latency[latency_bucket(sample.duration_ms)] += 1;
        Ok(())
    }

    async fn call_stats(
        &self,
        brand: &BrandId,
        from: Date,
        to: Date,
    ) -> Result<Vec<DailyCallStats>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .call_stats
            .iter()
            .filter(|((b, _, day), _)| b == brand && *day >= from && *day <= to)
            .map(|(_, stats)| stats.clone())
            .collect())
    }
}

#[async_trait]
impl RegistrationStore for MemoryStore {
    async fn get_registration(
        &self,
        owner: &BrandId,
        issuer: &str,
        software_statement_id: &SoftwareStatementId,
    ) -> Result<Option<RegistrationRecord>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .registrations
            .get(&(owner.clone(), issuer.to_owned(), *software_statement_id))
            .cloned())
    }

    async fn put_registration(&self, record: &RegistrationRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        state.registrations.insert(
            (
                record.owner.clone(),
                record.issuer.clone(),
                record.software_statement_id,
            ),
            record.clone(),
        );
        Ok(())
    }
}

#[async_trait]
impl DocumentStore for MemoryStore {
    async fn get_document(
        &self,
        owner: &BrandId,
        collection: &str,
        key: &str,
    ) -> Result<Option<StoredDocument>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .documents
            .get(&(owner.clone(), collection.to_owned(), key.to_owned()))
            .cloned())
    }

    async fn put_document(
        &self,
        document: &StoredDocument,
        expected: u64,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        let id = (
            document.owner.clone(),
            document.collection.clone(),
            document.key.clone(),
        );
        let stored = state.documents.get(&id).map_or(0, |d| d.version);
        if stored != expected {
            return Err(StoreError::Conflict);
        }
        let version = expected + 1;
        state.documents.insert(
            id,
            StoredDocument {
                version,
                ..document.clone()
            },
        );
        Ok(version)
    }

    async fn documents_of(
        &self,
        owner: &BrandId,
        collection: &str,
        person: &opus_core::seal::BlindIndex,
    ) -> Result<Vec<StoredDocument>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .documents
            .values()
            .filter(|d| {
                &d.owner == owner && d.collection == collection && d.person.as_ref() == Some(person)
            })
            .cloned()
            .collect())
    }

    async fn documents(
        &self,
        owner: &BrandId,
        collection: &str,
    ) -> Result<Vec<StoredDocument>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .documents
            .values()
            .filter(|d| &d.owner == owner && d.collection == collection)
            .cloned()
            .collect())
    }

    async fn delete_document(
        &self,
        owner: &BrandId,
        collection: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        state
            .documents
            .remove(&(owner.clone(), collection.to_owned(), key.to_owned()));
        Ok(())
    }
}
