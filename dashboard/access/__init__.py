"""Who may see what: users and sign-in, sessions, scopes, the audit log."""
