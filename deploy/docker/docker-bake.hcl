# Per-service wrappers around the one parametrised Dockerfile:
#   docker buildx bake -f deploy/docker/docker-bake.hcl            # all five
#   docker buildx bake -f deploy/docker/docker-bake.hcl llm-synthesizer
#   REGISTRY=registry.example.com/tep TAG=0.1.0 docker buildx bake -f deploy/docker/docker-bake.hcl --push
# Paths are relative to the directory bake is run from: run it at the repository root.

variable "REGISTRY" {
  default = "registry.example.com/tep"
}

variable "TAG" {
  default = "0.1.0"
}

group "default" {
  targets = ["webhook-ingress", "tenant-registry", "context-gatherer", "llm-synthesizer", "servicedesk-poster"]
}

target "_service" {
  context    = "."
  dockerfile = "deploy/docker/Dockerfile"
  platforms  = ["linux/amd64"]
}

target "webhook-ingress" {
  inherits = ["_service"]
  args     = { SERVICE = "webhook-ingress" }
  tags     = ["${REGISTRY}/webhook-ingress:${TAG}"]
}

target "tenant-registry" {
  inherits = ["_service"]
  args     = { SERVICE = "tenant-registry" }
  tags     = ["${REGISTRY}/tenant-registry:${TAG}"]
}

target "context-gatherer" {
  inherits = ["_service"]
  args     = { SERVICE = "context-gatherer" }
  tags     = ["${REGISTRY}/context-gatherer:${TAG}"]
}

target "llm-synthesizer" {
  inherits = ["_service"]
  args     = { SERVICE = "llm-synthesizer" }
  tags     = ["${REGISTRY}/llm-synthesizer:${TAG}"]
}

target "servicedesk-poster" {
  inherits = ["_service"]
  args     = { SERVICE = "servicedesk-poster" }
  tags     = ["${REGISTRY}/servicedesk-poster:${TAG}"]
}
