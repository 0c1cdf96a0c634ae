-- A redelivery by hand (E2) is an attempt beside the retry schedule, not a step of it:
-- the queue row says the attempt it stands for is by hand, and when the schedule
-- resumes if that attempt fails (`resume_at`, the retry it displaced; NULL: the
-- schedule had ended). A delivery counts its attempts by hand apart, so the schedule
-- goes by the automatic ones only.
ALTER TABLE webhook_queue ADD COLUMN by_hand BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE webhook_queue ADD COLUMN resume_at BIGINT;
ALTER TABLE webhook_deliveries ADD COLUMN by_hand_attempts INTEGER NOT NULL DEFAULT 0;
