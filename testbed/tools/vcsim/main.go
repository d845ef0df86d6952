// Command vcsim serves govmomi's vCenter simulator for the testbed.
//
// govmomi no longer publishes its vcsim command inside the module the Go proxy serves, so the
// testbed carries this small entry point over the simulator library instead. It listens on one
// loopback address with the testbed's TLS certificate, checks one user, and writes its URL to a
// file once it is serving so the launcher can tell "started" from "ready".
package main

import (
	"crypto/tls"
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	// Optional endpoints: the vSphere Automation REST API (/rest, /api) and storage policies.
	_ "github.com/vmware/govmomi/pbm/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	model := simulator.VPX()
	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "standalone hosts")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "local datastores")
	flag.IntVar(&model.Machine, "vm", model.Machine, "virtual machines per resource pool")
	flag.IntVar(&model.Pool, "pool", model.Pool, "resource pools per compute resource")
	flag.IntVar(&model.Portgroup, "pg", model.Portgroup, "distributed port groups")
	listen := flag.String("l", "127.0.0.1:8989", "listen address")
	cert := flag.String("tlscert", "", "TLS certificate file")
	key := flag.String("tlskey", "", "TLS key file")
	user := flag.String("username", "", "the one user allowed to log in")
	pass := flag.String("password", "", "that user's password")
	readyFile := flag.String("ready-file", "", "file to write the service URL to once serving")
	flag.Parse()

	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	registry := model.Map()
	for _, vm := range registry.All("VirtualMachine") {
		enumDefaults{}.PutObject(nil, vm)
	}
	registry.AddHandler(enumDefaults{})
	defer model.Remove()

	u := &url.URL{Host: *listen}
	if *user != "" {
		u.User = url.UserPassword(*user, *pass)
	}
	model.Service.Listen = u
	model.Service.RegisterEndpoints = true
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			log.Fatal(err)
		}
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	server := model.Service.NewServer()
	defer server.Close()

	if *readyFile != "" {
		served := *server.URL
		served.User = nil
		if err := os.WriteFile(*readyFile, []byte(served.String()+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}

// enumDefaults fills in enum properties vcsim leaves empty. An empty string is no valid enum value,
// and strict clients (pyVmomi 9) refuse to deserialize it, so a VM's runtime could not be read.
type enumDefaults struct{}

func (enumDefaults) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "PacificTestbedHandler", Value: "enum-defaults"}
}

func (enumDefaults) PutObject(_ *simulator.Context, item mo.Reference) {
	if vm, ok := item.(*simulator.VirtualMachine); ok {
		for _, runtime := range []*types.VirtualMachineRuntimeInfo{&vm.Runtime, &vm.Summary.Runtime} {
			if runtime.FaultToleranceState == "" {
				runtime.FaultToleranceState = types.VirtualMachineFaultToleranceStateNotConfigured
			}
			if runtime.RecordReplayState == "" {
				runtime.RecordReplayState = types.VirtualMachineRecordReplayStateInactive
			}
		}
	}
}

func (enumDefaults) UpdateObject(*simulator.Context, mo.Reference, []types.PropertyChange) {}

func (enumDefaults) RemoveObject(*simulator.Context, types.ManagedObjectReference) {}
