# The network the functions' outbound traffic goes through. Functions have no inbound path from
# this VPC (they are reached through the load balancer or Pub/Sub); every outbound connection goes
# through the connector (--egress-settings=all), then Cloud NAT with static addresses, and only on
# port 443. Google APIs are reached over Private Google Access, without the internet.

resource "google_compute_network" "vpc" {
  name                            = "${var.name_prefix}-vpc"
  auto_create_subnetworks         = false
  routing_mode                    = "REGIONAL"
  delete_default_routes_on_create = false

  depends_on = [google_project_service.api]
}

# The connector's own /28: nothing else runs in this VPC.
resource "google_compute_subnetwork" "connector" {
  name                     = "${var.name_prefix}-connector"
  network                  = google_compute_network.vpc.id
  region                   = var.region
  ip_cidr_range            = var.connector_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 1.0
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_vpc_access_connector" "connector" {
  name          = "${var.name_prefix}-connector"
  region        = var.region
  machine_type  = var.connector_machine_type
  min_instances = 2
  max_instances = 3

  subnet {
    name = google_compute_subnetwork.connector.name
  }
}

# -- Firewall -------------------------------------------------------------------------------------
# Connector instances carry the network tag "vpc-connector-<region>-<name>". Rules are stateful, so
# replies to allowed connections need no rule of their own.

locals {
  connector_tag = "vpc-connector-${var.region}-${google_vpc_access_connector.connector.name}"
}

resource "google_compute_firewall" "deny_all_ingress" {
  name        = "${var.name_prefix}-deny-all-ingress"
  network     = google_compute_network.vpc.id
  description = "Default deny of every inbound connection, logged. Nothing in this VPC serves the internet: the public endpoints are serverless behind the load balancer."
  direction   = "INGRESS"
  priority    = 65534

  deny {
    protocol = "all"
  }

  source_ranges = ["0.0.0.0/0"]

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "deny_all_egress" {
  name               = "${var.name_prefix}-deny-all-egress"
  network            = google_compute_network.vpc.id
  description        = "Default deny of every outbound connection, logged; the rules above it allow only 443."
  direction          = "EGRESS"
  priority           = 65534
  destination_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "connector_egress_https" {
  name               = "${var.name_prefix}-connector-egress-https"
  network            = google_compute_network.vpc.id
  description        = "The functions' outbound calls: Stripe and HubSpot APIs (through Cloud NAT) and Google APIs (Private Google Access), all HTTPS."
  direction          = "EGRESS"
  priority           = 1000
  target_tags        = [local.connector_tag]
  destination_ranges = ["0.0.0.0/0"]

  allow {
    protocol = "tcp"
    ports    = ["443"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# What Serverless VPC Access itself needs: the serverless infrastructure forwarding the functions'
# traffic into the connector, and Google's health checks. Source ranges are Google's own.
resource "google_compute_firewall" "connector_from_serverless" {
  name          = "${var.name_prefix}-connector-from-serverless"
  network       = google_compute_network.vpc.id
  description   = "Serverless VPC Access: traffic from the functions' serverless infrastructure into the connector."
  direction     = "INGRESS"
  priority      = 1000
  target_tags   = [local.connector_tag]
  source_ranges = ["35.199.224.0/19"]

  allow {
    protocol = "tcp"
    ports    = ["667"]
  }
  allow {
    protocol = "udp"
    ports    = ["665-666"]
  }
  allow {
    protocol = "icmp"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "connector_health_checks" {
  name          = "${var.name_prefix}-connector-health-checks"
  network       = google_compute_network.vpc.id
  description   = "Serverless VPC Access: Google's health checks of the connector instances."
  direction     = "INGRESS"
  priority      = 1000
  target_tags   = [local.connector_tag]
  source_ranges = ["130.211.0.0/22", "35.191.0.0/16", "108.170.220.0/23"]

  allow {
    protocol = "tcp"
    ports    = ["667"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# -- Cloud NAT with static addresses ----------------------------------------------------------------
# Every call to Stripe and HubSpot leaves from these addresses (output nat_ips): a user whose own
# systems allowlist callers can allowlist Omniroo.

resource "google_compute_address" "nat" {
  count = var.nat_ip_count

  name         = "${var.name_prefix}-nat-${count.index}"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"

  depends_on = [google_project_service.api]
}

resource "google_compute_router" "router" {
  name    = "${var.name_prefix}-router"
  region  = var.region
  network = google_compute_network.vpc.id
}

resource "google_compute_router_nat" "nat" {
  name                                = "${var.name_prefix}-nat"
  router                              = google_compute_router.router.name
  region                              = var.region
  nat_ip_allocate_option              = "MANUAL_ONLY"
  nat_ips                             = google_compute_address.nat[*].self_link
  source_subnetwork_ip_ranges_to_nat  = "LIST_OF_SUBNETWORKS"
  min_ports_per_vm                    = 1024
  enable_endpoint_independent_mapping = false

  subnetwork {
    name                    = google_compute_subnetwork.connector.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}
