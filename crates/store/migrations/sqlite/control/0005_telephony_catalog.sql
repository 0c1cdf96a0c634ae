-- The telephony catalog (SPEC N1): every version loaded, as the text that was loaded;
-- the one loaded last is in force. Every replica parses it and builds its prefix
-- routes once per version. `source`: "shipped" (the binary's own, replaced by a newer
-- binary's) or "cli" (`callplane admin telephony load`, kept until the next load).
CREATE TABLE telephony_catalogs (
    version    TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    body       TEXT NOT NULL,
    loaded_at  BIGINT NOT NULL
);
