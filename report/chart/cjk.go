package chart

import (
	"math"
	"strings"

	"github.com/go-analyze/charts"
	"golang.org/x/text/width"
)

const (
	titleFontSize = 14 // points
	labelFontSize = 12
	cellFontSize  = 8
)

// pad returns s followed by enough spaces that the library measures it as wide
// as a browser draws it. The library measures text with its embedded Latin
// font, which has no CJK glyphs, so each Chinese character counts as its
// narrow fallback glyph, about half the 1em a browser's CJK font draws. The
// library lays out legends and axis labels from those measured widths; the
// trailing spaces are invisible in the SVG but give every label its true
// room: centred labels stay centred, right-aligned heat map rows end at the
// axis instead of running under the cells, legend entries do not overlap,
// and thinLabels sees the real width.
func pad(p *charts.Painter, s string, size float64) string {
	var wide int
	var narrow strings.Builder
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			wide++
		default:
			narrow.WriteRune(r)
		}
	}
	if wide == 0 {
		return s
	}
	style := charts.FontStyle{FontSize: size, FontColor: charts.ColorBlack}
	em := size * 96 / 72 // points to pixels at the library's 96 dpi
	want := float64(p.MeasureText(narrow.String(), 0, style).Width()) + float64(wide)*em
	got := float64(p.MeasureText(s, 0, style).Width())
	if got >= want {
		return s
	}
	space := float64(p.MeasureText(strings.Repeat(" ", 10), 0, style).Width()) / 10
	return s + strings.Repeat(" ", int(math.Ceil((want-got)/space)))
}

func padAll(p *charts.Painter, ss []string, size float64) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = pad(p, s, size)
	}
	return out
}

// labelGap is the least room, in pixels, kept between two axis labels.
const labelGap = 12

// thinLabels returns labels with all but every n-th blanked, n being the
// smallest step at which the widest label fits its room on an axis of
// plotWidth pixels. Labels are padded first (see pad). Choosing the labels here
// rather than leaving it to the library keeps the step regular (0, 3, 6, …
// for hours); the library always adds the last label, which can land on top
// of its neighbour.
func thinLabels(p *charts.Painter, labels []string, plotWidth int) []string {
	padded := padAll(p, labels, labelFontSize)
	if len(padded) == 0 {
		return padded
	}
	slot := float64(max(plotWidth, 1)) / float64(len(padded))
	step := max(int(math.Ceil(float64(widest(p, padded)+labelGap)/slot)), 1)
	for i := range padded {
		if i%step != 0 {
			padded[i] = ""
		}
	}
	return padded
}

// widest returns the width in pixels of the widest of texts in the label font.
func widest(p *charts.Painter, texts []string) int {
	style := charts.FontStyle{FontSize: labelFontSize, FontColor: charts.ColorBlack}
	var w int
	for _, t := range texts {
		w = max(w, p.MeasureText(t, 0, style).Width())
	}
	return w
}
