// Command vmop-webhook is the testbed's VM Operator conversion webhook: it converts objects of
// vmoperator.vmware.com between the API versions the Supervisor serves (v1alpha1 .. v1alpha5), with
// VM Operator's own conversion functions (its API module: spokes v1alpha1..v1alpha4 convert to and
// from the v1alpha5 hub), as VM Operator's webhook server does on a real Supervisor.
//
//	vmop-webhook -listen 127.0.0.1:PORT -tls-cert FILE -tls-key FILE
//
// It serves controller-runtime's conversion handler on /convert (the ConversionReview the
// kube-apiserver sends for a CRD whose spec.conversion is a Webhook) and /healthz over TLS.
// At start it logs which kinds served in several versions it converts and which it does not.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/runtime"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	vmopapis "github.com/vmware-tanzu/vm-operator/api"
	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
)

// convertibleKinds sorts the hub's kinds that some other version serves too into those VM
// Operator's API converts (the hub and every spoke a Convertible) and those it does not (which a
// CRD without a webhook serves as stored), each with the versions that have it.
func convertibleKinds(scheme *runtime.Scheme) (convertible, not []string, err error) {
	versions := map[string][]string{}
	for gvk, typ := range scheme.AllKnownTypes() {
		// the group's own kinds (not the meta kinds every version registers, nor lists)
		if gvk.Group == vmopv1.GroupVersion.Group && !strings.HasSuffix(gvk.Kind, "List") &&
			strings.HasPrefix(typ.PkgPath(), "github.com/vmware-tanzu/vm-operator/api/") {
			versions[gvk.Kind] = append(versions[gvk.Kind], gvk.Version)
		}
	}
	for kind, known := range versions {
		obj, newErr := scheme.New(vmopv1.GroupVersion.WithKind(kind))
		if len(known) < 2 || newErr != nil {
			continue // one version only, or not in the hub's: nothing to convert
		}
		ok, checkErr := conversion.IsConvertible(scheme, obj)
		if checkErr != nil {
			return nil, nil, fmt.Errorf("%s: %w", kind, checkErr)
		}
		sort.Strings(known)
		entry := fmt.Sprintf("%s (%s)", kind, strings.Join(known, ", "))
		if ok {
			convertible = append(convertible, entry)
		} else {
			not = append(not, entry)
		}
	}
	sort.Strings(convertible)
	sort.Strings(not)
	return convertible, not, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9443", "address to serve on")
	certFile := flag.String("tls-cert", "", "serving certificate (PEM)")
	keyFile := flag.String("tls-key", "", "its private key (PEM)")
	flag.Parse()
	if *certFile == "" || *keyFile == "" {
		log.Fatal("vmop-webhook: -tls-cert and -tls-key are required")
	}
	// controller-runtime's handler logs its failures (a request it cannot decode or convert)
	ctrllog.SetLogger(funcr.New(func(prefix, args string) { log.Println(prefix, args) }, funcr.Options{}))

	scheme := runtime.NewScheme()
	if err := vmopapis.AddToScheme(scheme); err != nil {
		log.Fatalf("vmop-webhook: %v", err)
	}
	convertible, not, err := convertibleKinds(scheme)
	if err != nil {
		log.Fatalf("vmop-webhook: %v", err)
	}
	log.Printf("converts %d kinds of %s: %s", len(convertible), vmopv1.GroupVersion.Group, strings.Join(convertible, "; "))
	log.Printf("does not convert (VM Operator's API has no conversion for them): %s", strings.Join(not, "; "))

	mux := http.NewServeMux()
	mux.Handle("/convert", conversion.NewWebhookHandler(scheme))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	server := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
	}()
	log.Printf("serving /convert on https://%s", *listen)
	if err := server.ListenAndServeTLS(*certFile, *keyFile); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("vmop-webhook: %v", err)
	}
}
