# The one key that wraps the data keys of every encrypted token (envelope encryption, see
# ../shared/crypto). Rotated automatically; old versions keep decrypting what they sealed.

resource "google_kms_key_ring" "omniroo" {
  name     = "${var.name_prefix}-keys"
  location = var.region

  depends_on = [google_project_service.api]
}

resource "google_kms_crypto_key" "tokens" {
  name            = "tokens"
  key_ring        = google_kms_key_ring.omniroo.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = var.kms_rotation_period

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = "SOFTWARE"
  }

  # Destroying the key destroys every token it wraps: never let a plan do that.
  lifecycle {
    prevent_destroy = true
  }
}
