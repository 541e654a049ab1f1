-- Runs: the filter and sort columns, plus the run's JSON as the API returns
-- it (TEXT, not JSONB: the stored bytes are returned as they are).
CREATE TABLE task_agent_runs (
    org_id                 UUID    NOT NULL,
    project_id             UUID    NOT NULL,
    task_agent_id          UUID    NOT NULL,
    run_id                 UUID    NOT NULL,
    created_sec            BIGINT  NOT NULL, -- `created`: seconds since the Unix epoch
    created_nsec           BIGINT  NOT NULL, -- and nanoseconds within the second
    session_id             TEXT    NOT NULL,
    status                 TEXT    NOT NULL,
    is_error               BOOLEAN NOT NULL,
    had_task_tool_fail     BOOLEAN NOT NULL,
    had_mcp_tool_fail      BOOLEAN NOT NULL,
    duration_ms            BIGINT,
    task_agent_revision_id UUID,
    etag                   TEXT    NOT NULL,
    body                   TEXT    NOT NULL,
    PRIMARY KEY (org_id, project_id, task_agent_id, run_id)
);

-- Newest-first keyset pagination within a task agent.
CREATE INDEX task_agent_runs_by_created
    ON task_agent_runs (org_id, project_id, task_agent_id, created_sec DESC, created_nsec DESC, run_id DESC);

-- The same order within one session, the most selective filter. It leads
-- with the session so that the planner never takes it for a lookup by id.
CREATE INDEX task_agent_runs_by_session
    ON task_agent_runs (session_id, org_id, project_id, task_agent_id, created_sec DESC, created_nsec DESC, run_id DESC);
