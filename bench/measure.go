//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// test is one load shape run against every path.
type test struct {
	key, title string
	wrk        bool
	streams    int  // iperf3 -P
	close      bool // wrk: Connection: close
}

// measure collects one test on one path over the repetitions.
type measure struct {
	val      series // Gbit/s (iperf) or requests/s (wrk)
	p50, p99 series // ms (wrk)
	cpu      series // CPU s per GB (iperf) or µs per request (wrk)
	errs     []string
}

func (m *measure) fail(err error) {
	if len(m.errs) < 3 {
		m.errs = append(m.errs, err.Error())
	}
}

// iperf runs iperf3 from the client namespace; returns Gbit/s and bytes.
func (e *env) iperf(clientNS, addr string, streams int, d time.Duration) (gbps, bytes float64, err error) {
	host, port, _ := strings.Cut(addr, ":")
	secs := fmt.Sprint(int(d.Seconds()))
	out, err := e.runT(d+30*time.Second, e.inNS(clientNS, "iperf3", "-c", host, "-p", port,
		"-t", secs, "-P", fmt.Sprint(streams), "-J", "--connect-timeout", "3000")...)
	var r struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				Bytes float64 `json:"bytes"`
				Bps   float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if jerr := json.Unmarshal([]byte(out), &r); jerr != nil {
		if err == nil {
			err = jerr
		}
		return 0, 0, err
	}
	if r.Error != "" {
		return 0, 0, fmt.Errorf("iperf3: %s", r.Error)
	}
	if err != nil {
		return 0, 0, err
	}
	return r.End.SumReceived.Bps / 1e9, r.End.SumReceived.Bytes, nil
}

type wrkOut struct {
	rps, p50, p99, requests float64
	errors                  string
}

var (
	reRPS  = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reReq  = regexp.MustCompile(`(\d+) requests in`)
	reP50  = regexp.MustCompile(`\s50%\s+([\d.]+)(us|ms|s)`)
	reP99  = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`)
	reSock = regexp.MustCompile(`Socket errors: (.*)`)
	reNon2 = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// wrk runs wrk from the client namespace against http://addr/.
func (e *env) wrk(clientNS, addr string, close bool, d time.Duration) (wrkOut, error) {
	args := []string{"wrk", "-t2", "-c32", "-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency"}
	if close {
		args = append(args, "-H", "Connection: close")
	}
	args = append(args, "http://"+addr+"/")
	out, err := e.runT(d+30*time.Second, e.inNS(clientNS, args...)...)
	var w wrkOut
	if err != nil {
		return w, err
	}
	num := func(re *regexp.Regexp) float64 {
		m := re.FindStringSubmatch(out)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		if len(m) > 2 {
			switch m[2] {
			case "us":
				v /= 1000
			case "s":
				v *= 1000
			}
		}
		return v
	}
	w.rps, w.requests, w.p50, w.p99 = num(reRPS), num(reReq), num(reP50), num(reP99)
	if w.rps < 0 || w.requests <= 0 || w.p50 < 0 || w.p99 < 0 {
		return w, fmt.Errorf("wrk: unexpected output: %s", lastLines(out, 3))
	}
	if m := reSock.FindStringSubmatch(out); m != nil {
		w.errors = "socket errors: " + m[1]
	}
	if m := reNon2.FindStringSubmatch(out); m != nil {
		w.errors += " non-2xx: " + m[1]
	}
	return w, nil
}

// once runs test t on path p and records it in m, with the proxy's CPU.
func (l *lab) runTest(t test, p *path, d time.Duration, m *measure) {
	e, clientNS := l.e, l.pc
	svc := 0
	if t.wrk {
		svc = 1
	}
	pid := p.pid(svc)
	cpu0 := cpuSeconds(pid)
	if !t.wrk {
		gbps, bytes, err := e.iperf(clientNS, p.addr(svc), t.streams, d)
		if err != nil {
			m.fail(err)
			l.restartIperf() // a failed test can leave the server busy
			return
		}
		m.val = append(m.val, gbps)
		if pid != 0 && bytes > 0 {
			time.Sleep(100 * time.Millisecond) // let forked children be reaped
			m.cpu = append(m.cpu, (cpuSeconds(pid)-cpu0)/(bytes/1e9))
		}
		return
	}
	w, err := e.wrk(clientNS, p.addr(svc), t.close, d)
	if err != nil {
		m.fail(err)
		return
	}
	if w.errors != "" && len(m.errs) < 3 {
		m.errs = append(m.errs, "wrk "+w.errors)
	}
	m.val, m.p50, m.p99 = append(m.val, w.rps), append(m.p50, w.p50), append(m.p99, w.p99)
	if pid != 0 {
		time.Sleep(100 * time.Millisecond)
		m.cpu = append(m.cpu, (cpuSeconds(pid)-cpu0)*1e6/w.requests)
	}
}
