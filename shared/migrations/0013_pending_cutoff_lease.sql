-- Who is carrying a cut-off out, and until when. The operation that records it holds it while
-- it carries it out after its commit, however long that takes; the token service's background
-- task claims a row before it works on it, so no two replicas, and not the task and the
-- operation, work on one at once (two would write a stale cut-off after a re-enable, or tell a
-- relying party twice). A lease that was not given back (its holder died) ends by itself.
ALTER TABLE pending_cutoffs ADD COLUMN claimed_until timestamptz;
