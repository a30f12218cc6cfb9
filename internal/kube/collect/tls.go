package collect

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// CertificateValidity is how long a campaign's certificates are valid:
// longer than any campaign runs, short enough that a certificate that
// leaked is soon worthless.
const CertificateValidity = 7 * 24 * time.Hour

// clockSkew backdates the certificates, for a runner whose node's clock is
// behind the driver's.
const clockSkew = time.Hour

// Certificates are a campaign's TLS material: a CA made for the campaign
// and a certificate it signed for the collector. The CA's private key is
// dropped as soon as the collector's certificate is signed, so nothing else
// can ever chain to the CA; the collector's key stays in memory.
type Certificates struct {
	// CAPEM is the CA's certificate, PEM: public. The runners trust it,
	// and nothing else, for the collector (STEAMTRAP_COLLECT_CA).
	CAPEM []byte
	// NotAfter is when the certificates expire.
	NotAfter time.Time
	server   tls.Certificate
}

// NewCertificates makes a CA and a collector's certificate for hosts (IP
// addresses or DNS names: the host of the URL the runners reach the
// collector at), ECDSA P-256, valid from an hour before now for validity.
func NewCertificates(hosts []string, now time.Time, validity time.Duration) (*Certificates, error) {
	var ips []net.IP
	var names []string
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			names = append(names, strings.ToLower(h))
		}
	}
	if len(ips)+len(names) == 0 {
		return nil, errors.New("collector certificate: no host name or address")
	}
	if validity <= 0 {
		return nil, fmt.Errorf("collector certificate: validity %s: want > 0", validity)
	}
	notBefore, notAfter := now.Add(-clockSkew).UTC().Truncate(time.Second), now.Add(validity).UTC().Truncate(time.Second) // as the certificates hold them

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("collector CA key: %w", err)
	}
	caSerial, err := serial()
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "loadgen collector CA (one campaign)"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs the collector's certificate, never another CA
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("collector CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("collector CA: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("collector key: %w", err)
	}
	srvSerial, err := serial()
	if err != nil {
		return nil, err
	}
	cn := append(append([]string{}, names...), ipStrings(ips)...)[0]
	srvTemplate := &x509.Certificate{
		SerialNumber: srvSerial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTemplate, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("collector certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(srvDER)
	if err != nil {
		return nil, fmt.Errorf("collector certificate: %w", err)
	}
	return &Certificates{
		CAPEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		NotAfter: notAfter,
		server:   tls.Certificate{Certificate: [][]byte{srvDER, caDER}, PrivateKey: key, Leaf: leaf},
	}, nil
}

// ServerConfig is the collector's TLS configuration: its certificate, TLS
// 1.3 (the runners' k6 is this repository's build).
func (c *Certificates) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.server}, MinVersion: tls.VersionTLS13}
}

// serial is a random 128-bit certificate serial number.
func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // never 0
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}
