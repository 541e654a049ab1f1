-- Who may do what: one role per subject and organization.
CREATE TABLE memberships (
    org_id  UUID NOT NULL,
    subject TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('reader', 'writer')),
    PRIMARY KEY (org_id, subject)
);
