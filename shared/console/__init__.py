"""The console: the pages a person uses to sign up, create projects, connect Stripe and HubSpot,
change settings and close the account. Server-rendered HTML, no script, one CSS file.

app       the Flask app and its routes (``make_app(deps)``); every id in a URL goes through
          ``shared.accounts.access`` so another account's record is a 404
web       security headers, CSRF (session HMAC, and a pre-session double-submit cookie with an
          Origin/Referer check for the sign-in and sign-up forms), the client address
"""
