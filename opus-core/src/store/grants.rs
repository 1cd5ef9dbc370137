//! Authorization grants: pushed authorization requests, authorization codes
//! and tokens.
//!
//! Codes and tokens are stored as SHA-256 hashes ([`TokenHash`]): a copy of
//! the database does not yield usable credentials.

use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::digest;

use crate::datetime::Timestamp;
use crate::id::{BrandId, ClientId, ConsentId, GrantId};
use crate::seal::Sealed;

use super::StoreError;

/// The SHA-256 of a code or token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Hashes a code or token as presented.
    pub fn of(token: &str) -> Self {
        let d = digest::digest(&digest::SHA256, token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    /// Rebuilds a hash read back from a backend column.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenHash({:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2]
        )
    }
}

/// A pushed authorization request (RFC 9126), validated and waiting for the
/// authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParRecord {
    /// The brand it was pushed to.
    pub brand: BrandId,
    /// The `request_uri` handed to the client (`urn:ietf:params:oauth:request_uri:…`).
    pub request_uri: String,
    /// The client that pushed it.
    pub client_id: ClientId,
    /// When it was pushed.
    pub created_at: Timestamp,
    /// When it stops being usable.
    pub expires_at: Timestamp,
    /// The validated authorization request, sealed.
    pub request: Sealed,
}

/// An issued authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    /// The brand that issued it.
    pub brand: BrandId,
    /// Hash of the code.
    pub code: TokenHash,
    /// The grant the code belongs to (tokens issued from it share it).
    pub grant_id: GrantId,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The consent it authorises, if any.
    pub consent_id: Option<ConsentId>,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops being redeemable.
    pub expires_at: Timestamp,
    /// The rest of the grant (redirect URI, PKCE challenge, nonce, scopes,
    /// subject), sealed.
    pub grant: Sealed,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeRedemption {
    /// First redemption: the code is now spent.
    Redeemed(AuthorizationCodeRecord),
    /// The code was already redeemed: a replay. RFC 6749 §4.1.2 asks to revoke
    /// the tokens issued from it, hence the grant id.
    AlreadyRedeemed {
        /// The grant whose tokens should be revoked.
        grant_id: GrantId,
    },
    /// No such code in this brand, or it expired.
    Unknown,
}

/// Access or refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// An access token.
    Access,
    /// A refresh token.
    Refresh,
}

/// An issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The brand that issued it.
    pub brand: BrandId,
    /// Hash of the token.
    pub token: TokenHash,
    /// Access or refresh.
    pub kind: TokenKind,
    /// The grant it was issued from.
    pub grant_id: GrantId,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The consent it is tied to (revoking the consent revokes the token).
    pub consent_id: Option<ConsentId>,
    /// The granted scope, space separated.
    pub scope: String,
    /// The bound client certificate's `x5t#S256` (RFC 8705), if bound.
    pub certificate_thumbprint: Option<String>,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires (`None`: while the consent lives).
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// The authenticated subject and claims, sealed.
    pub subject: Option<Sealed>,
}

impl TokenRecord {
    /// Whether the token is usable at `now`: not revoked, not expired.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// Storage of authorization grants.
#[async_trait]
pub trait GrantStore: Send + Sync + 'static {
    /// Stores a pushed authorization request.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the `request_uri` exists.
    async fn put_par(&self, record: &ParRecord) -> Result<(), StoreError>;

    /// Consumes a pushed request: returns it once, removing it atomically; any
    /// later call, a call after `expires_at`, or a call from another brand or
    /// client returns `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn take_par(
        &self,
        brand: &BrandId,
        request_uri: &str,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<ParRecord>, StoreError>;

    /// Stores an authorization code.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the code hash exists.
    async fn put_code(&self, record: &AuthorizationCodeRecord) -> Result<(), StoreError>;

    /// Redeems a code: exactly one of any number of concurrent calls gets
    /// [`CodeRedemption::Redeemed`]; the others, and all later calls, get
    /// [`CodeRedemption::AlreadyRedeemed`]. Spent codes are remembered until
    /// their expiry so replays are recognised.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn redeem_code(
        &self,
        brand: &BrandId,
        code: &TokenHash,
        now: Timestamp,
    ) -> Result<CodeRedemption, StoreError>;

    /// Stores an issued token.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the token hash exists.
    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError>;

    /// The token of `brand` with this hash (revoked or not), or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get_token(
        &self,
        brand: &BrandId,
        token: &TokenHash,
    ) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes one token; `true` when it was active.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn revoke_token(
        &self,
        brand: &BrandId,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Revokes every token of a grant (code replay); returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn revoke_grant(
        &self,
        brand: &BrandId,
        grant_id: &GrantId,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Revokes every token tied to a consent (the consent was revoked,
    /// rejected, consumed or expired); returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn revoke_consent_tokens(
        &self,
        brand: &BrandId,
        consent_id: &ConsentId,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Rotates a refresh token: revokes `old` and stores `new` in one step,
    /// only if `old` is still active. Of concurrent rotations of one token,
    /// exactly one succeeds.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when `old` is revoked, expired or already
    /// rotated; [`StoreError::NotFound`] when it does not exist.
    async fn rotate_refresh_token(
        &self,
        brand: &BrandId,
        old: &TokenHash,
        new: &TokenRecord,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Deletes pushed requests, codes and tokens that expired before `now`;
    /// returns how many records went.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn purge_expired_grants(&self, now: Timestamp) -> Result<u64, StoreError>;
}
