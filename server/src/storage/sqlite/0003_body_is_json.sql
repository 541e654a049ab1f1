-- A run's body is sent to readers as it is stored, without parsing it again
-- on every read, so the database itself refuses a body that is not JSON,
-- whoever writes it.
CREATE TRIGGER task_agent_runs_body_is_json_on_insert
    BEFORE INSERT ON task_agent_runs
    WHEN NOT json_valid(NEW.body)
BEGIN
    SELECT RAISE(ABORT, 'task_agent_runs.body must be JSON');
END;

CREATE TRIGGER task_agent_runs_body_is_json_on_update
    BEFORE UPDATE OF body ON task_agent_runs
    WHEN NOT json_valid(NEW.body)
BEGIN
    SELECT RAISE(ABORT, 'task_agent_runs.body must be JSON');
END;

-- The bodies stored before: json() fails ("malformed JSON"), and with it this
-- migration, on the first one that is not JSON.
SELECT json(body) FROM task_agent_runs WHERE NOT json_valid(body) LIMIT 1;
