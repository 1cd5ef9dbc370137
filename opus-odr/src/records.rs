//! The aggregated, per-person model: one record per account, balance,
//! transaction and credit contract at each holder, de-duplicated by the
//! holder's ids (the same account seen through two consents is one
//! record), sealed at rest under the person's blind index.

use opus_core::BrandId;
use opus_core::seal::{BlindIndex, SealContext, Sealer};
use opus_core::store::{DocumentStore, StoreError, StoredDocument};
use opus_core::{Clock, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::OdrError;

/// One account at one holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRecord {
    /// The holder.
    pub holder: String,
    /// `accountId` at the holder.
    pub account_id: String,
    /// `brandName`.
    pub brand_name: String,
    /// `companyCnpj`.
    pub company_cnpj: String,
    /// `type`.
    #[serde(rename = "type")]
    pub account_type: String,
    /// `compeCode`.
    pub compe_code: String,
    /// `branchCode`.
    pub branch_code: Option<String>,
    /// `number`.
    pub number: String,
    /// `checkDigit`.
    pub check_digit: String,
}

/// An account's balance, as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceRecord {
    /// The holder.
    pub holder: String,
    /// The account.
    pub account_id: String,
    /// `availableAmount.amount`.
    pub available_amount: String,
    /// `blockedAmount.amount`.
    pub blocked_amount: String,
    /// `automaticallyInvestedAmount.amount`.
    pub automatically_invested_amount: String,
    /// The currency.
    pub currency: String,
    /// `updateDateTime` at the holder.
    pub update_date_time: String,
    /// The day it was read (Brasília).
    pub read_on: String,
}

/// One transaction of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRecord {
    /// The holder.
    pub holder: String,
    /// The account.
    pub account_id: String,
    /// `transactionId`.
    pub transaction_id: String,
    /// `transactionDateTime`.
    pub date_time: String,
    /// `transactionAmount.amount`.
    pub amount: String,
    /// `transactionAmount.currency`.
    pub currency: String,
    /// `creditDebitType`.
    pub credit_debit_type: String,
    /// `transactionName`.
    pub transaction_name: String,
    /// `type`.
    pub transaction_type: String,
}

/// One credit contract (loans, financings, invoice financings, unarranged
/// overdraft).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractRecord {
    /// The holder.
    pub holder: String,
    /// The API (`loans`, `financings`…).
    pub api: String,
    /// `contractId`.
    pub contract_id: String,
    /// The holder's summary as served by `GET /contracts`.
    pub summary: serde_json::Value,
}

/// One credit-card account and its bills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardRecord {
    /// The holder.
    pub holder: String,
    /// `creditCardAccountId`.
    pub card_id: String,
    /// The holder's summary as served by `GET /accounts`.
    pub summary: serde_json::Value,
    /// The bills as served by `GET /accounts/{id}/bills` (empty when the
    /// consent does not cover bills).
    pub bills: Vec<serde_json::Value>,
}

/// Collections of the documents store.
pub(crate) mod collections {
    pub(crate) const SUBSCRIPTIONS: &str = "odr.subscriptions";
    pub(crate) const ACCOUNTS: &str = "odr.accounts";
    pub(crate) const BALANCES: &str = "odr.balances";
    pub(crate) const TRANSACTIONS: &str = "odr.transactions";
    pub(crate) const CONTRACTS: &str = "odr.contracts";
    pub(crate) const BASELINES: &str = "odr.baselines";
    pub(crate) const CARDS: &str = "odr.cards";
}

/// Sealed documents of one owner.
pub(crate) struct Documents<'a> {
    pub(crate) owner: &'a BrandId,
    pub(crate) store: &'a dyn DocumentStore,
    pub(crate) sealer: &'a Sealer,
    pub(crate) clock: &'a dyn Clock,
}

const PURPOSE: &str = "odr";

impl Documents<'_> {
    fn seal<T: Serialize>(
        &self,
        collection: &str,
        key: &str,
        person: Option<BlindIndex>,
        value: &T,
    ) -> Result<StoredDocument, OdrError> {
        let record = format!("{collection}|{key}");
        Ok(StoredDocument {
            owner: self.owner.clone(),
            collection: collection.to_owned(),
            key: key.to_owned(),
            person,
            body: self
                .sealer
                .seal_json(&SealContext::new(PURPOSE, self.owner, &record), value)
                .map_err(|e| OdrError::Seal(e.to_string()))?,
            version: 0,
            updated_at: self.now(),
        })
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) async fn open<T: DeserializeOwned>(
        &self,
        document: &StoredDocument,
    ) -> Result<T, OdrError> {
        let record = format!("{}|{}", document.collection, document.key);
        self.sealer
            .open_json(
                &SealContext::new(PURPOSE, self.owner, &record),
                &document.body,
            )
            .await
            .map_err(|e| OdrError::Seal(e.to_string()))
    }

    /// The document and its version.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        collection: &str,
        key: &str,
    ) -> Result<Option<(T, u64)>, OdrError> {
        match self.store.get_document(self.owner, collection, key).await? {
            Some(document) => Ok(Some((self.open(&document).await?, document.version))),
            None => Ok(None),
        }
    }

    /// Writes at `expected` (0: insert if absent); `Conflict` when someone
    /// else wrote first.
    pub(crate) async fn put<T: Serialize>(
        &self,
        collection: &str,
        key: &str,
        person: Option<BlindIndex>,
        value: &T,
        expected: u64,
    ) -> Result<u64, StoreError> {
        let document = self
            .seal(collection, key, person, value)
            .map_err(|e| StoreError::Other(e.to_string().into()))?;
        self.store.put_document(&document, expected).await
    }

    /// Writes `value` unless the stored one is equal; whether there was
    /// none before.
    pub(crate) async fn upsert<T: Serialize + DeserializeOwned + PartialEq>(
        &self,
        collection: &str,
        key: &str,
        person: BlindIndex,
        value: &T,
    ) -> Result<bool, OdrError> {
        for _ in 0..4 {
            let current = self.get::<T>(collection, key).await?;
            let (expected, new) = match &current {
                Some((stored, _)) if stored == value => return Ok(false),
                Some((_, version)) => (*version, false),
                None => (0, true),
            };
            match self
                .put(collection, key, Some(person), value, expected)
                .await
            {
                Ok(_) => return Ok(new),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(OdrError::Store(StoreError::Conflict))
    }

    /// Inserts `value` if the key is new; whether it was.
    pub(crate) async fn insert_new<T: Serialize>(
        &self,
        collection: &str,
        key: &str,
        person: BlindIndex,
        value: &T,
    ) -> Result<bool, OdrError> {
        match self.put(collection, key, Some(person), value, 0).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The person's records of `collection`.
    pub(crate) async fn of_person<T: DeserializeOwned>(
        &self,
        collection: &str,
        person: &BlindIndex,
    ) -> Result<Vec<T>, OdrError> {
        let mut out = Vec::new();
        for document in self
            .store
            .documents_of(self.owner, collection, person)
            .await?
        {
            out.push(self.open(&document).await?);
        }
        Ok(out)
    }

    /// The keys of the person's records of `collection`.
    pub(crate) async fn keys_of(
        &self,
        collection: &str,
        person: &BlindIndex,
    ) -> Result<std::collections::BTreeSet<String>, OdrError> {
        Ok(self
            .store
            .documents_of(self.owner, collection, person)
            .await?
            .into_iter()
            .map(|d| d.key)
            .collect())
    }
}
