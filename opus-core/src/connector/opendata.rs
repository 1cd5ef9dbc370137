//! The institution's public catalogue (open data, phase 1): its service
//! channels and its products and services, as the open-data APIs publish
//! them.

use async_trait::async_trait;

use super::ConnectorError;
use crate::id::BrandId;

/// Where the catalogue of a brand comes from.
///
/// The SDK serves it on the open-data endpoints with the spec's envelopes,
/// paging, caching and rate limit; the bank only says what it offers.
#[async_trait]
pub trait OpenDataConnector: Send + Sync + 'static {
    /// The `data` of the open-data endpoint `endpoint` (its template, e.g.
    /// `/open-banking/channels/v1/branches`) for `brand`, in the shape its
    /// specification gives: for channels and products-services an object
    /// (the brand and its companies), for the `opendata-*` families the
    /// list of products. The SDK caches it (see the open-data APIs'
    /// freshness), so it is called rarely.
    ///
    /// # Errors
    /// [`ConnectorError::NotFound`] for an endpoint the brand does not
    /// publish; other errors when the back office fails.
    async fn catalogue(
        &self,
        brand: &BrandId,
        endpoint: &str,
    ) -> Result<serde_json::Value, ConnectorError>;
}
