"""Omniroo's own user accounts: passwords, sign-in throttling, sessions, OAuth states and
per-account access. Pure core: every module takes the Store and the Clock as parameters.

passwords     the policy for a new password; bcrypt hashing that never truncates
throttle      failed sign-ins per email, per client address and per both
sessions      random cookie tokens stored only as SHA-256 hashes; cookie attributes; CSRF
service       sign up, sign in, sign out, password change (the flows the pages call)
oauth_state   single-use OAuth ``state`` bound to session, project and provider; safe redirects
ids           SHA-256 document ids for tokens, states, emails and addresses; random ids
access        reads scoped to the signed-in account (another account's project is a 404)
"""
