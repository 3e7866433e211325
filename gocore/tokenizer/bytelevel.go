package tokenizer

import "unicode/utf8"

// byteToRune is GPT-2's bytes_to_unicode table: the printable bytes '!'..'~',
// '¡'..'¬' and '®'..'ÿ' map to themselves, the other 68 bytes to U+0100 and
// up, in byte order.
var byteToRune = func() (tab [256]rune) {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			tab[b] = rune(b)
		} else {
			tab[b] = 256 + n
			n++
		}
	}
	return tab
}()

// runeToByte inverts byteToRune; entries are -1 outside the alphabet. The
// alphabet lies below U+0144.
var runeToByte = func() (tab [0x144]int16) {
	for i := range tab {
		tab[i] = -1
	}
	for b, r := range byteToRune {
		tab[r] = int16(b)
	}
	return tab
}()

// unmapByteLevel appends the raw bytes a byte-level token stands for. It
// reports false when a character of tok is outside the alphabet.
func unmapByteLevel(dst []byte, tok string) ([]byte, bool) {
	for _, r := range tok {
		if r >= rune(len(runeToByte)) || runeToByte[r] < 0 {
			return dst, false
		}
		dst = append(dst, byte(runeToByte[r]))
	}
	return dst, true
}

// mapByteLevel appends the byte-level spelling of raw bytes.
func mapByteLevel(dst []byte, raw string) []byte {
	for i := 0; i < len(raw); i++ {
		dst = utf8.AppendRune(dst, byteToRune[raw[i]])
	}
	return dst
}
