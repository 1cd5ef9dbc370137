//! The rule engine: small, integrator-configured rules over what a refresh
//! found new. Each rule answers the subject it fires for (a contract, an
//! account and day, a transaction); the receiver emits one
//! `ReceiverRuleFired` event per rule and subject, ever.

use crate::records::{BalanceRecord, ContractRecord, TransactionRecord};

/// What a refresh found.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Change<'a> {
    /// A credit contract not seen before. `first_sync` is true while the
    /// person's contracts at this holder are read for the first time (the
    /// contracts they already had), by whichever of their consents there.
    NewContract {
        /// The contract.
        contract: &'a ContractRecord,
        /// Part of the first refresh.
        first_sync: bool,
    },
    /// An account's balance, as just read.
    Balance {
        /// The balance.
        balance: &'a BalanceRecord,
    },
    /// A transaction not seen before (`first_sync` as above).
    NewTransaction {
        /// The transaction.
        transaction: &'a TransactionRecord,
        /// Part of the first refresh.
        first_sync: bool,
    },
}

/// A business rule.
pub trait Rule: Send + Sync + 'static {
    /// Its name, in events.
    fn name(&self) -> &str;

    /// The subject it fires for, if it does.
    fn check(&self, change: &Change<'_>) -> Option<String>;
}

/// A new credit contract at an institution other than `home` (the
/// integrator's own, if it is a holder too), taken while the consent was
/// in force: contracts found by the first refresh do not fire.
#[derive(Debug, Clone, Default)]
pub struct NewContractElsewhere {
    home: Option<String>,
}

impl NewContractElsewhere {
    /// Fires for contracts at any holder but `home`.
    pub fn new(home: Option<String>) -> Self {
        Self { home }
    }
}

impl Rule for NewContractElsewhere {
    fn name(&self) -> &str {
        "new_contract_elsewhere"
    }

    fn check(&self, change: &Change<'_>) -> Option<String> {
        match change {
            Change::NewContract {
                contract,
                first_sync: false,
            } if self.home.as_deref() != Some(contract.holder.as_str()) => {
                Some(format!("{}/{}", contract.api, contract.contract_id))
            }
            _ => None,
        }
    }
}

/// An account's available balance under `threshold_cents`: once per
/// account and day.
#[derive(Debug, Clone, Copy)]
pub struct BalanceBelow {
    threshold_cents: i64,
}

impl BalanceBelow {
    /// Fires under `threshold_cents` (BRL cents).
    pub fn new(threshold_cents: i64) -> Self {
        Self { threshold_cents }
    }
}

impl Rule for BalanceBelow {
    fn name(&self) -> &str {
        "balance_below"
    }

    fn check(&self, change: &Change<'_>) -> Option<String> {
        match change {
            Change::Balance { balance } => {
                let cents = cents(&balance.available_amount)?;
                (cents < self.threshold_cents)
                    .then(|| format!("{}/{}", balance.account_id, balance.read_on))
            }
            _ => None,
        }
    }
}

/// A salary-like credit of at least `minimum_cents`: a credit of type
/// `FOLHA_PAGAMENTO`, or named like a salary, received while the consent
/// was in force.
#[derive(Debug, Clone, Copy)]
pub struct SalaryLikeCredit {
    minimum_cents: i64,
}

impl SalaryLikeCredit {
    /// Fires for salary-like credits of at least `minimum_cents`.
    pub fn new(minimum_cents: i64) -> Self {
        Self { minimum_cents }
    }
}

impl Rule for SalaryLikeCredit {
    fn name(&self) -> &str {
        "salary_like_credit"
    }

    fn check(&self, change: &Change<'_>) -> Option<String> {
        match change {
            Change::NewTransaction {
                transaction,
                first_sync: false,
            } => {
                let name = transaction.transaction_name.to_uppercase();
                let salary_like = transaction.transaction_type == "FOLHA_PAGAMENTO"
                    || ["SALARIO", "SALÁRIO", "PROVENTOS", "VENCIMENTOS"]
                        .iter()
                        .any(|w| name.contains(w));
                (transaction.credit_debit_type == "CREDITO"
                    && salary_like
                    && cents(&transaction.amount).is_some_and(|c| c >= self.minimum_cents))
                .then(|| transaction.transaction_id.clone())
            }
            _ => None,
        }
    }
}

/// `"1234.56"` (OFB amounts: optional sign, digits, two decimals) in
/// cents.
pub fn cents(amount: &str) -> Option<i64> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    if whole.is_empty() || fraction.len() > 4 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction = format!("{fraction:0<2}");
    let fraction: i64 = fraction.get(..2)?.parse().ok()?;
    let value = whole.checked_mul(100)?.checked_add(fraction)?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_cents() {
        assert_eq!(cents("1234.56"), Some(123_456));
        assert_eq!(cents("-0.10"), Some(-10));
        assert_eq!(cents("7"), Some(700));
        assert_eq!(cents("7.5"), Some(750));
        assert_eq!(cents("abc"), None);
        assert_eq!(cents(".50"), None);
    }

    fn contract(holder: &str) -> ContractRecord {
        ContractRecord {
            holder: holder.to_owned(),
            api: "loans".to_owned(),
            contract_id: "c-1".to_owned(),
            summary: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_new_contract_fires_elsewhere_and_after_the_first_refresh_only() {
        let rule = NewContractElsewhere::new(Some("home".to_owned()));
        let other = contract("other");
        let home = contract("home");
        let fires = |c: &ContractRecord, first_sync| {
            rule.check(&Change::NewContract {
                contract: c,
                first_sync,
            })
        };
        assert_eq!(fires(&other, false), Some("loans/c-1".to_owned()));
        assert_eq!(fires(&other, true), None);
        assert_eq!(fires(&home, false), None);
    }

    #[test]
    fn salary_and_balance_rules() {
        let mut tx = TransactionRecord {
            holder: "h".to_owned(),
            account_id: "a".to_owned(),
            transaction_id: "t".to_owned(),
            date_time: "2026-01-05T10:00:00.000Z".to_owned(),
            amount: "3500.00".to_owned(),
            currency: "BRL".to_owned(),
            credit_debit_type: "CREDITO".to_owned(),
            transaction_name: "SALARIO".to_owned(),
            transaction_type: "PIX".to_owned(),
        };
        let rule = SalaryLikeCredit::new(100_000);
        let check = |tx: &TransactionRecord, first_sync| {
            rule.check(&Change::NewTransaction {
                transaction: tx,
                first_sync,
            })
        };
        assert_eq!(check(&tx, false), Some("t".to_owned()));
        assert_eq!(check(&tx, true), None);
        tx.amount = "999.99".to_owned();
        assert_eq!(check(&tx, false), None);
        tx.amount = "3500.00".to_owned();
        tx.credit_debit_type = "DEBITO".to_owned();
        assert_eq!(check(&tx, false), None);

        let balance = BalanceRecord {
            holder: "h".to_owned(),
            account_id: "a".to_owned(),
            available_amount: "99.99".to_owned(),
            blocked_amount: "0.00".to_owned(),
            automatically_invested_amount: "0.00".to_owned(),
            currency: "BRL".to_owned(),
            update_date_time: "2026-01-05T10:00:00Z".to_owned(),
            read_on: "2026-01-05".to_owned(),
        };
        let rule = BalanceBelow::new(10_000);
        assert_eq!(
            rule.check(&Change::Balance { balance: &balance }),
            Some("a/2026-01-05".to_owned())
        );
        let rich = BalanceRecord {
            available_amount: "100.00".to_owned(),
            ..balance
        };
        assert_eq!(rule.check(&Change::Balance { balance: &rich }), None);
    }
}
