# One service account per function, and one each for the Eventarc triggers and the builds. Every
# role comes from functions.json and is bound on the single resource it concerns; nothing here
# grants a primitive role (owner, editor, viewer).

resource "google_service_account" "sa" {
  for_each = local.account_ids

  account_id   = each.value
  display_name = "Omniroo ${each.key}"
  description  = try(local.identities[each.key].about, "Runtime identity of the ${each.key} function.")

  depends_on = [google_project_service.api]
}

# Firestore has no per-collection or per-document IAM: roles/datastore.user on the project is the
# narrowest role that lets a function read and write documents. The project holds nothing but
# Omniroo, and firestore.rules shuts out every client SDK.
resource "google_project_iam_member" "fn" {
  for_each = local.project_bindings

  project = var.project_id
  role    = each.value.role
  member  = google_service_account.sa[each.value.who].member
}

resource "google_kms_crypto_key_iam_member" "fn" {
  for_each = local.key_bindings

  crypto_key_id = google_kms_crypto_key.tokens.id
  role          = each.value.role
  member        = google_service_account.sa[each.value.who].member
}

resource "google_pubsub_topic_iam_member" "fn" {
  for_each = local.topic_bindings

  topic  = google_pubsub_topic.topic[each.value.topic].id
  role   = each.value.role
  member = google_service_account.sa[each.value.who].member
}

resource "google_pubsub_subscription_iam_member" "fn" {
  for_each = local.subscription_bindings

  subscription = local.subscription_ids[each.value.subscription]
  role         = each.value.role
  member       = google_service_account.sa[each.value.who].member
}

resource "google_secret_manager_secret_iam_member" "fn" {
  for_each = local.secret_bindings

  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = each.value.role
  member    = google_service_account.sa[each.value.who].member
}

resource "google_artifact_registry_repository_iam_member" "fn" {
  for_each = local.repository_bindings

  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = each.value.role
  member     = google_service_account.sa[each.value.who].member
}

# Pub/Sub's own service agent signs the OIDC tokens of push deliveries as the trigger identity
# (needed in projects created before April 2021) and forwards dead letters (pubsub.tf).
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  service_account_id = google_service_account.sa["trigger"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}
