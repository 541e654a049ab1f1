//! State shared by every request.

use std::sync::Arc;

use http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;

use crate::auth::{Access, JwtVerifier, MembershipCache, authorize, bearer_token};
use crate::cursor::CursorKeyHolder;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::storage::Database;

/// What the handlers need.
pub struct ServerContext {
    pub database: Arc<dyn Database>,
    pub verifier: JwtVerifier,
    /// Roles looked up recently.
    pub memberships: MembershipCache,
    /// The key that signs and checks list cursors.
    pub cursor_keys: CursorKeyHolder,
    /// The development issuer's keys, published when it is enabled.
    pub dev_jwks: Option<JwkSet>,
    pub metrics: Arc<Metrics>,
    /// Permits for API requests in progress: beyond the limit, requests get
    /// 503 at once instead of queueing for database connections.
    pub admission: Semaphore,
}

impl ServerContext {
    /// A permit to handle one API request, or 503 when the server is at its
    /// limit of concurrent requests.
    pub fn admit(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        self.admission
            .try_acquire()
            .map_err(|_| ApiError::Overloaded)
    }

    /// Authenticates the request and decides `access` to the runs of
    /// `org_id`, before anything about the runs themselves is looked up, so
    /// that a non-member learns nothing about which runs exist.
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        org_id: Uuid,
        access: Access,
    ) -> Result<(), ApiError> {
        let token = bearer_token(headers)?;
        let principal = self.verifier.verify(token).await?;
        let role = self
            .memberships
            .role(self.database.as_ref(), org_id, &principal.subject)
            .await?;
        Ok(authorize(&principal, role, access)?)
    }
}
