//! The Pix back office of the account holder (payments 4.0.0).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::datetime::Date;
use crate::document::{Cnpj, Cpf};
use crate::id::{BrandId, ConsentId, InteractionId, OrganisationId, PaymentId};
use crate::money::{Amount, Currency, Ispb};
use crate::payment::PaymentStatus;

use super::ConnectorError;

/// `EnumLocalInstrument`: how the creditor was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum LocalInstrument {
    /// Account data typed in.
    Manu,
    /// Pix key typed in.
    Dict,
    /// Dynamic QR code.
    Qrdn,
    /// Static QR code.
    Qres,
    /// Creditor contracted the initiator.
    Inic,
}

/// `EnumAccountPaymentsType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum PaymentAccountType {
    /// Current account.
    Cacc,
    /// Savings account.
    Svgs,
    /// Prepaid payment account.
    Tran,
}

/// An account that pays or receives (`creditorAccount`, `debtorAccount`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAccount {
    /// The institution's ISPB.
    pub ispb: Ispb,
    /// Branch, required for CACC and SVGS.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub issuer: Option<String>,
    /// Account number with its check digit.
    pub number: String,
    /// Account type.
    pub account_type: PaymentAccountType,
}

/// A payment to settle, after the consent was consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PixPaymentOrder {
    /// The brand (account holder) paying.
    pub brand: BrandId,
    /// The payment's id.
    pub payment_id: PaymentId,
    /// The consent it was made under.
    pub consent_id: ConsentId,
    /// The initiator's organisation.
    pub initiator: OrganisationId,
    /// The initiator's CNPJ (`cnpjInitiator`).
    pub cnpj_initiator: Cnpj,
    /// The `endToEndId` chosen by the initiator (32 characters).
    pub end_to_end_id: String,
    /// The amount.
    pub amount: Amount,
    /// The currency (`BRL`).
    pub currency: Currency,
    /// How the creditor was identified.
    pub local_instrument: LocalInstrument,
    /// The account paid from.
    pub debtor_account: PaymentAccount,
    /// The customer who authorised the payment.
    pub debtor: Cpf,
    /// The company paying, on PJ consents.
    pub business_entity: Option<Cnpj>,
    /// The account paid to.
    pub creditor_account: PaymentAccount,
    /// Pix key, for DICT/QR instruments.
    pub proxy: Option<String>,
    /// QR code payload, for QR instruments.
    pub qr_code: Option<String>,
    /// Free text to the creditor.
    pub remittance_information: Option<String>,
    /// `transactionIdentification` (txid), echoed.
    pub transaction_identification: Option<String>,
    /// Settlement date of a scheduled payment (Brasília); `None` settles now.
    pub scheduled_for: Option<Date>,
    /// The `x-fapi-interaction-id` of the call that created the payment.
    pub interaction_id: InteractionId,
}

/// The reasons a Pix back office gives for refusing a payment (the
/// `rejectionReason.code` values it can originate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
#[allow(missing_docs)] // the spec's enum values, one to one
pub enum PixRejectionCode {
    SaldoInsuficiente,
    ValorAcimaLimite,
    ValorInvalido,
    CobrancaInvalida,
    NaoInformado,
    PagamentoDivergenteConsentimento,
    DetalhePagamentoInvalido,
    PagamentoRecusadoDetentora,
    PagamentoRecusadoSpi,
    FalhaInfraestruturaSpi,
    FalhaInfraestruturaDict,
    FalhaInfraestruturaIcp,
    FalhaInfraestruturaPspRecebedor,
    FalhaInfraestruturaDetentora,
    ContasOrigemDestinoIguais,
}

/// Where a payment stands in the back office.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PixOutcome {
    /// The payment moved (or stays) in a non-rejected status.
    Status(PaymentStatus),
    /// The payment was refused.
    Rejected {
        /// Why.
        code: PixRejectionCode,
        /// Detail for the initiator (e.g. the SPI's pacs.002 reason).
        detail: String,
    },
}

/// The Pix back office (SPI participant or internal book transfer).
#[async_trait]
pub trait PixConnector: Send + Sync + 'static {
    /// Takes a payment for settlement (or scheduling) and says where it stands.
    /// Called once per payment; it must be idempotent on `payment_id`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails (the payment stays RCVD
    /// and is retried).
    async fn submit(&self, order: &PixPaymentOrder) -> Result<PixOutcome, ConnectorError>;

    /// Where a submitted payment stands now.
    ///
    /// # Errors
    /// [`ConnectorError::NotFound`] for a payment never submitted.
    async fn status(
        &self,
        brand: &BrandId,
        payment_id: &PaymentId,
    ) -> Result<PixOutcome, ConnectorError>;

    /// Cancels a scheduled or pending payment. `Ok(true)` when cancelled,
    /// `Ok(false)` when it can no longer be (it moved on).
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn cancel(&self, brand: &BrandId, payment_id: &PaymentId)
    -> Result<bool, ConnectorError>;
}

/// The bank's payment accounts: which account a customer pays from when
/// they choose one of their resources on the consent screen.
#[async_trait]
pub trait DebtorAccounts: Send + Sync + 'static {
    /// The payment account behind resource `account` of `customer` (acting
    /// for `business`), or `None` when it is not theirs or cannot pay.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn debtor_account(
        &self,
        brand: &BrandId,
        customer: &Cpf,
        business: Option<&Cnpj>,
        account: &crate::id::ResourceId,
    ) -> Result<Option<PaymentAccount>, ConnectorError>;
}
