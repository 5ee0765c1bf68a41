# Pinned exactly: a provider upgrade is a reviewed change, not a side effect of `terraform init`.
# `terraform init` writes .terraform.lock.hcl with the provider's checksums; commit it after the
# first init (it cannot be produced here, where the provider cannot be downloaded).
terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "7.15.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app        = "omniroo"
    managed-by = "terraform"
  }
}

data "google_project" "this" {
  project_id = var.project_id
}
