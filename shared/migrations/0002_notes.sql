-- Notes: the resource service's per-user data, protected by the notes:read / notes:write scopes.

CREATE TABLE notes (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The hard ceiling; LATCHKEY_NOTE_MAX_CHARS (at most 10000) is the limit the API enforces.
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Every query is "this user's notes, newest first".
CREATE INDEX notes_user_created ON notes (user_id, created_at DESC);
