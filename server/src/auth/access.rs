//! Who may do what: any member of an organization reads its runs; writing
//! needs the `writer` role and the write scope in the token.

use crate::storage::Role;

use super::Principal;

/// The scope a token needs to create or replace runs.
pub const WRITE_SCOPE: &str = "task_agent_runs:write";

/// What a request wants to do.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Access {
    /// Read or list runs.
    Read,
    /// Create or replace runs.
    Write,
}

/// Why a verified principal may not do it.
#[derive(Debug, Eq, PartialEq, thiserror::Error)]
pub enum Denied {
    #[error("the token's subject is not a member of this organization")]
    NotAMember,
    #[error("the token's subject may only read this organization's runs (role reader)")]
    ReaderCannotWrite,
    #[error("the token lacks the scope {0}")]
    MissingScope(&'static str),
}

/// Decides `access` for `principal`, whose role in the organization is
/// `role` (`None` for a non-member).
pub fn authorize(principal: &Principal, role: Option<Role>, access: Access) -> Result<(), Denied> {
    match (role, access) {
        (None, _) => Err(Denied::NotAMember),
        (Some(_), Access::Read) => Ok(()),
        (Some(Role::Reader), Access::Write) => Err(Denied::ReaderCannotWrite),
        (Some(Role::Writer), Access::Write) if !principal.has_scope(WRITE_SCOPE) => {
            Err(Denied::MissingScope(WRITE_SCOPE))
        }
        (Some(Role::Writer), Access::Write) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scopes: &[&str]) -> Principal {
        Principal {
            subject: "s".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: 0,
        }
    }

    #[test]
    fn reading_needs_membership_and_writing_the_role_and_the_scope() {
        let writer_token = principal(&["openid", WRITE_SCOPE]);
        let plain_token = principal(&["openid"]);
        assert_eq!(
            authorize(&plain_token, None, Access::Read),
            Err(Denied::NotAMember)
        );
        assert_eq!(
            authorize(&writer_token, None, Access::Write),
            Err(Denied::NotAMember)
        );
        assert_eq!(
            authorize(&plain_token, Some(Role::Reader), Access::Read),
            Ok(())
        );
        assert_eq!(
            authorize(&plain_token, Some(Role::Writer), Access::Read),
            Ok(())
        );
        assert_eq!(
            authorize(&writer_token, Some(Role::Reader), Access::Write),
            Err(Denied::ReaderCannotWrite)
        );
        assert_eq!(
            authorize(&plain_token, Some(Role::Writer), Access::Write),
            Err(Denied::MissingScope(WRITE_SCOPE))
        );
        assert_eq!(
            authorize(&writer_token, Some(Role::Writer), Access::Write),
            Ok(())
        );
    }
}
