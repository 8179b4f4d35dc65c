package main

import (
	"bufio"
	"log"
	"time"
)

const idleDelay = 3 * time.Minute

// loop re-arms one timer with Reset after each record.
func loop(ch <-chan int, w *bufio.Writer) {
	t := time.NewTimer(idleDelay)
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
			if !t.Stop() {
				<-t.C
			}
			t.Reset(idleDelay)
		case <-t.C:
			log.Print("source idle")
			t.Reset(idleDelay)
		}
	}
}
