# Log-based metrics and the alerts on them. The functions write one JSON object per line
# (../shared/logs.py): `severity`, `message`, ids and codes, and `alert: true` on every line an
# operator must look at. Cloud Logging parses those lines into jsonPayload. A 2nd-gen function
# logs as a Cloud Run revision whose service name is the function's name with hyphens.
# tests/infra checks that each message matched here is one the code writes.

locals {
  run = "resource.type=\"cloud_run_revision\""

  # name -> (filter, label extracted from the line)
  log_metrics = {
    webhook-refused = {
      description = "Webhook deliveries refused with a 4xx: bad or stale signature, malformed or oversized body."
      filter      = "${local.run} AND resource.labels.service_name=\"stripe-webhook\" AND jsonPayload.message=\"webhook refused\""
      label       = "status"
      extractor   = "EXTRACT(jsonPayload.status)"
    }
    webhook-5xx = {
      description = "Webhook requests answered 5xx (Stripe retries them): store or queue down, crash."
      filter      = "${local.run} AND resource.labels.service_name=\"stripe-webhook\" AND httpRequest.status>=500"
      label       = "status"
      extractor   = "EXTRACT(httpRequest.status)"
    }
    push-done = {
      description = "hubspot_push outcomes, one per dirty key the drainer settles, by status (synced, skipped, failed)."
      filter      = "${local.run} AND resource.labels.service_name=\"hubspot-push\" AND jsonPayload.message=\"push done\""
      label       = "status"
      extractor   = "EXTRACT(jsonPayload.status)"
    }
    drain-given-up = {
      description = "Dirty keys the drainer gave up after their attempts (recorded as failed outcomes; marking them again replays them)."
      filter      = "${local.run} AND resource.labels.service_name=\"hubspot-push\" AND jsonPayload.message=\"dirty key given up\""
      label       = "error_code"
      extractor   = "EXTRACT(jsonPayload.error_code)"
    }
    drain-lagging = {
      description = "Drain rounds that took keys marked more than 15 minutes earlier: a portal's backlog is not keeping up."
      filter      = "${local.run} AND resource.labels.service_name=\"hubspot-push\" AND jsonPayload.message=\"drain lagging\""
      label       = "project_id"
      extractor   = "EXTRACT(jsonPayload.project_id)"
    }
    token-refresh-failed = {
      description = "HubSpot token refreshes that failed (connection marked broken, the project shows reconnect)."
      filter      = "${local.run} AND jsonPayload.alert=true AND jsonPayload.message=\"token refresh failed\""
      label       = "function"
      extractor   = "EXTRACT(resource.labels.service_name)"
    }
    kms-errors = {
      description = "Cloud KMS refused or failed (KeyServiceError): tokens cannot be opened or sealed; the code fails closed."
      filter      = "${local.run} AND (jsonPayload.error_type=\"KeyServiceError\" OR textPayload:\"KeyServiceError\")"
      label       = "function"
      extractor   = "EXTRACT(resource.labels.service_name)"
    }
    alert-lines = {
      description = "Every log line the code marks alert: true (unknown account, unparseable event, failures)."
      filter      = "${local.run} AND jsonPayload.alert=true"
      label       = "message"
      extractor   = "EXTRACT(jsonPayload.message)"
    }
  }

  # metric -> (threshold of events within the window, window, what to do)
  count_alerts = {
    webhook-refused = {
      threshold = 10
      window    = "600s"
      doc       = "More than 10 webhook deliveries refused in 10 minutes. A wrong STRIPE_WEBHOOK_SECRET after a rotation refuses every delivery: compare the pinned secret version with the endpoint's secret. Otherwise someone is posting unsigned requests."
    }
    webhook-5xx = {
      threshold = 0
      window    = "300s"
      doc       = "The webhook answered 5xx: Stripe will retry for up to 3 days. Check Firestore and Pub/Sub health and the function's logs."
    }
    token-refresh-failed = {
      threshold = 0
      window    = "300s"
      doc       = "A HubSpot token refresh failed: the project stops syncing until its owner reconnects HubSpot."
    }
    drain-given-up = {
      threshold = 0
      window    = "300s"
      doc       = "The drainer gave up dirty keys after about an hour of transient failures (HubSpot or Stripe down, or throttling us): they are failed outcomes now. Fix the cause, then replay them by marking them again (issue 11's replay), or let the next event of each object do it."
    }
    drain-lagging = {
      threshold = 0
      window    = "900s"
      doc       = "A portal's drainer is taking keys marked more than 15 minutes ago. Expected for a while after a month-start burst of tens of thousands of events; otherwise check HubSpot 429s (another app spending the same portal's budget?) and hubspot_push's errors."
    }
    kms-errors = {
      threshold = 0
      window    = "300s"
      doc       = "Cloud KMS refused or failed: tokens cannot be decrypted, pushes are retried then dead-lettered. Check the key's versions and the functions' cryptoKeyEncrypterDecrypter binding."
    }
    alert-lines = {
      threshold = 0
      window    = "300s"
      doc       = "A function logged a line marked alert: true. The metric's message label says which."
    }
  }
}

resource "google_logging_metric" "omniroo" {
  for_each = local.log_metrics

  name        = "${var.name_prefix}-${each.key}"
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key        = each.value.label
      value_type = "STRING"
    }
  }

  label_extractors = {
    (each.value.label) = each.value.extractor
  }

  depends_on = [google_project_service.api]
}

resource "google_monitoring_alert_policy" "count" {
  for_each = local.count_alerts

  display_name          = "Omniroo: ${each.key}"
  combiner              = "OR"
  notification_channels = [var.notification_channel]

  conditions {
    display_name = "${each.key} above ${each.value.threshold} in ${each.value.window}"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.omniroo[each.key].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"

      aggregations {
        alignment_period     = each.value.window
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    content   = each.value.doc
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "push_failure_rate" {
  display_name          = "Omniroo: push failure rate"
  combiner              = "OR"
  notification_channels = [var.notification_channel]

  conditions {
    display_name = "failed pushes above ${var.push_failure_ratio * 100}% of outcomes over 15 minutes"
    condition_threshold {
      filter             = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.omniroo["push-done"].name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.status=\"failed\""
      denominator_filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.omniroo["push-done"].name}\" AND resource.type=\"cloud_run_revision\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.push_failure_ratio
      duration           = "0s"

      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }

      denominator_aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    content   = "More than ${var.push_failure_ratio * 100}% of hubspot_push outcomes failed in 15 minutes (HubSpot refused records for good, or keys were given up). `python -m tooling.cli outcomes PROJECT_ID` lists the error codes."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "dead_letter_backlog" {
  display_name          = "Omniroo: dead-letter backlog"
  combiner              = "OR"
  notification_channels = [var.notification_channel]

  conditions {
    display_name = "events waiting on the dead-letter subscription"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.dead_letters.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    content   = "Wake-ups exhausted their deliveries to hubspot_push (the store or the key service failing all along) and wait on ${google_pubsub_subscription.dead_letters.name} (kept 7 days). The dirty keys they name are still in Firestore: once the cause is fixed the drain sweep drains them within a minute; the held messages can then be acknowledged. See the README, 'Deploying to Google Cloud'."
    mime_type = "text/markdown"
  }
}
