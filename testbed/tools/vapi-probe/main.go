// Command vapi-probe calls one method of govmomi's vSphere Supervisor client (vapi/rest and
// vapi/namespace) and prints its answer as JSON, for the conformance suite (tests/conformance),
// which holds each answer against what vCenter 8 returns.
//
//	vapi-probe METHOD [ARG ...]
//
// The vCenter URL, user and password come from GOVMOMI_URL, GOVMOMI_USERNAME and GOVMOMI_PASSWORD,
// the CA bundle from GOVMOMI_TLS_CA_CERTS. An argument of a method that takes a spec is that spec as
// JSON, decoded into govmomi's own type, so a spec the suite writes is one govmomi would send. The
// answer is printed as govmomi's type encodes it; a method with no result prints {}. A failure
// prints its error on stderr and exits 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sort"

	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
)

type call func(ctx context.Context, c *rest.Client, m *namespace.Manager, args []string) (any, error)

// decode reads a spec argument into govmomi's type for it.
func decode[T any](arg string) (T, error) {
	var spec T
	err := json.Unmarshal([]byte(arg), &spec)
	return spec, err
}

func none(err error) (any, error) { return struct{}{}, err }

var methods = map[string]struct {
	arity int
	run   call
}{
	"Session": {0, func(ctx context.Context, c *rest.Client, _ *namespace.Manager, _ []string) (any, error) {
		return c.Session(ctx)
	}},
	"Logout": {0, func(ctx context.Context, c *rest.Client, _ *namespace.Manager, _ []string) (any, error) {
		return none(c.Logout(ctx))
	}},
	"ListClusters": {0, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, _ []string) (any, error) {
		return m.ListClusters(ctx)
	}},
	"ListCompatibleDistributedSwitches": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.ListCompatibleDistributedSwitches(ctx, a[0])
	}},
	"ListCompatibleEdgeClusters": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.ListCompatibleEdgeClusters(ctx, a[0], a[1])
	}},
	"ListClusterNetworks": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.ListClusterNetworks(ctx, a[0])
	}},
	"GetClusterNetwork": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetClusterNetwork(ctx, a[0], a[1])
	}},
	"GetSupervisorSummaries": {0, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, _ []string) (any, error) {
		return m.GetSupervisorSummaries(ctx)
	}},
	"GetSupervisorSummary": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetSupervisorSummary(ctx, a[0])
	}},
	"GetSupervisorTopology": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetSupervisorTopology(ctx, a[0])
	}},
	"ListSupervisorServices": {0, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, _ []string) (any, error) {
		return m.ListSupervisorServices(ctx)
	}},
	"CreateSupervisorService": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		spec, err := decode[namespace.SupervisorService](a[0])
		if err != nil {
			return nil, err
		}
		return none(m.CreateSupervisorService(ctx, &spec))
	}},
	"GetSupervisorService": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetSupervisorService(ctx, a[0])
	}},
	"ActivateSupervisorServices": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.ActivateSupervisorServices(ctx, a[0]))
	}},
	"DeactivateSupervisorServices": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.DeactivateSupervisorServices(ctx, a[0]))
	}},
	"RemoveSupervisorService": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.RemoveSupervisorService(ctx, a[0]))
	}},
	"ListSupervisorServiceVersions": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.ListSupervisorServiceVersions(ctx, a[0])
	}},
	"CreateSupervisorServiceVersion": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		spec, err := decode[namespace.SupervisorServiceVersion](a[1])
		if err != nil {
			return nil, err
		}
		return none(m.CreateSupervisorServiceVersion(ctx, a[0], &spec))
	}},
	"GetSupervisorServiceVersion": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetSupervisorServiceVersion(ctx, a[0], a[1])
	}},
	"ActivateSupervisorServiceVersion": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.ActivateSupervisorServiceVersion(ctx, a[0], a[1]))
	}},
	"DeactivateSupervisorServiceVersion": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.DeactivateSupervisorServiceVersion(ctx, a[0], a[1]))
	}},
	"RemoveSupervisorServiceVersion": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.RemoveSupervisorServiceVersion(ctx, a[0], a[1]))
	}},
	"ListVmClasses": {0, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, _ []string) (any, error) {
		return m.ListVmClasses(ctx)
	}},
	"GetVmClass": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetVmClass(ctx, a[0])
	}},
	"CreateVmClass": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		spec, err := decode[namespace.VirtualMachineClassCreateSpec](a[0])
		if err != nil {
			return nil, err
		}
		return none(m.CreateVmClass(ctx, spec))
	}},
	"UpdateVmClass": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		spec, err := decode[namespace.VirtualMachineClassUpdateSpec](a[1])
		if err != nil {
			return nil, err
		}
		return none(m.UpdateVmClass(ctx, a[0], spec))
	}},
	"DeleteVmClass": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.DeleteVmClass(ctx, a[0]))
	}},
	"ListNamespaces": {0, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, _ []string) (any, error) {
		return m.ListNamespaces(ctx)
	}},
	"GetNamespace": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetNamespace(ctx, a[0])
	}},
	"CreateNamespace": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		spec, err := decode[namespace.NamespacesInstanceCreateSpec](a[0])
		if err != nil {
			return nil, err
		}
		return none(m.CreateNamespace(ctx, spec))
	}},
	"UpdateNamespace": {2, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		spec, err := decode[namespace.NamespacesInstanceUpdateSpec](a[1])
		if err != nil {
			return nil, err
		}
		return none(m.UpdateNamespace(ctx, a[0], spec))
	}},
	"DeleteNamespace": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return none(m.DeleteNamespace(ctx, a[0]))
	}},
	"ListNamespacesV2": {0, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, _ []string) (any, error) {
		return m.ListNamespacesV2(ctx)
	}},
	"GetNamespaceV2": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		return m.GetNamespaceV2(ctx, a[0])
	}},
	"CreateNamespaceV2": {1, func(ctx context.Context, _ *rest.Client, m *namespace.Manager, a []string) (any, error) {
		spec, err := decode[namespace.NamespaceInstanceCreateSpecV2](a[0])
		if err != nil {
			return nil, err
		}
		return none(m.CreateNamespaceV2(ctx, spec))
	}},
}

func run(args []string) (any, error) {
	if len(args) == 0 {
		names := make([]string, 0, len(methods))
		for name := range methods {
			names = append(names, name)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("usage: vapi-probe METHOD [ARG ...]; methods: %v", names)
	}
	method, ok := methods[args[0]]
	if !ok {
		return nil, fmt.Errorf("no method %q", args[0])
	}
	if len(args)-1 != method.arity {
		return nil, fmt.Errorf("%s takes %d arguments, got %d", args[0], method.arity, len(args)-1)
	}
	u, err := soap.ParseURL(os.Getenv("GOVMOMI_URL"))
	if err != nil || u == nil {
		return nil, fmt.Errorf("GOVMOMI_URL: %v", err)
	}
	ctx := context.Background()
	sc := soap.NewClient(u, false)
	if ca := os.Getenv("GOVMOMI_TLS_CA_CERTS"); ca != "" {
		if err := sc.SetRootCAs(ca); err != nil {
			return nil, err
		}
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, err
	}
	c := rest.NewClient(vc)
	user := url.UserPassword(os.Getenv("GOVMOMI_USERNAME"), os.Getenv("GOVMOMI_PASSWORD"))
	if err := c.Login(ctx, user); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return method.run(ctx, c, namespace.NewManager(c), args[1:])
}

func main() {
	answer, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(answer); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
