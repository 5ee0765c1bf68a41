variable "project_id" {
  description = "The Google Cloud project that hosts Omniroo (created empty, billing enabled)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, the connector, the NAT, Pub/Sub triggers and the key ring."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 or us-central1."
  }
}

variable "firestore_location" {
  description = "Firestore location: a region (europe-west1) or a multi-region (eur3, nam5)."
  type        = string
  default     = "eur3"

  validation {
    condition     = can(regex("^([a-z]+-[a-z]+[0-9]|eur3|nam5|nam7)$", var.firestore_location))
    error_message = "firestore_location must be a region or one of the multi-regions eur3, nam5, nam7."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name. Function names are not prefixed: one Omniroo installation per project."
  type        = string
  default     = "omniroo"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,10}$", var.name_prefix))
    error_message = "name_prefix must be 2-11 lowercase letters, digits or hyphens, starting with a letter (it must leave room in 30-character account ids)."
  }
}

variable "domain" {
  description = "The public host name of Omniroo (webhook, OAuth callbacks, console). Point its A record at the output lb_ip."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase fully qualified host name, e.g. omniroo.example.com."
  }
}

variable "connector_cidr" {
  description = "The /28 range of the subnet used only by the Serverless VPC Access connector."
  type        = string
  default     = "10.8.0.0/28"

  validation {
    condition     = can(cidrhost(var.connector_cidr, 0)) && endswith(var.connector_cidr, "/28")
    error_message = "connector_cidr must be a valid /28 IPv4 range."
  }
}

variable "connector_machine_type" {
  description = "Machine type of the connector's instances."
  type        = string
  default     = "e2-micro"

  validation {
    condition     = contains(["f1-micro", "e2-micro", "e2-standard-4"], var.connector_machine_type)
    error_message = "connector_machine_type must be f1-micro, e2-micro or e2-standard-4."
  }
}

variable "nat_ip_count" {
  description = "How many static egress addresses Cloud NAT uses. Every call to Stripe and HubSpot leaves from these, so users can allowlist them."
  type        = number
  default     = 2

  validation {
    condition     = var.nat_ip_count >= 1 && var.nat_ip_count <= 8 && floor(var.nat_ip_count) == var.nat_ip_count
    error_message = "nat_ip_count must be a whole number from 1 to 8."
  }
}

variable "kms_rotation_period" {
  description = "Rotation period of the token-wrapping key, in seconds with an s suffix; at most 90 days (7776000s). Old versions keep decrypting."
  type        = string
  default     = "7776000s"

  validation {
    condition     = can(regex("^[1-9][0-9]*s$", var.kms_rotation_period)) && tonumber(trimsuffix(var.kms_rotation_period, "s")) >= 86400 && tonumber(trimsuffix(var.kms_rotation_period, "s")) <= 7776000
    error_message = "kms_rotation_period must be between 86400s (1 day) and 7776000s (90 days)."
  }
}

variable "secret_versions" {
  description = "Pinned Secret Manager version of each secret, by environment name, e.g. { STRIPE_WEBHOOK_SECRET = \"2\" }. make deploy mounts exactly these; SECRET_VERSIONS on the make command line overrides them."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, version in var.secret_versions : can(regex("^[1-9][0-9]*$", version))])
    error_message = "secret_versions values must be version numbers (\"1\", \"2\", ...), never \"latest\": a deploy must be reproducible."
  }

  validation {
    condition     = alltrue([for name in keys(var.secret_versions) : contains(["STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY", "HUBSPOT_CLIENT_SECRET"], name)])
    error_message = "secret_versions keys must be STRIPE_WEBHOOK_SECRET, STRIPE_SECRET_KEY or HUBSPOT_CLIENT_SECRET."
  }
}

variable "notification_channel" {
  description = "The Cloud Monitoring notification channel every alert goes to: projects/PROJECT/notificationChannels/ID (create it in the console first: email, PagerDuty, Slack...)."
  type        = string

  validation {
    condition     = can(regex("^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/notificationChannels/[0-9]+$", var.notification_channel))
    error_message = "notification_channel must look like projects/PROJECT/notificationChannels/1234567890."
  }
}

variable "stripe_webhook_ips" {
  description = "Stripe's published webhook source addresses (https://stripe.com/files/ips/ips_webhooks.json). Requests from them to the webhook path skip the per-address rate limit; the signature is still checked. The WAF rules never inspect the webhook path, whatever its sender (its signature authenticates it). Empty: every sender to the webhook is rate-limited."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for ip in var.stripe_webhook_ips : can(cidrhost(strcontains(ip, "/") ? ip : "${ip}/32", 0))])
    error_message = "stripe_webhook_ips must be IPv4 addresses or CIDR ranges."
  }

  validation {
    condition     = length(var.stripe_webhook_ips) <= 40
    error_message = "At most 40 addresses: they become allow rules of four (priorities 100-109, before the WAF rules at 900)."
  }
}

variable "rate_limit_per_minute" {
  description = "Requests per minute one client address may send before Cloud Armor answers 429."
  type        = number
  default     = 300

  validation {
    condition     = var.rate_limit_per_minute >= 10 && var.rate_limit_per_minute <= 10000
    error_message = "rate_limit_per_minute must be between 10 and 10000."
  }
}

variable "push_max_delivery_attempts" {
  description = "Deliveries of one event to hubspot_push before it is parked on the dead-letter topic."
  type        = number
  default     = 10

  validation {
    condition     = var.push_max_delivery_attempts >= 5 && var.push_max_delivery_attempts <= 100
    error_message = "push_max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "purge_schedule" {
  description = "Cron schedule (UTC) of the purge job."
  type        = string
  default     = "17 3 * * *"

  validation {
    condition     = length(split(" ", var.purge_schedule)) == 5
    error_message = "purge_schedule must be a five-field cron expression."
  }
}

variable "drain_sweep_schedule" {
  description = "Cron schedule (UTC) of the drain sweep: how long at most a dirty key waits when no wake-up came for it."
  type        = string
  default     = "* * * * *"

  validation {
    condition     = length(split(" ", var.drain_sweep_schedule)) == 5
    error_message = "drain_sweep_schedule must be a five-field cron expression."
  }
}

variable "reconcile_schedule" {
  description = "Cron schedule (UTC) of the reconcile job (the repair function); null turns it off."
  type        = string
  default     = "41 4 * * *"

  validation {
    condition     = var.reconcile_schedule == null || length(split(" ", coalesce(var.reconcile_schedule, "x"))) == 5
    error_message = "reconcile_schedule must be null or a five-field cron expression."
  }
}

variable "push_failure_ratio" {
  description = "Alert when more than this share of hubspot_push outcomes fail over 15 minutes."
  type        = number
  default     = 0.05

  validation {
    condition     = var.push_failure_ratio > 0 && var.push_failure_ratio < 1
    error_message = "push_failure_ratio must be between 0 and 1."
  }
}

variable "stripe_client_id" {
  description = "The Connect platform's client id (ca_...), from the Stripe Dashboard's Connect settings. Not a secret."
  type        = string

  validation {
    condition     = can(regex("^ca_[0-9A-Za-z]+$", var.stripe_client_id))
    error_message = "stripe_client_id must be a Stripe Connect client id (ca_...)."
  }
}

variable "hubspot_client_id" {
  description = "The HubSpot public app's client id (a UUID). Not a secret; its client secret goes to Secret Manager."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f-]{36}$", var.hubspot_client_id))
    error_message = "hubspot_client_id must be the HubSpot app's client id (a UUID)."
  }
}
