//! State shared by every request.

use std::sync::Arc;

use crate::storage::RunStore;

/// What the handlers need: the storage (and, with authentication, the
/// verifier and the membership source).
pub struct ServerContext {
    pub store: Arc<dyn RunStore>,
}
