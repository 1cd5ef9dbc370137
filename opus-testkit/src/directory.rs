//! An in-memory participants directory for tests and the sandbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use opus_core::directory::{Directory, DirectoryError, Organisation};
use opus_core::keys::{JwkSet, KeyCustody, KeyError, KeyPurpose};

use crate::TestKeyCustody;
use opus_core::{OrganisationId, SoftwareStatementId};

#[derive(Default)]
struct State {
    organisations: Vec<Organisation>,
    organisation_jwks: HashMap<OrganisationId, JwkSet>,
    software_jwks: HashMap<(OrganisationId, SoftwareStatementId), JwkSet>,
    ssa_keys: JwkSet,
    anchors: Vec<Vec<u8>>,
    ssa_signer: Option<Arc<TestKeyCustody>>,
}

/// A directory whose participants and keystores tests set directly.
#[derive(Default)]
pub struct MockDirectory {
    state: Mutex<State>,
}

impl std::fmt::Debug for MockDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockDirectory").finish_non_exhaustive()
    }
}

impl MockDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Lists (or replaces) an organisation.
    pub fn add_organisation(&self, organisation: Organisation) {
        self.with(|s| {
            s.organisations.retain(|o| o.id != organisation.id);
            s.organisations.push(organisation);
        });
    }

    /// Publishes the keystore of a software statement (`application.jwks`).
    pub fn set_software_statement_jwks(
        &self,
        org: OrganisationId,
        software_statement: SoftwareStatementId,
        jwks: JwkSet,
    ) {
        self.with(|s| {
            s.software_jwks.insert((org, software_statement), jwks);
        });
    }

    /// Removes a software statement's keystore (its keys were revoked).
    pub fn revoke_software_statement(
        &self,
        org: OrganisationId,
        software_statement: SoftwareStatementId,
    ) {
        self.with(|s| {
            s.software_jwks.remove(&(org, software_statement));
        });
    }

    /// Publishes an organisation's keystore.
    pub fn set_organisation_jwks(&self, org: OrganisationId, jwks: JwkSet) {
        self.with(|s| {
            s.organisation_jwks.insert(org, jwks);
        });
    }

    /// Sets the keys that sign software statement assertions.
    pub fn set_ssa_signing_keys(&self, jwks: JwkSet) {
        self.with(|s| s.ssa_keys = jwks);
    }

    /// The published keystore of a software statement, if any.
    pub fn software_statement_jwks_now(
        &self,
        org: &OrganisationId,
        software_statement: &SoftwareStatementId,
    ) -> Option<JwkSet> {
        self.with(|s| s.software_jwks.get(&(*org, *software_statement)).cloned())
    }

    /// The published keystore of an organisation, if any.
    pub fn organisation_jwks_now(&self, org: &OrganisationId) -> Option<JwkSet> {
        self.with(|s| s.organisation_jwks.get(org).cloned())
    }

    /// Signs a software statement assertion with `claims`, as the directory
    /// does (PS256, `typ: JWT`); the first call makes the directory's SSA key
    /// and publishes it in [`Directory::ssa_signing_keys`].
    ///
    /// # Errors
    /// [`KeyError`] when signing fails.
    pub async fn issue_software_statement(
        &self,
        claims: &serde_json::Value,
    ) -> Result<String, KeyError> {
        let existing = self.with(|s| s.ssa_signer.clone());
        let signer_custody = match existing {
            Some(custody) => custody,
            None => {
                let custody = Arc::new(TestKeyCustody::new("directory-ssa"));
                let jwks = custody.public_jwks().await?;
                self.with(|s| {
                    s.ssa_keys = jwks;
                    s.ssa_signer = Some(custody.clone());
                });
                custody
            }
        };
        let signer = signer_custody.signer(KeyPurpose::MessageSigning).await?;
        let header = serde_json::json!({"alg": signer.alg().as_str(), "kid": signer.kid().as_str(), "typ": "JWT"});
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = signer.sign(token.as_bytes()).await?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }

    /// Sets the trust anchors for client certificates (DER).
    pub fn set_trust_anchors(&self, anchors: Vec<Vec<u8>>) {
        self.with(|s| s.anchors = anchors);
    }
}

#[async_trait]
impl Directory for MockDirectory {
    async fn participants(&self) -> Result<Vec<Organisation>, DirectoryError> {
        Ok(self.with(|s| s.organisations.clone()))
    }

    async fn organisation_jwks(&self, org: &OrganisationId) -> Result<JwkSet, DirectoryError> {
        self.with(|s| s.organisation_jwks.get(org).cloned())
            .ok_or(DirectoryError::NotFound)
    }

    async fn software_statement_jwks(
        &self,
        org: &OrganisationId,
        software_statement: &SoftwareStatementId,
    ) -> Result<JwkSet, DirectoryError> {
        self.with(|s| s.software_jwks.get(&(*org, *software_statement)).cloned())
            .ok_or(DirectoryError::NotFound)
    }

    async fn ssa_signing_keys(&self) -> Result<JwkSet, DirectoryError> {
        Ok(self.with(|s| s.ssa_keys.clone()))
    }

    async fn trust_anchors(&self) -> Result<Vec<Vec<u8>>, DirectoryError> {
        Ok(self.with(|s| s.anchors.clone()))
    }
}
