//go:build tools

// Package tools records the binary this module builds, so that go mod tidy keeps its dependencies: the nameserver a
// DNSConfig deploys (image tailscale/k8s-nameserver), run by the local pod runner.
package tools

import (
	_ "tailscale.com/cmd/k8s-nameserver"
)
