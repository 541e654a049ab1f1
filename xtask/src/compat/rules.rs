//! The rules: every kind of change the walk reports, and what it means for
//! the clients built from the released contract.
//!
//! A value travels one way. Clients *send* parameters and request bodies and
//! *receive* responses. A change that makes a schema admit more values is
//! compatible where clients send (what they sent before is still accepted)
//! and breaking where they receive (they may get a value they cannot read);
//! a change that makes it admit fewer is the reverse. A schema used both ways
//! is judged both ways, and reported once per way where the ways differ.

/// How a change affects the clients built from the released contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    /// Prose only (descriptions, summaries, examples): no client notices.
    Documentation,
    /// Every existing client keeps working.
    Compatible,
    /// Some existing client may fail.
    Breaking,
}

impl Impact {
    /// The word the report uses.
    pub fn name(self) -> &'static str {
        match self {
            Impact::Documentation => "documentation",
            Impact::Compatible => "compatible",
            Impact::Breaking => "breaking",
        }
    }
}

/// Which way a changed value travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// Clients send it: parameters and request bodies.
    Request,
    /// Clients receive it: responses and their headers.
    Response,
}

impl Side {
    /// The word the report uses.
    pub fn name(self) -> &'static str {
        match self {
            Side::Request => "request",
            Side::Response => "response",
        }
    }
}

/// What a change to a keyword that limits a schema's values does to the set
/// of values the schema admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// It admits every value it admitted before, and more.
    Widened,
    /// It admits only values it admitted before.
    Narrowed,
    /// Neither, or nothing finer can be said (two regular expressions).
    Changed,
}

impl Effect {
    fn name(self) -> &'static str {
        match self {
            Effect::Widened => "widened",
            Effect::Narrowed => "narrowed",
            Effect::Changed => "changed",
        }
    }
}

/// Every kind of change the walk reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    OperationRemoved,
    OperationAdded,
    /// Same method and path, another `operationId`.
    OperationRenamed,
    /// The `tags` of an operation.
    TagsChanged,
    ParameterRemoved,
    ParameterAdded {
        required: bool,
    },
    ParameterRequirement {
        now_required: bool,
    },
    /// `style`, `explode`, `allowReserved` or `allowEmptyValue`.
    ParameterSerialization,
    RequestBodyAdded {
        required: bool,
    },
    RequestBodyRemoved,
    RequestBodyRequirement {
        now_required: bool,
    },
    ContentTypeAdded,
    ContentTypeRemoved,
    StatusAdded {
        success: bool,
    },
    StatusRemoved,
    ResponseHeaderAdded,
    ResponseHeaderRemoved,
    ResponseHeaderRequirement {
        now_required: bool,
    },
    SecurityRequirementAdded,
    SecurityRequirementRemoved,
    /// A released requirement replaced by one with the same schemes and
    /// fewer scopes.
    SecurityScopesReduced,
    SecuritySchemeChanged,
    PropertyAdded {
        required: bool,
        /// Whether the released object said it admits other properties
        /// (`additionalProperties: true`).
        open_before: bool,
    },
    PropertyRemoved {
        /// Whether the object still admits it as an unknown property.
        still_accepted: bool,
    },
    PropertyRequirement {
        now_required: bool,
    },
    /// A keyword that limits values (see `keywords`), or a subschema
    /// (`items`, `additionalProperties`, `oneOf`, `anyOf`) added or removed.
    Constraint {
        keyword: &'static str,
        effect: Effect,
    },
    DefaultChanged,
    /// The `title` of a schema.
    TitleChanged,
    Deprecation,
    Documentation,
    /// A difference no rule knows; judged breaking until a rule says otherwise.
    Unclassified,
}

/// What a change means for clients: its name, and its impact with the reason
/// where clients send the value and where they receive it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    pub request: (Impact, &'static str),
    pub response: (Impact, &'static str),
}

impl Rule {
    /// A rule whose impact does not depend on the side.
    fn fixed(id: &str, impact: Impact, why: &'static str) -> Rule {
        Rule {
            id: id.to_owned(),
            request: (impact, why),
            response: (impact, why),
        }
    }

    fn by_side(
        id: &str,
        request: (Impact, &'static str),
        response: (Impact, &'static str),
    ) -> Rule {
        Rule {
            id: id.to_owned(),
            request,
            response,
        }
    }

    /// Whether the rule says something else (impact or reason) for values
    /// that clients send than for values they receive. Only then is a
    /// finding's side worth reporting, and a change met both ways reported
    /// once per side.
    pub fn varies_by_side(&self) -> bool {
        self.request != self.response
    }

    /// The impact and reason on `side`; a rule that does not depend on the
    /// side needs none.
    pub fn on(&self, side: Option<Side>) -> (Impact, &'static str) {
        match side {
            Some(Side::Response) => self.response,
            Some(Side::Request) | None => self.request,
        }
    }
}

impl Change {
    /// The rule of this change: the one table of classifications.
    pub fn rule(self) -> Rule {
        use Impact::{Breaking, Compatible, Documentation};
        match self {
            Change::OperationRemoved => Rule::fixed(
                "operation-removed",
                Breaking,
                "clients that call it get an error",
            ),
            Change::OperationAdded => Rule::fixed(
                "operation-added",
                Compatible,
                "existing clients do not call it",
            ),
            Change::OperationRenamed => Rule::fixed(
                "operation-renamed",
                Breaking,
                "generated clients name their methods after the operationId",
            ),
            Change::TagsChanged => Rule::fixed(
                "tags-changed",
                Breaking,
                "openapi-generator and others group the generated methods into classes named after the first tag",
            ),
            Change::ParameterRemoved => Rule::fixed(
                "parameter-removed",
                Breaking,
                "clients that send it are refused or silently ignored",
            ),
            Change::ParameterAdded { required: true } => Rule::fixed(
                "required-parameter-added",
                Breaking,
                "existing clients do not send it",
            ),
            Change::ParameterAdded { required: false } => Rule::fixed(
                "optional-parameter-added",
                Compatible,
                "existing clients may leave it out",
            ),
            Change::ParameterRequirement { now_required: true } => Rule::fixed(
                "parameter-now-required",
                Breaking,
                "clients that leave it out are refused",
            ),
            Change::ParameterRequirement {
                now_required: false,
            } => Rule::fixed(
                "parameter-now-optional",
                Compatible,
                "clients that send it are still served",
            ),
            Change::ParameterSerialization => Rule::fixed(
                "parameter-serialization-changed",
                Breaking,
                "clients serialize the parameter the released way",
            ),
            Change::RequestBodyAdded { required: true } => Rule::fixed(
                "required-request-body-added",
                Breaking,
                "existing clients send no body",
            ),
            Change::RequestBodyAdded { required: false } => Rule::fixed(
                "optional-request-body-added",
                Compatible,
                "existing clients may send no body",
            ),
            Change::RequestBodyRemoved => Rule::fixed(
                "request-body-removed",
                Breaking,
                "clients send a body the operation no longer takes",
            ),
            Change::RequestBodyRequirement { now_required: true } => Rule::fixed(
                "request-body-now-required",
                Breaking,
                "clients that send no body are refused",
            ),
            Change::RequestBodyRequirement {
                now_required: false,
            } => Rule::fixed(
                "request-body-now-optional",
                Compatible,
                "clients that send a body are still served",
            ),
            Change::ContentTypeAdded => Rule::by_side(
                "content-type-added",
                (Compatible, "clients may keep sending the released types"),
                (Compatible, "served only to clients that ask for it"),
            ),
            Change::ContentTypeRemoved => Rule::by_side(
                "content-type-removed",
                (Breaking, "clients that send it are refused"),
                (Breaking, "clients that ask for it cannot get it"),
            ),
            Change::StatusAdded { success: true } => Rule::fixed(
                "success-status-added",
                Breaking,
                "generated clients treat an undocumented success status as an error",
            ),
            Change::StatusAdded { success: false } => Rule::fixed(
                "error-status-added",
                Compatible,
                "clients already treat an undocumented error status as an error",
            ),
            Change::StatusRemoved => Rule::fixed(
                "status-removed",
                Breaking,
                "clients that handle the status lose what it meant",
            ),
            Change::ResponseHeaderAdded => Rule::fixed(
                "response-header-added",
                Compatible,
                "clients ignore headers they do not know",
            ),
            Change::ResponseHeaderRemoved => Rule::fixed(
                "response-header-removed",
                Breaking,
                "clients that read it find nothing",
            ),
            Change::ResponseHeaderRequirement { now_required: true } => Rule::fixed(
                "response-header-now-required",
                Compatible,
                "clients that handled its absence still work",
            ),
            Change::ResponseHeaderRequirement {
                now_required: false,
            } => Rule::fixed(
                "response-header-now-optional",
                Breaking,
                "clients that rely on it may find nothing",
            ),
            Change::SecurityRequirementAdded => Rule::fixed(
                "security-requirement-added",
                Compatible,
                "one more way to authenticate; the released ways still work",
            ),
            Change::SecurityRequirementRemoved => Rule::fixed(
                "security-requirement-removed",
                Breaking,
                "clients that authenticate this way are refused",
            ),
            Change::SecurityScopesReduced => Rule::fixed(
                "security-scopes-reduced",
                Compatible,
                "clients granted the released scopes hold the fewer ones too",
            ),
            Change::SecuritySchemeChanged => Rule::fixed(
                "security-scheme-changed",
                Breaking,
                "clients present credentials the released way",
            ),
            Change::PropertyAdded {
                required,
                open_before,
            } => Rule::by_side(
                "property-added",
                if required {
                    (Breaking, "existing clients do not send it")
                } else {
                    (Compatible, "existing clients may leave it out")
                },
                if open_before {
                    (
                        Compatible,
                        "the released object admits other properties, so clients accept it",
                    )
                } else {
                    (
                        Breaking,
                        "the released object did not say it admits other properties \
                         (`additionalProperties: true`), so strict clients reject it",
                    )
                },
            ),
            Change::PropertyRemoved { still_accepted } => Rule::by_side(
                "property-removed",
                if still_accepted {
                    (
                        Compatible,
                        "clients that send it are served, and the value ignored",
                    )
                } else {
                    (Breaking, "clients that send it are refused")
                },
                (Breaking, "clients that read it find nothing"),
            ),
            Change::PropertyRequirement { now_required: true } => Rule::by_side(
                "property-now-required",
                (Breaking, "clients that leave it out are refused"),
                (Compatible, "clients that handled its absence still work"),
            ),
            Change::PropertyRequirement {
                now_required: false,
            } => Rule::by_side(
                "property-now-optional",
                (Compatible, "clients that send it are still served"),
                (Breaking, "clients that rely on it may find nothing"),
            ),
            Change::Constraint { keyword, effect } => {
                let id = format!("{keyword}-{}", effect.name());
                match effect {
                    Effect::Widened => Rule::by_side(
                        &id,
                        (Compatible, "every value clients sent is still accepted"),
                        (
                            Breaking,
                            "clients may receive a value the released contract ruled out",
                        ),
                    ),
                    Effect::Narrowed => Rule::by_side(
                        &id,
                        (
                            Breaking,
                            "values the released contract allowed clients to send are refused",
                        ),
                        (Compatible, "clients receive only values they accept"),
                    ),
                    Effect::Changed => Rule::fixed(
                        &id,
                        Breaking,
                        "values clients send may be refused, and values they receive rejected",
                    ),
                }
            }
            // Sent, a value left out now means something else to the server;
            // received, generated clients fill in the released default for
            // an optional field the server leaves out. Either way the two
            // sides disagree about a value nobody wrote down.
            Change::DefaultChanged => Rule::fixed(
                "default-changed",
                Breaking,
                "a value left out means the released default to clients, and the new one to the server",
            ),
            Change::TitleChanged => Rule::fixed(
                "title-changed",
                Breaking,
                "generators name the types of schemas after their title",
            ),
            Change::Deprecation => Rule::fixed(
                "deprecation-changed",
                Compatible,
                "a notice to clients; nothing they send or receive changes",
            ),
            Change::Documentation => Rule::fixed(
                "documentation-changed",
                Documentation,
                "prose and examples only",
            ),
            Change::Unclassified => Rule::fixed(
                "unclassified",
                Breaking,
                "no rule knows this change: judge it, then bump the major version or teach xtask/src/compat/rules.rs",
            ),
        }
    }
}
