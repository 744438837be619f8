//go:build tools

// Package tools pins the release and packaging tools kubectl-sts tests with:
// krew (installs the plugin from its manifest) and actionlint (checks the
// release workflow). scripts/build-tools builds them into a cache directory.
package tools

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
	_ "sigs.k8s.io/krew/cmd/krew"
)
