-- Issue 12: the login session a refresh token's grant began in (OIDC Back-Channel Logout §2.1),
-- so an ID token issued on refresh carries the same sid (OIDC Core §12.2). NULL: no session known.
ALTER TABLE refresh_tokens ADD COLUMN sid text;
