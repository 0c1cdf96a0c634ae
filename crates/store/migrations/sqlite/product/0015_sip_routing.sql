-- SIP routing (N2): a campaign may dial through a SIP trunk of its workspace, and a
-- registration trunk shows where its registration stands (JSON written by the process
-- that keeps it: status, code, detail, expires, at).
ALTER TABLE campaigns ADD COLUMN sip_trunk_id TEXT;
ALTER TABLE sip_trunks ADD COLUMN registration TEXT;
