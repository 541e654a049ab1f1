//! Who a verified token speaks for.

/// The subject of a verified token and what it was granted.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Principal {
    /// The token's `sub`: a user (Kratos) or an OAuth client or user (Hydra).
    pub subject: String,
    /// The granted scopes (`scp`, or the space-separated `scope`).
    pub scopes: Vec<String>,
    /// The token's `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl Principal {
    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}
