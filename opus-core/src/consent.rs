//! Consent vocabulary shared by every consent kind, and the data-sharing
//! consent (consents 3.3.1) with its sealed storage form.
//!
//! The lifecycle rules — which transitions are legal, timeouts, events —
//! live in `opus-consent`; this module fixes the words and the record.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::datetime::Timestamp;
use crate::document::{Cnpj, Cpf, Document};
use crate::id::{BrandId, ClientId, ConsentId};
use crate::limits;
use crate::seal::{SealContext, SealError, Sealed, Sealer};
use crate::store::ConsentRecord;

/// The kind of a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ConsentKind {
    /// Data sharing (consents 3.3.1).
    Data,
    /// A payment consent (payments 4.0.0).
    Payment,
    /// A recurring consent (automatic payments 2.0.0).
    Recurring,
}

/// Every consent status of every kind, spelled as the specs spell them.
/// Which statuses a kind may take is the lifecycle's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ConsentStatus {
    /// Created, waiting for the customer.
    AwaitingAuthorisation,
    /// Approved by some of several approvers (payments, recurring).
    PartiallyAccepted,
    /// Approved.
    Authorised,
    /// Rejected, expired or revoked (data consents end here whatever the reason).
    Rejected,
    /// Used by a payment (payments, recurring).
    Consumed,
    /// Revoked after authorisation (recurring).
    Revoked,
}

impl ConsentStatus {
    /// The spec's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingAuthorisation => "AWAITING_AUTHORISATION",
            Self::PartiallyAccepted => "PARTIALLY_ACCEPTED",
            Self::Authorised => "AUTHORISED",
            Self::Rejected => "REJECTED",
            Self::Consumed => "CONSUMED",
            Self::Revoked => "REVOKED",
        }
    }

    /// Whether no transition leaves this status.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Rejected | Self::Consumed | Self::Revoked)
    }
}

/// Who rejected a consent (`EnumRejectedBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum RejectedBy {
    /// The customer, at either institution.
    User,
    /// The transmitter / account holder.
    Aspsp,
    /// The receiver / initiator.
    Tpp,
}

/// Why a data consent was rejected (consents 3.3.1 `rejection.reason.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum DataRejectionCode {
    /// The authorisation window elapsed.
    ConsentExpired,
    /// Refused by the customer before authorising.
    CustomerManuallyRejected,
    /// Revoked by the customer after authorising.
    CustomerManuallyRevoked,
    /// The sharing period ended.
    ConsentMaxDateReached,
    /// A technical failure made it unusable (e.g. the code exchange failed).
    ConsentTechnicalIssue,
    /// The transmitter's security policy.
    InternalSecurityReason,
}

/// `rejection` of a data consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataRejection {
    /// Who rejected it.
    pub rejected_by: RejectedBy,
    /// Why.
    pub reason: DataRejectionReason,
}

/// `rejection.reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataRejectionReason {
    /// The reason code.
    pub code: DataRejectionCode,
    /// Free text chosen by the transmitter (at most 140 characters).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub additional_information: Option<String>,
}

/// The data-sharing permissions of consents 3.3.1 (`permissions[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
#[allow(missing_docs)] // the variants are the spec's enum values, one to one
pub enum Permission {
    AccountsRead,
    AccountsBalancesRead,
    AccountsTransactionsRead,
    AccountsOverdraftLimitsRead,
    CreditCardsAccountsRead,
    CreditCardsAccountsBillsRead,
    CreditCardsAccountsBillsTransactionsRead,
    CreditCardsAccountsLimitsRead,
    CreditCardsAccountsTransactionsRead,
    CustomersPersonalIdentificationsRead,
    /// Spelled `ADITTIONALINFO` in the spec.
    #[serde(rename = "CUSTOMERS_PERSONAL_ADITTIONALINFO_READ")]
    CustomersPersonalAdittionalinfoRead,
    CustomersBusinessIdentificationsRead,
    /// Spelled `ADITTIONALINFO` in the spec.
    #[serde(rename = "CUSTOMERS_BUSINESS_ADITTIONALINFO_READ")]
    CustomersBusinessAdittionalinfoRead,
    FinancingsRead,
    FinancingsScheduledInstalmentsRead,
    FinancingsPaymentsRead,
    FinancingsWarrantiesRead,
    InvoiceFinancingsRead,
    InvoiceFinancingsScheduledInstalmentsRead,
    InvoiceFinancingsPaymentsRead,
    InvoiceFinancingsWarrantiesRead,
    LoansRead,
    LoansScheduledInstalmentsRead,
    LoansPaymentsRead,
    LoansWarrantiesRead,
    UnarrangedAccountsOverdraftRead,
    UnarrangedAccountsOverdraftScheduledInstalmentsRead,
    UnarrangedAccountsOverdraftPaymentsRead,
    UnarrangedAccountsOverdraftWarrantiesRead,
    BankFixedIncomesRead,
    CreditFixedIncomesRead,
    FundsRead,
    VariableIncomesRead,
    TreasureTitlesRead,
    ExchangesRead,
    ResourcesRead,
}

/// A data-sharing consent, in the clear, as the lifecycle works with it.
/// It reaches storage only through [`DataConsent::seal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataConsent {
    /// The brand (tenant).
    pub brand: BrandId,
    /// `consentId`.
    pub id: ConsentId,
    /// The receiver's client.
    pub client_id: ClientId,
    /// `status`.
    pub status: ConsentStatus,
    /// The store's compare-and-set version (0 before the first insert).
    pub version: u64,
    /// `permissions`: the subset actually granted.
    pub permissions: Vec<Permission>,
    /// `loggedUser.document`: always a CPF.
    pub logged_user: Cpf,
    /// `businessEntity.document`: present on PJ consents.
    pub business_entity: Option<Cnpj>,
    /// `creationDateTime`.
    pub creation_date_time: Timestamp,
    /// `statusUpdateDateTime`.
    pub status_update_date_time: Timestamp,
    /// `expirationDateTime`: `None` for an indefinite consent.
    pub expiration_date_time: Option<Timestamp>,
    /// `rejection`, once rejected.
    pub rejection: Option<DataRejection>,
    /// The resources the customer chose to share when authorising (the
    /// resources API and the product APIs serve only these).
    pub resources: Vec<crate::id::ResourceId>,
    /// Renewals (`POST /consents/{consentId}/extends`), oldest first.
    pub extensions: Vec<DataConsentExtension>,
}

/// One renewal of a data consent (`GET /consents/{consentId}/extensions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataConsentExtension {
    /// The new expiration (`None`: indefinite).
    pub expiration_date_time: Option<Timestamp>,
    /// The expiration before the renewal (`None`: it was indefinite).
    pub previous_expiration_date_time: Option<Timestamp>,
    /// Who renewed it.
    pub logged_user: Cpf,
    /// When.
    pub request_date_time: Timestamp,
    /// `x-fapi-customer-ip-address` of the renewal.
    pub x_fapi_customer_ip_address: String,
    /// `x-customer-user-agent` of the renewal.
    pub x_customer_user_agent: String,
}

impl Permission {
    /// What the permission shares, in plain Portuguese, for consent
    /// screens (the user-experience guide asks for the data in words the
    /// customer understands, grouped by product).
    pub fn plain_portuguese(self) -> &'static str {
        match self {
            Self::AccountsRead => "Contas: dados da conta (agência, número e tipo)",
            Self::AccountsBalancesRead => "Contas: saldos",
            Self::AccountsTransactionsRead => "Contas: extratos e transações",
            Self::AccountsOverdraftLimitsRead => "Contas: limites do cheque especial",
            Self::CreditCardsAccountsRead => "Cartão de crédito: dados do cartão",
            Self::CreditCardsAccountsBillsRead => "Cartão de crédito: faturas",
            Self::CreditCardsAccountsBillsTransactionsRead => {
                "Cartão de crédito: transações das faturas"
            }
            Self::CreditCardsAccountsLimitsRead => "Cartão de crédito: limites",
            Self::CreditCardsAccountsTransactionsRead => "Cartão de crédito: transações",
            Self::CustomersPersonalIdentificationsRead => "Dados cadastrais: identificação",
            Self::CustomersPersonalAdittionalinfoRead => {
                "Dados cadastrais: informações complementares (qualificação e relacionamento)"
            }
            Self::CustomersBusinessIdentificationsRead => {
                "Dados cadastrais da empresa: identificação"
            }
            Self::CustomersBusinessAdittionalinfoRead => {
                "Dados cadastrais da empresa: informações complementares"
            }
            Self::FinancingsRead => "Financiamentos: dados do contrato",
            Self::FinancingsScheduledInstalmentsRead => "Financiamentos: parcelas",
            Self::FinancingsPaymentsRead => "Financiamentos: pagamentos",
            Self::FinancingsWarrantiesRead => "Financiamentos: garantias",
            Self::InvoiceFinancingsRead => "Antecipação de recebíveis: dados do contrato",
            Self::InvoiceFinancingsScheduledInstalmentsRead => {
                "Antecipação de recebíveis: parcelas"
            }
            Self::InvoiceFinancingsPaymentsRead => "Antecipação de recebíveis: pagamentos",
            Self::InvoiceFinancingsWarrantiesRead => "Antecipação de recebíveis: garantias",
            Self::LoansRead => "Empréstimos: dados do contrato",
            Self::LoansScheduledInstalmentsRead => "Empréstimos: parcelas",
            Self::LoansPaymentsRead => "Empréstimos: pagamentos",
            Self::LoansWarrantiesRead => "Empréstimos: garantias",
            Self::UnarrangedAccountsOverdraftRead => {
                "Adiantamento a depositante: dados do contrato"
            }
            Self::UnarrangedAccountsOverdraftScheduledInstalmentsRead => {
                "Adiantamento a depositante: parcelas"
            }
            Self::UnarrangedAccountsOverdraftPaymentsRead => {
                "Adiantamento a depositante: pagamentos"
            }
            Self::UnarrangedAccountsOverdraftWarrantiesRead => {
                "Adiantamento a depositante: garantias"
            }
            Self::BankFixedIncomesRead => "Investimentos: renda fixa bancária",
            Self::CreditFixedIncomesRead => "Investimentos: renda fixa de crédito",
            Self::FundsRead => "Investimentos: fundos de investimento",
            Self::VariableIncomesRead => "Investimentos: renda variável",
            Self::TreasureTitlesRead => "Investimentos: títulos do Tesouro Direto",
            Self::ExchangesRead => "Câmbio: operações de câmbio",
            Self::ResourcesRead => "A lista dos produtos compartilhados",
        }
    }

    /// The kind of resource this permission reads, for permissions that
    /// read the customer's resources (the consent screen offers those);
    /// `None` for customer registration data and `RESOURCES_READ`.
    pub fn resource_type(self) -> Option<crate::connector::ResourceType> {
        use crate::connector::ResourceType as T;
        Some(match self {
            Self::AccountsRead
            | Self::AccountsBalancesRead
            | Self::AccountsTransactionsRead
            | Self::AccountsOverdraftLimitsRead => T::Account,
            Self::CreditCardsAccountsRead
            | Self::CreditCardsAccountsBillsRead
            | Self::CreditCardsAccountsBillsTransactionsRead
            | Self::CreditCardsAccountsLimitsRead
            | Self::CreditCardsAccountsTransactionsRead => T::CreditCardAccount,
            Self::FinancingsRead
            | Self::FinancingsScheduledInstalmentsRead
            | Self::FinancingsPaymentsRead
            | Self::FinancingsWarrantiesRead => T::Financing,
            Self::InvoiceFinancingsRead
            | Self::InvoiceFinancingsScheduledInstalmentsRead
            | Self::InvoiceFinancingsPaymentsRead
            | Self::InvoiceFinancingsWarrantiesRead => T::InvoiceFinancing,
            Self::LoansRead
            | Self::LoansScheduledInstalmentsRead
            | Self::LoansPaymentsRead
            | Self::LoansWarrantiesRead => T::Loan,
            Self::UnarrangedAccountsOverdraftRead
            | Self::UnarrangedAccountsOverdraftScheduledInstalmentsRead
            | Self::UnarrangedAccountsOverdraftPaymentsRead
            | Self::UnarrangedAccountsOverdraftWarrantiesRead => T::UnarrangedAccountOverdraft,
            Self::BankFixedIncomesRead => T::BankFixedIncome,
            Self::CreditFixedIncomesRead => T::CreditFixedIncome,
            Self::FundsRead => T::Fund,
            Self::VariableIncomesRead => T::VariableIncome,
            Self::TreasureTitlesRead => T::TreasureTitle,
            Self::ExchangesRead => T::Exchange,
            Self::CustomersPersonalIdentificationsRead
            | Self::CustomersPersonalAdittionalinfoRead
            | Self::CustomersBusinessIdentificationsRead
            | Self::CustomersBusinessAdittionalinfoRead
            | Self::ResourcesRead => return None,
        })
    }
}

/// What of a data consent is sealed (everything the record columns do not carry).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataConsentBody {
    permissions: Vec<Permission>,
    logged_user: Cpf,
    business_entity: Option<Cnpj>,
    expiration_date_time: Option<Timestamp>,
    rejection: Option<DataRejection>,
    #[serde(default)]
    resources: Vec<crate::id::ResourceId>,
    #[serde(default)]
    extensions: Vec<DataConsentExtension>,
}

impl DataConsent {
    /// The outbox message announcing this consent's move from `from` to its
    /// current status at `now`, to write in the same transaction as the move.
    ///
    /// # Errors
    /// [`crate::InvalidValue`] only if the events topic name were invalid.
    pub fn status_changed_message(
        &self,
        from: ConsentStatus,
        now: Timestamp,
    ) -> Result<crate::store::OutboxMessage, crate::InvalidValue> {
        crate::event::DomainEvent {
            id: crate::id::MessageId::random(),
            brand: self.brand.clone(),
            occurred_at: now,
            kind: crate::event::EventKind::ConsentStatusChanged {
                consent_id: self.id.clone(),
                consent_kind: ConsentKind::Data,
                client_id: self.client_id.clone(),
                from,
                to: self.status,
            },
        }
        .outbox_message()
    }

    /// When the current status ends by the clock: the authorisation
    /// deadline while awaiting, the expiration date once authorised.
    pub fn deadline(&self) -> Option<Timestamp> {
        deadline(
            self.status,
            self.creation_date_time,
            self.expiration_date_time,
            limits::DATA_CONSENT_AUTHORISATION_TIMEOUT,
        )
    }

    /// The storage form: documents sealed, blind indexes for lookups.
    ///
    /// # Errors
    /// [`SealError`] when sealing fails.
    pub fn seal(&self, sealer: &Sealer) -> Result<ConsentRecord, SealError> {
        let body = DataConsentBody {
            permissions: self.permissions.clone(),
            logged_user: self.logged_user.clone(),
            business_entity: self.business_entity.clone(),
            expiration_date_time: self.expiration_date_time,
            rejection: self.rejection.clone(),
            resources: self.resources.clone(),
            extensions: self.extensions.clone(),
        };
        Ok(ConsentRecord {
            brand: self.brand.clone(),
            id: self.id.clone(),
            kind: ConsentKind::Data,
            client_id: self.client_id.clone(),
            status: self.status,
            version: self.version,
            created_at: self.creation_date_time,
            status_updated_at: self.status_update_date_time,
            expires_at: self.deadline(),
            subject: Some(sealer.blind_index(&Document::Cpf(self.logged_user.clone()))?),
            business_entity: self
                .business_entity
                .as_ref()
                .map(|cnpj| sealer.blind_index(&Document::Cnpj(cnpj.clone())))
                .transpose()?,
            body: seal_consent_body(sealer, &self.brand, &self.id, &body)?,
        })
    }

    /// Opens a stored data consent.
    ///
    /// # Errors
    /// [`SealError::Decode`] when the record is not a data consent;
    /// [`SealError::OpenFailed`] when its body was tampered with or moved
    /// from another consent or brand.
    pub async fn open(record: &ConsentRecord, sealer: &Sealer) -> Result<Self, SealError> {
        if record.kind != ConsentKind::Data {
            return Err(SealError::Decode);
        }
        let body: DataConsentBody =
            open_consent_body(sealer, &record.brand, &record.id, &record.body).await?;
        Ok(Self {
            brand: record.brand.clone(),
            id: record.id.clone(),
            client_id: record.client_id.clone(),
            status: record.status,
            version: record.version,
            permissions: body.permissions,
            logged_user: body.logged_user,
            business_entity: body.business_entity,
            creation_date_time: record.created_at,
            status_update_date_time: record.status_updated_at,
            expiration_date_time: body.expiration_date_time,
            rejection: body.rejection,
            resources: body.resources,
            extensions: body.extensions,
        })
    }
}

/// The clock deadline of a consent in `status`.
pub fn deadline(
    status: ConsentStatus,
    created_at: Timestamp,
    expiration: Option<Timestamp>,
    authorisation_timeout: Duration,
) -> Option<Timestamp> {
    match status {
        ConsentStatus::AwaitingAuthorisation => {
            Some(created_at.saturating_add(authorisation_timeout))
        }
        ConsentStatus::Authorised | ConsentStatus::PartiallyAccepted => expiration,
        _ => None,
    }
}

/// Seals the body of any consent kind, bound to its brand and id.
///
/// # Errors
/// [`SealError`] when sealing fails.
pub fn seal_consent_body<T: Serialize>(
    sealer: &Sealer,
    brand: &BrandId,
    id: &ConsentId,
    body: &T,
) -> Result<Sealed, SealError> {
    sealer.seal_json(&SealContext::new("consent", brand, id.as_str()), body)
}

/// Opens the body of any consent kind.
///
/// # Errors
/// [`SealError`] when opening or decoding fails.
pub async fn open_consent_body<T: DeserializeOwned>(
    sealer: &Sealer,
    brand: &BrandId,
    id: &ConsentId,
    sealed: &Sealed,
) -> Result<T, SealError> {
    sealer
        .open_json(&SealContext::new("consent", brand, id.as_str()), sealed)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_follow_the_spec() {
        let json = serde_json::to_string(&[
            Permission::CustomersPersonalAdittionalinfoRead,
            Permission::AccountsBalancesRead,
            Permission::UnarrangedAccountsOverdraftScheduledInstalmentsRead,
        ])
        .unwrap();
        assert_eq!(
            json,
            r#"["CUSTOMERS_PERSONAL_ADITTIONALINFO_READ","ACCOUNTS_BALANCES_READ","UNARRANGED_ACCOUNTS_OVERDRAFT_SCHEDULED_INSTALMENTS_READ"]"#
        );
        assert_eq!(
            serde_json::to_string(&ConsentStatus::AwaitingAuthorisation).unwrap(),
            "\"AWAITING_AUTHORISATION\""
        );
        let rejection = DataRejection {
            rejected_by: RejectedBy::Aspsp,
            reason: DataRejectionReason {
                code: DataRejectionCode::ConsentMaxDateReached,
                additional_information: None,
            },
        };
        assert_eq!(
            serde_json::to_value(&rejection).unwrap(),
            serde_json::json!({"rejectedBy": "ASPSP", "reason": {"code": "CONSENT_MAX_DATE_REACHED"}})
        );
    }

    #[test]
    fn deadlines() {
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let exp = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
        let d = |s| deadline(s, t0, Some(exp), limits::DATA_CONSENT_AUTHORISATION_TIMEOUT);
        assert_eq!(
            d(ConsentStatus::AwaitingAuthorisation).unwrap().to_string(),
            "2026-01-01T01:00:00Z"
        );
        assert_eq!(d(ConsentStatus::Authorised), Some(exp));
        assert_eq!(d(ConsentStatus::Rejected), None);
        assert!(ConsentStatus::Rejected.is_terminal());
        assert!(!ConsentStatus::Authorised.is_terminal());
    }
}
