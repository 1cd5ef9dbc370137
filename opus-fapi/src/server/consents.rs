//! The consent port over the storage ports: data-sharing consents.

use std::sync::Arc;

use async_trait::async_trait;
use opus_core::consent::{
    ConsentKind, ConsentStatus, DataConsent, DataRejection, DataRejectionCode, DataRejectionReason,
    RejectedBy,
};
use opus_core::interaction::{
    ConsentAuthorisation, ConsentDetails, DenialReason, InteractionApproval, InteractionError,
};
use opus_core::seal::Sealer;
use opus_core::store::{ConsentRecord, StoreError};
use opus_core::{BrandId, ClientId, Clock, ConsentId, Storage};

/// [`ConsentAuthorisation`] for data-sharing consents kept through the
/// consent store (the consents API of `opus-consent` writes them there):
/// authorising checks status, deadline and customer, stores the chosen
/// resources and emits the status event in the same transaction. Other
/// consent kinds are not handled (their crates provide their own port).
#[derive(Clone)]
pub struct StoreConsentAuthorisation {
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for StoreConsentAuthorisation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConsentAuthorisation")
            .finish_non_exhaustive()
    }
}

impl StoreConsentAuthorisation {
    /// Over `storage`, opening consents with `sealer`, at `clock`'s time.
    pub fn new(storage: Storage, sealer: Arc<Sealer>, clock: Arc<dyn Clock>) -> Self {
        Self {
            storage,
            sealer,
            clock,
        }
    }

    async fn record(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<Option<ConsentRecord>, InteractionError> {
        self.storage
            .consents
            .get_consent(brand, id)
            .await
            .map_err(|e| InteractionError::Unavailable(Box::new(e)))
    }

    async fn open(&self, record: &ConsentRecord) -> Result<DataConsent, InteractionError> {
        DataConsent::open(record, &self.sealer)
            .await
            .map_err(|e| InteractionError::Unavailable(Box::new(e)))
    }

    async fn write(
        &self,
        consent: &DataConsent,
        version: u64,
        from: ConsentStatus,
    ) -> Result<Result<(), StoreError>, InteractionError> {
        let now = self.clock.now();
        let sealed = consent
            .seal(&self.sealer)
            .map_err(|e| InteractionError::Unavailable(Box::new(e)))?;
        let event = consent
            .status_changed_message(from, now)
            .map_err(|e| InteractionError::Unavailable(Box::new(e)))?;
        match self
            .storage
            .consents
            .update_consent(&sealed, version, &[event])
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(StoreError::Conflict) => Ok(Err(StoreError::Conflict)),
            Err(e) => Err(InteractionError::Unavailable(Box::new(e))),
        }
    }
}

#[async_trait]
impl ConsentAuthorisation for StoreConsentAuthorisation {
    async fn details(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<Option<ConsentDetails>, InteractionError> {
        let Some(record) = self.record(brand, id).await? else {
            return Ok(None);
        };
        if record.kind != ConsentKind::Data {
            return Ok(None);
        }
        let consent = self.open(&record).await?;
        let mut resource_types = Vec::new();
        for t in consent.permissions.iter().filter_map(|p| p.resource_type()) {
            if !resource_types.contains(&t) {
                resource_types.push(t);
            }
        }
        Ok(Some(ConsentDetails {
            id: consent.id,
            kind: ConsentKind::Data,
            client_id: consent.client_id,
            status: consent.status,
            logged_user: Some(consent.logged_user),
            business_entity: consent.business_entity,
            permissions: consent.permissions,
            expiration_date_time: consent.expiration_date_time,
            resource_types,
        }))
    }

    async fn authorise(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        client: &ClientId,
        approval: &InteractionApproval,
    ) -> Result<Result<(), DenialReason>, InteractionError> {
        let now = self.clock.now();
        let Some(record) = self.record(brand, id).await? else {
            return Ok(Err(DenialReason::Expired));
        };
        if record.kind != ConsentKind::Data {
            return Ok(Err(DenialReason::Expired));
        }
        let mut consent = self.open(&record).await?;
        if consent.status != ConsentStatus::AwaitingAuthorisation || &consent.client_id != client {
            return Ok(Err(DenialReason::Expired));
        }
        if consent.deadline().is_some_and(|d| d <= now) {
            return Ok(Err(DenialReason::Expired));
        }
        if consent.logged_user != approval.subject
            || consent.business_entity != approval.business_entity
        {
            return Ok(Err(DenialReason::WrongCustomer));
        }
        consent.status = ConsentStatus::Authorised;
        consent.status_update_date_time = now;
        consent.resources = approval.resources.clone();
        Ok(self
            .write(
                &consent,
                record.version,
                ConsentStatus::AwaitingAuthorisation,
            )
            .await?
            // Someone else moved it on meanwhile.
            .map_err(|_| DenialReason::Expired))
    }

    async fn reject(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        reason: DenialReason,
    ) -> Result<(), InteractionError> {
        let Some(record) = self.record(brand, id).await? else {
            return Ok(());
        };
        if record.kind != ConsentKind::Data || record.status != ConsentStatus::AwaitingAuthorisation
        {
            return Ok(());
        }
        let mut consent = self.open(&record).await?;
        let (rejected_by, code) = match reason {
            DenialReason::CustomerRejected => (
                RejectedBy::User,
                DataRejectionCode::CustomerManuallyRejected,
            ),
            DenialReason::Expired => (RejectedBy::Aspsp, DataRejectionCode::ConsentExpired),
            _ => (RejectedBy::Aspsp, DataRejectionCode::InternalSecurityReason),
        };
        consent.status = ConsentStatus::Rejected;
        consent.status_update_date_time = self.clock.now();
        consent.rejection = Some(DataRejection {
            rejected_by,
            reason: DataRejectionReason {
                code,
                additional_information: None,
            },
        });
        // A conflict: another tab authorised or rejected it first.
        self.write(
            &consent,
            record.version,
            ConsentStatus::AwaitingAuthorisation,
        )
        .await?
        .ok();
        Ok(())
    }
}
