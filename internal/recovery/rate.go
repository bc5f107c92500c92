package recovery

import (
	"time"

	"github.com/hquic/quic/internal/mono"
)

// rateSampler is the connection side of delivery rate sampling
// (draft-ietf-ccwg-bbr Section 4.1): every in-flight packet snapshots it
// when sent, and each ACK frame turns the snapshot of the most recently
// sent packet it acknowledges into a rate sample. BBR owns it; State feeds
// it the packets each ACK frame acknowledges.
type rateSampler struct {
	// delivered is C.delivered: in-flight bytes acknowledged over the
	// connection's lifetime, spuriously lost packets included.
	delivered int64
	// deliveredTime is C.delivered_time, when delivered last grew.
	deliveredTime mono.Time
	// firstSendTime is C.first_send_time: the send time of the packet
	// most recently acknowledged (or of the first packet after an idle
	// period).
	firstSendTime mono.Time
	// appLimited is C.app_limited: zero, or the delivered count that
	// ends the application-limited bubble (the sender ran out of data).
	appLimited int64
	// lost is C.lost: bytes declared lost, plus bytes the peer reported
	// CE-marked (a congestion signal like loss, Section 3.7).
	lost int64
}

// rateSample is what one ACK frame tells about delivery (RS in the draft).
type rateSample struct {
	// deliveryRate is RS.delivery_rate in bytes per second; zero when the
	// frame gave no reliable sample.
	deliveryRate float64
	// delivered is RS.delivered: bytes delivered over the sampling
	// interval.
	delivered int64
	// priorDelivered is RS.prior_delivered, the newest packet's
	// P.delivered.
	priorDelivered int64
	// newlyAcked is RS.newly_acked for the frame, in bytes.
	newlyAcked int
	// txInFlight is RS.tx_in_flight: bytes in flight just after the
	// newest acknowledged packet was sent.
	txInFlight int
	// lost is RS.lost: bytes lost between the newest packet's
	// transmission and this frame.
	lost int64
	// rtt is RS.rtt, measured on the newest acknowledged packet; negative
	// when the frame acknowledged no in-flight packet.
	rtt time.Duration
	// isAppLimited is RS.is_app_limited.
	isAppLimited bool
	// hasData reports whether the frame acknowledged an in-flight packet.
	hasData bool

	priorTime   mono.Time // P.delivered_time of the newest packet
	sendElapsed time.Duration
	ackElapsed  time.Duration
	newestSeq   int64 // send sequence of the newest packet
}

// onSent snapshots the sampler into an in-flight packet about to be sent;
// inflight is the bytes in flight before it (OnPacketSent, Section
// 4.1.2.2).
func (r *rateSampler) onSent(now mono.Time, p *Sent, inflight int) {
	if inflight == 0 {
		r.firstSendTime = now
		r.deliveredTime = now
	}
	p.firstSendTime = r.firstSendTime
	p.deliveredTime = r.deliveredTime
	p.delivered = r.delivered
	p.appLimited = r.appLimited != 0
	p.txInFlight = inflight + p.Size
	p.lostBefore = r.lost
}

// start begins the sample of one ACK frame (InitRateSample).
func (rs *rateSample) start() {
	*rs = rateSample{rtt: -1}
}

// onAcked folds one newly acknowledged in-flight packet into rs
// (UpdateRateSample); the newest packet by send order wins.
func (r *rateSampler) onAcked(now mono.Time, p *Sent, rs *rateSample) {
	r.delivered += int64(p.Size)
	r.deliveredTime = now
	rs.newlyAcked += p.Size
	if rs.hasData && p.seq < rs.newestSeq {
		return
	}
	rs.hasData = true
	rs.newestSeq = p.seq
	rs.priorDelivered = p.delivered
	rs.priorTime = p.deliveredTime
	rs.isAppLimited = p.appLimited
	rs.sendElapsed = p.Time.Sub(p.firstSendTime)
	rs.ackElapsed = now.Sub(p.deliveredTime)
	rs.txInFlight = p.txInFlight
	rs.lost = -p.lostBefore // completed in finish
	rs.rtt = now.Sub(p.Time)
	r.firstSendTime = p.Time
}

// finish completes rs once every packet of the frame was folded in
// (GenerateRateSample); minRTT is the connection's min_rtt, below which an
// interval gives no reliable rate.
func (r *rateSampler) finish(rs *rateSample, minRTT time.Duration) {
	if r.appLimited != 0 && r.delivered > r.appLimited {
		// The bubble has been acknowledged: the sender is no longer
		// application-limited.
		r.appLimited = 0
	}
	if !rs.hasData {
		return
	}
	rs.lost += r.lost
	rs.delivered = r.delivered - rs.priorDelivered
	interval := max(rs.sendElapsed, rs.ackElapsed)
	if interval <= 0 || interval < minRTT {
		return
	}
	rs.deliveryRate = float64(rs.delivered) / interval.Seconds()
}

// markAppLimited records that the sender ran out of data with inflight
// bytes in flight: samples until everything now outstanding is delivered
// are application-limited (CheckIfApplicationLimited,
// MarkConnectionAppLimited).
func (r *rateSampler) markAppLimited(inflight int) {
	r.appLimited = max(r.delivered+int64(inflight), 1)
}
