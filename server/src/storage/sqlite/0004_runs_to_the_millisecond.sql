-- Runs stored before contract 2.0.0 with timestamps finer than the
-- millisecond are rewritten as this server writes them (body, ETag and
-- `created_nsec`). The work needs the server's own serialization, so it is
-- done in Rust (storage/millisecond.rs) within this migration's transaction.
SELECT 1;
