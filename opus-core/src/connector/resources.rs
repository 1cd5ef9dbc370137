//! Resources API 3.1.0: which resources a consent covers.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::id::ResourceId;

use super::{ConnectorError, DataRequestContext};

/// `type` of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
#[allow(missing_docs)] // the spec's enum values, one to one
pub enum ResourceType {
    Account,
    CreditCardAccount,
    Loan,
    Financing,
    UnarrangedAccountOverdraft,
    InvoiceFinancing,
    BankFixedIncome,
    CreditFixedIncome,
    VariableIncome,
    TreasureTitle,
    Fund,
    Exchange,
}

/// `status` of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ResourceStatus {
    /// Shared and available.
    Available,
    /// Not available (closed, blocked).
    Unavailable,
    /// Temporarily unavailable.
    TemporarilyUnavailable,
    /// Awaiting another approver (multiple approval).
    PendingAuthorisation,
}

/// One entry of `GET /resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// The id used by the product API (`accountId`, `contractId`, …).
    pub resource_id: ResourceId,
    /// The kind of resource.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// Its status.
    pub status: ResourceStatus,
}

/// The resources a customer chose to share under a consent.
#[async_trait]
pub trait ResourcesConnector: Send + Sync + 'static {
    /// Every resource covered by the consent in `ctx`, of the types its
    /// permissions allow.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn resources(&self, ctx: &DataRequestContext) -> Result<Vec<Resource>, ConnectorError>;
}
