//! Memberships: who may read and write the runs of an organization.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreError;

/// What a member may do in an organization.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Role {
    /// Read and list runs.
    Reader,
    /// Also create and replace runs (with the write scope in the token).
    Writer,
}

impl Role {
    /// The stored and printed name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Role, String> {
        match name {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            other => Err(format!("unknown role {other:?}: expected reader or writer")),
        }
    }
}

/// A subject's role in an organization.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Membership {
    pub org_id: Uuid,
    /// The token subject (`sub`): a user or an OAuth client.
    pub subject: String,
    pub role: Role,
}

/// The memberships of all organizations.
#[async_trait]
pub trait MembershipStore: Send + Sync + 'static {
    /// The role of `subject` in `org_id`, if it is a member.
    async fn role(&self, org_id: Uuid, subject: &str) -> Result<Option<Role>, StoreError>;

    /// Adds the membership, or changes the role of an existing one.
    async fn put_member(&self, membership: &Membership) -> Result<(), StoreError>;

    /// Removes a membership; whether there was one.
    async fn remove_member(&self, org_id: Uuid, subject: &str) -> Result<bool, StoreError>;

    /// The memberships of `org_id`, or of every organization.
    async fn members(&self, org_id: Option<Uuid>) -> Result<Vec<Membership>, StoreError>;
}
