# Everything make deploy needs (read with `terraform output -json`), and what users allowlist.

output "project_id" {
  value = var.project_id
}

output "project_number" {
  value = data.google_project.this.number
}

output "region" {
  value = var.region
}

output "service_accounts" {
  description = "Function or identity name -> service account email."
  value       = { for name, sa in google_service_account.sa : name => sa.email }
}

output "kms_key" {
  description = "The token-wrapping key, as OMNIROO_KMS_KEY."
  value       = google_kms_crypto_key.tokens.id
}

output "topics" {
  description = "Topic key (events, dead_letters, jobs) -> topic name."
  value       = { for key, topic in google_pubsub_topic.topic : key => topic.name }
}

output "subscriptions" {
  description = "Subscription key (dead_letters) -> subscription name, for the functions that pull it."
  value       = { dead_letters = google_pubsub_subscription.dead_letters.name }
}

output "secrets" {
  description = "Environment name -> Secret Manager secret id. Values are never in Terraform."
  value       = local.secret_ids
}

output "secret_versions" {
  description = "Environment name -> pinned version that make deploy mounts."
  value       = var.secret_versions
}

output "vpc_connector" {
  value = google_vpc_access_connector.connector.id
}

output "docker_repository" {
  value = google_artifact_registry_repository.functions.id
}

output "delivery" {
  description = "Retry, dead-letter and retention settings make deploy gives the Pub/Sub trigger subscriptions."
  value = merge(local.delivery, {
    dead_letter_topic = google_pubsub_topic.topic["dead_letters"].id
    pubsub_agent      = local.pubsub_agent
  })
}

output "firestore_database" {
  value = google_firestore_database.main.name
}

output "domain" {
  value = var.domain
}

output "lb_ip" {
  description = "Point the A record of var.domain here; the managed certificate is issued once it resolves."
  value       = google_compute_global_address.lb.address
}

output "nat_ips" {
  description = "Every outbound call of Omniroo (to Stripe, HubSpot) leaves from these addresses."
  value       = google_compute_address.nat[*].address
}

output "public_urls" {
  value = { for name, fn in local.public_functions : name => "https://${var.domain}${trimsuffix(fn.path, "*")}" }
}

output "oauth" {
  description = "What the functions need to build OAuth URLs: client ids (not secrets) and the public URL."
  value = {
    stripe_client_id  = var.stripe_client_id
    hubspot_client_id = var.hubspot_client_id
    public_url        = "https://${var.domain}"
  }
}
