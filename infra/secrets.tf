# The secrets the functions mount, declared without values: a value never passes through Terraform
# (or its state). Versions are added with `gcloud secrets versions add` or, for the webhook's
# signing secret, by `python -m tooling.deploy.register`; make deploy mounts pinned versions.

resource "google_secret_manager_secret" "secret" {
  for_each = local.secret_ids

  secret_id = each.value

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }

  depends_on = [google_project_service.api]
}

# The functions' images, kept to the few recent ones a rollback may need.
resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:The images hold only Omniroo's own code and public packages, no secret or customer data (secrets are mounted at run time), under Google's default AES-256 encryption.
  repository_id = "${var.name_prefix}-functions"
  location      = var.region
  format        = "DOCKER"
  description   = "Images of Omniroo's functions, built by gcloud functions deploy."

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.api]
}
