# The one public entry: an external HTTPS load balancer on a static address, with a Google-managed
# certificate for var.domain and Cloud Armor in front of every backend. Each public function
# (trigger "http" in functions.json) is a serverless NEG behind it at its path; the functions
# themselves accept only internal and load-balancer traffic (--ingress-settings=internal-and-gclb),
# so their own URLs answer 404 to the internet.

locals {
  # the function served for every path no other function claims
  default_public = one([for name, fn in local.public_functions : name if fn.path == "/*"])
  routed_public  = { for name, fn in local.public_functions : name => fn if fn.path != "/*" }
}

resource "google_compute_global_address" "lb" {
  name = "${var.name_prefix}-lb"

  depends_on = [google_project_service.api]
}

resource "google_compute_managed_ssl_certificate" "lb" {
  name = "${var.name_prefix}-cert"

  managed {
    domains = [var.domain]
  }
}

resource "google_compute_ssl_policy" "modern" {
  name            = "${var.name_prefix}-tls"
  profile         = "RESTRICTED"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_region_network_endpoint_group" "fn" {
  for_each = local.public_functions

  name                  = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_function {
    function = each.key
  }

  depends_on = [google_project_service.api]
}

resource "google_compute_backend_service" "fn" {
  for_each = local.public_functions

  name                  = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.edge.id

  backend {
    group = google_compute_region_network_endpoint_group.fn[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

resource "google_compute_url_map" "https" {
  name            = "${var.name_prefix}-https"
  default_service = google_compute_backend_service.fn[local.default_public].id

  host_rule {
    hosts        = [var.domain]
    path_matcher = "omniroo"
  }

  path_matcher {
    name            = "omniroo"
    default_service = google_compute_backend_service.fn[local.default_public].id

    dynamic "path_rule" {
      for_each = local.routed_public
      content {
        paths   = [path_rule.value.path]
        service = google_compute_backend_service.fn[path_rule.key].id
      }
    }
  }
}

resource "google_compute_target_https_proxy" "https" {
  name             = "${var.name_prefix}-https"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.lb.id]
  ssl_policy       = google_compute_ssl_policy.modern.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "${var.name_prefix}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.lb.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.https.id
}

# Plain HTTP only redirects to HTTPS; nothing is served on it.
resource "google_compute_url_map" "http_redirect" {
  name = "${var.name_prefix}-http-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "http_redirect" {
  name    = "${var.name_prefix}-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http_redirect" {
  name                  = "${var.name_prefix}-http-redirect"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.lb.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.http_redirect.id
}

# -- Cloud Armor ----------------------------------------------------------------------------------

locals {
  # OWASP Top 10 preconfigured rules at sensitivity 1 (the fewest false positives).
  waf_rules = {
    1000 = "sqli-v33-stable"
    1001 = "xss-v33-stable"
    1002 = "lfi-v33-stable"
    1003 = "rfi-v33-stable"
    1004 = "rce-v33-stable"
    1005 = "methodenforcement-v33-stable"
    1006 = "scannerdetection-v33-stable"
    1007 = "protocolattack-v33-stable"
    1008 = "sessionfixation-v33-stable"
  }
  stripe_ranges = [for ip in var.stripe_webhook_ips : strcontains(ip, "/") ? ip : "${ip}/32"]

  # The content-inspecting rules (OWASP, Log4Shell) skip the Stripe webhook's one path, whoever
  # sends to it. Its signature over the raw body is its authentication, checked before anything
  # is parsed; its bodies are customer text (names, descriptions, metadata) a WAF signature can
  # take for an attack, and a signed delivery blocked here is retried by Stripe until it gives up.
  # The rate limit and Adaptive Protection still apply to it.
  outside_webhook = "request.path != '${local.public_functions["stripe_webhook"].path}'"
}

resource "google_compute_security_policy" "edge" {
  #checkov:skip=CKV_GCP_73:Rule 900 denies Log4Shell probes on every path but the Stripe webhook, whose signature over the raw body is checked before anything is parsed; a signed delivery naming a customer like an attack string must not be blocked until Stripe gives up (security review, issue 13). No Java runs behind this policy.
  name        = "${var.name_prefix}-edge"
  description = "Omniroo's edge: Stripe's webhook addresses, OWASP rules and Log4Shell outside the signed webhook, a per-address rate limit."
  type        = "CLOUD_ARMOR"

  adaptive_protection_config {
    layer_7_ddos_defense_config {
      enable = true
    }
  }

  advanced_options_config {
    json_parsing = "STANDARD"
    log_level    = "NORMAL"
  }

  # Stripe's own addresses posting to the webhook skip the per-address limit too: bursts at the
  # start of every month would hit it. An advanced match condition takes at most five
  # subexpressions, so each rule names the path and at most four of the addresses.
  dynamic "rule" {
    for_each = { for i, ranges in chunklist(local.stripe_ranges, 4) : i => ranges }
    content {
      priority    = 100 + rule.key
      action      = "allow"
      description = "Stripe webhook deliveries (${rule.key + 1} of ${ceil(length(local.stripe_ranges) / 4)})"
      match {
        expr {
          expression = "request.path == '${local.public_functions["stripe_webhook"].path}' && (${join(" || ", [for r in rule.value : "inIpRange(origin.ip, '${r}')"])})"
        }
      }
    }
  }

  rule {
    priority    = 900
    action      = "deny(403)"
    description = "Log4Shell (CVE-2021-44228) probes"
    match {
      expr {
        expression = "${local.outside_webhook} && evaluatePreconfiguredExpr('cve-canary')"
      }
    }
  }

  dynamic "rule" {
    for_each = local.waf_rules
    content {
      priority    = rule.key
      action      = "deny(403)"
      description = "OWASP ${rule.value}"
      match {
        expr {
          expression = "${local.outside_webhook} && evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': 1})"
        }
      }
    }
  }

  rule {
    priority    = 2000
    action      = "throttle"
    description = "At most rate_limit_per_minute requests a minute from one address"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.rate_limit_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    priority    = 2147483647
    action      = "allow"
    description = "Everything the rules above let through"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}
