//! Credit-card accounts API 2.3.1.

use async_trait::async_trait;

use crate::datetime::Date;
use crate::envelope::Page;
use crate::id::ResourceId;
use crate::store::Window;

use super::models::credit_cards::{
    CreditCardAccountsBillsData, CreditCardAccountsBillsTransactions, CreditCardAccountsData,
    CreditCardAccountsLimitsData, CreditCardAccountsTransaction,
    CreditCardsAccountsIdentificationData, EnumCreditCardTransactionType,
};
use super::{ConnectorError, DataRequestContext};

/// Filters of the card transactions endpoints (`fromTransactionDate`,
/// `toTransactionDate`, `creditCardTransactionType`, `creditCardPayeeMCC`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardTransactionQuery {
    /// First transaction date, inclusive.
    pub from: Date,
    /// Last transaction date, inclusive.
    pub to: Date,
    /// Only this transaction type.
    pub transaction_type: Option<EnumCreditCardTransactionType>,
    /// Only this merchant category code.
    pub payee_mcc: Option<i64>,
}

/// The credit-card back office.
#[async_trait]
pub trait CreditCardsConnector: Send + Sync + 'static {
    /// `GET /accounts`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<CreditCardAccountsData>, ConnectorError>;

    /// `GET /accounts/{creditCardAccountId}`.
    ///
    /// # Errors
    /// [`ConnectorError::NotFound`] when the account is not the customer's or not shared.
    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<CreditCardsAccountsIdentificationData, ConnectorError>;

    /// `GET /accounts/{creditCardAccountId}/bills`, optionally by due date.
    ///
    /// # Errors
    /// As [`CreditCardsConnector::account`].
    async fn bills(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        due_between: Option<(Date, Date)>,
        window: Window,
    ) -> Result<Page<CreditCardAccountsBillsData>, ConnectorError>;

    /// `GET /accounts/{creditCardAccountId}/bills/{billId}/transactions`.
    ///
    /// # Errors
    /// As [`CreditCardsConnector::account`].
    async fn bill_transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        bill_id: &ResourceId,
        query: &CardTransactionQuery,
        window: Window,
    ) -> Result<Page<CreditCardAccountsBillsTransactions>, ConnectorError>;

    /// `GET /accounts/{creditCardAccountId}/limits`.
    ///
    /// # Errors
    /// As [`CreditCardsConnector::account`].
    async fn limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<Vec<CreditCardAccountsLimitsData>, ConnectorError>;

    /// `GET /accounts/{creditCardAccountId}/transactions`; the transmitter
    /// also serves `/transactions-current` from it with the window limited
    /// to the last 7 days.
    ///
    /// # Errors
    /// As [`CreditCardsConnector::account`].
    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &CardTransactionQuery,
        window: Window,
    ) -> Result<Page<CreditCardAccountsTransaction>, ConnectorError>;
}
