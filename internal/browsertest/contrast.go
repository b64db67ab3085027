package browsertest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Colour is an sRGB colour with alpha, as CSS computes it: R, G and B from 0 to 255, A from 0
// to 1.
type Colour struct{ R, G, B, A float64 }

// ParseColour reads a colour as getComputedStyle reports it ("rgb(1, 2, 3)", "rgba(1, 2, 3,
// 0.5)") or as a stylesheet writes it ("#1d2330", "#fff").
func ParseColour(s string) (Colour, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if hex, ok := strings.CutPrefix(s, "#"); ok {
		if len(hex) == 3 {
			hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
		}
		n, err := strconv.ParseUint(hex, 16, 32)
		if len(hex) != 6 || err != nil {
			return Colour{}, fmt.Errorf("colour %q: not #rgb or #rrggbb", s)
		}
		return Colour{R: float64(n >> 16), G: float64(n >> 8 & 0xff), B: float64(n & 0xff), A: 1}, nil
	}
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open || (s[:open] != "rgb" && s[:open] != "rgba") {
		return Colour{}, fmt.Errorf("colour %q: not rgb() or rgba()", s)
	}
	parts := strings.FieldsFunc(s[open+1:close], func(r rune) bool { return r == ',' || r == ' ' || r == '/' })
	if len(parts) != 3 && len(parts) != 4 {
		return Colour{}, fmt.Errorf("colour %q: want 3 or 4 components", s)
	}
	v := [4]float64{0, 0, 0, 1}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSuffix(p, "%"), 64)
		if err != nil {
			return Colour{}, fmt.Errorf("colour %q: %w", s, err)
		}
		if strings.HasSuffix(p, "%") {
			f /= 100
			if i < 3 {
				f *= 255
			}
		}
		v[i] = f
	}
	return Colour{R: v[0], G: v[1], B: v[2], A: v[3]}, nil
}

// Over paints c over an opaque background.
func (c Colour) Over(bg Colour) Colour {
	mix := func(a, b float64) float64 { return a*c.A + b*(1-c.A) }
	return Colour{R: mix(c.R, bg.R), G: mix(c.G, bg.G), B: mix(c.B, bg.B), A: 1}
}

func (c Colour) String() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c.R)), int(math.Round(c.G)), int(math.Round(c.B)))
}

// luminance is WCAG 2's relative luminance of an opaque colour.
func (c Colour) luminance() float64 {
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// ContrastRatio is WCAG 2's contrast ratio of two opaque colours, from 1 to 21.
func ContrastRatio(a, b Colour) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
