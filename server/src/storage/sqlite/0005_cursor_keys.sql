-- The secret that keys list cursors (an HMAC), shared by every server on
-- this file. The newest row is the current key; the server stores the first
-- one itself, and `cursor-key rotate` adds the next id and deletes the older
-- ones.
CREATE TABLE cursor_keys (
    id         INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295), -- a u32 in every cursor
    secret     BLOB    NOT NULL CHECK (length(secret) >= 32),
    created_at TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
