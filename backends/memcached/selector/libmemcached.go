package selector

import (
	"cmp"
	"math"
	"slices"
	"strconv"
)

// modula is libmemcached's default distribution: one_at_a_time(key) % n,
// and index 0 whenever there is one server.
type modula int

func (m modula) Pick(key string) int {
	if m == 1 {
		return 0
	}
	return int(oneAtATime(key) % uint32(m))
}

const (
	pointsPerServer         = 100 // MEMCACHED_POINTS_PER_SERVER
	pointsPerServerWeighted = 160 // MEMCACHED_POINTS_PER_SERVER_KETAMA
	defaultPort             = 11211
)

// ketamaPrefix is the name libmemcached hashes for a server's continuum
// points, before "-<i>": the host alone on the default port, else
// "host:port"; a socket has port 0, so "/path:0".
func ketamaPrefix(s Server) string {
	if s.Network == "unix" {
		return s.Addr + ":0"
	}
	if s.Port == defaultPort {
		return s.Host
	}
	return s.Host + ":" + strconv.Itoa(s.Port)
}

type point struct {
	value uint32
	index int
}

// ketama is libmemcached's consistent distribution: the key goes to the
// first point whose value is >= hash(key), wrapping to the first point.
type ketama struct {
	points []point
	md5Key bool // ketama_weighted hashes keys with MD5, ketama with one_at_a_time
	single bool
}

// newKetama builds libmemcached's continuum (update_continuum in
// hosts.cc). Unweighted: 100 points per server, one_at_a_time of
// "<prefix>-<i>". Weighted: floor(pct*160/4*n + 1e-10)*4 points per
// server, computed in float32 as the C code does, four points (the MD5
// words) from each name "<prefix>-<i>".
func newKetama(client Client, servers []Server, weighted, md5Key bool) (*ketama, error) {
	k := &ketama{md5Key: md5Key, single: len(servers) == 1}
	if !weighted {
		k.points = make([]point, 0, pointsPerServer*len(servers))
		for idx, s := range servers {
			prefix := ketamaPrefix(s) + "-"
			for i := 0; i < pointsPerServer; i++ {
				k.points = append(k.points, point{oneAtATime(prefix + strconv.Itoa(i)), idx})
			}
		}
	} else {
		var total uint64
		for _, s := range servers {
			total += uint64(s.Weight)
		}
		if total == 0 {
			return nil, &ServerError{client, servers[0].Spec, "every weight is 0"}
		}
		live := float32(len(servers))
		for idx, s := range servers {
			// One rounding per C operation; the explicit conversions keep
			// the compiler from fusing them.
			pct := float32(s.Weight) / float32(total)
			x := float32(pct * pointsPerServerWeighted)
			x = float32(x / 4)
			x = float32(x * live)
			x = float32(x + float32(0.0000000001))
			per := uint32(math.Floor(float64(x))) * 4
			prefix := ketamaPrefix(s) + "-"
			for i := 0; i < int(per/4); i++ {
				for _, v := range md5Words(prefix + strconv.Itoa(i)) {
					k.points = append(k.points, point{v, idx})
				}
			}
		}
		if len(k.points) == 0 {
			return nil, &ServerError{client, servers[0].Spec, "the weights give no server a continuum point"}
		}
	}
	slices.SortFunc(k.points, func(a, b point) int {
		if c := cmp.Compare(a.value, b.value); c != 0 {
			return c
		}
		return cmp.Compare(a.index, b.index)
	})
	return k, nil
}

func (k *ketama) Pick(key string) int {
	if k.single {
		return 0
	}
	var h uint32
	if k.md5Key {
		h = md5Words(key)[0]
	} else {
		h = oneAtATime(key)
	}
	i, _ := slices.BinarySearchFunc(k.points, h, func(p point, h uint32) int { return cmp.Compare(p.value, h) })
	if i == len(k.points) {
		i = 0
	}
	return k.points[i].index
}

// crcModulaLib is libmemcached's modula distribution with the "crc" key
// hash: hashkitCRC32(key) % n, and index 0 whenever there is one server.
type crcModulaLib int

func (m crcModulaLib) Pick(key string) int {
	if m == 1 {
		return 0
	}
	return int(hashkitCRC32(key) % uint32(m))
}
