//! Credit operations: loans 2.5.0, financings 2.4.0, invoice financings
//! 2.4.0 and unarranged account overdraft 2.5.0.
//!
//! The four APIs share one shape — a contract list, a contract, its
//! warranties, its scheduled instalments and its payments — with models of
//! their own. [`CreditOperationsConnector`] is generic over the product, so
//! a bank implements it once per product it offers and the transmitter
//! mounts only those.

use std::fmt::Debug;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::envelope::Page;
use crate::id::ResourceId;
use crate::store::Window;

use super::models::{financings, invoice_financings, loans, unarranged_accounts_overdraft};
use super::{ConnectorError, DataRequestContext};

/// A credit-operations product: its API and the models of its five endpoints.
pub trait CreditProduct: Send + Sync + 'static {
    /// The API's base path segment, e.g. `loans`.
    const API: &'static str;
    /// An entry of `GET /contracts`.
    type ContractSummary: Serialize + DeserializeOwned + Clone + Debug + Send + Sync;
    /// `GET /contracts/{contractId}`.
    type Contract: Serialize + DeserializeOwned + Clone + Debug + Send + Sync;
    /// An entry of `GET /contracts/{contractId}/warranties`.
    type Warranty: Serialize + DeserializeOwned + Clone + Debug + Send + Sync;
    /// `GET /contracts/{contractId}/scheduled-instalments`.
    type Instalments: Serialize + DeserializeOwned + Clone + Debug + Send + Sync;
    /// `GET /contracts/{contractId}/payments`.
    type Payments: Serialize + DeserializeOwned + Clone + Debug + Send + Sync;
}

/// Loans (`/open-banking/loans/v2`).
#[derive(Debug, Clone, Copy)]
pub struct Loans;

impl CreditProduct for Loans {
    const API: &'static str = "loans";
    type ContractSummary = loans::LoansListContract;
    type Contract = loans::LoansContract;
    type Warranty = loans::LoansWarranties;
    type Instalments = loans::LoansInstalments;
    type Payments = loans::LoansPayments;
}

/// Financings (`/open-banking/financings/v2`).
#[derive(Debug, Clone, Copy)]
pub struct Financings;

impl CreditProduct for Financings {
    const API: &'static str = "financings";
    type ContractSummary = financings::FinancingsListContract;
    type Contract = financings::FinancingsContract;
    type Warranty = financings::FinancingsWarranties;
    type Instalments = financings::FinancingsInstalments;
    type Payments = financings::FinancingsPayments;
}

/// Invoice financings (`/open-banking/invoice-financings/v2`).
#[derive(Debug, Clone, Copy)]
pub struct InvoiceFinancings;

impl CreditProduct for InvoiceFinancings {
    const API: &'static str = "invoice-financings";
    type ContractSummary = invoice_financings::InvoiceFinancingsContractData;
    type Contract = invoice_financings::InvoiceFinancingsContract;
    type Warranty = invoice_financings::InvoiceFinancingsContractedWarranty;
    type Instalments = invoice_financings::InvoiceFinancingsInstalments;
    type Payments = invoice_financings::InvoiceFinancingsPayments;
}

/// Unarranged account overdraft (`/open-banking/unarranged-accounts-overdraft/v2`).
#[derive(Debug, Clone, Copy)]
pub struct UnarrangedAccountsOverdraft;

impl CreditProduct for UnarrangedAccountsOverdraft {
    const API: &'static str = "unarranged-accounts-overdraft";
    type ContractSummary =
        unarranged_accounts_overdraft::UnarrangedAccountOverdraftContractListData;
    type Contract = unarranged_accounts_overdraft::UnarrangedAccountOverdraftContractData;
    type Warranty = unarranged_accounts_overdraft::UnarrangedAccountsOverdraftContractedWarranty;
    type Instalments = unarranged_accounts_overdraft::UnarrangedAccountOverdraftInstalmentsData;
    type Payments = unarranged_accounts_overdraft::UnarrangedAccountOverdraftPaymentsData;
}

/// The back office of one credit product (`Arc<dyn CreditOperationsConnector<Loans>>`).
#[async_trait]
pub trait CreditOperationsConnector<P: CreditProduct>: Send + Sync + 'static {
    /// `GET /contracts`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn contracts(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<P::ContractSummary>, ConnectorError>;

    /// `GET /contracts/{contractId}`.
    ///
    /// # Errors
    /// [`ConnectorError::NotFound`] when the contract is not the customer's or not shared.
    async fn contract(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
    ) -> Result<P::Contract, ConnectorError>;

    /// `GET /contracts/{contractId}/warranties`.
    ///
    /// # Errors
    /// As [`CreditOperationsConnector::contract`].
    async fn warranties(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
        window: Window,
    ) -> Result<Page<P::Warranty>, ConnectorError>;

    /// `GET /contracts/{contractId}/scheduled-instalments`.
    ///
    /// # Errors
    /// As [`CreditOperationsConnector::contract`].
    async fn scheduled_instalments(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
    ) -> Result<P::Instalments, ConnectorError>;

    /// `GET /contracts/{contractId}/payments`.
    ///
    /// # Errors
    /// As [`CreditOperationsConnector::contract`].
    async fn payments(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
    ) -> Result<P::Payments, ConnectorError>;
}
