package browsertest

import (
	"math"
	"testing"
)

func TestContrastRatio(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000", "#fff", 21},
		{"#fff", "#fff", 1},
		{"#f0a500", "#ffffff", 2.08}, // the focus outline the accessibility audit found too faint
		{"#f0a500", "rgb(246, 247, 249)", 1.94},
		{"rgb(240, 165, 0)", "#e6f4ec", 1.84},
		{"#1f5fbf", "#ffffff", 6.09},
	} {
		a, err := ParseColour(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseColour(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := ContrastRatio(a, b); math.Abs(got-tc.want) > 0.005 {
			t.Errorf("ContrastRatio(%s, %s) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseColour(t *testing.T) {
	for in, want := range map[string]Colour{
		"#15233d":                   {0x15, 0x23, 0x3d, 1},
		"#FFF":                      {255, 255, 255, 1},
		"rgb(1, 2, 3)":              {1, 2, 3, 1},
		"rgba(255, 255, 255, 0.12)": {255, 255, 255, 0.12},
		"rgba(0, 0, 0, 0)":          {0, 0, 0, 0},
		"rgb(10 20 30 / 50%)":       {10, 20, 30, 0.5},
	} {
		got, err := ParseColour(in)
		if err != nil || got != want {
			t.Errorf("ParseColour(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "red", "#12", "#12345g", "hsl(1, 2%, 3%)", "rgb(1, 2)"} {
		if _, err := ParseColour(bad); err == nil {
			t.Errorf("ParseColour(%q) took it", bad)
		}
	}
	white, _ := ParseColour("#ffffff")
	if got := (Colour{255, 255, 255, 0.12}).Over(Colour{0x15, 0x23, 0x3d, 1}).String(); got != "#313d54" {
		t.Errorf("12%% white over the header = %s", got)
	}
	if got := (Colour{0, 0, 0, 1}).Over(white).String(); got != "#000000" {
		t.Errorf("opaque black over white = %s", got)
	}
}
