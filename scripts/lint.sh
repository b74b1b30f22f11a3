#!/bin/sh
# make lint: golangci-lint at a pinned version, installed with `go install`
# when missing (about 3-4 minutes to build once on 2 cores).
set -eu
version=v2.15.0
bin=$(go env GOPATH)/bin/golangci-lint
if ! "$bin" version 2>/dev/null | grep -q "version ${version#v}"; then
	echo "lint: installing golangci-lint $version" >&2
	go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
fi
exec "$bin" run ./...
