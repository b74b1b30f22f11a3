package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// MinReaderSize is the smallest bufio.Reader Read accepts: a whole v1 line
// must fit in its buffer.
const MinReaderSize = 128

var errSmallReader = errors.New("proxyproto: bufio.Reader smaller than MinReaderSize")

// Read reads one header from br and consumes exactly its bytes: whatever the
// peer sent after the header stays in br (br.Buffered() bytes) for the
// caller to pass on. The caller bounds the time with a read deadline.
func Read(br *bufio.Reader) (Header, error) {
	if br.Size() < MinReaderSize {
		return Header{}, errSmallReader
	}
	first, err := br.Peek(1)
	if err != nil {
		return Header{}, eofTruncated(err)
	}
	var b []byte
	peeked := true
	switch first[0] {
	case sigV1[0]:
		b, err = peekLine(br)
	case sigV2[0]:
		b, peeked, err = readV2(br)
	default:
		return Header{}, ErrNoProxy
	}
	if err != nil {
		return Header{}, err
	}
	h, n, err := Parse(b)
	if err != nil {
		return Header{}, err
	}
	if peeked {
		_, _ = br.Discard(n)
	}
	return h, nil
}

// peekLine returns the buffered bytes up to and including the first LF,
// reading more only while there is no LF and fewer than MaxV1Size bytes.
func peekLine(br *bufio.Reader) ([]byte, error) {
	for {
		b, _ := br.Peek(br.Buffered())
		if !hasPrefix(b, sigV1) {
			return nil, ErrNoProxy
		}
		if i := bytes.IndexByte(b[:min(len(b), MaxV1Size)], '\n'); i >= 0 {
			return b[:i+1], nil
		}
		if len(b) >= MaxV1Size {
			return nil, ErrTooLarge
		}
		if _, err := br.Peek(len(b) + 1); err != nil {
			return nil, eofTruncated(err)
		}
	}
}

// readV2 returns exactly the v2 header: peeked (still in br) when it fits
// the buffer, else read into its own slice.
func readV2(br *bufio.Reader) (b []byte, peeked bool, err error) {
	fixed, err := br.Peek(16)
	if !hasPrefix(fixed, sigV2) {
		return nil, false, ErrNoProxy
	}
	if err != nil {
		return nil, false, eofTruncated(err)
	}
	total := 16 + int(binary.BigEndian.Uint16(fixed[14:16]))
	if total > MaxV2Size {
		return nil, false, ErrTooLarge
	}
	if total <= br.Size() {
		b, err := br.Peek(total)
		return b, true, eofTruncated(err)
	}
	b = make([]byte, total)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, false, eofTruncated(err)
	}
	return b, false, nil
}

// eofTruncated reports a peer that closed mid-header as ErrTruncated.
func eofTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}
