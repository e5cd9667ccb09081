// Command go-spiffe-client is taskpass's interop peer: a small workload written only against
// go-spiffe v2's own APIs (no taskpass code). Given a SPIFFE Workload API socket it
//
//   - fetches the X.509 context (FetchX509Context) and verifies its own X509-SVID against the
//     fetched bundle set with x509svid.Verify;
//   - fetches the JWT bundles (FetchJWTBundles) and a JWT-SVID (FetchJWTSVID), and validates the
//     token with jwtsvid.ParseAndValidate against those bundles, then asks the Workload API to
//     validate it too (ValidateJWTSVID);
//   - optionally makes an mTLS call with an X509Source and
//     tlsconfig.MTLSClientConfig(source, source, tlsconfig.AuthorizeID(serverID)).
//
// It prints exactly one JSON object on stdout and exits 1 when any step failed (2 on bad flags).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

type x509Report struct {
	SpiffeID           string   `json:"spiffe_id,omitempty"`
	ExpiresAt          string   `json:"expires_at,omitempty"`
	ChainLength        int      `json:"chain_length,omitempty"`
	BundleTrustDomains []string `json:"bundle_trust_domains,omitempty"`
	Verified           bool     `json:"verified"`
	VerifiedID         string   `json:"verified_id,omitempty"`
	Error              string   `json:"error,omitempty"`
}

type jwtReport struct {
	SpiffeID           string   `json:"spiffe_id,omitempty"`
	ExpiresAt          string   `json:"expires_at,omitempty"`
	Audience           []string `json:"audience,omitempty"`
	BundleTrustDomains []string `json:"bundle_trust_domains,omitempty"`
	Verified           bool     `json:"verified"`
	VerifiedID         string   `json:"verified_id,omitempty"`
	ValidatedByAPI     bool     `json:"validated_by_api"`
	Error              string   `json:"error,omitempty"`
}

type mtlsReport struct {
	URL      string `json:"url"`
	ServerID string `json:"server_id"`
	Status   int    `json:"status,omitempty"`
	Body     string `json:"body,omitempty"`
	Error    string `json:"error,omitempty"`
}

type report struct {
	OK     bool        `json:"ok"`
	Socket string      `json:"socket"`
	X509   x509Report  `json:"x509"`
	JWT    jwtReport   `json:"jwt"`
	MTLS   *mtlsReport `json:"mtls,omitempty"`
	Errors []string    `json:"errors"`
}

func main() {
	socket := flag.String("socket", os.Getenv("SPIFFE_ENDPOINT_SOCKET"), "Workload API address, e.g. unix:///tmp/agent.sock")
	audience := flag.String("audience", "taskpass-interop", "audience requested for the JWT-SVID")
	mtlsURL := flag.String("mtls-url", "", "optional https URL to call with mTLS")
	serverID := flag.String("server-id", "", "SPIFFE ID the mTLS server must present (required with -mtls-url)")
	timeout := flag.Duration("timeout", 30*time.Second, "overall deadline")
	flag.Parse()

	if *socket == "" || (*mtlsURL != "" && *serverID == "") {
		fmt.Fprintln(os.Stderr, "usage: go-spiffe-client -socket unix:///path [-audience aud] [-mtls-url https://… -server-id spiffe://…]")
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	rep := run(ctx, *socket, *audience, *mtlsURL, *serverID)
	rep.OK = len(rep.Errors) == 0
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !rep.OK {
		os.Exit(1)
	}
}

func run(ctx context.Context, socket, audience, mtlsURL, serverID string) *report {
	rep := &report{Socket: socket, Errors: []string{}}
	fail := func(step string, err error) string {
		msg := fmt.Sprintf("%s: %v", step, err)
		rep.Errors = append(rep.Errors, msg)
		return msg
	}

	client, err := workloadapi.New(ctx, workloadapi.WithAddr(socket))
	if err != nil {
		fail("workloadapi.New", err)
		return rep
	}
	defer client.Close()

	rep.X509 = checkX509(ctx, client, fail)
	rep.JWT = checkJWT(ctx, client, audience, fail)
	if mtlsURL != "" {
		rep.MTLS = callMTLS(ctx, socket, mtlsURL, serverID, fail)
	}
	return rep
}

func checkX509(ctx context.Context, client *workloadapi.Client, fail func(string, error) string) x509Report {
	var r x509Report
	x509Ctx, err := client.FetchX509Context(ctx)
	if err != nil {
		r.Error = fail("FetchX509Context", err)
		return r
	}
	svid := x509Ctx.DefaultSVID()
	r.SpiffeID = svid.ID.String()
	r.ExpiresAt = svid.Certificates[0].NotAfter.UTC().Format(time.RFC3339)
	r.ChainLength = len(svid.Certificates)
	r.BundleTrustDomains = x509TrustDomains(x509Ctx.Bundles)

	id, _, err := x509svid.Verify(svid.Certificates, x509Ctx.Bundles)
	if err != nil {
		r.Error = fail("x509svid.Verify", err)
		return r
	}
	r.Verified = true
	r.VerifiedID = id.String()
	return r
}

func checkJWT(ctx context.Context, client *workloadapi.Client, audience string, fail func(string, error) string) jwtReport {
	var r jwtReport
	bundles, err := client.FetchJWTBundles(ctx)
	if err != nil {
		r.Error = fail("FetchJWTBundles", err)
		return r
	}
	r.BundleTrustDomains = jwtTrustDomains(bundles)

	svid, err := client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: audience})
	if err != nil {
		r.Error = fail("FetchJWTSVID", err)
		return r
	}
	r.SpiffeID = svid.ID.String()
	r.ExpiresAt = svid.Expiry.UTC().Format(time.RFC3339)
	r.Audience = svid.Audience

	// Validate locally with go-spiffe's verifier against the bundles the Workload API handed out.
	parsed, err := jwtsvid.ParseAndValidate(svid.Marshal(), bundles, []string{audience})
	if err != nil {
		r.Error = fail("jwtsvid.ParseAndValidate", err)
		return r
	}
	r.Verified = true
	r.VerifiedID = parsed.ID.String()

	// And through the Workload API's own ValidateJWTSVID RPC.
	if _, err := client.ValidateJWTSVID(ctx, svid.Marshal(), audience); err != nil {
		r.Error = fail("ValidateJWTSVID", err)
		return r
	}
	r.ValidatedByAPI = true
	return r
}

func callMTLS(ctx context.Context, socket, url, serverID string, fail func(string, error) string) *mtlsReport {
	r := &mtlsReport{URL: url, ServerID: serverID}
	id, err := spiffeid.FromString(serverID)
	if err != nil {
		r.Error = fail("spiffeid.FromString", err)
		return r
	}
	source, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(socket)))
	if err != nil {
		r.Error = fail("workloadapi.NewX509Source", err)
		return r
	}
	defer source.Close()

	httpClient := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: tlsconfig.MTLSClientConfig(source, source, tlsconfig.AuthorizeID(id)),
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		r.Error = fail("http.NewRequest", err)
		return r
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		r.Error = fail("mtls call", err)
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64*1024))
	r.Status = resp.StatusCode
	r.Body = string(body)
	if err != nil {
		r.Error = fail("mtls read body", err)
		return r
	}
	if resp.StatusCode != http.StatusOK {
		r.Error = fail("mtls call", fmt.Errorf("status %d", resp.StatusCode))
	}
	return r
}

func x509TrustDomains(set *x509bundle.Set) []string {
	out := []string{}
	for _, b := range set.Bundles() {
		out = append(out, b.TrustDomain().String())
	}
	sort.Strings(out)
	return out
}

func jwtTrustDomains(set *jwtbundle.Set) []string {
	out := []string{}
	for _, b := range set.Bundles() {
		out = append(out, b.TrustDomain().String())
	}
	sort.Strings(out)
	return out
}
