//go:build tools

// Package tools records the binaries this module builds, so that go mod tidy keeps their dependencies. They are built
// with -tags ts_kube,ts_package_container, as the official tailscale/tailscale image is.
package tools

import (
	_ "tailscale.com/cmd/containerboot"
	_ "tailscale.com/cmd/tailscale"
	_ "tailscale.com/cmd/tailscaled"
)
