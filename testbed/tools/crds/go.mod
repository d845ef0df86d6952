// Upstream modules whose CRD manifests the testbed reads from the Go module cache at start-up.
// Nothing here is compiled; `go mod download` fetches these versions into the cache.
module pacific.supervisor/testbed/tools/crds

go 1.25.0

require (
	github.com/vmware-tanzu/vm-operator v1.10.0
	sigs.k8s.io/cluster-api v1.10.7
	// CAPV's supervisor mode (VSphereCluster, VSphereMachine, ... of vmware.infrastructure.cluster.x-k8s.io)
	sigs.k8s.io/cluster-api-provider-vsphere v1.14.0
)
