package collect

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/xk6-steamtrap/measure"
)

func TestCertificatesChainToTheCampaignsCAOnly(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c, err := NewCertificates([]string{"198.18.0.1", "Loadgen-Driver.load.svc.", "[fd00::7]"}, now, CertificateValidity)
	require.NoError(t, err)

	block, rest := pem.Decode(c.CAPEM)
	require.NotNil(t, block)
	assert.Empty(t, rest)
	assert.Equal(t, "CERTIFICATE", block.Type)
	assert.NotContains(t, string(c.CAPEM), "PRIVATE KEY", "the CA is public")
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, ca.IsCA)
	assert.True(t, ca.MaxPathLenZero)
	assert.Equal(t, x509.KeyUsageCertSign, ca.KeyUsage)
	caKey, ok := ca.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok)
	assert.Equal(t, elliptic.P256(), caKey.Curve)

	leaf := c.server.Leaf
	assert.False(t, leaf.IsCA)
	assert.Equal(t, []string{"loadgen-driver.load.svc"}, leaf.DNSNames)
	assert.Equal(t, []string{"198.18.0.1", "fd00::7"}, ipStrings(leaf.IPAddresses))
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	assert.WithinDuration(t, now.Add(-time.Hour), leaf.NotBefore, time.Second)
	assert.WithinDuration(t, now.Add(7*24*time.Hour), leaf.NotAfter, time.Second)
	assert.Equal(t, leaf.NotAfter, c.NotAfter)
	_, isECDSA := c.server.PrivateKey.(*ecdsa.PrivateKey)
	assert.True(t, isECDSA)

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(c.CAPEM))
	for _, host := range []string{"198.18.0.1", "loadgen-driver.load.svc", "fd00::7"} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host})
		assert.NoError(t, err, host)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "198.18.0.2"})
	assert.Error(t, err, "another address")
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "198.18.0.1", CurrentTime: now.Add(8 * 24 * time.Hour)})
	assert.Error(t, err, "expired")
	other, err := NewCertificates([]string{"198.18.0.1"}, now, CertificateValidity)
	require.NoError(t, err)
	otherRoots := x509.NewCertPool()
	require.True(t, otherRoots.AppendCertsFromPEM(other.CAPEM))
	_, err = leaf.Verify(x509.VerifyOptions{Roots: otherRoots, DNSName: "198.18.0.1"})
	assert.Error(t, err, "another campaign's CA")
	assert.NotEqual(t, c.CAPEM, other.CAPEM)

	_, err = NewCertificates(nil, now, CertificateValidity)
	assert.ErrorContains(t, err, "no host")
	_, err = NewCertificates([]string{"x"}, now, 0)
	assert.ErrorContains(t, err, "validity")
}

// tlsClient trusts caPEM alone, as the extension's collector client does.
func tlsClient(t *testing.T, caPEM []byte) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestListenServesTLS: the collector over TLS takes a batch from a client
// that trusts the campaign's CA; a client that trusts another campaign's
// CA, or none, or speaks plain HTTP, gets no further than the handshake,
// and nothing of theirs is kept.
func TestListenServesTLS(t *testing.T) {
	t.Parallel()
	certs, err := NewCertificates([]string{"127.0.0.1"}, time.Now(), CertificateValidity)
	require.NoError(t, err)
	s := New(key)
	delivered := 0
	s.Expect("s1", Expectation{OnSecond: func(string, measure.Second) { delivered++ }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := s.Listen(ctx, "127.0.0.1:0", certs.ServerConfig())
	require.NoError(t, err)
	port := addr.(*net.TCPAddr).Port
	send := func(c *http.Client, url string) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(batchBody(t, time.Time{}, second(100, 1))))
		require.NoError(t, err)
		req.Header.Set("Authorization", bearer("s1"))
		req.Header.Set("Content-Type", measure.ContentType)
		req.Header.Set(measure.HeaderRunner, "0")
		req.Header.Set(measure.HeaderBatch, "1")
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	https := "https://" + addr.String() + measure.CollectPath("s1")

	other, err := NewCertificates([]string{"127.0.0.1"}, time.Now(), CertificateValidity)
	require.NoError(t, err)
	_, err = send(tlsClient(t, other.CAPEM), https)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	_, err = send(http.DefaultClient, https)
	require.Error(t, err, "the system's roots do not know the campaign's CA")
	resp, err := send(http.DefaultClient, "http://"+addr.String()+measure.CollectPath("s1"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain HTTP to the TLS port")
	_, err = send(tlsClient(t, certs.CAPEM), "https://localhost:"+strconv.Itoa(port)+measure.CollectPath("s1"))
	require.Error(t, err, "a name the certificate is not for")
	assert.Contains(t, err.Error(), "wanted to match localhost")
	assert.Zero(t, delivered)

	resp, err = send(tlsClient(t, certs.CAPEM), https)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, uint16(tls.VersionTLS13), resp.TLS.Version)
	assert.Equal(t, 1, delivered)
	streams := s.Done("s1")
	require.Len(t, streams, 1)
	assert.Equal(t, 1, streams[0].Batches)
}
