// vapi-probe, for tests/conformance: govmomi's vapi/namespace client, one method a call.
module pacific.supervisor/testbed/tools/vapi-probe

go 1.25.0

require github.com/vmware/govmomi v0.56.0
