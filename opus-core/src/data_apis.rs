//! The customer-data APIs' endpoints as data: each one's method and path
//! template, token scope, consent permission and minimum monthly
//! operational limit (directory-and-limits §6). The transmitter enforces
//! these quotas; the data receiver counts against them locally so it never
//! meets a 423. One table, both sides.

use crate::consent::Permission;

/// One endpoint of a data API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The method and path template, e.g.
    /// `GET /open-banking/accounts/v2/accounts/{accountId}/balances` (the
    /// operational-limit counter and the logs name the endpoint by it).
    pub template: &'static str,
    /// The token scope of the API.
    pub scope: &'static str,
    /// The consent permission the endpoint needs.
    pub permission: Permission,
    /// The minimum monthly quota (directory-and-limits §6); `None` where
    /// operational limits do not apply (resources).
    pub monthly_limit: Option<u64>,
}

impl Endpoint {
    /// The method of the template (`GET`).
    pub fn method(&self) -> &'static str {
        self.template.split_once(' ').map_or("", |(m, _)| m)
    }

    /// The path template (after the method).
    pub fn path(&self) -> &'static str {
        self.template
            .split_once(' ')
            .map_or(self.template, |(_, p)| p)
    }

    /// Matches `path` (no query) against the template: the values of its
    /// `{parameters}` in order, or `None` when it is another endpoint.
    pub fn matches<'a>(&self, path: &'a str) -> Option<Vec<&'a str>> {
        let mut template = self.path().trim_matches('/').split('/');
        let mut actual = path.trim_matches('/').split('/');
        let mut values = Vec::new();
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return Some(values),
                (Some(t), Some(a)) if t.starts_with('{') && t.ends_with('}') => {
                    if a.is_empty() {
                        return None;
                    }
                    values.push(a);
                }
                (Some(t), Some(a)) if t == a => {}
                _ => return None,
            }
        }
    }
}

/// The endpoints served, with their scope, permission and monthly quota.
pub mod endpoints {
    use super::{Endpoint, Permission};

    /// `GET /open-banking/resources/v3/resources` (no operational limit).
    pub const RESOURCES: Endpoint = Endpoint {
        template: "GET /open-banking/resources/v3/resources",
        scope: "resources",
        permission: Permission::ResourcesRead,
        monthly_limit: None,
    };
    /// `GET /open-banking/accounts/v2/accounts` (low: 8 a month).
    pub const ACCOUNTS: Endpoint = Endpoint {
        template: "GET /open-banking/accounts/v2/accounts",
        scope: "accounts",
        permission: Permission::AccountsRead,
        monthly_limit: Some(8),
    };
    /// `GET /open-banking/accounts/v2/accounts/{accountId}` (low: 8).
    pub const ACCOUNT: Endpoint = Endpoint {
        template: "GET /open-banking/accounts/v2/accounts/{accountId}",
        scope: "accounts",
        permission: Permission::AccountsRead,
        monthly_limit: Some(8),
    };
    /// `…/balances` (high, with the 420 floor).
    pub const BALANCES: Endpoint = Endpoint {
        template: "GET /open-banking/accounts/v2/accounts/{accountId}/balances",
        scope: "accounts",
        permission: Permission::AccountsBalancesRead,
        monthly_limit: Some(420),
    };
    /// `…/transactions` (low: 8).
    pub const TRANSACTIONS: Endpoint = Endpoint {
        template: "GET /open-banking/accounts/v2/accounts/{accountId}/transactions",
        scope: "accounts",
        permission: Permission::AccountsTransactionsRead,
        monthly_limit: Some(8),
    };
    /// `…/transactions-current` (high: 240).
    pub const TRANSACTIONS_CURRENT: Endpoint = Endpoint {
        template: "GET /open-banking/accounts/v2/accounts/{accountId}/transactions-current",
        scope: "accounts",
        permission: Permission::AccountsTransactionsRead,
        monthly_limit: Some(240),
    };
    /// `…/overdraft-limits` (high, with the 420 floor).
    pub const OVERDRAFT_LIMITS: Endpoint = Endpoint {
        template: "GET /open-banking/accounts/v2/accounts/{accountId}/overdraft-limits",
        scope: "accounts",
        permission: Permission::AccountsOverdraftLimitsRead,
        monthly_limit: Some(420),
    };
    /// `GET /open-banking/customers/v2/personal/identifications` (low: 8).
    pub const PERSONAL_IDENTIFICATIONS: Endpoint = Endpoint {
        template: "GET /open-banking/customers/v2/personal/identifications",
        scope: "customers",
        permission: Permission::CustomersPersonalIdentificationsRead,
        monthly_limit: Some(8),
    };
    /// `…/personal/qualifications` (low: 8).
    pub const PERSONAL_QUALIFICATIONS: Endpoint = Endpoint {
        template: "GET /open-banking/customers/v2/personal/qualifications",
        scope: "customers",
        permission: Permission::CustomersPersonalAdittionalinfoRead,
        monthly_limit: Some(8),
    };
    /// `…/personal/financial-relations` (low: 8).
    pub const PERSONAL_FINANCIAL_RELATIONS: Endpoint = Endpoint {
        template: "GET /open-banking/customers/v2/personal/financial-relations",
        scope: "customers",
        permission: Permission::CustomersPersonalAdittionalinfoRead,
        monthly_limit: Some(8),
    };
    /// `…/business/identifications` (low: 8).
    pub const BUSINESS_IDENTIFICATIONS: Endpoint = Endpoint {
        template: "GET /open-banking/customers/v2/business/identifications",
        scope: "customers",
        permission: Permission::CustomersBusinessIdentificationsRead,
        monthly_limit: Some(8),
    };
    /// `…/business/qualifications` (low: 8).
    pub const BUSINESS_QUALIFICATIONS: Endpoint = Endpoint {
        template: "GET /open-banking/customers/v2/business/qualifications",
        scope: "customers",
        permission: Permission::CustomersBusinessAdittionalinfoRead,
        monthly_limit: Some(8),
    };
    /// `GET /open-banking/credit-cards-accounts/v2/accounts` (low: 8).
    pub const CARDS: Endpoint = Endpoint {
        template: "GET /open-banking/credit-cards-accounts/v2/accounts",
        scope: "credit-cards-accounts",
        permission: Permission::CreditCardsAccountsRead,
        monthly_limit: Some(8),
    };
    /// `…/accounts/{creditCardAccountId}` (medium-high: 120).
    pub const CARD: Endpoint = Endpoint {
        template: "GET /open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}",
        scope: "credit-cards-accounts",
        permission: Permission::CreditCardsAccountsRead,
        monthly_limit: Some(120),
    };
    /// `…/limits` (high: 240).
    pub const CARD_LIMITS: Endpoint = Endpoint {
        template: "GET /open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/limits",
        scope: "credit-cards-accounts",
        permission: Permission::CreditCardsAccountsLimitsRead,
        monthly_limit: Some(240),
    };
    /// `…/transactions` (low: 8).
    pub const CARD_TRANSACTIONS: Endpoint = Endpoint {
        template: "GET /open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/transactions",
        scope: "credit-cards-accounts",
        permission: Permission::CreditCardsAccountsTransactionsRead,
        monthly_limit: Some(8),
    };
    /// `…/transactions-current` (high: 240).
    pub const CARD_TRANSACTIONS_CURRENT: Endpoint = Endpoint {
        template: "GET /open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/transactions-current",
        scope: "credit-cards-accounts",
        permission: Permission::CreditCardsAccountsTransactionsRead,
        monthly_limit: Some(240),
    };
    /// `…/bills` (medium: 30).
    pub const CARD_BILLS: Endpoint = Endpoint {
        template: "GET /open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/bills",
        scope: "credit-cards-accounts",
        permission: Permission::CreditCardsAccountsBillsRead,
        monthly_limit: Some(30),
    };
    /// `…/bills/{billId}/transactions` (medium: 30).
    pub const CARD_BILL_TRANSACTIONS: Endpoint = Endpoint {
        template: "GET /open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/bills/{billId}/transactions",
        scope: "credit-cards-accounts",
        permission: Permission::CreditCardsAccountsBillsTransactionsRead,
        monthly_limit: Some(30),
    };

    /// The five endpoints of a credit-operations API.
    #[derive(Debug, Clone, Copy)]
    pub struct CreditEndpoints {
        /// `GET /contracts`.
        pub contracts: Endpoint,
        /// `GET /contracts/{contractId}`.
        pub contract: Endpoint,
        /// `…/warranties`.
        pub warranties: Endpoint,
        /// `…/scheduled-instalments`.
        pub instalments: Endpoint,
        /// `…/payments`.
        pub payments: Endpoint,
    }

    macro_rules! credit {
        ($name:ident, $api:literal, $scope:literal, $read:ident, $warranties:ident, $instalments:ident, $payments:ident, $contracts_limit:expr, $contract_limit:expr, $payments_limit:expr) => {
            /// The endpoints of this credit-operations API, with their quotas.
            pub const $name: CreditEndpoints = CreditEndpoints {
                contracts: Endpoint {
                    template: concat!("GET /open-banking/", $api, "/v2/contracts"),
                    scope: $scope,
                    permission: Permission::$read,
                    monthly_limit: Some($contracts_limit),
                },
                contract: Endpoint {
                    template: concat!("GET /open-banking/", $api, "/v2/contracts/{contractId}"),
                    scope: $scope,
                    permission: Permission::$read,
                    monthly_limit: Some($contract_limit),
                },
                warranties: Endpoint {
                    template: concat!(
                        "GET /open-banking/",
                        $api,
                        "/v2/contracts/{contractId}/warranties"
                    ),
                    scope: $scope,
                    permission: Permission::$warranties,
                    monthly_limit: Some(8),
                },
                instalments: Endpoint {
                    template: concat!(
                        "GET /open-banking/",
                        $api,
                        "/v2/contracts/{contractId}/scheduled-instalments"
                    ),
                    scope: $scope,
                    permission: Permission::$instalments,
                    monthly_limit: Some(30),
                },
                payments: Endpoint {
                    template: concat!(
                        "GET /open-banking/",
                        $api,
                        "/v2/contracts/{contractId}/payments"
                    ),
                    scope: $scope,
                    permission: Permission::$payments,
                    monthly_limit: Some($payments_limit),
                },
            };
        };
    }

    credit!(
        LOANS,
        "loans",
        "loans",
        LoansRead,
        LoansWarrantiesRead,
        LoansScheduledInstalmentsRead,
        LoansPaymentsRead,
        30,
        30,
        120
    );
    credit!(
        FINANCINGS,
        "financings",
        "financings",
        FinancingsRead,
        FinancingsWarrantiesRead,
        FinancingsScheduledInstalmentsRead,
        FinancingsPaymentsRead,
        30,
        8,
        30
    );
    credit!(
        INVOICE_FINANCINGS,
        "invoice-financings",
        "invoice-financings",
        InvoiceFinancingsRead,
        InvoiceFinancingsWarrantiesRead,
        InvoiceFinancingsScheduledInstalmentsRead,
        InvoiceFinancingsPaymentsRead,
        30,
        8,
        30
    );
    credit!(
        UNARRANGED_ACCOUNTS_OVERDRAFT,
        "unarranged-accounts-overdraft",
        "unarranged-accounts-overdraft",
        UnarrangedAccountsOverdraftRead,
        UnarrangedAccountsOverdraftWarrantiesRead,
        UnarrangedAccountsOverdraftScheduledInstalmentsRead,
        UnarrangedAccountsOverdraftPaymentsRead,
        30,
        8,
        30
    );

    /// `…/business/financial-relations` (low: 8).
    pub const BUSINESS_FINANCIAL_RELATIONS: Endpoint = Endpoint {
        template: "GET /open-banking/customers/v2/business/financial-relations",
        scope: "customers",
        permission: Permission::CustomersBusinessAdittionalinfoRead,
        monthly_limit: Some(8),
    };
}

/// Every endpoint of the table.
pub const ALL: &[Endpoint] = &[
    endpoints::RESOURCES,
    endpoints::ACCOUNTS,
    endpoints::ACCOUNT,
    endpoints::BALANCES,
    endpoints::TRANSACTIONS,
    endpoints::TRANSACTIONS_CURRENT,
    endpoints::OVERDRAFT_LIMITS,
    endpoints::PERSONAL_IDENTIFICATIONS,
    endpoints::PERSONAL_QUALIFICATIONS,
    endpoints::PERSONAL_FINANCIAL_RELATIONS,
    endpoints::BUSINESS_IDENTIFICATIONS,
    endpoints::BUSINESS_QUALIFICATIONS,
    endpoints::BUSINESS_FINANCIAL_RELATIONS,
    endpoints::CARDS,
    endpoints::CARD,
    endpoints::CARD_LIMITS,
    endpoints::CARD_TRANSACTIONS,
    endpoints::CARD_TRANSACTIONS_CURRENT,
    endpoints::CARD_BILLS,
    endpoints::CARD_BILL_TRANSACTIONS,
    endpoints::LOANS.contracts,
    endpoints::LOANS.contract,
    endpoints::LOANS.warranties,
    endpoints::LOANS.instalments,
    endpoints::LOANS.payments,
    endpoints::FINANCINGS.contracts,
    endpoints::FINANCINGS.contract,
    endpoints::FINANCINGS.warranties,
    endpoints::FINANCINGS.instalments,
    endpoints::FINANCINGS.payments,
    endpoints::INVOICE_FINANCINGS.contracts,
    endpoints::INVOICE_FINANCINGS.contract,
    endpoints::INVOICE_FINANCINGS.warranties,
    endpoints::INVOICE_FINANCINGS.instalments,
    endpoints::INVOICE_FINANCINGS.payments,
    endpoints::UNARRANGED_ACCOUNTS_OVERDRAFT.contracts,
    endpoints::UNARRANGED_ACCOUNTS_OVERDRAFT.contract,
    endpoints::UNARRANGED_ACCOUNTS_OVERDRAFT.warranties,
    endpoints::UNARRANGED_ACCOUNTS_OVERDRAFT.instalments,
    endpoints::UNARRANGED_ACCOUNTS_OVERDRAFT.payments,
];

/// The endpoint `method path` (path from `/open-banking/…`, no query)
/// calls, with the values of its path parameters.
pub fn find<'a>(method: &str, path: &'a str) -> Option<(&'static Endpoint, Vec<&'a str>)> {
    ALL.iter()
        .filter(|e| e.method() == method)
        .find_map(|e| e.matches(path).map(|values| (e, values)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_finds_its_endpoint_and_its_object() {
        let (endpoint, values) =
            find("GET", "/open-banking/accounts/v2/accounts/abc/balances").unwrap();
        assert_eq!(*endpoint, endpoints::BALANCES);
        assert_eq!(values, ["abc"]);
        let (endpoint, values) = find(
            "GET",
            "/open-banking/credit-cards-accounts/v2/accounts/c1/bills/b2/transactions",
        )
        .unwrap();
        assert_eq!(*endpoint, endpoints::CARD_BILL_TRANSACTIONS);
        assert_eq!(values, ["c1", "b2"]);
        let (endpoint, values) = find("GET", "/open-banking/loans/v2/contracts").unwrap();
        assert_eq!(*endpoint, endpoints::LOANS.contracts);
        assert!(values.is_empty());
        assert!(find("GET", "/open-banking/accounts/v2/accounts//balances").is_none());
        assert!(find("POST", "/open-banking/accounts/v2/accounts").is_none());
        assert!(find("GET", "/open-banking/accounts/v2/accounts/a/b/c").is_none());
    }

    #[test]
    fn the_quotas_are_the_minimums_of_the_limits_table() {
        // directory-and-limits §6: balances and overdraft limits 420, the
        // high-frequency current transactions and card limits 240, the
        // resources API none; every other endpoint has a quota.
        assert_eq!(endpoints::BALANCES.monthly_limit, Some(420));
        assert_eq!(endpoints::OVERDRAFT_LIMITS.monthly_limit, Some(420));
        assert_eq!(endpoints::CARD_LIMITS.monthly_limit, Some(240));
        assert_eq!(endpoints::RESOURCES.monthly_limit, None);
        assert!(
            ALL.iter()
                .filter(|e| **e != endpoints::RESOURCES)
                .all(|e| e.monthly_limit.is_some())
        );
        let mut templates: Vec<_> = ALL.iter().map(|e| e.template).collect();
        templates.sort_unstable();
        templates.dedup();
        assert_eq!(templates.len(), ALL.len(), "no endpoint twice");
    }
}
