//! A synthetic bank back office: seeded, realistic data behind the data
//! connectors, and a spy that records every connector call.
//!
//! Three customers:
//!
//! | who | document | resources |
//! |---|---|---|
//! | Maria Oliveira (PF) | CPF 529.982.247-25 | a checking and a savings account, two credit cards, two loans, a real-estate financing, an overdraft |
//! | João Souza (PF) | CPF 111.444.777-35 | a checking and a savings account, a closed one (`UNAVAILABLE`), a card on hold (`TEMPORARILY_UNAVAILABLE`), a loan |
//! | Padaria Azul Ltda (PJ), represented by Maria | CNPJ 11.222.333/0001-81 | a business checking and a prepaid payment account, a joint account awaiting a second partner (`PENDING_AUTHORISATION`), a card, a loan, an invoice financing |
//!
//! Cards have twelve monthly bills and a transaction every five days; the
//! loan has one contract with its warranty, instalments and payments. Each
//! account has about 200 transactions spread over the 400 days before
//! `today` and a few scheduled after it, generated from a fixed seed, so
//! every run sees the same data. Records of the customers API come from the
//! official schemas' examples (`fixtures/`), personalised per customer.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use opus_core::connector::models::credit_cards::{
    CreditCardAccountsBillsData, CreditCardAccountsBillsTransactions, CreditCardAccountsData,
    CreditCardAccountsLimitsData, CreditCardAccountsTransaction,
    CreditCardsAccountsIdentificationData,
};
use opus_core::connector::models::customers::{
    BusinessFinancialRelationData, BusinessIdentificationData, BusinessQualificationData,
    PersonalFinancialRelationData, PersonalIdentificationData, PersonalQualificationData,
};
use opus_core::connector::{
    Account, AccountBalances, AccountIdentification, AccountOverdraftLimits, AccountSubType,
    AccountTransaction, AccountType, AccountsConnector, AmountWithCurrency, CardTransactionQuery,
    CompletedAuthorisedPaymentType, ConnectorError, CreditCardsConnector, CreditDebitType,
    CreditOperationsConnector, CreditProduct, CustomersConnector, DataRequestContext,
    DebtorAccounts, Financings, InvoiceFinancings, Loans, PartiePersonType, PaymentAccount,
    PaymentAccountType, PixConnector, PixOutcome, PixPaymentOrder, PixRejectionCode, Resource,
    ResourceStatus, ResourceType, ResourcesConnector, TransactionQuery, TransactionType,
    UnarrangedAccountsOverdraft,
};
use opus_core::envelope::Page;
use opus_core::interaction::{
    CustomerResources, InteractionError, ResourceQuery, SelectableResource,
};
use opus_core::money::{Currency, Ispb};
use opus_core::store::Window;
use opus_core::{Cnpj, Cpf, Date, ResourceId, Timestamp};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The bank's CNPJ in its records.
pub const BANK_CNPJ: &str = "50685362000135";
/// The bank's ISPB (its debtor accounts in Pix payments).
pub const BANK_ISPB: &str = "11112222";
/// Maria's CPF (PF customer, and the representative of the PJ customer).
pub const MARIA_CPF: &str = "52998224725";
/// João's CPF.
pub const JOAO_CPF: &str = "11144477735";
/// The PJ customer's CNPJ.
pub const PADARIA_CNPJ: &str = "11222333000181";

/// One synthetic resource.
#[derive(Debug, Clone)]
struct SyntheticResource {
    id: ResourceId,
    kind: ResourceType,
    status: ResourceStatus,
    account: Option<SyntheticAccount>,
}

#[derive(Debug, Clone)]
struct SyntheticAccount {
    kind: AccountType,
    number: String,
    check_digit: String,
    available_cents: i64,
    transactions: Vec<(Date, AccountTransaction)>,
}

#[derive(Debug, Clone)]
struct SyntheticCustomer {
    cpf: Cpf,
    business: Option<Cnpj>,
    name: String,
    resources: Vec<SyntheticResource>,
}

/// The synthetic back office (cheap to clone).
#[derive(Debug, Clone)]
pub struct SyntheticBank {
    customers: Arc<Vec<SyntheticCustomer>>,
    /// Credit contracts taken after the bank started (see
    /// [`SyntheticBank::add_contract`]).
    later: Arc<std::sync::RwLock<Vec<(Cpf, SyntheticResource)>>>,
    brand_name: String,
    today: Date,
}

/// A tiny deterministic generator (xorshift64*), so data is the same every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn id(value: &str) -> Option<ResourceId> {
    ResourceId::new(value).ok()
}

fn money(cents: i64) -> AmountWithCurrency {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    AmountWithCurrency {
        amount: format!("{sign}{}.{:02}", abs / 100, abs % 100),
        currency: Currency::BRL,
    }
}

fn account(
    seed: u64,
    resource: &str,
    kind: AccountType,
    number: &str,
    today: Date,
    counterpart: &str,
) -> Option<SyntheticResource> {
    let mut rng = Seeded(seed);
    let mut transactions = Vec::new();
    let names = [
        (
            TransactionType::Pix,
            "PIX RECEBIDO",
            CreditDebitType::Credito,
        ),
        (TransactionType::Pix, "PIX ENVIADO", CreditDebitType::Debito),
        (
            TransactionType::Boleto,
            "PAGAMENTO DE BOLETO",
            CreditDebitType::Debito,
        ),
        (
            TransactionType::Ted,
            "TED RECEBIDA",
            CreditDebitType::Credito,
        ),
        (
            TransactionType::Cartao,
            "COMPRA CARTAO DEBITO",
            CreditDebitType::Debito,
        ),
        (
            TransactionType::FolhaPagamento,
            "SALARIO",
            CreditDebitType::Credito,
        ),
        (
            TransactionType::TarifaServicosAvulsos,
            "TARIFA",
            CreditDebitType::Debito,
        ),
    ];
    for n in 0..210u64 {
        // About one transaction every two days, from D-400 to D+10.
        let offset = -400 + i64::try_from(n * 2 - rng.below(2).min(n * 2)).unwrap_or(0);
        let (Some(date), Some(transaction_id)) =
            (today.add_days(offset), id(&format!("tx-{resource}-{n:04}")))
        else {
            continue;
        };
        let (kind, name, direction) = names[usize::try_from(rng.below(7)).unwrap_or(0)];
        let cents = i64::try_from(rng.below(250_000) + 100).unwrap_or(100);
        let future = offset > 0;
        let pix = kind == TransactionType::Pix;
        transactions.push((
            date,
            AccountTransaction {
                transaction_id,
                completed_authorised_payment_type: if future {
                    CompletedAuthorisedPaymentType::LancamentoFuturo
                } else {
                    CompletedAuthorisedPaymentType::TransacaoEfetivada
                },
                credit_debit_type: direction,
                transaction_name: name.to_owned(),
                transaction_type: kind,
                transaction_amount: money(cents),
                transaction_date_time: format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
                    date.year(),
                    date.month(),
                    date.day(),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60)
                ),
                partie_cnpj_cpf: pix.then(|| counterpart.to_owned()),
                partie_person_type: pix.then_some(PartiePersonType::PessoaNatural),
                partie_compe_code: pix.then(|| "341".to_owned()),
                partie_branch_code: pix.then(|| "0001".to_owned()),
                partie_number: pix.then(|| "12345678".to_owned()),
                partie_check_digit: pix.then(|| "9".to_owned()),
            },
        ));
    }
    transactions.sort_by(|a, b| a.1.transaction_date_time.cmp(&b.1.transaction_date_time));
    Some(SyntheticResource {
        id: id(resource)?,
        kind: ResourceType::Account,
        status: ResourceStatus::Available,
        account: Some(SyntheticAccount {
            kind,
            number: number.to_owned(),
            check_digit: (seed % 10).to_string(),
            available_cents: i64::try_from(rng.below(1_000_000)).unwrap_or(0) + 10_000,
            transactions,
        }),
    })
}

fn other(resource: &str, kind: ResourceType) -> Option<SyntheticResource> {
    Some(SyntheticResource {
        id: id(resource)?,
        kind,
        status: ResourceStatus::Available,
        account: None,
    })
}

impl SyntheticBank {
    /// The bank as of `today` (the customers' transactions are dated around it).
    pub fn new(today: Date) -> Self {
        let parse_cpf = |c: &str| Cpf::parse(c).ok();
        let mut customers = Vec::new();
        if let (Some(maria), Some(joao), Some(padaria)) = (
            parse_cpf(MARIA_CPF),
            parse_cpf(JOAO_CPF),
            Cnpj::parse(PADARIA_CNPJ).ok(),
        ) {
            customers.push(SyntheticCustomer {
                cpf: maria.clone(),
                business: None,
                name: "Maria Oliveira".to_owned(),
                resources: vec![
                    account(
                        11,
                        "acc-maria-corrente",
                        AccountType::ContaDepositoAVista,
                        "94088392",
                        today,
                        JOAO_CPF,
                    ),
                    account(
                        12,
                        "acc-maria-poupanca",
                        AccountType::ContaPoupanca,
                        "94088393",
                        today,
                        JOAO_CPF,
                    ),
                    other("card-maria-visa", ResourceType::CreditCardAccount),
                    other("card-maria-master", ResourceType::CreditCardAccount),
                    other("loan-maria-pessoal", ResourceType::Loan),
                    other("loan-maria-consignado", ResourceType::Loan),
                    other("fin-maria-imobiliario", ResourceType::Financing),
                    other(
                        "ovd-maria-cheque-especial",
                        ResourceType::UnarrangedAccountOverdraft,
                    ),
                ]
                .into_iter()
                .flatten()
                .collect(),
            });
            let closed = account(
                22,
                "acc-joao-encerrada",
                AccountType::ContaDepositoAVista,
                "10203041",
                today,
                MARIA_CPF,
            )
            .map(|mut closed| {
                closed.status = ResourceStatus::Unavailable;
                closed
            });
            customers.push(SyntheticCustomer {
                cpf: joao,
                business: None,
                name: "João Souza".to_owned(),
                resources: vec![
                    account(
                        21,
                        "acc-joao-corrente",
                        AccountType::ContaDepositoAVista,
                        "10203040",
                        today,
                        MARIA_CPF,
                    ),
                    account(
                        23,
                        "acc-joao-poupanca",
                        AccountType::ContaPoupanca,
                        "10203042",
                        today,
                        MARIA_CPF,
                    ),
                    closed,
                    // Blocked for a while (fraud hold).
                    other("card-joao-elo", ResourceType::CreditCardAccount).map(|mut card| {
                        card.status = ResourceStatus::TemporarilyUnavailable;
                        card
                    }),
                    other("loan-joao-veiculo", ResourceType::Loan),
                ]
                .into_iter()
                .flatten()
                .collect(),
            });
            customers.push(SyntheticCustomer {
                cpf: maria,
                business: Some(padaria),
                name: "Padaria Azul Ltda".to_owned(),
                resources: [
                    account(
                        31,
                        "acc-padaria-corrente",
                        AccountType::ContaDepositoAVista,
                        "55667788",
                        today,
                        JOAO_CPF,
                    ),
                    account(
                        32,
                        "acc-padaria-pagamentos",
                        AccountType::ContaPagamentoPrePaga,
                        "55667789",
                        today,
                        MARIA_CPF,
                    ),
                    // Needs a second partner's approval.
                    account(
                        33,
                        "acc-padaria-conjunta",
                        AccountType::ContaDepositoAVista,
                        "55667790",
                        today,
                        JOAO_CPF,
                    )
                    .map(|mut joint| {
                        joint.status = ResourceStatus::PendingAuthorisation;
                        joint
                    }),
                    other("card-padaria-empresarial", ResourceType::CreditCardAccount),
                    other("loan-padaria-capital-de-giro", ResourceType::Loan),
                    other("inv-padaria-duplicatas", ResourceType::InvoiceFinancing),
                ]
                .into_iter()
                .flatten()
                .collect(),
            });
        }
        Self {
            customers: Arc::new(customers),
            later: Arc::default(),
            brand_name: "Banco Azul".to_owned(),
            today,
        }
    }

    /// The three customers above, and one generated customer for each of
    /// `more` (a checking and a savings account, a credit card, and a
    /// personal loan for about half of them), their data drawn from `seed`: two banks built
    /// with other seeds hold other accounts of the same people.
    pub fn with_customers(today: Date, more: &[Cpf], seed: u64) -> Self {
        let mut bank = Self::new(today);
        let mut customers = (*bank.customers).clone();
        for (n, cpf) in more.iter().enumerate() {
            if customers.iter().any(|c| &c.cpf == cpf) {
                continue;
            }
            let base = seed
                .wrapping_mul(1_000)
                .wrapping_add(u64::try_from(n).unwrap_or(0) * 10);
            let tag = format!("{}-{}", cpf.as_str(), seed);
            let mut resources: Vec<SyntheticResource> = [
                account(
                    base + 1,
                    &format!("acc-{tag}-corrente"),
                    AccountType::ContaDepositoAVista,
                    &format!("{:08}", base % 100_000_000 + 10_000_000),
                    today,
                    MARIA_CPF,
                ),
                account(
                    base + 2,
                    &format!("acc-{tag}-poupanca"),
                    AccountType::ContaPoupanca,
                    &format!("{:08}", (base + 1) % 100_000_000 + 10_000_000),
                    today,
                    JOAO_CPF,
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            resources.extend(other(
                &format!("card-{tag}-visa"),
                ResourceType::CreditCardAccount,
            ));
            if (base / 10 + seed).is_multiple_of(2) {
                resources.extend(other(&format!("loan-{tag}-pessoal"), ResourceType::Loan));
            }
            customers.push(SyntheticCustomer {
                cpf: cpf.clone(),
                business: None,
                name: format!("Cliente {}", n + 1),
                resources,
            });
        }
        bank.customers = Arc::new(customers);
        bank
    }

    /// A valid CPF built from `n` (check digits computed): distinct `n`
    /// give distinct CPFs, for generated customers.
    pub fn generated_cpf(n: u32) -> Option<Cpf> {
        let base = format!("{:09}", 100_000_000 + n % 800_000_000);
        let digits: Vec<u32> = base.bytes().map(|b| u32::from(b - b'0')).collect();
        let check = |values: &[u32], top: u32| {
            let sum: u32 = values.iter().zip((2..=top).rev()).map(|(v, w)| v * w).sum();
            let rest = sum % 11;
            if rest < 2 { 0 } else { 11 - rest }
        };
        let first = check(&digits, 10);
        let mut with_first = digits;
        with_first.push(first);
        let second = check(&with_first, 11);
        Cpf::parse(&format!("{base}{first}{second}")).ok()
    }

    /// The customer takes a new credit contract `id` of `kind` (a loan, a
    /// financing…). Consents share the resources they were authorised
    /// with, so it is shared by the consents the customer authorises from
    /// now on (the consent screen offers it), not by those already in force.
    pub fn add_contract(&self, customer: &Cpf, kind: ResourceType, id: &str) {
        if let Some(resource) = other(id, kind) {
            self.later
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .push((customer.clone(), resource));
        }
    }

    /// The customer's accounts (id, number) and their transactions as the
    /// accounts API serves them, oldest first, for tests that compare a
    /// receiver's copy with the source.
    pub fn account_transactions(
        &self,
        customer: &Cpf,
    ) -> Vec<(ResourceId, Vec<(Date, AccountTransaction)>)> {
        self.customer(customer, None)
            .map(|c| {
                c.resources
                    .iter()
                    .filter(|r| r.status == ResourceStatus::Available)
                    .filter_map(|r| {
                        r.account
                            .as_ref()
                            .map(|a| (r.id.clone(), a.transactions.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The ids of the customer's resources of `kind` (accounts, cards,
    /// contracts), the contracts taken later included.
    pub fn resource_ids_of(&self, customer: &Cpf, kind: ResourceType) -> Vec<ResourceId> {
        let mut ids: Vec<ResourceId> = self
            .customer(customer, None)
            .map(|c| {
                c.resources
                    .iter()
                    .filter(|r| r.kind == kind)
                    .map(|r| r.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        ids.extend(
            self.later
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|(cpf, r)| cpf == customer && r.kind == kind)
                .map(|(_, r)| r.id.clone()),
        );
        ids
    }

    /// Every resource id of the customer `cpf` (acting for `business` when
    /// given), of every status: what a consent screen would offer.
    pub fn resource_ids(&self, cpf: &Cpf, business: Option<&Cnpj>) -> Vec<ResourceId> {
        let mut ids: Vec<ResourceId> = self
            .customer(cpf, business)
            .map(|c| c.resources.iter().map(|r| r.id.clone()).collect())
            .unwrap_or_default();
        ids.extend(self.later_of(cpf, business).into_iter().map(|r| r.id));
        ids
    }

    fn customer(&self, cpf: &Cpf, business: Option<&Cnpj>) -> Option<&SyntheticCustomer> {
        self.customers
            .iter()
            .find(|c| &c.cpf == cpf && c.business.as_ref() == business)
    }

    fn of(&self, ctx: &DataRequestContext) -> Result<&SyntheticCustomer, ConnectorError> {
        self.customer(&ctx.customer, ctx.business_entity.as_ref())
            .ok_or(ConnectorError::NotFound)
    }

    /// The account `id` of the caller's customer, shared under the consent;
    /// an unavailable one answers [`ConnectorError::ResourceUnavailable`].
    fn account(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
    ) -> Result<(&SyntheticResource, &SyntheticAccount), ConnectorError> {
        let customer = self.of(ctx)?;
        let resource = customer
            .resources
            .iter()
            .find(|r| &r.id == id && ctx.resources.contains(&r.id))
            .ok_or(ConnectorError::NotFound)?;
        let account = resource.account.as_ref().ok_or(ConnectorError::NotFound)?;
        status_error(resource.status)?;
        Ok((resource, account))
    }
}

/// The connector's answer for a shared resource that is not available.
fn status_error(status: ResourceStatus) -> Result<(), ConnectorError> {
    match status {
        ResourceStatus::Available => Ok(()),
        ResourceStatus::TemporarilyUnavailable => {
            Err(ConnectorError::ResourceTemporarilyUnavailable)
        }
        ResourceStatus::PendingAuthorisation => Err(ConnectorError::ResourceAwaitingAuthorisation),
        _ => Err(ConnectorError::ResourceUnavailable),
    }
}

fn page_of<T: Clone>(all: &[T], window: Window) -> Page<T> {
    let start = usize::try_from(window.offset).unwrap_or(usize::MAX);
    Page {
        items: all
            .iter()
            .skip(start)
            .take(window.limit as usize)
            .cloned()
            .collect(),
        total_records: all.len() as u64,
    }
}

#[async_trait]
impl ResourcesConnector for SyntheticBank {
    async fn resources(&self, ctx: &DataRequestContext) -> Result<Vec<Resource>, ConnectorError> {
        let later = self.later_of(&ctx.customer, ctx.business_entity.as_ref());
        Ok(self
            .of(ctx)?
            .resources
            .iter()
            .chain(later.iter())
            .filter(|r| ctx.resources.contains(&r.id))
            .map(|r| Resource {
                resource_id: r.id.clone(),
                resource_type: r.kind,
                status: r.status,
            })
            .collect())
    }
}

#[async_trait]
impl AccountsConnector for SyntheticBank {
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        account_type: Option<AccountType>,
        window: Window,
    ) -> Result<Page<Account>, ConnectorError> {
        let all: Vec<Account> = self
            .of(ctx)?
            .resources
            .iter()
            .filter(|r| ctx.resources.contains(&r.id) && r.status == ResourceStatus::Available)
            .filter_map(|r| r.account.as_ref().map(|a| (r, a)))
            .filter(|(_, a)| account_type.is_none_or(|t| t == a.kind))
            .map(|(r, a)| Account {
                brand_name: self.brand_name.clone(),
                company_cnpj: BANK_CNPJ.to_owned(),
                account_type: a.kind,
                compe_code: "001".to_owned(),
                branch_code: Some("0001".to_owned()),
                number: a.number.clone(),
                check_digit: a.check_digit.clone(),
                account_id: r.id.clone(),
            })
            .collect();
        Ok(page_of(&all, window))
    }

    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountIdentification, ConnectorError> {
        let (_, a) = self.account(ctx, account_id)?;
        Ok(AccountIdentification {
            compe_code: "001".to_owned(),
            branch_code: Some("0001".to_owned()),
            number: a.number.clone(),
            check_digit: a.check_digit.clone(),
            account_type: a.kind,
            subtype: AccountSubType::Individual,
            currency: Currency::BRL,
        })
    }

    async fn balances(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountBalances, ConnectorError> {
        let (_, a) = self.account(ctx, account_id)?;
        Ok(AccountBalances {
            available_amount: money(a.available_cents),
            blocked_amount: money(0),
            automatically_invested_amount: money(a.available_cents / 10),
            update_date_time: Timestamp::parse("2024-01-02T10:00:00Z")
                .map_err(|e| ConnectorError::Backend(Box::new(e)))?,
        })
    }

    async fn overdraft_limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountOverdraftLimits, ConnectorError> {
        let (_, a) = self.account(ctx, account_id)?;
        let checking = a.kind == AccountType::ContaDepositoAVista;
        Ok(AccountOverdraftLimits {
            overdraft_contracted_limit: checking.then(|| money(200_000)),
            overdraft_used_limit: checking.then(|| money(0)),
            unarranged_overdraft_amount: None,
        })
    }

    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &TransactionQuery,
        window: Window,
    ) -> Result<Page<AccountTransaction>, ConnectorError> {
        let (_, a) = self.account(ctx, account_id)?;
        let matching: Vec<AccountTransaction> = a
            .transactions
            .iter()
            .filter(|(date, t)| {
                query.from.days_until(*date) >= 0
                    && date.days_until(query.to) >= 0
                    && query.credit_debit.is_none_or(|d| d == t.credit_debit_type)
            })
            .map(|(_, t)| t.clone())
            .collect();
        Ok(page_of(&matching, window))
    }
}

fn fixture<T: DeserializeOwned>(text: &str, patch: Value) -> Result<T, ConnectorError> {
    let mut value: Value =
        serde_json::from_str(text).map_err(|e| ConnectorError::Backend(Box::new(e)))?;
    if let (Some(target), Value::Object(changes)) = (value.as_object_mut(), patch) {
        for (k, v) in changes {
            target.insert(k, v);
        }
    }
    serde_json::from_value(value).map_err(|e| ConnectorError::Backend(Box::new(e)))
}

const PERSONAL_IDENTIFICATION: &str =
    include_str!("../fixtures/customers/PersonalIdentificationData.json");
const PERSONAL_QUALIFICATION: &str =
    include_str!("../fixtures/customers/PersonalQualificationData.json");
const PERSONAL_RELATIONS: &str =
    include_str!("../fixtures/customers/PersonalFinancialRelationData.json");
const BUSINESS_IDENTIFICATION: &str =
    include_str!("../fixtures/customers/BusinessIdentificationData.json");
const BUSINESS_QUALIFICATION: &str =
    include_str!("../fixtures/customers/BusinessQualificationData.json");
const BUSINESS_RELATIONS: &str =
    include_str!("../fixtures/customers/BusinessFinancialRelationData.json");

impl SyntheticBank {
    fn personal(&self, ctx: &DataRequestContext) -> Result<&SyntheticCustomer, ConnectorError> {
        let customer = self.of(ctx)?;
        if customer.business.is_some() {
            return Err(ConnectorError::NotFound);
        }
        Ok(customer)
    }

    fn business(&self, ctx: &DataRequestContext) -> Result<&SyntheticCustomer, ConnectorError> {
        let customer = self.of(ctx)?;
        if customer.business.is_none() {
            return Err(ConnectorError::NotFound);
        }
        Ok(customer)
    }
}

#[async_trait]
impl CustomersConnector for SyntheticBank {
    async fn personal_identifications(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<PersonalIdentificationData>, ConnectorError> {
        let c = self.personal(ctx)?;
        let record = fixture(
            PERSONAL_IDENTIFICATION,
            json!({
                "personalId": format!("pid-{}", c.cpf.as_str()),
                "brandName": self.brand_name,
                "civilName": c.name,
                "companiesCnpj": [BANK_CNPJ],
                "documents": {"cpfNumber": c.cpf.as_str()},
                "hasBrazilianNationality": true,
            }),
        )?;
        Ok(page_of(&[record], window))
    }

    async fn personal_qualifications(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<PersonalQualificationData, ConnectorError> {
        self.personal(ctx)?;
        fixture(PERSONAL_QUALIFICATION, json!({"companyCnpj": BANK_CNPJ}))
    }

    async fn personal_financial_relations(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<PersonalFinancialRelationData, ConnectorError> {
        self.personal(ctx)?;
        fixture(PERSONAL_RELATIONS, json!({}))
    }

    async fn business_identifications(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<BusinessIdentificationData>, ConnectorError> {
        let c = self.business(ctx)?;
        let cnpj = c.business.as_ref().map(|b| b.as_str().to_owned());
        let record = fixture(
            BUSINESS_IDENTIFICATION,
            json!({
                "businessId": format!("bid-{}", cnpj.clone().unwrap_or_default()),
                "brandName": self.brand_name,
                "companyName": c.name,
                "tradeName": c.name,
                "cnpjNumber": cnpj,
                "companiesCnpj": [BANK_CNPJ],
            }),
        )?;
        Ok(page_of(&[record], window))
    }

    async fn business_qualifications(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<BusinessQualificationData, ConnectorError> {
        self.business(ctx)?;
        fixture(BUSINESS_QUALIFICATION, json!({}))
    }

    async fn business_financial_relations(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<BusinessFinancialRelationData, ConnectorError> {
        self.business(ctx)?;
        fixture(BUSINESS_RELATIONS, json!({}))
    }
}

// ---------------------------------------------------------------- spy

const CARD_ACCOUNT: &str = include_str!("../fixtures/credit-cards/CreditCardAccountsData.json");
const CARD_IDENTIFICATION: &str =
    include_str!("../fixtures/credit-cards/CreditCardsAccountsIdentificationData.json");
const CARD_LIMITS: &str =
    include_str!("../fixtures/credit-cards/CreditCardAccountsLimitsData.json");
const CARD_BILL: &str = include_str!("../fixtures/credit-cards/CreditCardAccountsBillsData.json");
const CARD_BILL_TRANSACTION: &str =
    include_str!("../fixtures/credit-cards/CreditCardAccountsBillsTransactions.json");
const CARD_TRANSACTION: &str =
    include_str!("../fixtures/credit-cards/CreditCardAccountsTransaction.json");

/// Monthly bills of a card: twelve, the latest due ten days from today.
const BILLS: i64 = 12;
/// Card transactions: one every five days over the last 400.
const CARD_TRANSACTIONS: i64 = 80;

impl SyntheticBank {
    /// The resource `id` of `kind` of the caller's customer, shared under
    /// the consent and available.
    fn shared(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
        kind: ResourceType,
    ) -> Result<(), ConnectorError> {
        let later = self.later_of(&ctx.customer, ctx.business_entity.as_ref());
        let resource = self
            .of(ctx)?
            .resources
            .iter()
            .chain(later.iter())
            .find(|r| &r.id == id && r.kind == kind && ctx.resources.contains(&r.id))
            .ok_or(ConnectorError::NotFound)?;
        status_error(resource.status)
    }

    /// The contracts `customer` took after the bank started.
    fn later_of(&self, customer: &Cpf, business: Option<&Cnpj>) -> Vec<SyntheticResource> {
        if business.is_some() {
            return Vec::new();
        }
        self.later
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(cpf, _)| cpf == customer)
            .map(|(_, r)| r.clone())
            .collect()
    }

    fn listed(
        &self,
        ctx: &DataRequestContext,
        kind: ResourceType,
    ) -> Result<Vec<SyntheticResource>, ConnectorError> {
        let later = self.later_of(&ctx.customer, ctx.business_entity.as_ref());
        Ok(self
            .of(ctx)?
            .resources
            .iter()
            .chain(later.iter())
            .filter(|r| {
                r.kind == kind
                    && ctx.resources.contains(&r.id)
                    && r.status == ResourceStatus::Available
            })
            .cloned()
            .collect())
    }

    /// Today, as the bank sees it (the anchor of the generated dates).
    fn today(&self) -> Date {
        self.today
    }
}

fn iso(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

#[async_trait]
impl CreditCardsConnector for SyntheticBank {
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<CreditCardAccountsData>, ConnectorError> {
        let all = self
            .listed(ctx, ResourceType::CreditCardAccount)?
            .into_iter()
            .map(|r| {
                fixture(
                    CARD_ACCOUNT,
                    json!({"creditCardAccountId": r.id, "brandName": self.brand_name, "companyCnpj": BANK_CNPJ, "name": "Cartão Azul Visa"}),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(&all, window))
    }

    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<CreditCardsAccountsIdentificationData, ConnectorError> {
        self.shared(ctx, account_id, ResourceType::CreditCardAccount)?;
        fixture(CARD_IDENTIFICATION, json!({"name": "Cartão Azul Visa"}))
    }

    async fn bills(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        due_between: Option<(Date, Date)>,
        window: Window,
    ) -> Result<Page<CreditCardAccountsBillsData>, ConnectorError> {
        self.shared(ctx, account_id, ResourceType::CreditCardAccount)?;
        let mut all = Vec::new();
        for n in 0..BILLS {
            let Some(due) = self.today().add_days(10 - 30 * n) else {
                continue;
            };
            if due_between
                .is_some_and(|(from, to)| from.days_until(due) < 0 || due.days_until(to) < 0)
            {
                continue;
            }
            all.push(fixture(
                CARD_BILL,
                json!({"billId": format!("bill-{account_id}-{n}"), "dueDate": iso(due)}),
            )?);
        }
        Ok(page_of(&all, window))
    }

    async fn bill_transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        bill_id: &ResourceId,
        query: &CardTransactionQuery,
        window: Window,
    ) -> Result<Page<CreditCardAccountsBillsTransactions>, ConnectorError> {
        self.shared(ctx, account_id, ResourceType::CreditCardAccount)?;
        let n: i64 = bill_id
            .as_str()
            .strip_prefix(&format!("bill-{account_id}-"))
            .and_then(|n| n.parse().ok())
            .filter(|n| (0..BILLS).contains(n))
            .ok_or(ConnectorError::NotFound)?;
        let mut all = Vec::new();
        for k in 0..5 {
            let Some(date) = self.today().add_days(-20 - 30 * n - k) else {
                continue;
            };
            if query.from.days_until(date) < 0 || date.days_until(query.to) < 0 {
                continue;
            }
            all.push(fixture(
                CARD_BILL_TRANSACTION,
                json!({
                    "transactionId": format!("ctx-{bill_id}-{k}"),
                    "billId": bill_id,
                    "transactionDateTime": format!("{}T12:00:00.000Z", iso(date)),
                    "billPostDate": iso(date),
                }),
            )?);
        }
        Ok(page_of(&all, window))
    }

    async fn limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<Vec<CreditCardAccountsLimitsData>, ConnectorError> {
        self.shared(ctx, account_id, ResourceType::CreditCardAccount)?;
        Ok(vec![fixture(CARD_LIMITS, json!({}))?])
    }

    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &CardTransactionQuery,
        window: Window,
    ) -> Result<Page<CreditCardAccountsTransaction>, ConnectorError> {
        self.shared(ctx, account_id, ResourceType::CreditCardAccount)?;
        let mut all = Vec::new();
        for k in 0..CARD_TRANSACTIONS {
            let Some(date) = self.today().add_days(-5 * k) else {
                continue;
            };
            if query.from.days_until(date) < 0 || date.days_until(query.to) < 0 {
                continue;
            }
            let record: CreditCardAccountsTransaction = fixture(
                CARD_TRANSACTION,
                json!({
                    "transactionId": format!("ctx-{account_id}-{k}"),
                    "billId": format!("bill-{account_id}-{}", (k * 5 + 20) / 30),
                    "transactionDateTime": format!("{}T12:00:00.000Z", iso(date)),
                    "billPostDate": iso(date),
                }),
            )?;
            if query
                .transaction_type
                .is_some_and(|t| t != record.transaction_type)
            {
                continue;
            }
            all.push(record);
        }
        Ok(page_of(&all, window))
    }
}

/// The synthetic contracts of one credit product: its fixtures and the
/// resource type of its contracts.
macro_rules! synthetic_credit {
    ($product:ty, $kind:expr, $dir:literal, $summary:literal, $contract:literal, $warranty:literal, $instalments:literal, $payments:literal) => {
        #[async_trait]
        impl CreditOperationsConnector<$product> for SyntheticBank {
            async fn contracts(
                &self,
                ctx: &DataRequestContext,
                window: Window,
            ) -> Result<Page<<$product as CreditProduct>::ContractSummary>, ConnectorError> {
                let all = self
                    .listed(ctx, $kind)?
                    .into_iter()
                    .map(|r| {
                        fixture(
                            include_str!(concat!("../fixtures/", $dir, "/", $summary, ".json")),
                            json!({"contractId": r.id, "brandName": self.brand_name, "companyCnpj": BANK_CNPJ}),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(page_of(&all, window))
            }

            async fn contract(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
            ) -> Result<<$product as CreditProduct>::Contract, ConnectorError> {
                self.shared(ctx, contract_id, $kind)?;
                fixture(
                    include_str!(concat!("../fixtures/", $dir, "/", $contract, ".json")),
                    json!({}),
                )
            }

            async fn warranties(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
                window: Window,
            ) -> Result<Page<<$product as CreditProduct>::Warranty>, ConnectorError> {
                self.shared(ctx, contract_id, $kind)?;
                let warranty: <$product as CreditProduct>::Warranty = fixture(
                    include_str!(concat!("../fixtures/", $dir, "/", $warranty, ".json")),
                    json!({}),
                )?;
                Ok(page_of(&[warranty], window))
            }

            async fn scheduled_instalments(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
            ) -> Result<<$product as CreditProduct>::Instalments, ConnectorError> {
                self.shared(ctx, contract_id, $kind)?;
                fixture(
                    include_str!(concat!("../fixtures/", $dir, "/", $instalments, ".json")),
                    json!({}),
                )
            }

            async fn payments(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
            ) -> Result<<$product as CreditProduct>::Payments, ConnectorError> {
                self.shared(ctx, contract_id, $kind)?;
                fixture(
                    include_str!(concat!("../fixtures/", $dir, "/", $payments, ".json")),
                    json!({}),
                )
            }
        }

        #[async_trait]
        impl<T: CreditOperationsConnector<$product>> CreditOperationsConnector<$product>
            for ConnectorSpy<T>
        {
            async fn contracts(
                &self,
                ctx: &DataRequestContext,
                window: Window,
            ) -> Result<Page<<$product as CreditProduct>::ContractSummary>, ConnectorError> {
                self.record(concat!($dir, ".contracts"), None);
                self.inner.contracts(ctx, window).await
            }

            async fn contract(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
            ) -> Result<<$product as CreditProduct>::Contract, ConnectorError> {
                self.record(concat!($dir, ".contract"), Some(contract_id));
                self.inner.contract(ctx, contract_id).await
            }

            async fn warranties(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
                window: Window,
            ) -> Result<Page<<$product as CreditProduct>::Warranty>, ConnectorError> {
                self.record(concat!($dir, ".warranties"), Some(contract_id));
                self.inner.warranties(ctx, contract_id, window).await
            }

            async fn scheduled_instalments(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
            ) -> Result<<$product as CreditProduct>::Instalments, ConnectorError> {
                self.record(concat!($dir, ".scheduled_instalments"), Some(contract_id));
                self.inner.scheduled_instalments(ctx, contract_id).await
            }

            async fn payments(
                &self,
                ctx: &DataRequestContext,
                contract_id: &ResourceId,
            ) -> Result<<$product as CreditProduct>::Payments, ConnectorError> {
                self.record(concat!($dir, ".payments"), Some(contract_id));
                self.inner.payments(ctx, contract_id).await
            }
        }
    };
}

synthetic_credit!(
    Loans,
    ResourceType::Loan,
    "loans",
    "LoansListContract",
    "LoansContract",
    "LoansWarranties",
    "LoansInstalments",
    "LoansPayments"
);
synthetic_credit!(
    Financings,
    ResourceType::Financing,
    "financings",
    "FinancingsListContract",
    "FinancingsContract",
    "FinancingsWarranties",
    "FinancingsInstalments",
    "FinancingsPayments"
);
synthetic_credit!(
    InvoiceFinancings,
    ResourceType::InvoiceFinancing,
    "invoice-financings",
    "InvoiceFinancingsContractData",
    "InvoiceFinancingsContract",
    "InvoiceFinancingsContractedWarranty",
    "InvoiceFinancingsInstalments",
    "InvoiceFinancingsPayments"
);
synthetic_credit!(
    UnarrangedAccountsOverdraft,
    ResourceType::UnarrangedAccountOverdraft,
    "unarranged-accounts-overdraft",
    "UnarrangedAccountOverdraftContractListData",
    "UnarrangedAccountOverdraftContractData",
    "UnarrangedAccountsOverdraftContractedWarranty",
    "UnarrangedAccountOverdraftInstalmentsData",
    "UnarrangedAccountOverdraftPaymentsData"
);

#[async_trait]
impl DebtorAccounts for SyntheticBank {
    async fn debtor_account(
        &self,
        _brand: &opus_core::BrandId,
        customer: &Cpf,
        business: Option<&Cnpj>,
        account: &ResourceId,
    ) -> Result<Option<PaymentAccount>, ConnectorError> {
        let Some(found) = self.customer(customer, business) else {
            return Ok(None);
        };
        let Some(details) = found
            .resources
            .iter()
            .find(|r| &r.id == account && r.status == ResourceStatus::Available)
            .and_then(|r| r.account.as_ref())
        else {
            return Ok(None);
        };
        Ok(Some(PaymentAccount {
            ispb: Ispb::parse(BANK_ISPB).map_err(|e| ConnectorError::Backend(Box::new(e)))?,
            issuer: Some("0001".to_owned()),
            number: details.number.clone(),
            account_type: match details.kind {
                AccountType::ContaPoupanca => PaymentAccountType::Svgs,
                AccountType::ContaPagamentoPrePaga => PaymentAccountType::Tran,
                _ => PaymentAccountType::Cacc,
            },
        }))
    }
}

/// A simulated Pix settlement system (SPI) behind the `PixConnector` port:
/// immediate payments settle (`ACSC`) unless the test says otherwise;
/// every order is recorded.
#[derive(Debug, Default)]
pub struct SimulatedSpi {
    orders: Mutex<Vec<PixPaymentOrder>>,
    behaviour: Mutex<SpiBehaviour>,
}

/// What the simulated SPI does with the next orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpiBehaviour {
    /// Settle at once (`ACSC`).
    #[default]
    Settle,
    /// Accept and leave pending (`ACPD`).
    Pending,
    /// Reject with this code.
    Reject(PixRejectionCode),
    /// Be unreachable (the holder's back office times out).
    Outage,
}

impl SimulatedSpi {
    /// An SPI that settles everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Changes what the SPI does from now on.
    pub fn set(&self, behaviour: SpiBehaviour) {
        *self.behaviour.lock().unwrap_or_else(|e| e.into_inner()) = behaviour;
    }

    /// The orders received so far.
    pub fn orders(&self) -> Vec<PixPaymentOrder> {
        self.orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl PixConnector for SimulatedSpi {
    async fn submit(&self, order: &PixPaymentOrder) -> Result<PixOutcome, ConnectorError> {
        let behaviour = self
            .behaviour
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if behaviour == SpiBehaviour::Outage {
            return Err(ConnectorError::Timeout);
        }
        self.orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(order.clone());
        if order.scheduled_for.is_some() {
            return Ok(PixOutcome::Status(opus_core::payment::PaymentStatus::Schd));
        }
        Ok(match behaviour {
            SpiBehaviour::Pending => PixOutcome::Status(opus_core::payment::PaymentStatus::Acpd),
            SpiBehaviour::Reject(code) => PixOutcome::Rejected {
                code,
                detail: "Pagamento recusado pelo SPI simulado.".to_owned(),
            },
            _ => PixOutcome::Status(opus_core::payment::PaymentStatus::Acsc),
        })
    }

    /// Where an order stands by the SPI's behaviour now: an order it never
    /// received is unknown; once it settles (or rejects), so do the
    /// pending ones.
    async fn status(
        &self,
        _brand: &opus_core::BrandId,
        payment_id: &opus_core::PaymentId,
    ) -> Result<PixOutcome, ConnectorError> {
        let behaviour = self
            .behaviour
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if behaviour == SpiBehaviour::Outage {
            return Err(ConnectorError::Timeout);
        }
        let known = self
            .orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|o| &o.payment_id == payment_id);
        if !known {
            return Err(ConnectorError::NotFound);
        }
        Ok(match behaviour {
            SpiBehaviour::Pending => PixOutcome::Status(opus_core::payment::PaymentStatus::Acpd),
            SpiBehaviour::Reject(code) => PixOutcome::Rejected {
                code,
                detail: "Pagamento recusado pelo SPI simulado.".to_owned(),
            },
            _ => PixOutcome::Status(opus_core::payment::PaymentStatus::Acsc),
        })
    }

    async fn cancel(
        &self,
        _brand: &opus_core::BrandId,
        _payment_id: &opus_core::PaymentId,
    ) -> Result<bool, ConnectorError> {
        Ok(true)
    }
}

#[async_trait]
impl CustomerResources for SyntheticBank {
    async fn selectable(
        &self,
        query: &ResourceQuery,
    ) -> Result<Vec<SelectableResource>, InteractionError> {
        let customer = &query.customer;
        let Some(found) = self.customer(&customer.subject, customer.business_entity.as_ref())
        else {
            return Ok(Vec::new());
        };
        let later = self.later_of(&customer.subject, customer.business_entity.as_ref());
        Ok(found
            .resources
            .iter()
            .chain(later.iter())
            .filter(|r| query.resource_types.contains(&r.kind))
            .map(|r| SelectableResource {
                resource_id: r.id.clone(),
                resource_type: r.kind,
                label: match &r.account {
                    Some(a) => format!(
                        "{} ••{}",
                        if a.kind == AccountType::ContaPoupanca {
                            "Poupança"
                        } else {
                            "Conta corrente"
                        },
                        a.number
                            .chars()
                            .rev()
                            .take(4)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect::<String>()
                    ),
                    None => r.id.to_string(),
                },
            })
            .collect())
    }
}

/// One recorded connector call: the method and the resource it was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorCall {
    /// `accounts.balances`, `customers.personal_identifications`, …
    pub method: &'static str,
    /// The resource id, for single-resource calls.
    pub resource: Option<ResourceId>,
}

/// Wraps connectors and records every call, for tests that must show a
/// connector was (or was not) reached.
#[derive(Debug)]
pub struct ConnectorSpy<T> {
    inner: T,
    calls: Mutex<Vec<ConnectorCall>>,
}

impl<T> ConnectorSpy<T> {
    /// Spies on `inner`.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// The calls so far, oldest first.
    pub fn calls(&self) -> Vec<ConnectorCall> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the calls so far.
    pub fn clear(&self) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn record(&self, method: &'static str, resource: Option<&ResourceId>) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ConnectorCall {
                method,
                resource: resource.cloned(),
            });
    }
}

#[async_trait]
impl<T: ResourcesConnector> ResourcesConnector for ConnectorSpy<T> {
    async fn resources(&self, ctx: &DataRequestContext) -> Result<Vec<Resource>, ConnectorError> {
        self.record("resources.resources", None);
        self.inner.resources(ctx).await
    }
}

#[async_trait]
impl<T: AccountsConnector> AccountsConnector for ConnectorSpy<T> {
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        account_type: Option<AccountType>,
        window: Window,
    ) -> Result<Page<Account>, ConnectorError> {
        self.record("accounts.accounts", None);
        self.inner.accounts(ctx, account_type, window).await
    }

    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountIdentification, ConnectorError> {
        self.record("accounts.account", Some(account_id));
        self.inner.account(ctx, account_id).await
    }

    async fn balances(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountBalances, ConnectorError> {
        self.record("accounts.balances", Some(account_id));
        self.inner.balances(ctx, account_id).await
    }

    async fn overdraft_limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountOverdraftLimits, ConnectorError> {
        self.record("accounts.overdraft_limits", Some(account_id));
        self.inner.overdraft_limits(ctx, account_id).await
    }

    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &TransactionQuery,
        window: Window,
    ) -> Result<Page<AccountTransaction>, ConnectorError> {
        self.record("accounts.transactions", Some(account_id));
        self.inner
            .transactions(ctx, account_id, query, window)
            .await
    }
}

#[async_trait]
impl<T: CustomersConnector> CustomersConnector for ConnectorSpy<T> {
    async fn personal_identifications(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<PersonalIdentificationData>, ConnectorError> {
        self.record("customers.personal_identifications", None);
        self.inner.personal_identifications(ctx, window).await
    }

    async fn personal_qualifications(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<PersonalQualificationData, ConnectorError> {
        self.record("customers.personal_qualifications", None);
        self.inner.personal_qualifications(ctx).await
    }

    async fn personal_financial_relations(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<PersonalFinancialRelationData, ConnectorError> {
        self.record("customers.personal_financial_relations", None);
        self.inner.personal_financial_relations(ctx).await
    }

    async fn business_identifications(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<BusinessIdentificationData>, ConnectorError> {
        self.record("customers.business_identifications", None);
        self.inner.business_identifications(ctx, window).await
    }

    async fn business_qualifications(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<BusinessQualificationData, ConnectorError> {
        self.record("customers.business_qualifications", None);
        self.inner.business_qualifications(ctx).await
    }

    async fn business_financial_relations(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<BusinessFinancialRelationData, ConnectorError> {
        self.record("customers.business_financial_relations", None);
        self.inner.business_financial_relations(ctx).await
    }
}

#[async_trait]
impl<T: CreditCardsConnector> CreditCardsConnector for ConnectorSpy<T> {
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<CreditCardAccountsData>, ConnectorError> {
        self.record("credit_cards.accounts", None);
        self.inner.accounts(ctx, window).await
    }

    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<CreditCardsAccountsIdentificationData, ConnectorError> {
        self.record("credit_cards.account", Some(account_id));
        self.inner.account(ctx, account_id).await
    }

    async fn bills(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        due_between: Option<(Date, Date)>,
        window: Window,
    ) -> Result<Page<CreditCardAccountsBillsData>, ConnectorError> {
        self.record("credit_cards.bills", Some(account_id));
        self.inner.bills(ctx, account_id, due_between, window).await
    }

    async fn bill_transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        bill_id: &ResourceId,
        query: &CardTransactionQuery,
        window: Window,
    ) -> Result<Page<CreditCardAccountsBillsTransactions>, ConnectorError> {
        self.record("credit_cards.bill_transactions", Some(account_id));
        self.inner
            .bill_transactions(ctx, account_id, bill_id, query, window)
            .await
    }

    async fn limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<Vec<CreditCardAccountsLimitsData>, ConnectorError> {
        self.record("credit_cards.limits", Some(account_id));
        self.inner.limits(ctx, account_id).await
    }

    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &CardTransactionQuery,
        window: Window,
    ) -> Result<Page<CreditCardAccountsTransaction>, ConnectorError> {
        self.record("credit_cards.transactions", Some(account_id));
        self.inner
            .transactions(ctx, account_id, query, window)
            .await
    }
}
