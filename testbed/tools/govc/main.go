// Command govc is VMware's vSphere CLI, built from the pinned govmomi's command packages for the
// conformance suite (tests/conformance), which drives it against the testbed as a user would.
//
// govmomi's module carries govc's commands (github.com/vmware/govmomi/cli/...) but no longer its
// main package, so, as for vcsim, the testbed carries this entry point. It registers the command
// groups the suite uses: the vSphere Supervisor's namespace.*, session.*, about and the inventory.
package main

import (
	"os"

	"github.com/vmware/govmomi/cli"

	_ "github.com/vmware/govmomi/cli/about"
	_ "github.com/vmware/govmomi/cli/library"
	_ "github.com/vmware/govmomi/cli/namespace"
	_ "github.com/vmware/govmomi/cli/namespace/cluster"
	_ "github.com/vmware/govmomi/cli/namespace/service"
	_ "github.com/vmware/govmomi/cli/namespace/service/version"
	_ "github.com/vmware/govmomi/cli/namespace/vmclass"
	_ "github.com/vmware/govmomi/cli/object"
	_ "github.com/vmware/govmomi/cli/session"
	_ "github.com/vmware/govmomi/cli/tags"
	_ "github.com/vmware/govmomi/cli/vm"
)

func main() {
	os.Exit(cli.Run(os.Args[1:]))
}
