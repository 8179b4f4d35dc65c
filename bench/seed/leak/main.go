// The seed's loop: a goroutine feeds a channel from the pipe (standard input)
// and the main loop forwards every record to one TCP client, with a fresh
// time.After per iteration for the 3-minute idle timeout. Before Go 1.23 each
// of those timers stays alive until it fires, three minutes later.
package main

import (
	"bufio"
	"log"
	"net"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	ch := make(chan int, 1024)
	go feed(ch)
	conn, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(conn, 65536)
	loop(ch, w)
}

// feed parses one small integer per line and sends it on ch; closes ch at EOF.
func feed(ch chan<- int) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		v := 0
		for _, c := range sc.Bytes() {
			v = v*10 + int(c-'0')
		}
		ch <- v
	}
	close(ch)
}

// put writes v as a fixed-width record of 5 digits and a newline.
func put(w *bufio.Writer, v int) error {
	var b [6]byte
	for i := 4; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	b[5] = '\n'
	_, err := w.Write(b[:])
	return err
}
