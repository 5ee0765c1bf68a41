"""The console: the pages a person uses to sign up, create projects, connect Stripe and HubSpot,
change settings and close the account. Server-rendered HTML, no script, one stylesheet.

app        ``make_app(deps)``: the Flask app, the CSRF/Origin check on every POST, error pages
deps       ``ConsoleDeps``, what the app needs from outside (built by ``shared.wiring``)
pages      what every page shares: the session, the client address, rendering, ``signed_in``
public     the front page, security page, security.txt, contact form, stylesheet
auth       sign up, sign in, sign out
projects   the projects list, a project's page, connect and disconnect
account    password change, export, closing the account
web        security headers, CSRF (session HMAC, and a pre-session double-submit cookie with an
           Origin/Referer check for the sign-in and sign-up forms), the client address

Every id in a URL goes through ``shared.accounts.access`` so another account's record is a 404.
"""
