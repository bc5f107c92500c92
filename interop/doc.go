// Package interop holds hquic's interoperability tests against quic-go.
package interop
