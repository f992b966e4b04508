package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reports the connection pools registered with WatchPool.
type poolCollector struct {
	waits, waited, conns, maxConn *prometheus.Desc

	mu    sync.Mutex
	names []string
	stats []func() PoolStats
}

func (c *poolCollector) add(name string, stats func() PoolStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names = append(c.names, name)
	c.stats = append(c.stats, stats)
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.waits
	ch <- c.waited
	ch <- c.conns
	ch <- c.maxConn
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	names, stats := c.names, c.stats
	c.mu.Unlock()
	for i, name := range names {
		s := stats[i]()
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.Waits), name)
		ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.InUse), name, "in_use")
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.Idle), name, "idle")
		ch <- prometheus.MustNewConstMetric(c.maxConn, prometheus.GaugeValue, float64(s.Max), name)
	}
}
