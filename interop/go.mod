module github.com/hquic/quic/interop

go 1.26.0

replace github.com/hquic/quic => ../

require (
	github.com/hquic/quic v0.0.0
	github.com/quic-go/quic-go v0.65.0
	golang.org/x/net v0.62.0
)

require (
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
