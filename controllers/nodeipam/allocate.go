package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// errFull is returned when every block of the cluster CIDR is taken.
var errFull = errors.New("the cluster CIDR has no free block left")

// blocks describes the cluster CIDR cut into blocks of one size.
type blocks struct {
	cluster netip.Prefix
	bits    int // the blocks' prefix length
}

func newBlocks(cluster netip.Prefix, bits int) (blocks, error) {
	cluster = cluster.Masked()
	if bits < cluster.Bits() || bits > cluster.Addr().BitLen() {
		return blocks{}, fmt.Errorf("node CIDR mask size %d does not fit the cluster CIDR %s", bits, cluster)
	}
	if bits-cluster.Bits() > 24 {
		return blocks{}, fmt.Errorf("node CIDR mask size %d cuts %s into more than 2^24 blocks", bits, cluster)
	}
	return blocks{cluster: cluster, bits: bits}, nil
}

func (b blocks) count() int { return 1 << (b.bits - b.cluster.Bits()) }

// at is the i-th block.
func (b blocks) at(i int) netip.Prefix {
	base := new(big.Int).SetBytes(b.cluster.Addr().AsSlice())
	step := new(big.Int).Lsh(big.NewInt(int64(i)), uint(b.cluster.Addr().BitLen()-b.bits))
	raw := base.Add(base, step).FillBytes(make([]byte, b.cluster.Addr().BitLen()/8))
	addr, _ := netip.AddrFromSlice(raw)
	return netip.PrefixFrom(addr, b.bits)
}

// lowestFree is the first block that overlaps none of used.
func (b blocks) lowestFree(used []netip.Prefix) (netip.Prefix, error) {
	for i := range b.count() {
		p := b.at(i)
		if !overlapsAny(p, used) {
			return p, nil
		}
	}
	return netip.Prefix{}, errFull
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if p.Overlaps(u) {
			return true
		}
	}
	return false
}
