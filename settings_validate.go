package quic

import (
	"math/bits"
	"time"
)

// Validate checks s against MsQuic's rules (settings.c) without applying it.
// It returns nil or an *OpError with StatusInvalidParameter whose message
// names the offending field and the rule. Unset fields are not checked.
func (s *Settings) Validate() error {
	_, err := s.prepare("Settings.Validate")
	return err
}

// durationField describes one duration setting for prepare.
type durationField struct {
	name string
	f    *Optional[time.Duration]
	unit time.Duration // MsQuic's unit; values are truncated to it
	max  time.Duration // largest valid value; 0 means the type's range
}

// prepare validates the set fields of s and returns a normalized copy:
// durations truncated to MsQuic's units and MTUs clamped to [1248, 1500].
// A nil s is an empty patch.
func (s *Settings) prepare(op string) (Settings, error) {
	if s == nil {
		return Settings{}, nil
	}
	n := *s
	invalid := func(format string, args ...any) (Settings, error) {
		return Settings{}, opError(op, StatusInvalidParameter, format, args...)
	}

	// HandshakeIdleTimeout and IdleTimeout must be at most 2^62-1 ms; a
	// time.Duration cannot exceed that, so only the sign is checked.
	for _, d := range []durationField{
		{"HandshakeIdleTimeout", &n.HandshakeIdleTimeout, time.Millisecond, 0},
		{"IdleTimeout", &n.IdleTimeout, time.Millisecond, 0},
		{"MTUDiscoverySearchCompleteTimeout", &n.MTUDiscoverySearchCompleteTimeout, time.Microsecond, 0},
		{"MaxWorkerQueueDelay", &n.MaxWorkerQueueDelay, time.Microsecond, maxUint32Microseconds},
		{"SendIdleTimeout", &n.SendIdleTimeout, time.Millisecond, maxUint32Milliseconds},
		{"InitialRTT", &n.InitialRTT, time.Millisecond, maxUint32Milliseconds},
		{"MaxAckDelay", &n.MaxAckDelay, time.Millisecond, maxAckDelayLimit},
		{"DisconnectTimeout", &n.DisconnectTimeout, time.Millisecond, maxDisconnectTimeout},
		{"KeepAliveInterval", &n.KeepAliveInterval, time.Millisecond, maxUint32Milliseconds},
		{"StatelessOperationExpiration", &n.StatelessOperationExpiration, time.Millisecond, maxStatelessOpsExpiration},
		{"DestCIDUpdateIdleTimeout", &n.DestCIDUpdateIdleTimeout, time.Millisecond, maxUint32Milliseconds},
		{"Extensions.LossDetectionGracePeriod", &n.Extensions.LossDetectionGracePeriod, time.Millisecond, maxUint32Milliseconds},
	} {
		if !d.f.Set {
			continue
		}
		if d.f.Value < 0 {
			return invalid("Settings.%s must not be negative, got %v", d.name, d.f.Value)
		}
		if d.max != 0 && d.f.Value > d.max+d.unit-1 {
			return invalid("Settings.%s must be at most %v, got %v", d.name, d.max, d.f.Value)
		}
		d.f.Value = d.f.Value.Truncate(d.unit)
	}

	if err := n.checkSupported(op); err != nil {
		return Settings{}, err
	}
	if n.MaxBytesPerKey.Set && n.MaxBytesPerKey.Value > defaultMaxBytesPerKey {
		return invalid("Settings.MaxBytesPerKey must be at most %d, got %d", uint64(defaultMaxBytesPerKey), n.MaxBytesPerKey.Value)
	}
	if n.InitialRTT.Set && n.InitialRTT.Value == 0 {
		return invalid("Settings.InitialRTT must be at least 1ms, got %v", s.InitialRTT.Value)
	}
	if n.DisconnectTimeout.Set && n.DisconnectTimeout.Value == 0 {
		return invalid("Settings.DisconnectTimeout must be at least 1ms, got %v", s.DisconnectTimeout.Value)
	}
	for _, w := range []struct {
		name string
		f    Optional[uint32]
	}{
		{"StreamRecvWindowDefault", n.StreamRecvWindowDefault},
		{"StreamRecvWindowBidiLocalDefault", n.StreamRecvWindowBidiLocalDefault},
		{"StreamRecvWindowBidiRemoteDefault", n.StreamRecvWindowBidiRemoteDefault},
		{"StreamRecvWindowUnidiDefault", n.StreamRecvWindowUnidiDefault},
	} {
		if w.f.Set && bits.OnesCount32(w.f.Value) != 1 {
			return invalid("Settings.%s must be a non-zero power of two, got %d", w.name, w.f.Value)
		}
	}
	if n.StreamRecvBufferDefault.Set && n.StreamRecvBufferDefault.Value < minStreamRecvBuffer {
		return invalid("Settings.StreamRecvBufferDefault must be at least %d, got %d", minStreamRecvBuffer, n.StreamRecvBufferDefault.Value)
	}
	if n.MaxOperationsPerDrain.Set && n.MaxOperationsPerDrain.Value == 0 {
		return invalid("Settings.MaxOperationsPerDrain must not be zero")
	}
	if n.CongestionControlAlgorithm.Set && !n.CongestionControlAlgorithm.Value.known() {
		return invalid("Settings.CongestionControlAlgorithm must be Cubic (0), BBR (1) or NewReno (0x8000), got %d",
			n.CongestionControlAlgorithm.Value)
	}
	if n.ServerResumptionLevel.Set && n.ServerResumptionLevel.Value > ServerResumeAndZeroRTT {
		return invalid("Settings.ServerResumptionLevel must be at most %d (ResumeAndZeroRTT), got %d",
			ServerResumeAndZeroRTT, n.ServerResumptionLevel.Value)
	}
	// MTU bounds are clamped, not rejected (settings.c).
	for _, m := range []*Optional[uint16]{&n.MinimumMTU, &n.MaximumMTU} {
		if m.Set {
			m.Value = min(max(m.Value, minMTU), maxMTU)
		}
	}
	if n.MinimumMTU.Set && n.MaximumMTU.Set && n.MinimumMTU.Value > n.MaximumMTU.Value {
		return invalid("Settings.MinimumMTU (%d) must not exceed Settings.MaximumMTU (%d)", n.MinimumMTU.Value, n.MaximumMTU.Value)
	}
	return n, nil
}

// checkSupported refuses, with ErrNotSupported, the settings hquic does not
// implement: the TLS send buffer budgets (MsQuic's core does not use them
// either) whenever set, and the preview features when turned on.
func (s *Settings) checkSupported(op string) error {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"TLSClientMaxSendBuffer", s.TLSClientMaxSendBuffer.Set},
		{"TLSServerMaxSendBuffer", s.TLSServerMaxSendBuffer.Set},
		{"EncryptionOffloadAllowed", s.EncryptionOffloadAllowed.Value},
		{"ReliableResetEnabled", s.ReliableResetEnabled.Value},
		{"OneWayDelayEnabled", s.OneWayDelayEnabled.Value},
		{"NetStatsEventEnabled", s.NetStatsEventEnabled.Value},
		{"StreamMultiReceiveEnabled", s.StreamMultiReceiveEnabled.Value},
		{"XDPEnabled", s.XDPEnabled.Value},
		{"QTIPEnabled", s.QTIPEnabled.Value},
	} {
		if f.set {
			return opError(op, StatusNotSupported, "Settings.%s is not implemented by hquic", f.name)
		}
	}
	return nil
}

// validate checks the set fields of g.
func (g *GlobalSettings) validate(op string) error {
	if g.LoadBalancingMode.Set && g.LoadBalancingMode.Value >= loadBalancingCount {
		return opError(op, StatusInvalidParameter,
			"GlobalSettings.LoadBalancingMode must be less than %d, got %d", loadBalancingCount, g.LoadBalancingMode.Value)
	}
	return nil
}

// apply copies the set fields of p into g.
func (g *GlobalSettings) apply(p *GlobalSettings) {
	patchField(&g.RetryMemoryLimit, p.RetryMemoryLimit)
	patchField(&g.LoadBalancingMode, p.LoadBalancingMode)
	patchField(&g.FixedServerID, p.FixedServerID)
	patchField(&g.StatelessRetryEnabled, p.StatelessRetryEnabled)
}

// defaultGlobalSettings returns MsQuic's global defaults, none marked Set.
func defaultGlobalSettings() GlobalSettings {
	return GlobalSettings{RetryMemoryLimit: Optional[uint16]{Value: defaultRetryMemoryLimit}}
}

// validate checks c (QUIC_PARAM_GLOBAL_STATELESS_RETRY_CONFIG rules).
func (c *StatelessRetryConfig) validate(op string) error {
	keyLen := c.Algorithm.keyLen()
	switch {
	case keyLen == 0:
		return opError(op, StatusInvalidParameter, "StatelessRetryConfig.Algorithm %d is unknown", c.Algorithm)
	case len(c.Secret) != keyLen:
		return opError(op, StatusInvalidParameter,
			"StatelessRetryConfig.Secret must be %d bytes for %v, got %d", keyLen, c.Algorithm, len(c.Secret))
	case c.Rotation < time.Millisecond:
		return opError(op, StatusInvalidParameter, "StatelessRetryConfig.Rotation must be at least 1ms, got %v", c.Rotation)
	case c.Rotation > maxUint32Milliseconds+time.Millisecond-1:
		return opError(op, StatusInvalidParameter,
			"StatelessRetryConfig.Rotation must be at most %v, got %v", maxUint32Milliseconds, c.Rotation)
	}
	return nil
}
