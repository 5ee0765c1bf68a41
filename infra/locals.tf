# Everything about the functions comes from functions.json, the one list that Terraform, make deploy
# and the infra tests read. Adding a role means editing that file, where review sees it.
locals {
  spec       = jsondecode(file("${path.module}/functions.json"))
  functions  = local.spec.functions
  identities = local.spec.identities
  topics     = local.spec.topics
  # subscriptions a function pulls itself (the dead-letter hold), declared in pubsub.tf
  subscriptions = local.spec.subscriptions

  # ENV NAME -> secret id, e.g. STRIPE_WEBHOOK_SECRET -> omniroo-stripe-webhook-secret
  secret_ids = { for env_name, id in local.spec.secrets : env_name => "${var.name_prefix}-${id}" }

  # function or identity name -> service account id (6-30 characters: prefix of at most 11, account of at most 13)
  account_ids = merge(
    { for name, fn in local.functions : name => "${var.name_prefix}-${fn.account}" },
    { for name, identity in local.identities : name => "${var.name_prefix}-${name}" },
  )

  # "<who> <role> <on>" -> binding, for every role of every function and identity
  bindings = merge(
    merge([for name, fn in local.functions : { for b in fn.roles : "${name} ${b.role} ${b.on}" => merge(b, { who = name }) }]...),
    merge([for name, identity in local.identities : { for b in identity.roles : "${name} ${b.role} ${b.on}" => merge(b, { who = name }) }]...),
  )
  project_bindings      = { for key, b in local.bindings : key => b if b.on == "project" }
  key_bindings          = { for key, b in local.bindings : key => b if b.on == "kms_key" }
  repository_bindings   = { for key, b in local.bindings : key => b if b.on == "repository" }
  topic_bindings        = { for key, b in local.bindings : key => merge(b, { topic = trimprefix(b.on, "topic:") }) if startswith(b.on, "topic:") }
  subscription_bindings = { for key, b in local.bindings : key => merge(b, { subscription = trimprefix(b.on, "subscription:") }) if startswith(b.on, "subscription:") }
  secret_bindings       = { for key, b in local.bindings : key => merge(b, { secret = trimprefix(b.on, "secret:") }) if startswith(b.on, "secret:") }

  # functions reached from the internet through the load balancer, and those Pub/Sub triggers
  public_functions = { for name, fn in local.functions : name => fn if fn.trigger == "http" }
  event_functions  = { for name, fn in local.functions : name => fn if fn.trigger != "http" }

  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
