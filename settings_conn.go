package quic

import (
	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/recovery"
)

// CongestionControlNewReno selects the NewReno controller of RFC 9002
// Section 7. It is an hquic extension: MsQuic has no such value.
const CongestionControlNewReno CongestionControlAlgorithm = 0x8000

// known reports whether a names a controller hquic implements.
func (a CongestionControlAlgorithm) known() bool {
	switch a {
	case CongestionControlCubic, CongestionControlBBR, CongestionControlNewReno:
		return true
	}
	return false
}

// engineSettings converts resolved settings into the engine's plain values.
// The congestion controller was checked by prepare, so CUBIC here is the
// default, never a fallback.
func engineSettings(s *Settings) conn.Settings {
	algo := recovery.Cubic
	switch s.CongestionControlAlgorithm.Value {
	case CongestionControlNewReno:
		algo = recovery.NewReno
	case CongestionControlBBR:
		algo = recovery.BBR
	}
	return conn.Settings{
		IdleTimeout:                s.IdleTimeout.Value,
		HandshakeIdleTimeout:       s.HandshakeIdleTimeout.Value,
		DisconnectTimeout:          s.DisconnectTimeout.Value,
		KeepAliveInterval:          s.KeepAliveInterval.Value,
		MaxAckDelay:                s.MaxAckDelay.Value,
		InitialRTT:                 s.InitialRTT.Value,
		ConnFlowControlWindow:      uint64(s.ConnFlowControlWindow.Value),
		StreamRecvWindowBidiLocal:  uint64(s.StreamRecvWindowBidiLocalDefault.Value),
		StreamRecvWindowBidiRemote: uint64(s.StreamRecvWindowBidiRemoteDefault.Value),
		StreamRecvWindowUni:        uint64(s.StreamRecvWindowUnidiDefault.Value),
		StreamRecvBuffer:           uint64(s.StreamRecvBufferDefault.Value),
		PeerBidiStreamCount:        uint64(s.PeerBidiStreamCount.Value),
		PeerUniStreamCount:         uint64(s.PeerUnidiStreamCount.Value),
		MinimumMTU:                 int(s.MinimumMTU.Value),
		MaximumMTU:                 int(s.MaximumMTU.Value),
		Congestion:                 algo,
		InitialWindowPackets:       int(s.InitialWindowPackets.Value),
		HyStart:                    s.HyStartEnabled.Value,
		Pacing:                     s.PacingEnabled.Value,
		SendIdleTimeout:            s.SendIdleTimeout.Value,
		ECN:                        s.ECNEnabled.Value,
		DatagramReceive:            s.DatagramReceiveEnabled.Value,
		MaxBytesPerKey:             s.MaxBytesPerKey.Value,
		SendBuffering:              s.SendBufferingEnabled.Value,
		MigrationEnabled:           s.MigrationEnabled.Value,
		GreaseQUICBit:              s.GreaseQUICBitEnabled.Value,
		MaxOperationsPerDrain:      int(s.MaxOperationsPerDrain.Value),
		DestCIDUpdateIdleTimeout:   s.DestCIDUpdateIdleTimeout.Value,
		MaxPTOCount:                int(s.Extensions.MaxPacketRetryCount.Value),
		HandshakePTOFloor:          s.Extensions.LossDetectionGracePeriod.Value,
		ServerResumption:           resumptionLevel(s.ServerResumptionLevel.Value),

		MTUDiscoveryMissingProbeCount:     int(s.MTUDiscoveryMissingProbeCount.Value),
		MTUDiscoverySearchCompleteTimeout: s.MTUDiscoverySearchCompleteTimeout.Value,
	}
}
