// Loads Trapline through its C ABI from Go (cgo) and replays a fixture of length-prefixed OTLP
// protobuf trace requests through four pipelines at once, one per goroutine (distinct handles
// are used from distinct threads). Prints each pipeline's counters; exits 1 when the accounting
// does not hold or the pipelines disagree.
//
//	CGO_CFLAGS=-I<include> CGO_LDFLAGS="-L<lib> -lTraplineC -Wl,-rpath,<lib>" go run replay_fixture.go FIXTURE
package main

/*
#include <stdlib.h>
#include "trapline.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"unsafe"
)

const pipelineYAML = `receivers: {stdin: }
processors:
  filter:
    trace_conditions: ['attributes["http.request.method"] == "DELETE"']
exporters: {stdout: }
service: {pipelines: {traces: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}
`

func replay(requests [][]byte) (C.trapline_counters, int, error) {
	var counters C.trapline_counters
	errorBuffer := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errorBuffer))
	yaml := C.CString(pipelineYAML)
	defer C.free(unsafe.Pointer(yaml))
	pipeline := C.trapline_pipeline_new(yaml, errorBuffer, 512)
	if pipeline == nil {
		return counters, 0, fmt.Errorf("pipeline: %s", C.GoString(errorBuffer))
	}
	defer C.trapline_pipeline_free(pipeline)
	outputBytes := 0
	for _, request := range requests {
		var output *C.uint8_t
		var outputSize C.size_t
		status := C.trapline_process(pipeline, (*C.uint8_t)(unsafe.Pointer(&request[0])), C.size_t(len(request)),
			C.TRAPLINE_FORMAT_PROTOBUF_TRACES, &output, &outputSize, errorBuffer, 512)
		if status != C.TRAPLINE_OK {
			return counters, 0, fmt.Errorf("process: %d %s", status, C.GoString(errorBuffer))
		}
		outputBytes += int(outputSize)
		C.trapline_buffer_free(output)
	}
	C.trapline_counters_read(pipeline, &counters)
	return counters, outputBytes, nil
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var requests [][]byte
	for offset := 0; offset+4 <= len(data); {
		length := int(binary.BigEndian.Uint32(data[offset:]))
		requests = append(requests, data[offset+4:offset+4+length])
		offset += 4 + length
	}
	type result struct {
		counters C.trapline_counters
		output   int
		err      error
	}
	results := make([]result, 4)
	var group sync.WaitGroup
	for index := range results {
		group.Add(1)
		go func(index int) {
			defer group.Done()
			counters, output, err := replay(requests)
			results[index] = result{counters, output, err}
		}(index)
	}
	group.Wait()
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintln(os.Stderr, r.err)
			os.Exit(1)
		}
		c := r.counters
		if c.received != c.forwarded+c.filtered+c.blocked+c.rejected || r.counters != results[0].counters ||
			r.output != results[0].output {
			fmt.Fprintln(os.Stderr, "accounting does not hold or pipelines disagree")
			os.Exit(1)
		}
	}
	c := results[0].counters
	fmt.Printf("pipelines 4 requests %d received %d forwarded %d filtered %d blocked %d rejected %d\n", len(requests),
		c.received, c.forwarded, c.filtered, c.blocked, c.rejected)
}
