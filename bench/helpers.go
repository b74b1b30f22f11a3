//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// httpd is a minimal HTTP/1.1 responder for wrk: it reads a request head,
// answers a fixed 3-byte body and honours Connection: close. Kept tiny so
// the proxies, not the origin, dominate the cost.
func httpd(args []string) {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serveHTTP(c)
	}
}

var (
	respKeep  = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n")
	respClose = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
	hdrClose  = []byte("connection: close")
)

func serveHTTP(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 4096)
	for {
		closeReq, n := false, 0
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			if n++; n > 100 {
				return
			}
			if len(line) <= 2 { // "\r\n": end of the head
				break
			}
			if len(line) >= len(hdrClose) && bytes.EqualFold(line[:len(hdrClose)], hdrClose) {
				closeReq = true
			}
		}
		if closeReq {
			_, _ = c.Write(respClose)
			return
		}
		if _, err := c.Write(respKeep); err != nil {
			return
		}
	}
}

// sink accepts connections and holds them open, closing each when its
// peer does.
func sink(args []string) {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go func() {
			_, _ = io.Copy(io.Discard, c)
			_ = c.Close()
		}()
	}
}

// hold opens N connections to ADDR (CONC at a time), prints
// "ready OK FAILED" and keeps them until stdin closes (at most 10 minutes).
func hold(args []string) {
	addr := args[0]
	n, _ := strconv.Atoi(args[1])
	conc, _ := strconv.Atoi(args[2])
	var (
		mu     sync.Mutex
		held   []net.Conn
		failed atomic.Int64
		wg     sync.WaitGroup
		next   atomic.Int64
	)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("ready %d %d\n", len(held), failed.Load())
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
	}
	for _, c := range held {
		_ = c.Close()
	}
}
