//! The example bank server's configuration file (TOML): where it listens,
//! its public URL, its storage, its brands and where each brand's signing
//! keys live (a PEM file, or a PKCS#11 token such as an HSM).
//!
//! ```toml
//! listen = "0.0.0.0:8443"
//! public_url = "https://bank.example/"
//!
//! [storage]
//! url = "sqlite:/var/lib/opus/bank.db"   # or "postgres://…", or "memory:"
//! # or url_env = "OPUS_DATABASE_URL" (the URL, with its password, from the environment)
//!
//! [[brands]]
//! id = "banco-azul"
//! name = "Banco Azul"
//! organisation_id = "74e929d9-33b6-4d85-8ba7-c146c867a817"
//! signing_key = { pem = "/etc/opus/keys/banco-azul.pem", kid = "banco-azul-sig" }
//!
//! [[brands]]
//! id = "banco-verde"
//! name = "Banco Verde"
//! [brands.signing_key.pkcs11]
//! module = "/usr/lib/softhsm/libsofthsm2.so"
//! token = "opus"
//! pin_env = "OPUS_PKCS11_PIN"
//! label = "banco-verde-sig"
//! ```
//!
//! Behind a gateway that terminates TLS and forwards the client
//! certificate, the server serves plain HTTP and honours the header only
//! from the gateway's addresses:
//!
//! ```toml
//! [gateway]
//! header = "x-ssl-client-cert"
//! proxies = ["10.0.0.5"]
//! ```
//!
//! Secrets stay out of the file: a PKCS#11 PIN is read from the
//! environment variable the file names; a PEM key is a path (a mounted
//! secret in a container).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use opus_core::keys::KeyCustody;
use opus_core::{Clock, KeyId, OrganisationId, Storage};
use opus_fapi::custody::pkcs11::{Pkcs11Config, Pkcs11KeyCustody};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_store::{MemoryStore, PostgresStore, SqliteStore};
use opus_testkit::SyntheticBank;
use serde::Deserialize;
use url::Url;

use crate::bank::{BankSetup, BrandSetup, Failure};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankServerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The URL clients reach the server at (its issuers and API bases
    /// hang below it); the listen address when absent.
    #[serde(default)]
    pub public_url: Option<Url>,
    /// Where the state lives.
    pub storage: StorageConfig,
    /// The brands (at least one).
    pub brands: Vec<BrandConfig>,
    /// Behind a gateway that terminates TLS and forwards the client
    /// certificate; the server terminates mutual TLS itself when absent.
    #[serde(default)]
    pub gateway: Option<GatewayConfig>,
}

/// `[gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The header carrying the URL-encoded PEM client certificate.
    pub header: String,
    /// The addresses the gateway connects from (the header is ignored from
    /// any other).
    pub proxies: Vec<std::net::IpAddr>,
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `sqlite:<path>`, `postgres://…` or `memory:`.
    #[serde(default)]
    pub url: Option<String>,
    /// The environment variable holding the URL instead (a PostgreSQL URL
    /// with its password stays out of the file).
    #[serde(default)]
    pub url_env: Option<String>,
    /// PostgreSQL pool size (default 16).
    #[serde(default)]
    pub max_connections: Option<u32>,
}

/// `[[brands]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandConfig {
    /// The brand id.
    pub id: String,
    /// The name shown to customers.
    pub name: String,
    /// The brand's directory organisation.
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// The signing key; a fresh software key (test only) when absent.
    #[serde(default)]
    pub signing_key: Option<KeyConfig>,
    /// The pages' primary colour (`#rrggbb`).
    #[serde(default)]
    pub colour: Option<String>,
    /// The pages' logo.
    #[serde(default)]
    pub logo_url: Option<Url>,
}

/// Where a signing key lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, untagged)]
#[non_exhaustive]
pub enum KeyConfig {
    /// A PKCS#8, PKCS#1 or SEC1 PEM file.
    Pem {
        /// The file.
        pem: PathBuf,
        /// The key id published in the JWKS.
        kid: String,
    },
    /// A key in a PKCS#11 token.
    Pkcs11 {
        /// The token.
        pkcs11: Pkcs11KeyConfig,
    },
}

/// A key in a PKCS#11 token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11KeyConfig {
    /// The module's path.
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The environment variable holding the user PIN.
    pub pin_env: String,
    /// The key's label (also its kid).
    pub label: String,
}

impl BankServerConfig {
    /// Parses `text`.
    ///
    /// # Errors
    /// When it is not valid TOML of this shape, or names no brand.
    pub fn parse(text: &str) -> Result<Self, Failure> {
        let config: Self = toml::from_str(text)?;
        if config.brands.is_empty() {
            return Err("the configuration names no brand".into());
        }
        Ok(config)
    }

    /// Reads and parses `path`.
    ///
    /// # Errors
    /// As [`BankServerConfig::parse`], or when the file cannot be read.
    pub fn load(path: &std::path::Path) -> Result<Self, Failure> {
        Self::parse(&std::fs::read_to_string(path)?)
    }

    /// Opens the storage and the keys: the bank's setup over the
    /// synthetic back office, on `clock`.
    ///
    /// # Errors
    /// When the storage cannot be opened or a key cannot be loaded.
    pub async fn setup(&self, clock: Arc<dyn Clock>) -> Result<BankSetup, Failure> {
        let storage = self.storage.open().await?;
        let mut brands = Vec::new();
        for brand in &self.brands {
            let keys: Option<Arc<dyn KeyCustody>> = match &brand.signing_key {
                None => None,
                Some(KeyConfig::Pem { pem, kid }) => {
                    let text = std::fs::read_to_string(pem)
                        .map_err(|e| format!("{}: {e}", pem.display()))?;
                    Some(Arc::new(
                        SoftwareKeyCustody::builder()
                            .signing_key(SoftwareKey::from_pem(kid, &text)?)
                            .build()?,
                    ))
                }
                Some(KeyConfig::Pkcs11 { pkcs11 }) => {
                    let pin = std::env::var(&pkcs11.pin_env)
                        .map_err(|_| format!("{} is not set", pkcs11.pin_env))?;
                    Some(Arc::new(
                        Pkcs11KeyCustody::open(Pkcs11Config {
                            module: pkcs11.module.clone(),
                            token_label: pkcs11.token.clone(),
                            pin: zeroize::Zeroizing::new(pin),
                            signing_keys: vec![KeyId::new(pkcs11.label.as_str())?],
                            current_signer: None,
                            encryption_keys: Vec::new(),
                            data_key_keks: Vec::new(),
                            sessions: 4,
                        })
                        .await?,
                    ))
                }
            };
            brands.push(BrandSetup {
                id: brand.id.clone(),
                name: brand.name.clone(),
                organisation_id: brand
                    .organisation_id
                    .as_deref()
                    .map(OrganisationId::parse)
                    .transpose()?,
                keys,
                theme: match &brand.colour {
                    Some(colour) => Some(opus_core::Theme::new(colour, brand.logo_url.clone())?),
                    None => None,
                },
            });
        }
        let gateway = match &self.gateway {
            Some(gateway) => {
                if gateway.proxies.is_empty() {
                    return Err("[gateway] needs the proxies it connects from".into());
                }
                Some(opus_fapi::mtls::TrustedGateway {
                    header: http::HeaderName::from_bytes(gateway.header.as_bytes())?,
                    proxies: gateway.proxies.clone(),
                })
            }
            None => None,
        };
        Ok(BankSetup {
            gateway,
            metrics_capture: true,
            quota_factor: 1,
            listen: self.listen,
            public_url: self.public_url.clone(),
            brands,
            storage,
            synthetic: SyntheticBank::new(clock.now().date_in_brasilia()),
            clock,
        })
    }
}

impl StorageConfig {
    /// Opens the storage the URL names.
    ///
    /// # Errors
    /// When the scheme is unknown or the store cannot be opened.
    pub async fn open(&self) -> Result<Storage, Failure> {
        let url = match (&self.url, &self.url_env) {
            (Some(url), None) => url.clone(),
            (None, Some(name)) => std::env::var(name).map_err(|_| format!("{name} is not set"))?,
            _ => return Err("[storage] needs exactly one of url and url_env".into()),
        };
        if url == "memory:" {
            Ok(Storage::from_backend(Arc::new(MemoryStore::new())))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Ok(Storage::from_backend(Arc::new(
                SqliteStore::open(path).await?,
            )))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Storage::from_backend(Arc::new(
                PostgresStore::connect(&url, self.max_connections.unwrap_or(16)).await?,
            )))
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            Err(format!("unknown storage URL scheme {scheme}:").into())
        }
    }
}
