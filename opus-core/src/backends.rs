//! The plug-ins of a deployment, bundled in one value.

use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::event::EventSink;
use crate::keys::KeyCustody;
use crate::seal::Sealer;
use crate::store::Storage;

/// What every server-side component needs from the institution: storage,
/// key custody, sealing, events and time. Cheap to clone.
#[derive(Clone)]
pub struct Backends {
    /// Every storage port.
    pub storage: Storage,
    /// Key custody.
    pub keys: Arc<dyn KeyCustody>,
    /// Sealing at rest (built from `keys` and `storage.data_keys`).
    pub sealer: Arc<Sealer>,
    /// Where domain events go.
    pub events: Arc<dyn EventSink>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backends")
            .field("sealer", &self.sealer)
            .finish_non_exhaustive()
    }
}
