//! The JSON description of a running sandbox (`sandbox --endpoints-file`):
//! what an external client needs to run against it. It carries at least
//! the keys the interop kit's OFB mode names (`ca_pem_path`,
//! `directory.test_registration_url`, per brand `issuer` and
//! `api_base_url`, `test_customers`), and each brand's organisation id, the
//! metrics collector's URL, each brand's channel and operations URLs and
//! ready-made TPP identities.

use std::path::Path;

use serde_json::{Value, json};

use crate::bank::{Failure, LoopbackBank};
use opus_testkit::bank::{JOAO_CPF, MARIA_CPF, PADARIA_CNPJ};

/// Writes the bank's CA under `dir` and answers the description of `bank`,
/// with `identities` (see [`crate::fintech::SandboxFintech::write_identity`]).
///
/// # Errors
/// When the CA file cannot be written or a URL cannot be formed.
pub fn describe(bank: &LoopbackBank, dir: &Path, identities: &[Value]) -> Result<Value, Failure> {
    std::fs::create_dir_all(dir)?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, bank.ca_pem())?;
    let mut brands = Vec::new();
    for brand in bank.brands() {
        brands.push(json!({
            "id": brand.id().as_str(),
            "name": brand.display_name(),
            "organisation_id": brand.organisation_id().to_string(),
            "issuer": brand.issuer().as_str().trim_end_matches('/'),
            "api_base_url": brand.api_base_url().as_str().trim_end_matches('/'),
            "consents_url": brand.api_url(opus_consent::api::BASE_PATH)?.as_str(),
            "status_url": brand
                .api_url(&format!("{}/status", opus_pcm::operations::COMMON_BASE))?
                .as_str(),
            "channels_url": bank
                .base_url()
                .join(&format!("{}/{}", brand.id().as_str(), crate::bank::CHANNELS_PATH))?
                .as_str(),
            "back_office_url": bank
                .base_url()
                .join(&format!("{}{}", brand.id().as_str(), crate::bank::OPS_PATH))?
                .as_str(),
        }));
    }
    Ok(json!({
        "ca_pem_path": ca.display().to_string(),
        "directory": {
            "test_registration_url": bank.test_registration_url()?.as_str(),
        },
        "brands": brands,
        "metrics_collector_url": bank.base_url().join("pcm/api/")?.as_str(),
        "test_customers": [
            {"cpf": MARIA_CPF, "name": "Maria Oliveira"},
            {"cpf": JOAO_CPF, "name": "João Souza"},
            {"cpf": MARIA_CPF, "cnpj": PADARIA_CNPJ, "name": "Padaria Azul Ltda"},
        ],
        "tpp_identities": identities,
    }))
}
