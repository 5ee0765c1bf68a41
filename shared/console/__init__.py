"""The console: the pages a person uses to sign up, create projects, connect Stripe and HubSpot,
change settings and close the account. Server-rendered HTML, no script; Pico CSS, vendored.

app        ``make_app(deps)``: the Flask app, the CSRF/Origin check on every POST, error pages
deps       ``ConsoleDeps``, what the app needs from outside (built by ``shared.wiring``)
pages      what every page shares: the session, the client address, rendering, ``signed_in``
public     the front page, security page, security.txt, contact form, stylesheet
auth       sign up, sign in, sign out
projects   the projects list, a project's page, connect and disconnect
editor     the settings editor: the form, its check against the portal, preview, JSON import
settings_form  settings <-> the editor's rows, problems placed beside their fields (pure)
readers    what the editor reads with the project's connections: the portal, the subscriptions
badges     the status words and tones a person reads at a glance
account    password change, export, closing the account
web        security headers, CSRF (session HMAC, and a pre-session double-submit cookie with an
           Origin/Referer check for the sign-in and sign-up forms), the client address

Every id in a URL goes through ``shared.accounts.access`` so another account's record is a 404.
"""
