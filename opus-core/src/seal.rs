//! Sealing at rest (architecture invariant 3).
//!
//! Personal and financial data is encrypted before it reaches any storage
//! port, so a backend — and a dump of its files — never holds plaintext CPF,
//! CNPJ, names or account data.
//!
//! * **Envelope encryption.** Values are sealed with AES-256-GCM under a
//!   *data key*. Data keys are random, wrapped through
//!   [`KeyCustody::wrap_data_key`] (the key-encryption key never leaves the
//!   HSM/KMS) and kept, wrapped, in a [`DataKeyStore`] shared by all replicas.
//! * **Binding.** The additional authenticated data names the data key, the
//!   purpose, the brand and the record id, so a sealed value cannot be moved
//!   to another field, record or brand without failing to open.
//! * **Rotation without downtime.** [`Sealer::rotate`] adds a new data key
//!   and seals with it from then on; old keys keep opening what they sealed.
//!   Replicas learn of a new key on their next [`Sealer::refresh`] or when
//!   they meet a value sealed under a key they have not loaded.
//! * **Blind index.** Lookups by document use an HMAC-SHA256 of the
//!   normalised document under a separate index key, never the document.
//!
//! # Security notes
//! Nonces are 96 random bits per seal; keep fewer than 2³² seals per data
//! key by rotating (daily rotation is far inside that bound). The blind index
//! key is never rotated automatically: rotating it requires re-indexing.
//! Blind indexes of low-entropy values (CPF) resist offline guessing only as
//! long as the index key stays secret — it is wrapped like the data keys.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::datetime::Timestamp;
use crate::document::Document;
use crate::id::{BrandId, DataKeyId};
use crate::keys::{KeyCustody, KeyError, SecretBytes, WrappedKey};
use crate::store::StoreError;

const SEALED_PREFIX: &str = "v1";
const AAD_PREFIX: &str = "opus-seal/v1";
const INDEX_PREFIX: &str = "opus-bidx/v1";
/// The fixed id of the blind-index key: one per institution, created once.
const INDEX_KEY_ID: &str = "bidx-1";

/// A sealed value: `v1.<data key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sealed(String);

impl Sealed {
    /// Checks the envelope form of a stored sealed value (it does not open it).
    ///
    /// # Errors
    /// [`SealError::Malformed`] when the form is wrong.
    pub fn from_stored(value: String) -> Result<Self, SealError> {
        let mut parts = value.splitn(3, '.');
        let ok = parts.next() == Some(SEALED_PREFIX)
            && parts.next().is_some_and(|k| DataKeyId::new(k).is_ok())
            && parts.next().is_some_and(|b| {
                URL_SAFE_NO_PAD
                    .decode(b)
                    .is_ok_and(|raw| raw.len() >= NONCE_LEN + AES_256_GCM.tag_len())
            });
        if ok {
            Ok(Self(value))
        } else {
            Err(SealError::Malformed)
        }
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the data key that sealed it.
    pub fn key_id(&self) -> Result<DataKeyId, SealError> {
        let id = self.0.split('.').nth(1).ok_or(SealError::Malformed)?;
        DataKeyId::new(id).map_err(|_| SealError::Malformed)
    }

    fn payload(&self) -> Result<Vec<u8>, SealError> {
        let b64 = self.0.splitn(3, '.').nth(2).ok_or(SealError::Malformed)?;
        URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| SealError::Malformed)
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

impl TryFrom<String> for Sealed {
    type Error = SealError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::from_stored(value)
    }
}

impl From<Sealed> for String {
    fn from(value: Sealed) -> String {
        value.0
    }
}

/// A keyed blind index of a document: HMAC-SHA256, base64url on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlindIndex([u8; 32]);

impl BlindIndex {
    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Rebuilds an index from its 32 bytes (backends reading their columns).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindIndex({})", URL_SAFE_NO_PAD.encode(&self.0[..6]))
    }
}

impl TryFrom<String> for BlindIndex {
    type Error = SealError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let raw = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| SealError::Malformed)?;
        raw.try_into().map(Self).map_err(|_| SealError::Malformed)
    }
}

impl From<BlindIndex> for String {
    fn from(value: BlindIndex) -> String {
        URL_SAFE_NO_PAD.encode(value.0)
    }
}

/// Where a sealed value lives: it is bound to this context and opens only in it.
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    purpose: &'static str,
    brand: &'a BrandId,
    record: &'a str,
}

impl<'a> SealContext<'a> {
    /// The context of field or document `purpose` (e.g. `"consent"`) of record
    /// `record` of `brand`.
    pub fn new(purpose: &'static str, brand: &'a BrandId, record: &'a str) -> Self {
        Self {
            purpose,
            brand,
            record,
        }
    }

    fn aad(&self, key: &DataKeyId) -> Vec<u8> {
        // Length-prefix every part so no two contexts share an encoding.
        let mut aad = Vec::with_capacity(64 + self.record.len());
        for part in [
            AAD_PREFIX,
            key.as_str(),
            self.purpose,
            self.brand.as_str(),
            self.record,
        ] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

/// What a data key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DataKeyKind {
    /// AES-256-GCM sealing.
    Sealing,
    /// HMAC-SHA256 blind index.
    BlindIndex,
}

/// A data key as it is stored: wrapped, never in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDataKey {
    /// The data key's id (it appears in every value it seals).
    pub id: DataKeyId,
    /// What it is for.
    pub kind: DataKeyKind,
    /// The key, wrapped by custody.
    pub wrapped: WrappedKey,
    /// When it was created; the newest sealing key seals.
    pub created_at: Timestamp,
}

/// Storage port for wrapped data keys, shared by every replica.
#[async_trait]
pub trait DataKeyStore: Send + Sync + 'static {
    /// Adds a key.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a key with this id exists (insert-if-absent:
    /// two replicas creating the index key at once, one wins).
    async fn insert_data_key(&self, key: &StoredDataKey) -> Result<(), StoreError>;

    /// Every stored key.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list_data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError>;
}

/// Failures of sealing and opening.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The stored value is not a sealed value.
    #[error("malformed sealed value")]
    Malformed,
    /// The value was sealed under a data key that is not in the store.
    #[error("unknown data key")]
    UnknownKey,
    /// Authentication failed: wrong context, tampered value, or wrong key.
    #[error("sealed value failed to open")]
    OpenFailed,
    /// The opened value is not what the caller expected.
    #[error("sealed value has an unexpected form")]
    Decode,
    /// Key custody failed.
    #[error("key custody failed")]
    Key(#[from] KeyError),
    /// The data-key store failed.
    #[error("data key store failed")]
    Store(#[from] StoreError),
    /// The random generator or cipher failed.
    #[error("cryptographic failure")]
    Crypto,
}

struct Keyring {
    sealing: HashMap<DataKeyId, Arc<LessSafeKey>>,
    current: DataKeyId,
    index: hmac::Key,
}

/// Seals and opens values, and computes blind indexes. Cheap to share
/// (`Arc<Sealer>`); all replicas of an institution share its data keys
/// through the [`DataKeyStore`].
pub struct Sealer {
    custody: Arc<dyn KeyCustody>,
    store: Arc<dyn DataKeyStore>,
    clock: Arc<dyn Clock>,
    rng: SystemRandom,
    keyring: RwLock<Keyring>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self
            .keyring
            .read()
            .map(|k| k.current.to_string())
            .unwrap_or_default();
        f.debug_struct("Sealer")
            .field("current_key", &current)
            .finish()
    }
}

impl Sealer {
    /// Loads the data keys from `store`, unwrapping them through `custody`,
    /// and creates the first sealing key and the blind-index key when absent.
    ///
    /// # Errors
    /// [`SealError`] when custody or the store fail.
    pub async fn open_or_create(
        custody: Arc<dyn KeyCustody>,
        store: Arc<dyn DataKeyStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SealError> {
        let rng = SystemRandom::new();
        let keyring = load_keyring(custody.as_ref(), store.as_ref(), clock.as_ref(), &rng).await?;
        Ok(Self {
            custody,
            store,
            clock,
            rng,
            keyring: RwLock::new(keyring),
        })
    }

    /// Seals `plaintext` for `context` under the current data key.
    ///
    /// # Errors
    /// [`SealError::Crypto`] if the random generator or cipher fails.
    pub fn seal(&self, context: &SealContext<'_>, plaintext: &[u8]) -> Result<Sealed, SealError> {
        let (key_id, key) = {
            let ring = self.keyring.read().map_err(|_| SealError::Crypto)?;
            let key = ring
                .sealing
                .get(&ring.current)
                .cloned()
                .ok_or(SealError::UnknownKey)?;
            (ring.current.clone(), key)
        };
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Crypto)?;
        let mut in_out = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.aad(&key_id)),
            &mut in_out,
        )
        .map_err(|_| SealError::Crypto)?;
        let mut payload = Vec::with_capacity(NONCE_LEN + in_out.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&in_out);
        Ok(Sealed(format!(
            "{SEALED_PREFIX}.{key_id}.{}",
            URL_SAFE_NO_PAD.encode(payload)
        )))
    }

    /// Opens `sealed` in `context`. A value sealed under a data key this
    /// replica has not loaded yet triggers one reload from the store.
    ///
    /// # Errors
    /// [`SealError::OpenFailed`] when the value was tampered with or belongs to
    /// another context; [`SealError::UnknownKey`] when its key is not stored.
    pub async fn open(
        &self,
        context: &SealContext<'_>,
        sealed: &Sealed,
    ) -> Result<SecretBytes, SealError> {
        let key_id = sealed.key_id()?;
        let key = match self.loaded_key(&key_id)? {
            Some(key) => key,
            None => {
                self.refresh().await?;
                self.loaded_key(&key_id)?.ok_or(SealError::UnknownKey)?
            }
        };
        let payload = sealed.payload()?;
        if payload.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed)?;
        let mut in_out = ciphertext.to_vec();
        let plain_len = key
            .open_in_place(nonce, Aad::from(context.aad(&key_id)), &mut in_out)
            .map_err(|_| SealError::OpenFailed)?
            .len();
        in_out.truncate(plain_len);
        Ok(SecretBytes::new(in_out))
    }

    /// Seals the JSON form of `value`.
    ///
    /// # Errors
    /// As [`Sealer::seal`], or [`SealError::Decode`] if `value` does not serialise.
    pub fn seal_json<T: Serialize>(
        &self,
        context: &SealContext<'_>,
        value: &T,
    ) -> Result<Sealed, SealError> {
        let json =
            zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|_| SealError::Decode)?);
        self.seal(context, &json)
    }

    /// Opens a value sealed with [`Sealer::seal_json`].
    ///
    /// # Errors
    /// As [`Sealer::open`], or [`SealError::Decode`] when the JSON is not a `T`.
    pub async fn open_json<T: DeserializeOwned>(
        &self,
        context: &SealContext<'_>,
        sealed: &Sealed,
    ) -> Result<T, SealError> {
        let plain = self.open(context, sealed).await?;
        serde_json::from_slice(plain.expose()).map_err(|_| SealError::Decode)
    }

    /// The blind index of `document` (the same for every replica and brand of
    /// the institution).
    pub fn blind_index(&self, document: &Document) -> Result<BlindIndex, SealError> {
        let ring = self.keyring.read().map_err(|_| SealError::Crypto)?;
        let kind = match document.kind() {
            crate::document::DocumentKind::Cpf => "CPF",
            crate::document::DocumentKind::Cnpj => "CNPJ",
        };
        let input = format!("{INDEX_PREFIX}|{kind}|{}", document.identification());
        let tag = hmac::sign(&ring.index, input.as_bytes());
        let bytes: [u8; 32] = tag.as_ref().try_into().map_err(|_| SealError::Crypto)?;
        Ok(BlindIndex(bytes))
    }

    /// Creates a new data key and seals with it from now on. Values sealed
    /// under older keys keep opening.
    ///
    /// # Errors
    /// [`SealError`] when custody or the store fail.
    pub async fn rotate(&self) -> Result<DataKeyId, SealError> {
        let id = new_key_id();
        create_key(
            self.custody.as_ref(),
            self.store.as_ref(),
            &self.rng,
            id.clone(),
            DataKeyKind::Sealing,
            self.clock.now(),
        )
        .await?;
        self.refresh().await?;
        Ok(id)
    }

    /// Reloads the data keys from the store (to pick up another replica's rotation).
    ///
    /// # Errors
    /// [`SealError`] when custody or the store fail.
    pub async fn refresh(&self) -> Result<(), SealError> {
        let ring = load_keyring(
            self.custody.as_ref(),
            self.store.as_ref(),
            self.clock.as_ref(),
            &self.rng,
        )
        .await?;
        let mut current = self.keyring.write().map_err(|_| SealError::Crypto)?;
        *current = ring;
        Ok(())
    }

    /// The id of the data key that seals now.
    pub fn current_key_id(&self) -> Result<DataKeyId, SealError> {
        let ring = self.keyring.read().map_err(|_| SealError::Crypto)?;
        Ok(ring.current.clone())
    }

    fn loaded_key(&self, id: &DataKeyId) -> Result<Option<Arc<LessSafeKey>>, SealError> {
        let ring = self.keyring.read().map_err(|_| SealError::Crypto)?;
        Ok(ring.sealing.get(id).cloned())
    }
}

fn new_key_id() -> DataKeyId {
    DataKeyId::random()
}

async fn create_key(
    custody: &dyn KeyCustody,
    store: &dyn DataKeyStore,
    rng: &SystemRandom,
    id: DataKeyId,
    kind: DataKeyKind,
    now: Timestamp,
) -> Result<(), SealError> {
    let mut raw = vec![0u8; 32];
    rng.fill(&mut raw).map_err(|_| SealError::Crypto)?;
    let secret = SecretBytes::new(raw);
    let wrapped = custody.wrap_data_key(&secret).await?;
    let stored = StoredDataKey {
        id,
        kind,
        wrapped,
        created_at: now,
    };
    match store.insert_data_key(&stored).await {
        // Another replica created it first: theirs is the one to use.
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn load_keyring(
    custody: &dyn KeyCustody,
    store: &dyn DataKeyStore,
    clock: &dyn Clock,
    rng: &SystemRandom,
) -> Result<Keyring, SealError> {
    let mut keys = store.list_data_keys().await?;
    let index_id = DataKeyId::new(INDEX_KEY_ID).map_err(|_| SealError::Crypto)?;
    let mut created = false;
    if !keys.iter().any(|k| k.kind == DataKeyKind::BlindIndex) {
        create_key(
            custody,
            store,
            rng,
            index_id.clone(),
            DataKeyKind::BlindIndex,
            clock.now(),
        )
        .await?;
        created = true;
    }
    if !keys.iter().any(|k| k.kind == DataKeyKind::Sealing) {
        create_key(
            custody,
            store,
            rng,
            new_key_id(),
            DataKeyKind::Sealing,
            clock.now(),
        )
        .await?;
        created = true;
    }
    if created {
        keys = store.list_data_keys().await?;
    }
    let mut sealing = HashMap::new();
    let mut current: Option<(Timestamp, DataKeyId)> = None;
    let mut index = None;
    for key in keys {
        let secret = custody.unwrap_data_key(&key.wrapped).await?;
        match key.kind {
            DataKeyKind::Sealing => {
                let unbound = UnboundKey::new(&AES_256_GCM, secret.expose())
                    .map_err(|_| SealError::Crypto)?;
                sealing.insert(key.id.clone(), Arc::new(LessSafeKey::new(unbound)));
                let newer = current
                    .as_ref()
                    .is_none_or(|(at, id)| (key.created_at, &key.id) > (*at, id));
                if newer {
                    current = Some((key.created_at, key.id));
                }
            }
            DataKeyKind::BlindIndex => {
                // Exactly one index key exists (fixed id, insert-if-absent).
                if key.id == index_id {
                    index = Some(hmac::Key::new(hmac::HMAC_SHA256, secret.expose()));
                }
            }
        }
    }
    let (_, current) = current.ok_or(SealError::UnknownKey)?;
    Ok(Keyring {
        sealing,
        current,
        index: index.ok_or(SealError::UnknownKey)?,
    })
}
