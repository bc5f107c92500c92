package quicnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"
)

func TestStreamEchoThroughIOCopy(t *testing.T) {
	client, server := testPair(t, nil)
	ctx := context.Background()
	go func() {
		s, err := server.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()
	s, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 3<<20)
	rand.Read(msg)
	go func() {
		s.Write(msg)
		s.CloseWrite()
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo differs: got %d bytes, sent %d", len(got), len(msg))
	}
	s.Close()
}
