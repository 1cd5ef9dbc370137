//! Models of the data APIs, generated from the official OpenAPI files
//! by `tools/gen_connector_models.py`. One module per API.

pub mod credit_cards;
pub mod customers;
pub mod financings;
pub mod invoice_financings;
pub mod loans;
pub mod unarranged_accounts_overdraft;
