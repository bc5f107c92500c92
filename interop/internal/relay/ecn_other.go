//go:build !linux

package relay

// enableECN does nothing where ECN is not read.
func enableECN(*udpConn) {}

// parseECN reports Not-ECT where ECN is not read.
func parseECN([]byte) uint8 { return 0 }

// ecnOOB sends no ECN where it is not supported.
func ecnOOB(bool, uint8) []byte { return nil }
