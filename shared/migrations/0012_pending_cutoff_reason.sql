-- A cut-off also ends login sessions (a user disabled or deleted) or tells one client (a consent
-- revoked), and the relying parties' logout tokens are audited under the operation's name. When
-- Redis was down the operation could do neither; the token service does both once it writes the
-- cut-off (shared.management.cutoffs), so the row keeps which operation it was.
ALTER TABLE pending_cutoffs ADD COLUMN reason text NOT NULL DEFAULT '';
