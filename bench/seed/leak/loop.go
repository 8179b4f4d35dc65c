package main

import (
	"bufio"
	"log"
	"time"
)

const idleDelay = 3 * time.Minute

// loop is the seed's select: time.After allocates a new timer every time.
func loop(ch <-chan int, w *bufio.Writer) {
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				w.Flush()
				return
			}
			if put(w, r) != nil {
				return
			}
			if len(ch) == 0 && w.Flush() != nil {
				return
			}
		case <-time.After(idleDelay):
			log.Print("source idle")
		}
	}
}
