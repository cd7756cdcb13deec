// Package iptables is the iptables proxy mode: it programs Services into
// the nat and filter tables with the chain layout kube-proxy users know.
//
// # What it programs
//
//	nat  PREROUTING, OUTPUT → KUBE-SERVICES
//	       -d clusterIP/32 -p P --dport port → KUBE-SVC-<h>   (if it has cluster endpoints)
//	       -d externalIP|lbIP/32 ...        → KUBE-EXT-<h>
//	       last: -m addrtype --dst-type LOCAL → KUBE-NODEPORTS (-p P --dport nodePort → KUBE-EXT-<h>)
//	     KUBE-SVC-<h>  ! -s ClusterCIDR → KUBE-MARK-MASQ; affinity (-m recent --rcheck) per
//	                   endpoint; then endpoint i with -m statistic probability 1/(n-i), the
//	                   last unconditional → KUBE-SEP-<e>
//	     KUBE-EXT-<h>  cluster policy: → KUBE-MARK-MASQ, → KUBE-SVC-<h> (or KUBE-SVL-<h> when
//	                   the external endpoint set differs: internalTrafficPolicy Local).
//	                   ExternalLocal: -s ClusterCIDR → KUBE-SVC; --src-type LOCAL → MARK-MASQ and
//	                   KUBE-SVC; others → KUBE-SVL-<h> (local endpoints, not masqueraded)
//	     KUBE-SEP-<e>  -s epIP/32 → KUBE-MARK-MASQ (hairpin); [-m recent --set] DNAT to ip:port
//	     KUBE-MARK-MASQ sets the masquerade mark (Config.MasqueradeBit);
//	     POSTROUTING → KUBE-POSTROUTING: unmarked RETURN, clear the mark, MASQUERADE --random-fully
//	filter OUTPUT, FORWARD (ctstate NEW) → KUBE-SERVICES: REJECT a cluster IP:port with no
//	       endpoints; INPUT, FORWARD (ctstate NEW) → KUBE-EXTERNAL-SERVICES: REJECT node-port and
//	       external traffic with none, DROP it for ExternalLocal with no local endpoints (in
//	       filter, as nat may not DROP); FORWARD → KUBE-FORWARD: ACCEPT marked and
//	       RELATED,ESTABLISHED packets.
//
// Endpoints are chosen by proxy.ClusterEndpoints and proxy.ExternalEndpoints
// (ready, else serving-terminating; traffic policies). <h> is the first 16
// characters of base32(sha256(ServicePortName.String()+protocol)), <e> the
// same over the endpoint too: names are stable across restarts and ≤ 28
// characters. Every service rule carries `-m comment --comment "ns/name:port"`.
//
// # Compute, then apply; partial sync
//
// buildRules is a pure function from the Snapshot to a ruleSet (table →
// chain → its rules' text), written into one pre-sized strings.Builder. A
// partial sync of the tracker's next snapshot instead patches the last
// ruleSet with the service ports the snapshot's Changed names (patch.go):
// their own chains replaced, their lines moved in the shared chains before
// the fixed rules. The Proxier keeps the last applied ruleSet; each Sync
// sends an `iptables-restore --noflush --wait` input holding, per table, a
// `:CHAIN` declaration (which with --noflush creates or flushes) for every
// chain whose text changed or that disappeared, the changed chains' rules,
// the in-place edits of KUBE-SERVICES, KUBE-NODEPORTS and the filter lists
// (`-D` of the rules that went, `-I CHAIN 1` of the new ones, up to 64:
// edits.go), then `-X` for the disappeared chains, so no deleted chain is
// still referenced. Nothing changed: nothing is run. full rewrites every
// chain. A sync of more than 1,000 chains of a table is cut into several
// restores (batches.go): iptables-nft's cost grows with the square of one
// input's chains, and at 10,000 Services one input took 26 s against 4.7 s
// in batches; each batch leaves every jump valid. The kernel is never read
// on the hot path: after a failed restore the state is unknown, so the next
// sync is full and also deletes every chain applied or attempted that is
// no longer wanted (a `:X` then `-X X` works whether X exists or not). A
// partial sync at 10,000 Services costs at least the kernel's validation
// of the nat table on commit with the nf_tables backend: once the built-in
// chains jump into KUBE-SERVICES, any commit to nat that adds a jump walks
// the jump graph, 0.12-0.14 s measured in a lab netns (the same restore
// took 10 ms before the built-in chains jumped to KUBE-SERVICES). The
// first sync of a process lists the chains once (Runner.ListChains) to
// find those an earlier process left, for the same reason.
//
// # Jumps from the built-in chains
//
// These are ensured with `iptables -C` then `-I` (Runner.EnsureRule) after
// the restore of every full sync, not through the restore input: with
// --noflush a `-D` of a missing rule fails the whole input and an `-I`
// duplicates an existing one, and declaring a built-in chain cannot flush
// it without flushing others' rules too. github.com/coreos/go-iptables does
// the same check-then-insert but cannot run behind a command prefix (`ip
// netns exec NAME`), which tests and the bench need, so ExecRunner execs
// the three binaries itself.
//
// # Cleanup
//
// Cleanup lists each table's chains (Runner.ListChains) and the rules of
// those not ours (ListRules, `iptables -S CHAIN`), deletes in one restore
// every rule of those that jumps into a chain of ours, then flushes and
// deletes our chains in one transaction per table (DeleteChains). Ours:
// KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ,
// KUBE-EXTERNAL-SERVICES, KUBE-FORWARD and KUBE-{SVC,EXT,SVL,SEP}-*;
// KUBE-MARK-DROP, KUBE-FIREWALL and others' chains stay. A second Cleanup
// finds nothing and runs nothing. With the nf_tables backend the listing
// and the deleting go through nft (runner_list.go): iptables-save and
// iptables-restore translate every rule of the table in user space, 14 s
// and 9 s at 10,000 Services, where nft takes well under a second; with
// the legacy backend they are iptables-save and iptables-restore.
//
// # Testing
//
// Fake is a stateful iptables (per-table commit, the real one's refusals:
// unknown chain or target, -X of a referenced or non-empty chain, DROP in
// nat, ...); e2e checks it refuses what the kernel refuses. Fake.Trace
// follows a packet through the fake's tables, forking at every statistic
// match, and returns every possible path with its probability, its DNAT
// destination, whether it is masqueraded and its verdict.
package iptables
