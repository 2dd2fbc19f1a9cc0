#!/bin/sh
# The topology checks, run in any guest: what numabalance reports.
# Usage (inside numa-lab): sh topology.sh BIN_FOLDER
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/sampler-accuracy.sh"
mark start
describe_nodes
"$bin/numabalance" topology --json > "$out/topology.json" 2> "$out/topology.err"
echo $? > "$out/topology.rc"
mark topology

# The sampler threads' check (SamplerLabTests).
samplers
