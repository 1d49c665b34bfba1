//go:build tools

// Package tools records the binary this module builds, so that go mod tidy keeps its dependencies: the official
// Tailscale Kubernetes operator, the compatibility target of this project (golden files, benchmark baseline).
package tools

import (
	_ "tailscale.com/cmd/k8s-operator"
)
