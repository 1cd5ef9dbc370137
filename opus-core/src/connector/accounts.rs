//! Accounts API 2.4.2: deposit, savings and prepaid payment accounts.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::datetime::{Date, Timestamp};
use crate::envelope::Page;
use crate::id::ResourceId;
use crate::store::Window;

use super::{AmountWithCurrency, ConnectorError, DataRequestContext};

/// `EnumAccountType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AccountType {
    /// Conta de depósito à vista.
    ContaDepositoAVista,
    /// Conta poupança.
    ContaPoupanca,
    /// Conta de pagamento pré-paga.
    ContaPagamentoPrePaga,
}

/// `EnumAccountSubType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AccountSubType {
    /// One holder.
    Individual,
    /// Joint, all holders sign.
    ConjuntaSimples,
    /// Joint, any holder signs.
    ConjuntaSolidaria,
}

/// One entry of `GET /accounts` (`AccountData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The brand name shown to the customer (≤ 80).
    pub brand_name: String,
    /// CNPJ of the institution holding the account (14 digits).
    pub company_cnpj: String,
    /// Account type.
    #[serde(rename = "type")]
    pub account_type: AccountType,
    /// COMPE code (3 digits).
    pub compe_code: String,
    /// Branch (4 digits); absent for prepaid payment accounts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub branch_code: Option<String>,
    /// Account number (8–20 digits).
    pub number: String,
    /// Check digit (1 character).
    pub check_digit: String,
    /// Stable id that does not reveal the number.
    pub account_id: ResourceId,
}

/// `GET /accounts/{accountId}` (`AccountIdentificationData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountIdentification {
    /// COMPE code (3 digits).
    pub compe_code: String,
    /// Branch (4 digits).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub branch_code: Option<String>,
    /// Account number (8–20 digits).
    pub number: String,
    /// Check digit.
    pub check_digit: String,
    /// Account type.
    #[serde(rename = "type")]
    pub account_type: AccountType,
    /// Account subtype.
    pub subtype: AccountSubType,
    /// ISO 4217 currency of the account.
    pub currency: crate::money::Currency,
}

/// `GET /accounts/{accountId}/balances` (`AccountBalancesData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountBalances {
    /// Available for immediate use, without overdraft or investments.
    pub available_amount: AmountWithCurrency,
    /// Blocked.
    pub blocked_amount: AmountWithCurrency,
    /// Automatically invested.
    pub automatically_invested_amount: AmountWithCurrency,
    /// When the balance was last updated.
    pub update_date_time: Timestamp,
}

/// `GET /accounts/{accountId}/overdraft-limits` (`AccountOverdraftLimitsData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountOverdraftLimits {
    /// Contracted overdraft limit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub overdraft_contracted_limit: Option<AmountWithCurrency>,
    /// Overdraft used.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub overdraft_used_limit: Option<AmountWithCurrency>,
    /// Used beyond the contracted limit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unarranged_overdraft_amount: Option<AmountWithCurrency>,
}

/// `EnumCompletedAuthorisedPaymentIndicator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum CompletedAuthorisedPaymentType {
    /// Completed.
    TransacaoEfetivada,
    /// Future entry.
    LancamentoFuturo,
    /// Processing.
    TransacaoProcessando,
}

/// `EnumCreditDebitIndicator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum CreditDebitType {
    /// Credit.
    Credito,
    /// Debit.
    Debito,
}

/// `EnumTransactionTypes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
#[allow(missing_docs)] // the spec's enum values, one to one
pub enum TransactionType {
    Ted,
    Doc,
    Pix,
    TransferenciaMesmaInstituicao,
    Boleto,
    ConvenioArrecadacao,
    PacoteTarifaServicos,
    TarifaServicosAvulsos,
    FolhaPagamento,
    Deposito,
    Saque,
    Cartao,
    EncargosJurosChequeEspecial,
    RendimentoAplicFinanceira,
    PortabilidadeSalario,
    ResgateAplicFinanceira,
    OperacaoCredito,
    Outros,
}

/// `EnumPartiePersonType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PartiePersonType {
    /// Natural person.
    PessoaNatural,
    /// Legal entity.
    PessoaJuridica,
}

/// One transaction (`AccountTransactionsData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountTransaction {
    /// Stable id.
    pub transaction_id: ResourceId,
    /// Completed, future or processing.
    pub completed_authorised_payment_type: CompletedAuthorisedPaymentType,
    /// Credit or debit.
    pub credit_debit_type: CreditDebitType,
    /// Description (≤ 200).
    pub transaction_name: String,
    /// Transaction type.
    #[serde(rename = "type")]
    pub transaction_type: TransactionType,
    /// Amount.
    pub transaction_amount: AmountWithCurrency,
    /// `YYYY-MM-DDTHH:MM:SS.sssZ` (milliseconds, unlike other date-times).
    pub transaction_date_time: String,
    /// Counterparty CPF (11) or CNPJ (14 digits).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partie_cnpj_cpf: Option<String>,
    /// Counterparty person type.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partie_person_type: Option<PartiePersonType>,
    /// Counterparty COMPE code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partie_compe_code: Option<String>,
    /// Counterparty branch.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partie_branch_code: Option<String>,
    /// Counterparty account number.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partie_number: Option<String>,
    /// Counterparty check digit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partie_check_digit: Option<String>,
}

/// Filters of the transactions endpoints (`fromBookingDate`,
/// `toBookingDate`, `creditDebitIndicator`), already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionQuery {
    /// First booking date, inclusive.
    pub from: Date,
    /// Last booking date, inclusive.
    pub to: Date,
    /// Only credits or only debits.
    pub credit_debit: Option<CreditDebitType>,
}

/// The accounts back office.
#[async_trait]
pub trait AccountsConnector: Send + Sync + 'static {
    /// The accounts shared under the consent, optionally of one type.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        account_type: Option<AccountType>,
        window: Window,
    ) -> Result<Page<Account>, ConnectorError>;

    /// One account's identification.
    ///
    /// # Errors
    /// [`ConnectorError::NotFound`] when the account is not the customer's or not shared.
    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountIdentification, ConnectorError>;

    /// One account's balances.
    ///
    /// # Errors
    /// As [`AccountsConnector::account`].
    async fn balances(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountBalances, ConnectorError>;

    /// One account's overdraft limits.
    ///
    /// # Errors
    /// As [`AccountsConnector::account`].
    async fn overdraft_limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountOverdraftLimits, ConnectorError>;

    /// One account's transactions booked in the query's window, newest first.
    /// The transmitter serves both `/transactions` and `/transactions-current`
    /// (whose window it limits to the last 7 days) from this method.
    ///
    /// # Errors
    /// As [`AccountsConnector::account`].
    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &TransactionQuery,
        window: Window,
    ) -> Result<Page<AccountTransaction>, ConnectorError>;
}
