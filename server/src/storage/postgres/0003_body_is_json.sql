-- A run's body is sent to readers as it is stored, without parsing it again
-- on every read, so the database itself refuses a body that is not JSON,
-- whoever writes it. Adding the constraint checks the bodies stored before.
ALTER TABLE task_agent_runs
    ADD CONSTRAINT task_agent_runs_body_is_json CHECK ((body::json) IS NOT NULL);
