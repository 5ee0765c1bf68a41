# Firestore in Native mode: configuration, encrypted tokens, ids and outcomes only.

# The collections whose documents carry an expiry, and the field: exactly those of FIELDS in
# ../shared/store/base.py that hold EXPIRE_AT (tests/infra checks it against the code).
locals {
  ttl_field = "expire_at"
  ttl_collections = toset([
    "account_emails", "accounts", "audit", "backfills", "credentials", "dead_letters",
    "dirty_keys", "drain_leases", "drift_cursors", "event_marks", "health", "login_throttle",
    "oauth_states", "outcomes", "projects", "reports", "runs", "sessions",
  ])
}

resource "google_firestore_database" "main" {
  name                        = "(default)"
  location_id                 = var.firestore_location
  type                        = "FIRESTORE_NATIVE"
  concurrency_mode            = "PESSIMISTIC"
  app_engine_integration_mode = "DISABLED"
  delete_protection_state     = "DELETE_PROTECTION_ENABLED"
  deletion_policy             = "ABANDON"

  # Point-in-time recovery keeps deleted documents readable for 7 more days, which would break the
  # promise that a closed account's configuration is gone within 30 days. Daily backups are not
  # taken for the same reason.
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_DISABLED"

  depends_on = [google_project_service.api]
}

# TTL deletes a document (typically within 24 hours) once its expire_at, a Timestamp, is in the
# past; a number there is ignored (tests/infra/test_firestore_ttl.py tracks that). The field
# is exempt from indexing: a monotonically growing indexed field creates write hotspots.
resource "google_firestore_field" "ttl" {
  for_each = local.ttl_collections

  database   = google_firestore_database.main.name
  collection = each.value
  field      = local.ttl_field

  ttl_config {}
  index_config {}
}

# Indexes: most queries the code runs are a single-field equality (projects by account_id,
# runs by project_id, accounts by email) or a scan in document-id order, which Firestore's
# automatic single-field indexes serve, as they serve the sweep's "keys due by now" (due_at).
# Composite indexes serve the rest: a drainer taking a project's dirty keys due by now, oldest
# first (shared.store.firestore query: project_id ==, due_at <=, order by due_at, then __name__).
resource "google_firestore_index" "dirty_keys_due" {
  database    = google_firestore_database.main.name
  collection  = "dirty_keys"
  query_scope = "COLLECTION"

  fields {
    field_path = "project_id"
    order      = "ASCENDING"
  }

  fields {
    field_path = "due_at"
    order      = "ASCENDING"
  }

  fields {
    field_path = "__name__"
    order      = "ASCENDING"
  }
}

# The console's and the CLI's reads of a project's newest outcomes and dead letters, bounded
# (shared.sync.outcomes.latest, shared.repair.replay.failures): equalities on the fields below,
# at <= a bound, ordered by at then __name__, both descending (newest first). A project's
# outcomes are never all read (a month-start burst leaves 50,000+ of them).
locals {
  newest_first = {
    outcomes_newest                = { collection = "outcomes", equals = ["project_id"] }
    outcomes_newest_of_status      = { collection = "outcomes", equals = ["project_id", "status"] }
    outcomes_newest_of_status_code = { collection = "outcomes", equals = ["project_id", "status", "error_code"] }
    dead_letters_newest            = { collection = "dead_letters", equals = ["project_id"] }
  }
}

resource "google_firestore_index" "newest_first" {
  for_each = local.newest_first

  database    = google_firestore_database.main.name
  collection  = each.value.collection
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value.equals
    content {
      field_path = fields.value
      order      = "ASCENDING"
    }
  }

  fields {
    field_path = "at"
    order      = "DESCENDING"
  }

  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

# Security rules: Omniroo's functions use the server client libraries with IAM, which rules do not
# govern; rules apply to the mobile and web SDKs, and those are denied everything.
resource "google_firebaserules_ruleset" "firestore" {
  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/firestore.rules")
    }
  }

  depends_on = [google_firestore_database.main]
}

resource "google_firebaserules_release" "firestore" {
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}
