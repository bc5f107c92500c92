package quic

import "slices"

// APIVersion is the MsQuic API table version whose semantics this package
// follows (QUIC_API_VERSION_2).
const APIVersion = 2

// QUIC protocol versions, in host byte order as applications list them in
// VersionSettings.
const (
	// Version1 is QUIC version 1 (RFC 9000).
	Version1 uint32 = 0x00000001
	// Version2 is QUIC version 2 (RFC 9369).
	Version2 uint32 = 0x6b3343cf
	// VersionDraft29 is draft-ietf-quic-transport-29; hquic does not
	// implement it.
	VersionDraft29 uint32 = 0xff00001d
	// VersionMS1 is Microsoft's private version 1; hquic does not
	// implement it.
	VersionMS1 uint32 = 0xabcd0000
)

// supportedVersions lists the QUIC versions hquic speaks, preferred first.
var supportedVersions = [...]uint32{Version1, Version2}

// libraryVersion is reported by Library.Version: major, minor, patch, build.
var libraryVersion = [4]uint32{0, 1, 0, 0}

// isSupportedVersion reports whether hquic implements QUIC version v.
func isSupportedVersion(v uint32) bool { return slices.Contains(supportedVersions[:], v) }

// isReservedVersion reports whether v is a reserved version used to force
// Version Negotiation, of the form 0x?a?a?a?a (RFC 9000, Section 15).
func isReservedVersion(v uint32) bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// VersionSettings configures QUIC version negotiation (RFC 9368)
// (QUIC_VERSION_SETTINGS). Versions are in host byte order. Every listed
// version must be one hquic supports (Version1, Version2) or a reserved
// version. A client starts with FullyDeployedVersions[0] and should set the
// three lists identically. Setting version settings enables the Version
// Negotiation extension; all-empty lists mean "default versions, extension
// on".
type VersionSettings struct {
	// AcceptableVersions are the versions this endpoint accepts.
	AcceptableVersions []uint32
	// OfferedVersions are the versions this endpoint offers in Version
	// Negotiation.
	OfferedVersions []uint32
	// FullyDeployedVersions are the versions every server of the
	// deployment supports.
	FullyDeployedVersions []uint32
}

// validate checks every listed version.
func (v *VersionSettings) validate(op string) error {
	for _, l := range []struct {
		name string
		vs   []uint32
	}{
		{"AcceptableVersions", v.AcceptableVersions},
		{"OfferedVersions", v.OfferedVersions},
		{"FullyDeployedVersions", v.FullyDeployedVersions},
	} {
		for i, ver := range l.vs {
			if !isSupportedVersion(ver) && !isReservedVersion(ver) {
				return opError(op, StatusInvalidParameter,
					"VersionSettings.%s[%d]: version %#08x is neither supported (%#08x, %#08x) nor reserved",
					l.name, i, ver, Version1, Version2)
			}
		}
	}
	return nil
}

// clone returns a deep copy of v (nil for nil).
func (v *VersionSettings) clone() *VersionSettings {
	if v == nil {
		return nil
	}
	return &VersionSettings{
		AcceptableVersions:    slices.Clone(v.AcceptableVersions),
		OfferedVersions:       slices.Clone(v.OfferedVersions),
		FullyDeployedVersions: slices.Clone(v.FullyDeployedVersions),
	}
}

// clientVersions resolves a client's version choice from the
// configuration's VersionSettings, else the library's (MsQuic: a client
// starts with FullyDeployedVersions[0] and offers OfferedVersions). Without
// version settings a client uses QUIC v1 alone and sends no
// version_information.
func clientVersions(cfg *Configuration, lib *Library) (first uint32, offered []uint32) {
	v := cfg.VersionSettings()
	if v == nil {
		v = lib.VersionSettings()
	}
	if v == nil {
		return Version1, nil
	}
	offered = v.OfferedVersions
	if len(offered) == 0 {
		offered = v.FullyDeployedVersions
	}
	switch {
	case len(v.FullyDeployedVersions) > 0:
		first = v.FullyDeployedVersions[0]
	case len(offered) > 0:
		first = offered[0]
	default:
		return Version1, nil
	}
	return first, offered
}

// serverVersions resolves what a server accepts and prefers: the library's
// AcceptableVersions (MsQuic requires servers to set version settings
// globally), by default QUIC v1 and v2. With version settings, a server
// also switches clients to the first FullyDeployedVersions entry they
// support (compatible negotiation, RFC 9368); preferred is nil otherwise.
func serverVersions(lib *Library) (accept, preferred []uint32) {
	v := lib.VersionSettings()
	if v == nil || len(v.AcceptableVersions) == 0 {
		return []uint32{Version1, Version2}, nil
	}
	for _, a := range v.AcceptableVersions {
		if isSupportedVersion(a) {
			accept = append(accept, a)
		}
	}
	preferred = v.FullyDeployedVersions
	if len(preferred) == 0 {
		preferred = accept
	}
	return accept, preferred
}
