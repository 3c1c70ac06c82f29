//! Who is calling, and the one place where visibility (PRODUCT.md §1) is decided.

use crate::domain::{Scope, Scopes, Status};
use crate::error::{AppError, Result};

/// The authenticated (or anonymous) caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Name of the API key; `None` for anonymous callers.
    pub key_name: Option<String>,
    pub scopes: Scopes,
}

impl Caller {
    pub fn anonymous(public_read: bool) -> Self {
        Self {
            key_name: None,
            scopes: if public_read {
                Scopes::from_granted(&[Scope::Read])
            } else {
                Scopes::none()
            },
        }
    }

    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes.contains(scope) {
            Ok(())
        } else if self.key_name.is_none() {
            Err(AppError::Unauthorized(format!(
                "this operation needs an API key with the `{scope}` scope"
            )))
        } else {
            Err(AppError::Forbidden(format!(
                "the API key lacks the `{scope}` scope"
            )))
        }
    }

    pub fn visibility(&self) -> Visibility {
        if self.scopes.can_preview() {
            Visibility::All
        } else {
            Visibility::PublishedOnly
        }
    }
}

/// What content a caller may see. Every query for content goes through
/// [`Visibility::status_filter`], so REST, GraphQL, includes, search and counts apply
/// the same rule: without the preview scope only `published` items, and only links whose
/// both ends are published, are visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    PublishedOnly,
    All,
}

impl Visibility {
    /// A SQL condition on the `status` column of `table_alias` (`TRUE` when all is visible).
    pub fn status_filter(self, table_alias: &str) -> String {
        match self {
            Visibility::PublishedOnly => format!("{table_alias}.status = '{}'", Status::Published),
            Visibility::All => "1 = 1".to_owned(),
        }
    }

    pub fn can_see(self, status: Status) -> bool {
        self == Visibility::All || status.is_public()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_readers_see_only_published_content() {
        let caller = Caller::anonymous(true);
        assert_eq!(caller.visibility(), Visibility::PublishedOnly);
        assert!(caller.require(Scope::Read).is_ok());
        assert!(matches!(
            caller.require(Scope::Preview),
            Err(AppError::Unauthorized(_))
        ));
        assert!(!caller.visibility().can_see(Status::Draft));
        assert!(caller.visibility().can_see(Status::Published));
    }

    #[test]
    fn closed_public_read_needs_a_key() {
        let caller = Caller::anonymous(false);
        assert!(matches!(
            caller.require(Scope::Read),
            Err(AppError::Unauthorized(_))
        ));
    }

    #[test]
    fn preview_keys_see_drafts() {
        let caller = Caller {
            key_name: Some("editor".into()),
            scopes: Scopes::from_granted(&[Scope::Preview]),
        };
        assert_eq!(caller.visibility(), Visibility::All);
        assert!(caller.visibility().can_see(Status::Draft));
        assert!(matches!(
            caller.require(Scope::Admin),
            Err(AppError::Forbidden(_))
        ));
    }
}
