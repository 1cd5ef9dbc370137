//! The open data receiver (ODR) of the OPUS Open Finance Brasil SDK: it
//! keeps every consented customer's data fresh for the whole life of each
//! consent, within the monthly operational limits each holder enforces,
//! unifies it per person across institutions, and tells the business when
//! something happens.
//!
//! - **Subscriptions.** [`OpenDataReceiver::subscribe`] takes a consent
//!   the customer authorised through `opus_drx` (its tokens, expiry and
//!   permissions). It is kept sealed in the documents store, under the
//!   person's blind index.
//! - **Scheduler.** Each subscription has one job in the durable outbox
//!   (topic [`JOBS_TOPIC`]). [`OpenDataReceiver::tick`] claims the due jobs
//!   under a lease — any number of replicas share the work, a crashed
//!   replica's jobs come back when the lease lapses, and state survives
//!   restarts — and refreshes each feed ([`Feed`]) that is due at its
//!   [`Frequencies`]. Feeds are paced inside the month's quota: a feed
//!   never runs more often than the calls left for its endpoint allow
//!   until the month ends, and the receivers' `CallBudget` refuses any call
//!   the holder would answer with 423. Transactions are read in full once
//!   (twelve months), then incrementally through `transactions-current`.
//!   Failures back off exponentially; a 423 or a spent local quota pauses
//!   the feed until the next month. Time is the [`Clock`]'s, with a
//!   per-consent jitter so that consents do not all call at once.
//! - **Aggregated store.** Accounts, balances, transactions, credit
//!   contracts, credit-card accounts and their bills, normalised ([`records`]), de-duplicated by the holder's
//!   ids, sealed at rest.
//! - **Customer Data API** ([`api::CustomerDataApi`]): a person's
//!   institutions, accounts, balances, one statement of every transaction
//!   across institutions by date, credit contracts, cards and bills;
//!   pagination and filters.
//! - **Events** (`opus_core::event::EventKind::ReceiverConsent` and
//!   `ReceiverRuleFired`) through the outbox to the `EventSink`: a consent
//!   expiring soon, expired, revoked, refreshes failing repeatedly, a
//!   limit reached; and the integrator's [`rules`] (a new contract at
//!   another institution, a balance under a threshold, a salary-like
//!   credit), each fired once per subject: the event's id is derived from
//!   what it is about, and the outbox refuses a second message with it.
//!   An expired or revoked consent gets no further calls.
//!
//! Not here yet: card transactions, the customers API, investments.

pub mod api;
pub mod records;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use opus_core::connector::AccountTransaction;
use opus_core::consent::Permission;
use opus_core::data_apis::{Endpoint, endpoints};
use opus_core::event::{DomainEvent, EventKind, ReceiverConsentChange};
use opus_core::seal::{BlindIndex, Sealer};
use opus_core::store::{ClaimedMessage, OutboxMessage, StoreError, Topic};
use opus_core::{BrandId, Clock, Date, Document, MessageId, Storage, Timestamp};
use opus_drx::{ConsentTokens, DataReceiver, DrxError};
use opus_fapi::client::TokenResponse;
use serde::{Deserialize, Serialize};

use crate::records::{
    AccountRecord, BalanceRecord, CardRecord, ContractRecord, Documents, TransactionRecord,
    collections,
};
use crate::rules::{Change, Rule};

/// The outbox topic of the refresh jobs.
pub const JOBS_TOPIC: &str = "odr.refresh";

/// Why a receiver operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OdrError {
    /// The storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing or opening failed.
    #[error("sealing: {0}")]
    Seal(String),
    /// No holder of that name is configured.
    #[error("unknown holder {0}")]
    UnknownHolder(String),
    /// A holder's receiver has no `CallBudget`: without one, nothing keeps
    /// the refreshes within the holder's limits.
    #[error("the receiver of {0} has no call budget")]
    NoBudget(String),
    /// A bad argument.
    #[error("invalid: {0}")]
    Invalid(&'static str),
}

/// What the receiver keeps fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Feed {
    /// `GET /accounts` (every page).
    Accounts,
    /// `GET /accounts/{id}/balances` of each account.
    Balances,
    /// `GET /accounts/{id}/transactions` once, then
    /// `/transactions-current`, of each account.
    Transactions,
    /// `GET /contracts` of each credit-operations API consented.
    Contracts,
    /// `GET /credit-cards-accounts/v2/accounts` (every page), then each
    /// card's `/bills` when the consent covers bills.
    Cards,
}

impl Feed {
    /// Every feed, in the order a refresh runs them.
    pub const ALL: [Feed; 5] = [
        Feed::Accounts,
        Feed::Balances,
        Feed::Transactions,
        Feed::Contracts,
        Feed::Cards,
    ];

    fn permitted(self, permissions: &[Permission]) -> bool {
        let has = |p: Permission| permissions.contains(&p);
        match self {
            Feed::Accounts => has(Permission::AccountsRead),
            Feed::Balances => {
                has(Permission::AccountsRead) && has(Permission::AccountsBalancesRead)
            }
            Feed::Transactions => {
                has(Permission::AccountsRead) && has(Permission::AccountsTransactionsRead)
            }
            Feed::Contracts => !credit_apis(permissions).is_empty(),
            Feed::Cards => has(Permission::CreditCardsAccountsRead),
        }
    }
}

/// The credit-operations APIs the permissions cover: name and the
/// `/contracts` endpoint.
fn credit_apis(permissions: &[Permission]) -> Vec<(&'static str, Endpoint)> {
    [
        ("loans", Permission::LoansRead, endpoints::LOANS.contracts),
        (
            "financings",
            Permission::FinancingsRead,
            endpoints::FINANCINGS.contracts,
        ),
        (
            "invoice-financings",
            Permission::InvoiceFinancingsRead,
            endpoints::INVOICE_FINANCINGS.contracts,
        ),
        (
            "unarranged-accounts-overdraft",
            Permission::UnarrangedAccountsOverdraftRead,
            endpoints::UNARRANGED_ACCOUNTS_OVERDRAFT.contracts,
        ),
    ]
    .into_iter()
    .filter(|(_, p, _)| permissions.contains(p))
    .map(|(name, _, endpoint)| (name, endpoint))
    .collect()
}

/// How often each feed is refreshed, and the notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frequencies {
    /// The accounts list (quota 8 a month).
    pub accounts: Duration,
    /// Balances (420 a month).
    pub balances: Duration,
    /// Transactions (`transactions-current`: 240 a month).
    pub transactions: Duration,
    /// Credit contracts (30 a month).
    pub contracts: Duration,
    /// Credit-card accounts (8 a month) and their bills (30 a month).
    pub cards: Duration,
    /// How long before a consent expires the business is told.
    pub expiry_notice: Duration,
    /// The largest delay added to a consent's runs, so that consents do
    /// not all call at once (each consent has its own, fixed).
    pub jitter: Duration,
    /// The consecutive failures after which the business is told.
    pub failures_to_report: u32,
}

impl Default for Frequencies {
    fn default() -> Self {
        Self {
            accounts: Duration::from_secs(7 * 86_400),
            balances: Duration::from_secs(12 * 3_600),
            transactions: Duration::from_secs(86_400),
            contracts: Duration::from_secs(7 * 86_400),
            cards: Duration::from_secs(7 * 86_400),
            expiry_notice: Duration::from_secs(7 * 86_400),
            jitter: Duration::from_secs(10 * 60),
            failures_to_report: 3,
        }
    }
}

impl Frequencies {
    /// The frequency of `feed`.
    pub fn of(&self, feed: Feed) -> Duration {
        match feed {
            Feed::Accounts => self.accounts,
            Feed::Balances => self.balances,
            Feed::Transactions => self.transactions,
            Feed::Contracts => self.contracts,
            Feed::Cards => self.cards,
        }
    }
}

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubscriptionState {
    /// Refreshed.
    Active,
    /// Expired: no more calls.
    Expired,
    /// Revoked or rejected at the holder: no more calls.
    Revoked,
}

/// One consent the receiver keeps fresh (sealed at rest: it holds the
/// customer's tokens).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Subscription {
    holder: String,
    consent_id: String,
    customer: Document,
    tokens: TokenResponse,
    expires_at: Timestamp,
    permissions: Vec<Permission>,
    state: SubscriptionState,
    generation: u32,
    failures: u32,
    streaks: u32,
    last: BTreeMap<Feed, Timestamp>,
    interval: BTreeMap<Feed, u64>,
    paused_until: BTreeMap<Feed, Timestamp>,
    synced: BTreeSet<Feed>,
    accounts: Vec<String>,
    #[serde(default)]
    cards: Vec<String>,
    calls: u64,
    notified: BTreeSet<String>,
}

/// What the business may see of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionStatus {
    /// The holder.
    pub holder: String,
    /// The consent at the holder.
    pub consent_id: String,
    /// Where it stands.
    pub state: SubscriptionState,
    /// When the consent expires.
    pub expires_at: Timestamp,
    /// The last successful refresh of each feed.
    pub last_refreshed: BTreeMap<Feed, Timestamp>,
    /// The feeds this consent covers.
    pub feeds: Vec<Feed>,
    /// Consecutive failed runs.
    pub failures: u32,
    /// Calls made to the holder's data APIs.
    pub calls: u64,
}

/// What one [`OpenDataReceiver::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Jobs run.
    pub jobs: usize,
    /// Feeds refreshed.
    pub refreshed: usize,
    /// Feeds that failed.
    pub failed: usize,
    /// Subscriptions that ended (expired or revoked).
    pub ended: usize,
}

struct Inner {
    owner: BrandId,
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    holders: BTreeMap<String, Arc<DataReceiver>>,
    frequencies: Frequencies,
    rules: Vec<Arc<dyn Rule>>,
    lease: Duration,
    batch: u32,
}

/// See the crate docs.
#[derive(Clone)]
pub struct OpenDataReceiver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OpenDataReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenDataReceiver")
            .field("owner", &self.inner.owner)
            .field("holders", &self.inner.holders.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds an [`OpenDataReceiver`].
pub struct Builder {
    inner: Inner,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder").finish_non_exhaustive()
    }
}

impl Builder {
    /// Reads `name`'s data through `receiver`, which must count its calls
    /// (`DataReceiver::with_budget`).
    ///
    /// # Errors
    /// [`OdrError::NoBudget`] without a budget.
    pub fn holder(mut self, name: &str, receiver: Arc<DataReceiver>) -> Result<Self, OdrError> {
        if receiver.budget().is_none() {
            return Err(OdrError::NoBudget(name.to_owned()));
        }
        self.inner.holders.insert(name.to_owned(), receiver);
        Ok(self)
    }

    /// The refresh frequencies (defaults: [`Frequencies::default`]).
    #[must_use]
    pub fn frequencies(mut self, frequencies: Frequencies) -> Self {
        self.inner.frequencies = frequencies;
        self
    }

    /// Adds a business rule.
    #[must_use]
    pub fn rule(mut self, rule: Arc<dyn Rule>) -> Self {
        self.inner.rules.push(rule);
        self
    }

    /// How long a claimed job stays with its replica (default 5 minutes).
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.inner.lease = lease;
        self
    }

    /// How many jobs one tick claims at most (default 64): smaller
    /// batches spread the work across replicas.
    #[must_use]
    pub fn batch(mut self, jobs: u32) -> Self {
        self.inner.batch = jobs.max(1);
        self
    }

    /// The receiver.
    pub fn build(self) -> OpenDataReceiver {
        OpenDataReceiver {
            inner: Arc::new(self.inner),
        }
    }
}

/// How a feed's refresh failed.
enum Failed {
    /// The month's quota is spent: pause the feed until the next month.
    Limit(String),
    /// The holder no longer accepts the consent's tokens.
    Refused(DrxError),
    /// Anything else: back off.
    Other(String),
}

impl From<DrxError> for Failed {
    fn from(e: DrxError) -> Self {
        match e {
            DrxError::LimitReached { endpoint, .. } => Failed::Limit(endpoint.to_owned()),
            DrxError::Refused { status: 423, .. } => Failed::Limit("423".to_owned()),
            DrxError::Refused {
                status: 401 | 403, ..
            }
            | DrxError::Client(_) => Failed::Refused(e),
            other => Failed::Other(other.to_string()),
        }
    }
}

impl From<OdrError> for Failed {
    fn from(e: OdrError) -> Self {
        Failed::Other(e.to_string())
    }
}

impl OpenDataReceiver {
    /// A receiver for `owner` (the integrator's tenant), its state in
    /// `storage` sealed with `sealer`, on `clock`.
    pub fn builder(
        owner: BrandId,
        storage: Storage,
        sealer: Arc<Sealer>,
        clock: Arc<dyn Clock>,
    ) -> Builder {
        Builder {
            inner: Inner {
                owner,
                storage,
                sealer,
                clock,
                holders: BTreeMap::new(),
                frequencies: Frequencies::default(),
                rules: Vec::new(),
                lease: Duration::from_secs(300),
                batch: 64,
            },
        }
    }

    fn documents(&self) -> Documents<'_> {
        Documents {
            owner: &self.inner.owner,
            store: self.inner.storage.documents.as_ref(),
            sealer: &self.inner.sealer,
            clock: self.inner.clock.as_ref(),
        }
    }

    /// The person's blind index as events carry it.
    ///
    /// # Errors
    /// [`OdrError::Seal`] when the index key is unavailable.
    pub fn person_index(&self, person: &Document) -> Result<String, OdrError> {
        self.index(person).map(String::from)
    }

    fn index(&self, person: &Document) -> Result<BlindIndex, OdrError> {
        self.inner
            .sealer
            .blind_index(person)
            .map_err(|e| OdrError::Seal(e.to_string()))
    }

    /// Keeps the consent `tokens` (at `holder`, until `expires_at`, for
    /// `permissions`) fresh from now on. Subscribing again to a consent
    /// replaces its tokens and, if it had ended, starts it again.
    ///
    /// # Errors
    /// [`OdrError`] when the holder is unknown or the store fails.
    pub async fn subscribe(
        &self,
        holder: &str,
        tokens: &ConsentTokens,
        expires_at: Timestamp,
        permissions: &[Permission],
    ) -> Result<(), OdrError> {
        if !self.inner.holders.contains_key(holder) {
            return Err(OdrError::UnknownHolder(holder.to_owned()));
        }
        let key = subscription_key(holder, tokens.consent_id());
        let person = self.index(tokens.customer())?;
        let documents = self.documents();
        for _ in 0..4 {
            let current = documents
                .get::<Subscription>(collections::SUBSCRIPTIONS, &key)
                .await?;
            let (subscription, expected, start) = match current {
                Some((mut existing, version)) => {
                    let restart = existing.state != SubscriptionState::Active;
                    existing.tokens = tokens.tokens();
                    existing.expires_at = expires_at;
                    existing.permissions = permissions.to_vec();
                    if restart {
                        existing.state = SubscriptionState::Active;
                        existing.generation += 1;
                        existing.failures = 0;
                        existing.notified.clear();
                    }
                    (existing, version, restart)
                }
                None => (
                    Subscription {
                        holder: holder.to_owned(),
                        consent_id: tokens.consent_id().to_owned(),
                        customer: tokens.customer().clone(),
                        tokens: tokens.tokens(),
                        expires_at,
                        permissions: permissions.to_vec(),
                        state: SubscriptionState::Active,
                        generation: 0,
                        failures: 0,
                        streaks: 0,
                        last: BTreeMap::new(),
                        interval: BTreeMap::new(),
                        paused_until: BTreeMap::new(),
                        synced: BTreeSet::new(),
                        accounts: Vec::new(),
                        cards: Vec::new(),
                        calls: 0,
                        notified: BTreeSet::new(),
                    },
                    0,
                    true,
                ),
            };
            match documents
                .put(
                    collections::SUBSCRIPTIONS,
                    &key,
                    Some(person),
                    &subscription,
                    expected,
                )
                .await
            {
                Ok(_) => {
                    if start {
                        self.enqueue_job(&key, subscription.generation).await?;
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(OdrError::Store(StoreError::Conflict))
    }

    async fn enqueue_job(&self, key: &str, generation: u32) -> Result<(), OdrError> {
        let now = self.inner.clock.now();
        let message = OutboxMessage {
            id: stable_id(&self.inner.owner, &format!("job|{key}|{generation}")),
            brand: self.inner.owner.clone(),
            topic: jobs_topic()?,
            payload: key.as_bytes().to_vec(),
            created_at: now,
            available_at: now,
        };
        match self.inner.storage.outbox.enqueue(&[message]).await {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs the due refresh jobs (up to a batch), under a lease: what a
    /// replica's loop calls every minute or so.
    ///
    /// # Errors
    /// [`OdrError`] when the store fails to hand out jobs.
    pub async fn tick(&self) -> Result<TickReport, OdrError> {
        let now = self.inner.clock.now();
        let claimed = self
            .inner
            .storage
            .outbox
            .claim(
                &jobs_topic()?,
                self.inner.batch,
                now,
                now.saturating_add(self.inner.lease),
            )
            .await?;
        let mut report = TickReport::default();
        for job in claimed {
            report.jobs += 1;
            if let Err(e) = self.run(&job, &mut report).await {
                tracing::warn!(error = %e, "open data receiver: job failed; retried later");
                let later = self
                    .inner
                    .clock
                    .now()
                    .saturating_add(Duration::from_secs(300));
                let _ = self
                    .inner
                    .storage
                    .outbox
                    .retry(&job.message.id, job.lease, later)
                    .await;
            }
        }
        Ok(report)
    }

    /// Runs ticks until no job is due (for schedulers driven by a test
    /// clock, and to catch up after a pause).
    ///
    /// # Errors
    /// As [`OpenDataReceiver::tick`].
    pub async fn run_due(&self) -> Result<TickReport, OdrError> {
        let mut total = TickReport::default();
        // Bounded: a job due again at once must not spin the loop.
        for _ in 0..1_000 {
            let report = self.tick().await?;
            total.jobs += report.jobs;
            total.refreshed += report.refreshed;
            total.failed += report.failed;
            total.ended += report.ended;
            if report.jobs == 0 {
                break;
            }
        }
        Ok(total)
    }

    async fn run(&self, job: &ClaimedMessage, report: &mut TickReport) -> Result<(), OdrError> {
        let outbox = &self.inner.storage.outbox;
        let key = String::from_utf8(job.message.payload.clone())
            .map_err(|_| OdrError::Invalid("job payload"))?;
        let documents = self.documents();
        let Some((mut subscription, version)) = documents
            .get::<Subscription>(collections::SUBSCRIPTIONS, &key)
            .await?
        else {
            outbox.ack(&job.message.id, job.lease).await?;
            return Ok(());
        };
        if subscription.state != SubscriptionState::Active {
            outbox.ack(&job.message.id, job.lease).await?;
            return Ok(());
        }
        let person = self.index(&subscription.customer)?;
        let now = self.inner.clock.now();
        let frequencies = self.inner.frequencies;
        let started = subscription.tokens.clone();
        if now >= subscription.expires_at {
            subscription.state = SubscriptionState::Expired;
            let stored = self
                .save(&key, person, &subscription, version, &started)
                .await?;
            if stored.state == SubscriptionState::Active {
                // Renewed meanwhile.
                outbox.retry(&job.message.id, job.lease, now).await?;
                return Ok(());
            }
            self.consent_event(
                &subscription,
                person,
                ReceiverConsentChange::Expired,
                None,
                "",
            )
            .await?;
            outbox.ack(&job.message.id, job.lease).await?;
            report.ended += 1;
            return Ok(());
        }
        if subscription.expires_at.duration_since(now) <= frequencies.expiry_notice
            && subscription.notified.insert("expiring".to_owned())
        {
            self.consent_event(
                &subscription,
                person,
                ReceiverConsentChange::ExpiringSoon,
                Some(subscription.expires_at.to_rfc3339_millis()),
                "",
            )
            .await?;
        }
        let Some(receiver) = self.inner.holders.get(&subscription.holder).cloned() else {
            tracing::warn!(holder = %subscription.holder, "open data receiver: holder not configured");
            outbox
                .retry(
                    &job.message.id,
                    job.lease,
                    now.saturating_add(Duration::from_secs(3_600)),
                )
                .await?;
            return Ok(());
        };
        let tokens = ConsentTokens::new(
            subscription.consent_id.clone(),
            subscription.customer.clone(),
            subscription.tokens.clone(),
        );
        let mut failed = None;
        for feed in Feed::ALL {
            if !feed.permitted(&subscription.permissions) || !due(&subscription, feed, now) {
                continue;
            }
            let calls = Calls::default();
            let outcome = self
                .refresh(&receiver, &tokens, &mut subscription, feed, person, &calls)
                .await;
            subscription.calls += calls.made();
            match outcome {
                Ok(()) => {
                    report.refreshed += 1;
                    subscription.last.insert(feed, now);
                    subscription.synced.insert(feed);
                    subscription.paused_until.remove(&feed);
                    let interval = self
                        .paced_interval(&receiver, &tokens, &subscription, feed, now)
                        .await;
                    subscription.interval.insert(feed, interval.as_secs());
                }
                Err(Failed::Limit(endpoint)) => {
                    let next_month = start_of_next_month(now);
                    subscription.paused_until.insert(feed, next_month);
                    let month = month_of(now);
                    if subscription
                        .notified
                        .insert(format!("limit|{feed:?}|{month}"))
                    {
                        self.consent_event(
                            &subscription,
                            person,
                            ReceiverConsentChange::LimitReached,
                            Some(endpoint),
                            &format!("{feed:?}|{month}"),
                        )
                        .await?;
                    }
                }
                Err(Failed::Refused(error)) => {
                    match receiver.consent(&subscription.consent_id).await {
                        Ok(consent)
                            if consent.get("status").and_then(|s| s.as_str())
                                == Some("REJECTED") =>
                        {
                            subscription.calls += 1;
                            subscription.state = SubscriptionState::Revoked;
                            subscription.tokens = tokens.tokens();
                            let reason = consent
                                .pointer("/rejection/reason/code")
                                .and_then(|r| r.as_str())
                                .map(str::to_owned);
                            let stored = self
                                .save(&key, person, &subscription, version, &started)
                                .await?;
                            if stored.state == SubscriptionState::Active {
                                // New tokens arrived meanwhile.
                                outbox.retry(&job.message.id, job.lease, now).await?;
                                return Ok(());
                            }
                            self.consent_event(
                                &subscription,
                                person,
                                ReceiverConsentChange::Revoked,
                                reason,
                                "",
                            )
                            .await?;
                            outbox.ack(&job.message.id, job.lease).await?;
                            report.ended += 1;
                            return Ok(());
                        }
                        _ => failed = Some(error.to_string()),
                    }
                }
                Err(Failed::Other(e)) => failed = Some(e),
            }
            if failed.is_some() {
                break;
            }
        }
        subscription.tokens = tokens.tokens();
        let next = match failed {
            Some(error) => {
                report.failed += 1;
                subscription.failures += 1;
                tracing::info!(
                    holder = %subscription.holder,
                    failures = subscription.failures,
                    error = %error,
                    "open data receiver: refresh failed"
                );
                if subscription.failures == frequencies.failures_to_report {
                    subscription.streaks += 1;
                    self.consent_event(
                        &subscription,
                        person,
                        ReceiverConsentChange::RefreshFailing,
                        Some(format!("{} failures: {error}", subscription.failures)),
                        &subscription.streaks.to_string(),
                    )
                    .await?;
                }
                now.saturating_add(backoff(subscription.failures))
            }
            None => {
                subscription.failures = 0;
                self.next_run(&subscription, now)
            }
        };
        let next = next.min(subscription.expires_at).max(now);
        self.save(&key, person, &subscription, version, &started)
            .await?;
        outbox.retry(&job.message.id, job.lease, next).await?;
        Ok(())
    }

    /// Writes the job's view of the subscription. If `subscribe` wrote
    /// meanwhile (new tokens, a renewal), the two are merged: the refresh
    /// state is the job's; tokens are the job's only if they still derive
    /// from the ones it started with; an end the job found stands unless
    /// the subscription was renewed past it. Answers what was stored.
    async fn save(
        &self,
        key: &str,
        person: BlindIndex,
        ours: &Subscription,
        version: u64,
        started: &TokenResponse,
    ) -> Result<Subscription, OdrError> {
        let documents = self.documents();
        let mut candidate = ours.clone();
        let mut expected = version;
        for _ in 0..4 {
            match documents
                .put(
                    collections::SUBSCRIPTIONS,
                    key,
                    Some(person),
                    &candidate,
                    expected,
                )
                .await
            {
                Ok(_) => return Ok(candidate),
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            let Some((latest, version)) = documents
                .get::<Subscription>(collections::SUBSCRIPTIONS, key)
                .await?
            else {
                return Ok(candidate);
            };
            let mut merged = latest.clone();
            merged.last = ours.last.clone();
            merged.interval = ours.interval.clone();
            merged.paused_until = ours.paused_until.clone();
            merged.synced = ours.synced.clone();
            merged.accounts = ours.accounts.clone();
            merged.cards = ours.cards.clone();
            merged.calls = ours.calls.max(latest.calls);
            merged.failures = ours.failures;
            merged.streaks = ours.streaks;
            merged.notified.extend(ours.notified.iter().cloned());
            let untouched = latest.tokens.access_token == started.access_token
                && latest.tokens.refresh_token == started.refresh_token;
            if untouched {
                merged.tokens = ours.tokens.clone();
            }
            let renewed = latest.expires_at > self.inner.clock.now();
            if latest.generation == ours.generation
                && latest.state == SubscriptionState::Active
                && ours.state != SubscriptionState::Active
                && !(ours.state == SubscriptionState::Expired && renewed)
                && (ours.state != SubscriptionState::Revoked || untouched)
            {
                merged.state = ours.state;
            }
            candidate = merged;
            expected = version;
        }
        Err(OdrError::Store(StoreError::Conflict))
    }

    /// When the subscription's next feed is due (with its jitter).
    fn next_run(&self, subscription: &Subscription, now: Timestamp) -> Timestamp {
        let jitter = jitter_of(&subscription.consent_id, self.inner.frequencies.jitter);
        Feed::ALL
            .into_iter()
            .filter(|f| f.permitted(&subscription.permissions))
            .map(|f| next_due(subscription, f, &self.inner.frequencies).saturating_add(jitter))
            .min()
            .unwrap_or_else(|| now.saturating_add(self.inner.frequencies.accounts))
    }

    /// The feed's interval: its frequency, stretched so that the calls
    /// left this month last until the month ends.
    async fn paced_interval(
        &self,
        receiver: &DataReceiver,
        tokens: &ConsentTokens,
        subscription: &Subscription,
        feed: Feed,
        now: Timestamp,
    ) -> Duration {
        let frequency = self.inner.frequencies.of(feed);
        let Some(budget) = receiver.budget() else {
            return frequency;
        };
        let mut paths = Vec::new();
        let first_account = subscription.accounts.first().map(String::as_str);
        match (feed, first_account) {
            (Feed::Accounts, _) => {
                paths.push(DataReceiver::path_of(&endpoints::ACCOUNTS, &[], &[]));
            }
            (Feed::Balances, Some(account)) => {
                paths.push(DataReceiver::path_of(&endpoints::BALANCES, &[account], &[]));
            }
            (Feed::Transactions, Some(account)) => paths.push(DataReceiver::path_of(
                &endpoints::TRANSACTIONS_CURRENT,
                &[account],
                &[],
            )),
            (Feed::Contracts, _) => {
                for (_, endpoint) in credit_apis(&subscription.permissions) {
                    paths.push(DataReceiver::path_of(&endpoint, &[], &[]));
                }
            }
            (Feed::Cards, _) => {
                paths.push(DataReceiver::path_of(&endpoints::CARDS, &[], &[]));
                if let Some(card) = subscription.cards.first() {
                    paths.push(DataReceiver::path_of(
                        &endpoints::CARD_BILLS,
                        &[card.as_str()],
                        &[],
                    ));
                }
            }
            _ => {}
        }
        let mut left = u64::MAX;
        for path in paths.into_iter().flatten() {
            let path = path.split('?').next().unwrap_or_default().to_owned();
            if let Ok(Some(remaining)) = budget.remaining(tokens, &path).await {
                left = left.min(remaining);
            }
        }
        if left == u64::MAX {
            return frequency;
        }
        let until_month_end = start_of_next_month(now).duration_since(now);
        let paced = until_month_end
            .checked_div(u32::try_from(left).unwrap_or(u32::MAX).max(1))
            .unwrap_or(until_month_end);
        if left == 0 {
            until_month_end
        } else {
            frequency.max(paced)
        }
    }

    async fn refresh(
        &self,
        receiver: &DataReceiver,
        tokens: &ConsentTokens,
        subscription: &mut Subscription,
        feed: Feed,
        person: BlindIndex,
        calls: &Calls,
    ) -> Result<(), Failed> {
        let documents = self.documents();
        let holder = subscription.holder.clone();
        let today = self.inner.clock.now().date_in_brasilia();
        match feed {
            Feed::Accounts => {
                calls.add(1);
                let accounts = receiver.accounts(tokens).await?;
                let mut ids = Vec::new();
                for account in accounts {
                    let record = AccountRecord {
                        holder: holder.clone(),
                        account_id: account.account_id.to_string(),
                        brand_name: account.brand_name,
                        company_cnpj: account.company_cnpj,
                        account_type: wire(&account.account_type),
                        compe_code: account.compe_code,
                        branch_code: account.branch_code,
                        number: account.number,
                        check_digit: account.check_digit,
                    };
                    documents
                        .upsert(
                            collections::ACCOUNTS,
                            &format!("{holder}|{}", record.account_id),
                            person,
                            &record,
                        )
                        .await?;
                    ids.push(record.account_id);
                }
                subscription.accounts = ids;
            }
            Feed::Balances => {
                for account in subscription.accounts.clone() {
                    calls.add(1);
                    let balances = receiver.account_balances(tokens, &account).await?;
                    let record = BalanceRecord {
                        holder: holder.clone(),
                        account_id: account.clone(),
                        available_amount: balances.available_amount.amount.clone(),
                        blocked_amount: balances.blocked_amount.amount.clone(),
                        automatically_invested_amount: balances
                            .automatically_invested_amount
                            .amount
                            .clone(),
                        currency: balances.available_amount.currency.as_str().to_owned(),
                        update_date_time: balances.update_date_time.to_rfc3339_millis(),
                        read_on: today.to_string(),
                    };
                    documents
                        .upsert(
                            collections::BALANCES,
                            &format!("{holder}|{account}"),
                            person,
                            &record,
                        )
                        .await?;
                    self.apply_rules(
                        &subscription.holder,
                        person,
                        &Change::Balance { balance: &record },
                    )
                    .await?;
                }
            }
            Feed::Transactions => {
                let full_read = !subscription.synced.contains(&Feed::Transactions);
                let first_sync = !self.baseline_done(person, &holder, feed).await?;
                let known = documents
                    .keys_of(collections::TRANSACTIONS, &person)
                    .await?;
                for account in subscription.accounts.clone() {
                    calls.add(1);
                    let read: Vec<AccountTransaction> = if full_read {
                        let from = today.add_days(-365).unwrap_or(today);
                        receiver
                            .account_transactions(tokens, &account, from, today)
                            .await?
                    } else {
                        let (from, to) = (
                            today.add_days(-6).unwrap_or(today).to_string(),
                            today.to_string(),
                        );
                        let path = DataReceiver::path_of(
                            &endpoints::TRANSACTIONS_CURRENT,
                            &[account.as_str()],
                            &[
                                ("fromBookingDate", from.as_str()),
                                ("toBookingDate", to.as_str()),
                            ],
                        )?;
                        receiver.records(tokens, &path, usize::MAX).await?
                    };
                    for transaction in read {
                        let record = TransactionRecord {
                            holder: holder.clone(),
                            account_id: account.clone(),
                            transaction_id: transaction.transaction_id.to_string(),
                            date_time: transaction.transaction_date_time.clone(),
                            amount: transaction.transaction_amount.amount.clone(),
                            currency: transaction.transaction_amount.currency.as_str().to_owned(),
                            credit_debit_type: wire(&transaction.credit_debit_type),
                            transaction_name: transaction.transaction_name.clone(),
                            transaction_type: wire(&transaction.transaction_type),
                        };
                        let key = format!("{holder}|{account}|{}", record.transaction_id);
                        if known.contains(&key)
                            || !documents
                                .insert_new(collections::TRANSACTIONS, &key, person, &record)
                                .await?
                        {
                            continue;
                        }
                        self.apply_rules(
                            &subscription.holder,
                            person,
                            &Change::NewTransaction {
                                transaction: &record,
                                first_sync,
                            },
                        )
                        .await?;
                    }
                }
            }
            Feed::Cards => {
                calls.add(1);
                let summaries: Vec<serde_json::Value> = receiver
                    .records(
                        tokens,
                        &DataReceiver::path_of(&endpoints::CARDS, &[], &[])?,
                        usize::MAX,
                    )
                    .await?;
                let with_bills = subscription
                    .permissions
                    .contains(&Permission::CreditCardsAccountsBillsRead);
                let mut ids = Vec::new();
                for summary in summaries {
                    let Some(card_id) = summary
                        .get("creditCardAccountId")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned)
                    else {
                        continue;
                    };
                    let bills = if with_bills {
                        calls.add(1);
                        let path = DataReceiver::path_of(
                            &endpoints::CARD_BILLS,
                            &[card_id.as_str()],
                            &[],
                        )?;
                        receiver.records(tokens, &path, usize::MAX).await?
                    } else {
                        Vec::new()
                    };
                    let record = CardRecord {
                        holder: holder.clone(),
                        card_id: card_id.clone(),
                        summary,
                        bills,
                    };
                    documents
                        .upsert(
                            collections::CARDS,
                            &format!("{holder}|{card_id}"),
                            person,
                            &record,
                        )
                        .await?;
                    ids.push(card_id);
                }
                subscription.cards = ids;
            }
            Feed::Contracts => {
                let first_sync = !self.baseline_done(person, &holder, feed).await?;
                let known = documents.keys_of(collections::CONTRACTS, &person).await?;
                for (api, endpoint) in credit_apis(&subscription.permissions) {
                    calls.add(1);
                    let path = DataReceiver::path_of(&endpoint, &[], &[])?;
                    let summaries: Vec<serde_json::Value> =
                        receiver.records(tokens, &path, usize::MAX).await?;
                    for summary in summaries {
                        let Some(contract_id) = summary
                            .get("contractId")
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_owned)
                        else {
                            continue;
                        };
                        let record = ContractRecord {
                            holder: holder.clone(),
                            api: api.to_owned(),
                            contract_id,
                            summary,
                        };
                        let key = format!("{holder}|{api}|{}", record.contract_id);
                        let new = !known.contains(&key);
                        documents
                            .upsert(collections::CONTRACTS, &key, person, &record)
                            .await?;
                        if new {
                            self.apply_rules(
                                &subscription.holder,
                                person,
                                &Change::NewContract {
                                    contract: &record,
                                    first_sync,
                                },
                            )
                            .await?;
                        }
                    }
                }
            }
        }
        if matches!(feed, Feed::Transactions | Feed::Contracts) {
            documents
                .insert_new(
                    collections::BASELINES,
                    &baseline_key(person, &holder, feed),
                    person,
                    &self.inner.clock.now(),
                )
                .await?;
        }
        Ok(())
    }

    /// Whether the person's `feed` at `holder` was read in full once (by
    /// any of their consents there): what is found after that is new.
    async fn baseline_done(
        &self,
        person: BlindIndex,
        holder: &str,
        feed: Feed,
    ) -> Result<bool, OdrError> {
        Ok(self
            .inner
            .storage
            .documents
            .get_document(
                &self.inner.owner,
                collections::BASELINES,
                &baseline_key(person, holder, feed),
            )
            .await?
            .is_some())
    }

    async fn apply_rules(
        &self,
        holder: &str,
        person: BlindIndex,
        change: &Change<'_>,
    ) -> Result<(), OdrError> {
        for rule in &self.inner.rules {
            if let Some(subject) = rule.check(change) {
                let person = String::from(person);
                let dedup = format!("rule|{}|{person}|{holder}|{subject}", rule.name());
                self.emit(
                    &dedup,
                    EventKind::ReceiverRuleFired {
                        rule: rule.name().to_owned(),
                        holder: holder.to_owned(),
                        person,
                        subject,
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn consent_event(
        &self,
        subscription: &Subscription,
        person: BlindIndex,
        change: ReceiverConsentChange,
        detail: Option<String>,
        discriminator: &str,
    ) -> Result<(), OdrError> {
        let dedup = format!(
            "consent|{}|{}|{}|{change:?}|{discriminator}",
            subscription.holder, subscription.consent_id, subscription.generation
        );
        self.emit(
            &dedup,
            EventKind::ReceiverConsent {
                holder: subscription.holder.clone(),
                consent_id: subscription.consent_id.clone(),
                person: String::from(person),
                change,
                detail,
            },
        )
        .await
    }

    /// Writes the event to the outbox under an id derived from `dedup`: a
    /// second emission of the same thing is refused there.
    async fn emit(&self, dedup: &str, kind: EventKind) -> Result<(), OdrError> {
        let event = DomainEvent {
            id: stable_id(&self.inner.owner, dedup),
            brand: self.inner.owner.clone(),
            occurred_at: self.inner.clock.now(),
            kind,
        };
        let message = event
            .outbox_message()
            .map_err(|_| OdrError::Invalid("event"))?;
        match self.inner.storage.outbox.enqueue(&[message]).await {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The person's subscriptions.
    ///
    /// # Errors
    /// [`OdrError`] when the store fails.
    pub async fn subscriptions(
        &self,
        person: &Document,
    ) -> Result<Vec<SubscriptionStatus>, OdrError> {
        let person = self.index(person)?;
        let subscriptions: Vec<Subscription> = self
            .documents()
            .of_person(collections::SUBSCRIPTIONS, &person)
            .await?;
        Ok(subscriptions.iter().map(status_of).collect())
    }

    /// The person's accounts at every holder.
    ///
    /// # Errors
    /// [`OdrError`] when the store fails.
    pub async fn accounts(&self, person: &Document) -> Result<Vec<AccountRecord>, OdrError> {
        let person = self.index(person)?;
        self.documents()
            .of_person(collections::ACCOUNTS, &person)
            .await
    }

    /// The person's balances at every holder, as last read.
    ///
    /// # Errors
    /// [`OdrError`] when the store fails.
    pub async fn balances(&self, person: &Document) -> Result<Vec<BalanceRecord>, OdrError> {
        let person = self.index(person)?;
        self.documents()
            .of_person(collections::BALANCES, &person)
            .await
    }

    /// One statement of the person's transactions at every holder, booked
    /// from `from` to `to` (inclusive, by the date of `transactionDateTime`),
    /// oldest first.
    ///
    /// # Errors
    /// [`OdrError`] when the store fails.
    pub async fn statement(
        &self,
        person: &Document,
        from: Date,
        to: Date,
    ) -> Result<Vec<TransactionRecord>, OdrError> {
        let person = self.index(person)?;
        let (from, to) = (from.to_string(), to.to_string());
        let mut lines: Vec<TransactionRecord> = self
            .documents()
            .of_person::<TransactionRecord>(collections::TRANSACTIONS, &person)
            .await?
            .into_iter()
            .filter(|t| {
                let day = t.date_time.get(..10).unwrap_or_default();
                day >= from.as_str() && day <= to.as_str()
            })
            .collect();
        lines.sort_by(|a, b| {
            (&a.date_time, &a.holder, &a.account_id, &a.transaction_id).cmp(&(
                &b.date_time,
                &b.holder,
                &b.account_id,
                &b.transaction_id,
            ))
        });
        Ok(lines)
    }

    /// The person's credit-card accounts at every holder, with their bills.
    ///
    /// # Errors
    /// [`OdrError`] when the store fails.
    pub async fn cards(&self, person: &Document) -> Result<Vec<CardRecord>, OdrError> {
        let person = self.index(person)?;
        self.documents()
            .of_person(collections::CARDS, &person)
            .await
    }

    /// The person's credit contracts at every holder.
    ///
    /// # Errors
    /// [`OdrError`] when the store fails.
    pub async fn contracts(&self, person: &Document) -> Result<Vec<ContractRecord>, OdrError> {
        let person = self.index(person)?;
        self.documents()
            .of_person(collections::CONTRACTS, &person)
            .await
    }
}

/// Calls made during one feed's refresh.
#[derive(Default)]
struct Calls(std::sync::atomic::AtomicU64);

impl Calls {
    fn add(&self, n: u64) {
        self.0.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    fn made(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn status_of(subscription: &Subscription) -> SubscriptionStatus {
    SubscriptionStatus {
        holder: subscription.holder.clone(),
        consent_id: subscription.consent_id.clone(),
        state: subscription.state,
        expires_at: subscription.expires_at,
        last_refreshed: subscription.last.clone(),
        feeds: Feed::ALL
            .into_iter()
            .filter(|f| f.permitted(&subscription.permissions))
            .collect(),
        failures: subscription.failures,
        calls: subscription.calls,
    }
}

fn baseline_key(person: BlindIndex, holder: &str, feed: Feed) -> String {
    format!("{}|{holder}|{feed:?}", String::from(person))
}

fn subscription_key(holder: &str, consent_id: &str) -> String {
    format!("{holder}|{consent_id}")
}

fn jobs_topic() -> Result<Topic, OdrError> {
    Topic::new(JOBS_TOPIC).map_err(|_| OdrError::Invalid("topic"))
}

/// A message id derived from `what` (SHA-256, as a UUID).
fn stable_id(owner: &BrandId, what: &str) -> MessageId {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("opus-odr|{}|{what}", owner.as_str()).as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    MessageId::from_uuid(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// A fixed delay in `[0, max)` for one consent.
fn jitter_of(consent_id: &str, max: Duration) -> Duration {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, consent_id.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest.as_ref()[..8]);
    let millis = u64::try_from(max.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(u64::from_be_bytes(bytes) % millis)
}

/// The wire name of an OFB enumeration value.
fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn due(subscription: &Subscription, feed: Feed, now: Timestamp) -> bool {
    if subscription
        .paused_until
        .get(&feed)
        .is_some_and(|until| now < *until)
    {
        return false;
    }
    match (
        subscription.last.get(&feed),
        subscription.interval.get(&feed),
    ) {
        (Some(last), Some(interval)) => {
            // A little early is on time: runs carry a jitter.
            let interval = Duration::from_secs(*interval);
            now >= last.saturating_add(interval.mul_f64(0.95))
        }
        _ => true,
    }
}

fn next_due(subscription: &Subscription, feed: Feed, frequencies: &Frequencies) -> Timestamp {
    if let Some(until) = subscription.paused_until.get(&feed) {
        return *until;
    }
    match subscription.last.get(&feed) {
        Some(last) => {
            let interval = subscription
                .interval
                .get(&feed)
                .map_or(frequencies.of(feed), |s| Duration::from_secs(*s));
            last.saturating_add(interval)
        }
        // Never refreshed: due at once.
        None => Timestamp::from_unix_seconds(0).unwrap_or(subscription.expires_at),
    }
}

/// After `failures` failed runs: 5 minutes, doubling, at most 6 hours.
fn backoff(failures: u32) -> Duration {
    let minutes = 5u64.saturating_mul(1u64 << failures.saturating_sub(1).min(10));
    Duration::from_secs(minutes.saturating_mul(60).min(6 * 3_600))
}

fn month_of(now: Timestamp) -> String {
    let date = now.date_in_brasilia();
    format!("{:04}-{:02}", date.year(), date.month())
}

/// Midnight in Brasília (UTC−3) on the first day of the next month.
fn start_of_next_month(now: Timestamp) -> Timestamp {
    let date = now.date_in_brasilia();
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    Date::from_calendar_date(year, month, 1)
        .ok()
        .and_then(|first| Timestamp::parse(&format!("{first}T03:00:00Z")).ok())
        .unwrap_or_else(|| now.saturating_add(Duration::from_secs(31 * 86_400)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::from_secs(300));
        assert_eq!(backoff(2), Duration::from_secs(600));
        assert_eq!(backoff(4), Duration::from_secs(2_400));
        assert_eq!(backoff(30), Duration::from_secs(6 * 3_600));
    }

    #[test]
    fn the_next_month_starts_at_midnight_in_brasilia() {
        let at = |s: &str| Timestamp::parse(s).unwrap();
        assert_eq!(
            start_of_next_month(at("2026-01-15T12:00:00Z")),
            at("2026-02-01T03:00:00Z")
        );
        assert_eq!(
            start_of_next_month(at("2026-12-31T23:00:00Z")),
            at("2027-01-01T03:00:00Z")
        );
        // 02:00 UTC on the 1st is still the previous month in Brasília.
        assert_eq!(
            start_of_next_month(at("2026-03-01T02:00:00Z")),
            at("2026-03-01T03:00:00Z")
        );
    }

    #[test]
    fn jitter_is_fixed_per_consent_and_bounded() {
        let max = Duration::from_secs(600);
        let a = jitter_of("urn:bank:1", max);
        assert_eq!(a, jitter_of("urn:bank:1", max));
        assert!(a < max);
        assert_ne!(a, jitter_of("urn:bank:2", max));
    }

    #[test]
    fn stable_ids_depend_on_owner_and_subject() {
        let owner = BrandId::new("fintech").unwrap();
        let other = BrandId::new("other").unwrap();
        assert_eq!(stable_id(&owner, "x"), stable_id(&owner, "x"));
        assert_ne!(stable_id(&owner, "x"), stable_id(&owner, "y"));
        assert_ne!(stable_id(&owner, "x"), stable_id(&other, "x"));
    }
}
