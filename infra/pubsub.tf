# drain: wake-ups for hubspot_push, the drainer (docs/write-path.md). stripe_webhook publishes one
# when it marks a new dirty key (the key itself is in Firestore, so a lost wake-up costs a minute,
# never an event); the sweep below publishes one a minute so that keys nobody woke a drainer for,
# keys whose backoff ran out and those of a drainer that died are drained; hubspot_push fans the
# sweep out, one wake-up per project with keys due, and wakes its own project again before its
# timeout. Messages name a project id, nothing else.
# dead_letters: wake-ups hubspot_push failed to take after push_max_delivery_attempts (the store
# or the key service down all that time); the keys they name are still in Firestore.
# jobs: scheduled work (purge, reconcile) and the repair function's own chained and fanned-out
# job messages (backfill steps, one reconcile per project); each function takes only its own.
#
# The subscriptions that deliver wake-ups and jobs to functions are the Eventarc triggers that
# `gcloud functions deploy --trigger-topic` creates; make deploy then sets their retry policy,
# dead-letter topic and retention to the values of the output `delivery`, taken from here.

locals {
  # subscription key (functions.json) -> its id, for the IAM bindings of the functions that pull
  subscription_ids = {
    dead_letters = google_pubsub_subscription.dead_letters.id
  }

  delivery = {
    max_delivery_attempts = var.push_max_delivery_attempts
    min_retry_delay       = "10s"
    max_retry_delay       = "600s"
    # An undelivered wake-up is dead-lettered within about two hours (attempts x backoff); a day
    # of retention covers that with room, and nothing longer is needed: the keys stay in Firestore.
    message_retention = "86400s"
  }
}

resource "google_pubsub_topic" "topic" {
  #checkov:skip=CKV_GCP_83:Messages hold only ids and event types (never customer data or secrets) for at most 7 days, under Google's default AES-256 encryption; a CMEK would put a Cloud KMS call on the webhook's publish path, so a KMS outage would stop ingest.
  for_each = local.topics

  name = "${var.name_prefix}-${each.value}"

  # Messages are stored only in the region the functions run in.
  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }

  depends_on = [google_project_service.api]
}

# Pub/Sub's service agent moves a message that exhausted its attempts to the dead-letter topic.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.topic["dead_letters"].id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

# Dead letters wait here for the repair function, which pulls them every reconcile run and keeps
# them for replay (shared.repair.dead_letters); the dead-letter backlog alert fires if it cannot.
# Seven days, Pub/Sub's maximum, because a parked event is lost when it expires.
resource "google_pubsub_subscription" "dead_letters" {
  name  = "${var.name_prefix}-${local.subscriptions.dead_letters}"
  topic = google_pubsub_topic.topic["dead_letters"].id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = local.delivery.min_retry_delay
    maximum_backoff = local.delivery.max_retry_delay
  }
}

# -- Cloud Scheduler ------------------------------------------------------------------------------

resource "google_cloud_scheduler_job" "purge" {
  name        = "${var.name_prefix}-purge"
  region      = var.region
  description = "Deletes closed accounts for good and clears expired states, sessions and outcomes."
  schedule    = var.purge_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 3
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["jobs"].id
    data       = base64encode(jsonencode({ job = "purge" }))
    attributes = { job = "purge" }
  }

  depends_on = [google_project_service.api]
}

resource "google_cloud_scheduler_job" "drain_sweep" {
  name        = "${var.name_prefix}-drain-sweep"
  region      = var.region
  description = "Wakes a drainer for every project with dirty keys due (the wake-up nobody sent, backoffs run out, drainers that died)."
  schedule    = var.drain_sweep_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 1
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["drain"].id
    data       = base64encode(jsonencode({ sweep = true }))
    attributes = { sweep = "true" }
  }

  depends_on = [google_project_service.api]
}

resource "google_cloud_scheduler_job" "reconcile" {
  count = var.reconcile_schedule == null ? 0 : 1

  name        = "${var.name_prefix}-reconcile"
  region      = var.region
  description = "Finds and repairs drift between Stripe and HubSpot."
  schedule    = var.reconcile_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 1
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["jobs"].id
    data       = base64encode(jsonencode({ job = "reconcile" }))
    attributes = { job = "reconcile" }
  }

  depends_on = [google_project_service.api]
}
