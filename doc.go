// Package netnsdaemon is the netns-daemon toolkit: see provision/ for
// namespace provisioning and proxy/ for the bundled namespace-aware proxy.
package netnsdaemon
