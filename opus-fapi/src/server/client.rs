//! Registered clients as the authorization server reads them: the metadata
//! the registration layer stores (as JSON) in a [`ClientRecord`], and where
//! a client's public keys come from.

use std::sync::Arc;

use async_trait::async_trait;
use opus_core::keys::JwkSet;
use opus_core::store::{ClientRecord, ClientStatus};
use opus_core::{ClientId, Directory};
use serde::{Deserialize, Serialize};
use url::Url;

/// How a client authenticates at the token, PAR and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// `private_key_jwt` (FAPI-BR v2: the only method for new clients).
    PrivateKeyJwt,
    /// `tls_client_auth` (legacy registrations only).
    TlsClientAuth,
}

/// The registered metadata of a client (RFC 7591 names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// `redirect_uris`: exact match required.
    pub redirect_uris: Vec<Url>,
    /// `token_endpoint_auth_method`.
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// `tls_client_auth_subject_dn` (legacy `tls_client_auth` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    /// `jwks_uri` (equal to the software statement's `software_jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,
    /// `scope`: every scope the client's roles allow, space separated.
    pub scope: String,
    /// `client_name`, shown to customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `logo_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<Url>,
    /// `webhook_uris`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_uris: Vec<Url>,
    /// The metadata document as registered through DCR, served back by
    /// RFC 7592 reads; `None` for clients the bank registered otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ClientMetadata {
    /// The scopes the client may be granted.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }

    /// Whether `scope` is one the client may be granted.
    pub fn allows(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }
}

/// A registered, active client with its parsed metadata.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// The stored record.
    pub record: ClientRecord,
    /// Its metadata.
    pub metadata: ClientMetadata,
}

impl RegisteredClient {
    /// Parses a stored client; `None` when inactive or unreadable.
    pub fn from_record(record: ClientRecord) -> Option<Self> {
        if record.status != ClientStatus::Active {
            return None;
        }
        let metadata = serde_json::from_str(&record.metadata).ok()?;
        Some(Self { record, metadata })
    }

    /// The client id.
    pub fn id(&self) -> &ClientId {
        &self.record.client_id
    }
}

/// Where a client's signing and encryption keys come from.
#[async_trait]
pub trait ClientKeys: Send + Sync + 'static {
    /// The client's current public keys.
    ///
    /// # Errors
    /// A description for logs when they cannot be had.
    async fn keys(&self, client: &RegisteredClient) -> Result<JwkSet, String>;

    /// The client's keys for verifying a message signed with `kid`: when the
    /// current set lacks it, a source with a cache looks again (key rotation).
    ///
    /// # Errors
    /// As [`Self::keys`].
    async fn keys_for(&self, client: &RegisteredClient, kid: &str) -> Result<JwkSet, String> {
        let _ = kid;
        self.keys(client).await
    }
}

/// Client keys from the directory: the keystore of the client's software
/// statement (which its `jwks_uri` names).
#[derive(Clone)]
pub struct DirectoryClientKeys {
    directory: Arc<dyn Directory>,
}

impl std::fmt::Debug for DirectoryClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectoryClientKeys")
    }
}

impl DirectoryClientKeys {
    /// Keys through `directory`.
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Self { directory }
    }
}

#[async_trait]
impl ClientKeys for DirectoryClientKeys {
    async fn keys(&self, client: &RegisteredClient) -> Result<JwkSet, String> {
        self.directory
            .software_statement_jwks(
                &client.record.organisation_id,
                &client.record.software_statement_id,
            )
            .await
            .map_err(|e| e.to_string())
    }

    async fn keys_for(&self, client: &RegisteredClient, kid: &str) -> Result<JwkSet, String> {
        let keys = self.keys(client).await?;
        if keys.find(kid).is_some() {
            return Ok(keys);
        }
        self.directory
            .software_statement_jwks_refreshed(
                &client.record.organisation_id,
                &client.record.software_statement_id,
            )
            .await
            .map_err(|e| e.to_string())
    }
}
